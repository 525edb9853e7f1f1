# Copyright 2026 The nova-powervm authors.
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.
"""iSCSI volumes, logged in by the VIOSes and mapped over vSCSI.

Each active VIOS runs the ISCSIDiscovery job with the target (IQN,
portal, LUN) and CHAP credentials of the connection info: the VIOS logs
in and the LUN's hdisk appears, which it maps to the partition.  With
``[powervm] volume_use_multipath`` every portal Cinder lists is logged
in to.  On detach, once nothing maps the hdisk, the ISCSIRemove job
removes it and logs out.  A VIOS whose login fails (CHAP refused, its
initiator not allowed) simply gives no path; the attach fails when
fewer than ``vscsi_vios_connections_required`` VIOSes logged in.

The VIOSes' initiator names (for the volume connector) are learned once
per host with the initiator query of the same job.
"""

import re

from oslo_log import log as logging
from pypowervm.tasks import hdisk

from nova_powervm import conf as pvm_conf
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm.volume import vscsi

LOG = logging.getLogger(__name__)
CONF = pvm_conf.CONF
INITIATORS_KEY = ('volume', 'iscsi_initiators')

#: What the VIOS's iSCSI return codes mean, for the fault.
REASONS = {
    '1': 'iSCSI error', '3': 'no session', '5': 'login refused',
    '7': 'invalid arguments', '8': 'portal unreachable (timeout)',
    '21': 'target not found', '23': 'host not found',
    '24': 'CHAP authentication failed', '127': 'iSCSI not supported',
}


def initiators(ctx):
    """``{vios_uuid: initiator IQN}`` of the active VIOSes.

    Learned once per host: one ISCSIDiscovery job (3 round trips) per
    VIOS the first time; a VIOS without iSCSI support is left out.

    :param ctx: ``HostContext``.
    """
    def load():
        found = {}
        for vios in vscsi.vioses(ctx):
            try:
                found[vios.uuid] = hdisk.discover_iscsi_initiator(
                    ctx.adapter, vios.uuid)
            except Exception as error:
                if not errors.is_pypowervm_error(error):
                    raise
                LOG.warning('No iSCSI initiator on %(vios)s: %(err)s',
                            {'vios': vios.name,
                             'err': errors.safe_text(error)})
        return found
    return ctx.cache.learned(INITIATORS_KEY, load)


def _reason(error):
    code = re.search(r'[Rr]eturn code:?\s*(\w+)', str(error))
    if code:
        return '%s (iSCSI return code %s)' % (
            REASONS.get(code.group(1), 'iSCSI error'), code.group(1))
    return errors.safe_text(error)


class ISCSIConnector(vscsi.VscsiConnector):
    """An iSCSI LUN logged in by the VIOSes, mapped through their hdisks."""

    protocol = 'iscsi'

    def _target(self):
        """``(portals, iqns, luns, multipath)`` as pypowervm takes them."""
        data = self.data
        if CONF.powervm.volume_use_multipath and data.get('target_portals'):
            return (list(data['target_portals']),
                    list(data.get('target_iqns') or
                         [data.get('target_iqn')] *
                         len(data['target_portals'])),
                    list(data.get('target_luns') or
                         [data.get('target_lun')] *
                         len(data['target_portals'])), True)
        return (data.get('target_portal'), data.get('target_iqn'),
                data.get('target_lun'), False)

    def _candidates(self):
        return list(vscsi.vioses(self.ctx))

    def _find_on(self, vios):
        portals, iqns, luns, multipath = self._target()
        if not portals or not iqns:
            raise vscsi.Missed('the connection info has no target_portal '
                               'or target_iqn')
        data = self.data
        auth = data.get('auth_method')
        try:
            name, udid = hdisk.discover_iscsi(
                self.ctx.adapter, portals, data.get('auth_username'),
                data.get('auth_password'), iqns, vios.uuid, lunid=luns,
                auth=auth, multipath=multipath)
        except Exception as error:
            if not errors.is_pypowervm_error(error):
                raise
            raise vscsi.Missed(_reason(error))
        return vscsi.Found(vios.uuid, vios.name, name, udid, False)

    def _release_on(self, vios_uuid, name):
        portals, iqns, luns, multipath = self._target()
        hdisk.remove_iscsi(self.ctx.adapter, iqns, vios_uuid, lun=luns,
                           portal=portals, multipath=multipath)
