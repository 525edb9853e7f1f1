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
"""Operations done on the NovaLink operating system rather than over REST.

pypowervm runs ``mkvterm``/``rmvterm`` on the NovaLink partition to open
and close the VNC terminal of a partition.  ``LocalShim`` does exactly
that; ``SimulatorShim`` asks the NovaLink REST simulator's ``/sim/host/``
endpoints instead, so the rest of the driver is the same in both cases.
``[powervm] host_shim`` picks one (``get_shim``).
"""

import abc

from nova.console import type as ctype
from nova import exception as nova_exc
from oslo_config import cfg
from oslo_log import log as logging
from pypowervm.tasks import vterm as pvm_vterm
import requests

from nova_powervm import exception as exc
from nova_powervm.virt.powervm import errors

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Seconds allowed to one simulator shim HTTP request.
SIM_TIMEOUT = 10


class HostShim(abc.ABC):
    """What the driver needs from the NovaLink host's operating system."""

    @abc.abstractmethod
    def open_vnc_console(self, adapter, lpar_uuid, instance=None):
        """Open the VNC terminal of a partition.

        :param adapter: pypowervm ``Adapter``.
        :param lpar_uuid: PowerVM UUID of the partition.
        :param instance: nova ``Instance`` (for messages).
        :returns: nova ``ConsoleVNC``.
        :raises VNCConsoleFailed: when the terminal cannot be opened.
        """

    @abc.abstractmethod
    def close_vnc_console(self, adapter, lpar_uuid):
        """Close the VNC terminal of a partition; closed is success.

        :param adapter: pypowervm ``Adapter``.
        :param lpar_uuid: PowerVM UUID of the partition.
        """


class LocalShim(HostShim):
    """Runs pypowervm's vterm support (mkvterm/rmvterm) on this partition.

    :param local_ip: address nova's VNC proxy reaches this host at
                     (``[vnc] server_proxyclient_address``).
    """

    def __init__(self, local_ip):
        self.local_ip = local_ip

    def open_vnc_console(self, adapter, lpar_uuid, instance=None):
        grp = CONF.powervm
        try:
            with errors.translate('open VNC terminal', instance=instance):
                port = pvm_vterm.open_remotable_vnc_vterm(
                    adapter, lpar_uuid, self.local_ip, vnc_path=lpar_uuid,
                    use_x509_auth=grp.vnc_use_x509_auth,
                    ca_certs=grp.vnc_ca_certs,
                    server_cert=grp.vnc_server_cert,
                    server_key=grp.vnc_server_key)
        except nova_exc.InstanceNotFound:
            raise
        except nova_exc.NovaException as error:
            raise exc.VNCConsoleFailed(instance=lpar_uuid,
                                       reason=error.format_message())
        return ctype.ConsoleVNC(host=self.local_ip, port=port,
                                internal_access_path=lpar_uuid)

    def close_vnc_console(self, adapter, lpar_uuid):
        try:
            with errors.translate('close VNC terminal'):
                pvm_vterm.close_vterm(adapter, lpar_uuid)
        except nova_exc.NovaException as error:
            LOG.warning('Could not close the terminal of %(lpar)s: %(err)s',
                        {'lpar': lpar_uuid, 'err': error.format_message()})


class SimulatorShim(HostShim):
    """Asks the NovaLink REST simulator's host endpoints.

    :param base_url: ``protocol://host:port`` of the simulator.
    :param certpath: CA bundle to verify an https simulator with
                     (``[powervm] pvm_certpath``), or None for the system
                     trust store.
    """

    def __init__(self, base_url, certpath=None):
        self.base_url = base_url.rstrip('/')
        # As the REST session does: the bundle applies to https only.
        https = self.base_url.lower().startswith('https:')
        self._verify = certpath if certpath and https else True

    def _url(self, lpar_uuid):
        return '%s/sim/host/vterm/%s' % (self.base_url, lpar_uuid)

    def open_vnc_console(self, adapter, lpar_uuid, instance=None):
        try:
            resp = requests.post(self._url(lpar_uuid), timeout=SIM_TIMEOUT,
                                 verify=self._verify)
        except requests.RequestException as error:
            raise exc.VNCConsoleFailed(instance=lpar_uuid,
                                       reason=errors.safe_text(error))
        if resp.status_code == 404:
            raise nova_exc.InstanceNotFound(
                instance_id=getattr(instance, 'uuid', lpar_uuid))
        if resp.status_code >= 300:
            raise exc.VNCConsoleFailed(
                instance=lpar_uuid,
                reason='simulator answered HTTP %d' % resp.status_code)
        body = resp.json()
        return ctype.ConsoleVNC(host=body['host'], port=int(body['port']))

    def close_vnc_console(self, adapter, lpar_uuid):
        try:
            requests.delete(self._url(lpar_uuid), timeout=SIM_TIMEOUT,
                            verify=self._verify)
        except requests.RequestException as error:
            LOG.warning('Could not close the simulated terminal of '
                        '%(lpar)s: %(err)s',
                        {'lpar': lpar_uuid, 'err': errors.safe_text(error)})


def get_shim(kind, dest, local_ip, certpath=None):
    """Build the host shim chosen by ``[powervm] host_shim``.

    :param kind: ``local`` or ``simulator``.
    :param dest: ``protocol://host:port`` of the REST server.
    :param local_ip: VNC address of this host (local shim).
    :param certpath: CA bundle verifying an https REST server, or None.
    :returns: a ``HostShim``.
    """
    if kind == 'simulator':
        return SimulatorShim(dest, certpath=certpath)
    return LocalShim(local_ip)
