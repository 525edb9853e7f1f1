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
"""Fibre Channel volumes over vSCSI (``fc_attach_strategy = vscsi``).

Cinder exports the LUN to the physical FC ports of the VIOSes (the
``wwpns`` of the volume connector).  Each VIOS whose ports are in the
connection info's ``initiator_target_map`` runs a LUARecovery job with
the ITLs (its port, the targets, the LUN) to find the LUN's hdisk, which
it then maps to the partition.  On detach the hdisk is removed
(RemoveDevice) once nothing maps it.
"""

from pypowervm.tasks import hdisk

from nova_powervm.virt.powervm.volume import vscsi


def _wwpn(text):
    return (text or '').lower().replace(':', '')


def _listed(value):
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class VscsiFCConnector(vscsi.VscsiConnector):
    """A Fibre Channel LUN mapped through the VIOSes' hdisks."""

    protocol = 'fibre_channel'

    def _itmap(self):
        """``{initiator: [targets]}`` (lower case, no colons)."""
        itmap = self.data.get('initiator_target_map') or {}
        return dict((_wwpn(i), [_wwpn(t) for t in _listed(ts)])
                    for i, ts in itmap.items())

    def _candidates(self):
        itmap = self._itmap()
        return [vios for vios in vscsi.vioses(self.ctx)
                if vios.fc_wwpns and (
                    not itmap or set(vios.fc_wwpns) & set(itmap))]

    def _find_on(self, vios):
        itmap = self._itmap()
        targets = [_wwpn(t) for t in _listed(self.data.get('target_wwn'))]
        lun = self.data.get('target_lun')
        if lun is None or not (targets or itmap):
            raise vscsi.Missed('the connection info has no target_lun or '
                               'targets')
        itls = []
        for wwpn in vios.fc_wwpns:
            if itmap and wwpn not in itmap:
                continue
            itls += hdisk.build_itls([wwpn], itmap.get(wwpn) or targets,
                                     lun)
        status, name, udid = hdisk.discover_hdisk(self.ctx.adapter,
                                                  vios.uuid, itls)
        if not hdisk.good_discovery(status, name):
            raise vscsi.Missed('LUA recovery found no disk (status %s)'
                               % status)
        return vscsi.Found(vios.uuid, vios.name, name, udid,
                           status == hdisk.LUAStatus.DEVICE_IN_USE)

    def _release_on(self, vios_uuid, name):
        hdisk.remove_hdisk(self.ctx.adapter, None, name, vios_uuid)
