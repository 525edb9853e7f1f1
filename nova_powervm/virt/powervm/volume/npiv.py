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
"""Fibre Channel volumes through NPIV (``fc_attach_strategy = npiv``).

The partition gets virtual FC client adapters of its own, each with a
pair of virtual WWPNs, mapped through the VIOSes to physical ports of
the configured fabrics (``[powervm] fabrics``, ``ports_per_fabric``,
``fabric_<X>_port_wwpns``): one adapter per port, ``ports_per_fabric``
per fabric.  Cinder zones and masks the LUN to those virtual WWPNs and
the partition's own OS discovers the disk: nothing is discovered or
mapped on the VIOSes per volume.

The WWPNs are allocated once per instance (the ``GetNextWWPNs`` job) and
kept in the LPAR's client adapters, not in a local file: the volume
connector of an instance reads them from the VIOSes' FC mappings, and
makes the adapters the first time (the partition must exist).  The
adapters go with the last Fibre Channel volume's detach.
"""

from nova import context as nova_context
from nova import exception as nova_exc
from nova import objects
from oslo_log import log as logging
from oslo_serialization import jsonutils
from pypowervm import const as pvm_const
from pypowervm.tasks import vfc_mapper
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm import conf as pvm_conf
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import mapping
from nova_powervm.virt.powervm import vm
from nova_powervm.virt.powervm.volume import base

LOG = logging.getLogger(__name__)
CONF = pvm_conf.CONF
FC = pvm_const.XAG.VIO_FMAP


def _wwpn(text):
    return (text or '').lower().replace(':', '')


def fabric_ports():
    """``{fabric: [physical port WWPNs]}`` from the configuration."""
    pvm_conf.register_fabric_opts()
    return dict((name, [_wwpn(w) for w in getattr(
        CONF.powervm, 'fabric_%s_port_wwpns' % name) or []])
        for name in CONF.powervm.fabrics)


def _fabric_of(vfc_map, fabrics):
    port = vfc_map.backing_port
    wwpn = _wwpn(port.wwpn) if port is not None else None
    for name, wwpns in fabrics.items():
        if wwpn in wwpns:
            return name
    return None


def _read_vioses(ctx):
    with errors.translate('read the NPIV mappings'):
        return pvm_vios.VIOS.get(ctx.adapter, xag=[FC,
                                                   pvm_const.XAG.VIO_STOR])


def instance_wwpns(ctx, lpar_uuid, vioses=None):
    """``{fabric: [virtual WWPNs]}`` the partition's client adapters have.

    :param ctx: ``HostContext``.
    :param lpar_uuid: PowerVM UUID of the partition.
    :param vioses: VIOS wrappers with FC mappings (1 GET when None).
    """
    fabrics = fabric_ports()
    found = {}
    for vios_w in vioses if vioses is not None else _read_vioses(ctx):
        for vfc_map in vfc_mapper.find_maps(vios_w.vfc_mappings,
                                            lpar_uuid):
            name = _fabric_of(vfc_map, fabrics)
            cla = vfc_map.client_adapter
            if name and cla is not None and cla.wwpns:
                found.setdefault(name, []).extend(
                    _wwpn(w) for w in cla.wwpns)
    return found


def ensure_adapters(ctx, instance, volume_id=None):
    """The instance's virtual WWPNs, made the first time.

    1 GET of the VIOSes when they exist; the first time also one
    ``GetNextWWPNs`` job (3) for every fabric and one VIOS update (GET +
    POST per VIOS that gets an adapter).

    :returns: ``{fabric: [virtual WWPNs]}``.
    :raises VolumeAttachFailed: when a fabric has no physical port on
        the active VIOSes (naming the volume, if given, and the fabric).
    """
    lpar_uuid = vm.get_pvm_uuid(instance)
    vioses = _read_vioses(ctx)
    found = instance_wwpns(ctx, lpar_uuid, vioses)
    missing = [f for f in CONF.powervm.fabrics if f not in found]
    if not missing:
        return found
    fabrics = fabric_ports()
    host_uuid = ctx.host_uuid
    known = {_wwpn(p.wwpn) for v in vioses for p in v.pfc_ports}
    for name in missing:
        if not set(fabrics[name]) & known:
            raise nova_exc.VolumeAttachFailed(
                volume_id=volume_id or '(any)',
                reason='NPIV fabric %s has no matching physical FC port on '
                       'the Virtual I/O Servers (fabric_%s_port_wwpns: %s)'
                       % (name, name, ', '.join(fabrics[name])))
    per_fabric = CONF.powervm.ports_per_fabric
    with errors.translate('allocate virtual WWPNs'):
        # One job for every fabric's pairs.
        v_wwpns = vfc_mapper.build_wwpn_pair(
            ctx.adapter, host_uuid, pair_count=per_fabric * len(missing))
    plan = []
    for idx, name in enumerate(missing):
        mine = v_wwpns[idx * 2 * per_fabric:(idx + 1) * 2 * per_fabric]
        plan += vfc_mapper.derive_npiv_map(vioses, fabrics[name], mine)

    def add(vios_w):
        changed = False
        for port_map in plan:
            if vfc_mapper.add_map(vios_w, host_uuid, lpar_uuid, port_map,
                                  error_if_invalid=False) is not None:
                changed = True
        return changed
    changes = mapping.VIOSMappings(ctx.adapter, 'add_npiv_adapters',
                                   instance)
    changes.add_subtask(add, xag=FC)
    changes.execute()
    return instance_wwpns(ctx, lpar_uuid, changes.vioses)


def _other_fc_volumes(instance, volume_id):
    """Whether the instance has other Fibre Channel volumes attached."""
    ctx = nova_context.get_admin_context()
    for bdm in objects.BlockDeviceMappingList.get_by_instance_uuid(
            ctx, instance.uuid):
        if not bdm.volume_id or bdm.volume_id == volume_id:
            continue
        info = bdm.connection_info
        if isinstance(info, str):
            info = jsonutils.loads(info)
        if (info or {}).get('driver_volume_type') == 'fibre_channel':
            return True
    return False


class NPIVConnector(base.VolumeConnector):
    """A Fibre Channel LUN seen by the partition's own virtual ports."""

    protocol = 'fibre_channel'
    udid = None

    def connect(self, mappings, lpar_uuid):
        """Make sure the partition has its virtual FC adapters.

        Normally made by the volume connector already: 1 GET.
        """
        wwpns = ensure_adapters(self.ctx, self.instance, self.volume_id)
        itmap = self.data.get('initiator_target_map') or {}
        if itmap and not {_wwpn(i) for i in itmap} & {
                w for ws in wwpns.values() for w in ws}:
            raise nova_exc.VolumeAttachFailed(
                volume_id=self.volume_id,
                reason='Cinder exported it to %s, not to the partition\'s '
                       'virtual WWPNs' % ', '.join(sorted(itmap)))
        self.found = []

    def disconnect(self, mappings, lpar_uuid):
        """Remove the virtual FC adapters with the last FC volume."""
        if not self.destroying and _other_fc_volumes(self.instance,
                                                     self.volume_id):
            return

        def remove(vios_w):
            return vfc_mapper.remove_maps(vios_w, lpar_uuid)
        mappings.add_subtask(remove, xag=FC)

    def cleanup(self):
        """Nothing on the VIOSes to remove per volume."""

    def release_unused(self):
        """Nothing was discovered on the VIOSes."""

    def remap(self, lpar_uuid):
        """The adapters come back with the next volume connector."""

    def extend(self):
        """The partition's OS sees the new size itself (no VIOS hdisk)."""
        return None
