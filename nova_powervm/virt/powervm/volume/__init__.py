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
"""Volume connectors, chosen by the ``driver_volume_type`` of a volume.

Cinder's connection info names the protocol of each attachment
(``fibre_channel``, ``iscsi``, ...).  :func:`get_connector` builds the
connector class registered for it, importing its module only then, as
nova's libvirt volume drivers are chosen.  One small module per protocol
lives beside ``base.py``: ``fcvscsi`` (Fibre Channel through the VIOSes'
hdisks), ``npiv`` (Fibre Channel through the partition's own virtual
ports, with ``fc_attach_strategy = npiv``) and ``iscsi``; any other
protocol is refused with a message that names the volume and the
protocol.
"""

from oslo_utils import importutils

from nova_powervm import conf as pvm_conf
from nova_powervm import exception as exc

CONF = pvm_conf.CONF

# driver_volume_type -> connector class, imported on demand.
CONNECTORS = {
    'fibre_channel':
        'nova_powervm.virt.powervm.volume.fcvscsi.VscsiFCConnector',
    'iscsi': 'nova_powervm.virt.powervm.volume.iscsi.ISCSIConnector',
}
#: The Fibre Channel connector with ``fc_attach_strategy = npiv``.
NPIV = 'nova_powervm.virt.powervm.volume.npiv.NPIVConnector'


def get_connector(ctx, instance, connection_info):
    """The volume connector for one attachment.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param connection_info: Cinder's connection info of the attachment.
    :returns: a ``volume.base.VolumeConnector``.
    :raises VolumeProtocolNotSupported: for a protocol without connector.
    """
    vol_type = (connection_info or {}).get('driver_volume_type')
    path = CONNECTORS.get(vol_type)
    if (vol_type == 'fibre_channel' and
            CONF.powervm.fc_attach_strategy == 'npiv'):
        path = NPIV
    if path is None:
        raise exc.VolumeProtocolNotSupported(
            volume_id=volume_id(connection_info), protocol=vol_type,
            supported=', '.join(sorted(CONNECTORS)) or 'none yet')
    cls = importutils.import_class(path)
    return cls(ctx, instance, connection_info)


def volume_id(connection_info):
    """The Cinder volume id of an attachment (None when not given).

    :param connection_info: Cinder's connection info.
    """
    info = connection_info or {}
    return (info.get('serial') or
            (info.get('data') or {}).get('volume_id'))
