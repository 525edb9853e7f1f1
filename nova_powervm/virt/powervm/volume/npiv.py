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
kept in nova's database (``instance.system_metadata``), not in a local
file: the volume connector reports them, even before the partition
exists (boot from an NPIV volume), and the adapters are made with
exactly those WWPNs when the first Fibre Channel volume is connected.
The adapters go with the last Fibre Channel volume's detach, and with
the partition on destroy.
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


#: ``instance.system_metadata`` key of the instance's virtual WWPNs
#: (JSON ``{fabric: [WWPNs]}``), allocated before the partition exists.
SYSMETA_KEY = 'powervm_npiv_wwpns'


def _stored_wwpns(instance):
    raw = (instance.system_metadata or {}).get(SYSMETA_KEY)
    if not raw:
        return {}
    try:
        return dict((name, [_wwpn(w) for w in wwpns])
                    for name, wwpns in jsonutils.loads(raw).items())
    except (ValueError, AttributeError, TypeError):
        LOG.warning('Ignoring unreadable %s in the system metadata.',
                    SYSMETA_KEY, instance=instance)
        return {}


def allocated_wwpns(ctx, instance, existing=None):
    """The instance's virtual WWPNs, allocated once and kept in nova's DB.

    Works before the partition exists (nova asks for the volume
    connector of a server booting from a volume before spawn).  The
    first time, one ``GetNextWWPNs`` job (3 round trips) for every
    fabric that has none yet; the result is saved in the instance's
    ``system_metadata``, so every later connector, attach and spawn
    uses exactly the same WWPNs.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param existing: ``{fabric: [WWPNs]}`` the partition's client adapters
        already have (adopted as they are).
    :returns: ``{fabric: [virtual WWPNs]}`` (2 per port of the fabric).
    """
    stored = _stored_wwpns(instance)
    wanted = dict(stored)
    wanted.update(existing or {})
    per_fabric = CONF.powervm.ports_per_fabric
    missing = [f for f in CONF.powervm.fabrics if not wanted.get(f)]
    if missing:
        with errors.translate('allocate virtual WWPNs', instance):
            # One job for every fabric's pairs.
            v_wwpns = [_wwpn(w) for w in vfc_mapper.build_wwpn_pair(
                ctx.adapter, ctx.host_uuid,
                pair_count=per_fabric * len(missing))]
        for idx, name in enumerate(missing):
            wanted[name] = v_wwpns[idx * 2 * per_fabric:
                                   (idx + 1) * 2 * per_fabric]
    if wanted != stored:
        instance.system_metadata[SYSMETA_KEY] = jsonutils.dumps(wanted)
        instance.save()
    return wanted


def check_fabrics(known, names=None, volume_id=None):
    """Fail when a fabric has no physical port among ``known``.

    :param known: WWPNs of the VIOSes' physical FC ports.
    :param names: fabrics to check (all configured when None).
    :param volume_id: the volume to name in the fault.
    :raises VolumeAttachFailed: naming the fabric and its port WWPNs.
    """
    fabrics = fabric_ports()
    known = {_wwpn(w) for w in known}
    for name in CONF.powervm.fabrics if names is None else names:
        if not set(fabrics[name]) & known:
            raise nova_exc.VolumeAttachFailed(
                volume_id=volume_id or '(any)',
                reason='NPIV fabric %s has no matching physical FC port on '
                       'the Virtual I/O Servers (fabric_%s_port_wwpns: %s)'
                       % (name, name, ', '.join(fabrics[name])))


def ensure_adapters(ctx, instance, volume_id=None):
    """Give the partition its virtual FC adapters (allocated WWPNs).

    The WWPNs are those of :func:`allocated_wwpns`.

    1 GET of the VIOSes when they exist; the first time also one VIOS
    update (GET + POST per VIOS that gets an adapter), and the
    ``GetNextWWPNs`` job when the instance has no WWPNs yet.

    :returns: ``({fabric: [virtual WWPNs]}, made)``: ``made`` is true when
        adapters were added (the caller removes them on failure).
    :raises VolumeAttachFailed: when a fabric has no physical port on
        the active VIOSes (naming the volume, if given, and the fabric).
    """
    lpar_uuid = vm.get_pvm_uuid(instance)
    vioses = _read_vioses(ctx)
    found = instance_wwpns(ctx, lpar_uuid, vioses)
    missing = [f for f in CONF.powervm.fabrics if f not in found]
    if not missing:
        return found, False
    fabrics = fabric_ports()
    host_uuid = ctx.host_uuid
    known = {_wwpn(p.wwpn) for v in vioses for p in v.pfc_ports}
    check_fabrics(known, missing, volume_id)
    wanted = allocated_wwpns(ctx, instance, found)
    plan = []
    for name in missing:
        plan += vfc_mapper.derive_npiv_map(vioses, fabrics[name],
                                           wanted[name])

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
    return instance_wwpns(ctx, lpar_uuid, changes.vioses), True


def remove_adapters(ctx, instance, lpar_uuid=None):
    """Remove every virtual FC mapping of the partition.

    1 GET, and 1 POST per VIOS that has one.

    Before the partition is deleted: PowerVM leaves the server adapters
    of a deleted partition behind.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param lpar_uuid: PowerVM UUID of the partition (from the instance
        when None).
    """
    lpar_uuid = lpar_uuid or vm.get_pvm_uuid(instance)
    changes = mapping.VIOSMappings(ctx.adapter, 'remove_npiv_adapters',
                                   instance)
    changes.add_subtask(lambda vios_w: bool(vfc_mapper.remove_maps(
        vios_w, lpar_uuid)), xag=FC)
    changes.execute()


def connector_wwpns(ctx, instance, known=None):
    """The virtual WWPNs of the instance's volume connector.

    No REST call once they are in the system metadata.  Otherwise the
    adapters of an existing partition are adopted (1 GET) and the
    fabrics without any get new WWPNs (see :func:`allocated_wwpns`).

    :param known: WWPNs of the VIOSes' physical FC ports: every fabric
        must have one (not checked when None).
    :returns: sorted list of WWPNs (lower-case hex).
    :raises VolumeAttachFailed: for a fabric without physical port.
    """
    if known is not None:
        check_fabrics(known)
    stored = _stored_wwpns(instance)
    existing = None
    if any(not stored.get(f) for f in CONF.powervm.fabrics):
        try:
            vm.get_vm_qp(ctx.adapter, vm.get_pvm_uuid(instance),
                         'PartitionID')
        except nova_exc.InstanceNotFound:
            pass
        else:
            existing = instance_wwpns(ctx, vm.get_pvm_uuid(instance))
    wanted = allocated_wwpns(ctx, instance, existing)
    return sorted({w for name in CONF.powervm.fabrics
                   for w in wanted.get(name, [])})


def _other_fc_volumes(instance, volume_ids):
    """Whether the instance has other Fibre Channel volumes attached.

    :param volume_ids: the volumes going (not counted).
    """
    ctx = nova_context.get_admin_context()
    for bdm in objects.BlockDeviceMappingList.get_by_instance_uuid(
            ctx, instance.uuid):
        if not bdm.volume_id or bdm.volume_id in volume_ids:
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
    #: The adapters were made by this connect (removed on revert).
    made = False
    #: Ids of the volumes disconnected together with this one (a move's
    #: source disconnects them all: the adapters go with them).
    leaving = frozenset()

    def connect(self, mappings, lpar_uuid):
        """Make sure the partition has its virtual FC adapters.

        Normally made by the volume connector already: 1 GET.
        """
        wwpns, self.made = ensure_adapters(self.ctx, self.instance,
                                           self.volume_id)
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
        going = set(self.leaving) | {self.volume_id}
        if not self.destroying and _other_fc_volumes(self.instance, going):
            return

        def remove(vios_w):
            return vfc_mapper.remove_maps(vios_w, lpar_uuid)
        mappings.add_subtask(remove, xag=FC)

    def cleanup(self):
        """Nothing on the VIOSes to remove per volume."""

    def release_unused(self):
        """Nothing was discovered on the VIOSes."""

    def remap(self, lpar_uuid):
        """Make the adapters again (same WWPNs) after a failed detach."""
        ensure_adapters(self.ctx, self.instance, self.volume_id)

    def extend(self):
        """The partition's OS sees the new size itself (no VIOS hdisk)."""
        return None
