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
"""VirtualIOServer objects, their VSCSI mappings and virtual slots."""

from lxml import etree

from nova_powervm.simulator import model
from nova_powervm.simulator import registry
from nova_powervm.simulator.resources import lpar as sim_lpar
from nova_powervm.simulator.resources import storage
from nova_powervm.simulator import templates as tpl
from nova_powervm.simulator import xmlutil as xu

GROUPS = (('MediaRepositories', 'ViosStorage'),
          ('PhysicalVolumes', 'ViosStorage'),
          ('TrunkAdapters', 'ViosNetwork'),
          ('VirtualFibreChannelMappings', 'ViosFCMapping'),
          ('VirtualSCSIMappings', 'ViosSCSIMapping'))
MAP_ORDER = ['AssociatedLogicalPartition', 'ClientAdapter', 'ServerAdapter',
             'Storage', 'TargetDevice']
_SCSI = 'VirtualSCSIMappings'
_TARGETS = {'VirtualDisk': 'LogicalVolumeVirtualTargetDevice',
            'VirtualOpticalMedia': 'VirtualOpticalTargetDevice',
            'PhysicalVolume': 'PhysicalVolumeVirtualTargetDevice',
            'LogicalUnit': 'SharedStoragePoolLogicalUnitVirtualTargetDevice'}


def build_vios(sim, name, pid, uuid, mem_mb=8192, procs=1.0):
    """A running VIOS object from the NovaLink capture.

    :param sim: the Simulator.
    :param name: PartitionName.
    :param pid: PartitionID.
    :param uuid: UPPER-case UUID.
    :param mem_mb: desired memory.
    :param procs: desired processing units.
    """
    elem = tpl.capture_kind('VirtualIOServer')
    for name_, group in GROUPS:
        node = tpl.empty(elem, name_)
        if node is None:
            node = xu.sub(elem, name_)
        node.set('group', group)
    sim_lpar.build_partition(sim, elem, name, pid, uuid, 'Virtual IO Server',
                             'running')
    xu.set_text(elem, 'OperatingSystemVersion', 'VIOS 3.1.4.10')
    xu.set_text(elem, 'IsServicePartition', False)
    # A mover service partition for live migration (NovaLink's default).
    xu.set_text(elem, 'MoverServicePartition', True)
    xu.set_text(elem, 'PartitionMemoryConfiguration/DesiredMemory', mem_mb)
    xu.set_text(elem, 'PartitionMemoryConfiguration/CurrentMemory', mem_mb)
    obj = model.Obj('VirtualIOServer', uuid, elem,
                    ('ManagedSystem', sim.sys_uuid))
    obj.extra['proc_units'] = procs
    obj.extra['vcpus'] = int(procs) or 1
    return obj


def _loc(sim, pid, slot):
    return 'U%s-V%s-C%s' % (sim.inventory.loc_prefix, pid, slot)


def cna_slots(sim, part):
    """Virtual slots used by CNAs of a partition.

    :param sim: the Simulator.
    :param part: the partition :class:`Obj`.
    """
    return set(int(xu.text(c.elem, 'VirtualSlotNumber', 0))
               for c in sim.store.children('ClientNetworkAdapter', part.uuid))


def adapter_slots(sim, part):
    """Slots of VSCSI/VFC adapters on a partition.

    :param sim: the Simulator.
    :param part: the partition :class:`Obj`.
    """
    if part.kind == 'VirtualIOServer':
        return server_slots(sim, part, part.elem) - cna_slots(sim, part)
    pid = xu.text(part.elem, 'PartitionID')
    used = set()
    for vios in sim.store.all('VirtualIOServer'):
        for cla in vios.elem.iter(xu.qn('ClientAdapter')):
            if xu.text(cla, 'LocalPartitionID') == pid:
                used.add(int(xu.text(cla, 'VirtualSlotNumber', 0)))
    return used


def client_slots(sim, pid):
    """Slots used on a client partition by mappings and CNAs.

    :param sim: the Simulator.
    :param pid: the partition short id (str).
    """
    used = set()
    for vios in sim.store.all('VirtualIOServer'):
        for cla in vios.elem.iter(xu.qn('ClientAdapter')):
            if xu.text(cla, 'LocalPartitionID') == str(pid):
                used.add(int(xu.text(cla, 'VirtualSlotNumber', 0)))
    part = sim_lpar.partition_by_id(sim, pid)
    if part is not None:
        used |= cna_slots(sim, part)
    return used


def server_slots(sim, vios_obj, elem):
    """Slots used on a VIOS (server adapters and CNAs).

    :param sim: the Simulator.
    :param vios_obj: the VIOS :class:`Obj`.
    :param elem: the (new) VIOS element to scan.
    """
    used = set()
    for sva in elem.iter(xu.qn('ServerAdapter')):
        num = xu.text(sva, 'VirtualSlotNumber')
        if num is not None:
            used.add(int(num))
    return used | cna_slots(sim, vios_obj)


def free(used, start=2):
    """The lowest integer >= start not in ``used``.

    :param used: a set of ints.
    :param start: the first candidate.
    """
    num = start
    while num in used:
        num += 1
    return num


def check_slot(part, slot):
    """Refuse a slot at or above the partition's MaximumVirtualIOSlots.

    :param part: the partition :class:`Obj` (None: no check).
    :param slot: the slot number.
    """
    limit = None if part is None else xu.text(
        part.elem, 'PartitionIOConfiguration/MaximumVirtualIOSlots')
    if limit and slot >= int(limit):
        raise registry.SimError(
            409, 'HSCL2998 No free virtual I/O slot on partition %s '
            '(maximum %s).' % (xu.text(part.elem, 'PartitionName'), limit))
    return slot


def build_adapter(sim, kind, local_id, slot):
    """A virtual adapter element (client or server) with slot fields.

    :param sim: the Simulator.
    :param kind: ``ClientAdapter`` or ``ServerAdapter``.
    :param local_id: the owning partition id.
    :param slot: the virtual slot number.
    """
    node = etree.Element(xu.qn(kind))
    node.set('schemaVersion', 'V1_0')
    meta = xu.sub(node, 'Metadata')
    xu.sub(meta, 'Atom')
    loc = _loc(sim, local_id, slot)
    xu.sub(node, 'AdapterType', 'Client' if kind == 'ClientAdapter'
           else 'Server')
    xu.sub(node, 'DynamicReconfigurationConnectorName', loc)
    xu.sub(node, 'LocationCode', loc)
    xu.sub(node, 'LocalPartitionID', local_id)
    xu.sub(node, 'RequiredAdapter', 'false')
    xu.sub(node, 'VariedOn', 'true')
    xu.sub(node, 'VirtualSlotNumber', slot)
    return node, loc


def _is_filled(adapter):
    return adapter is not None and xu.find(adapter, 'LocationCode') is not None


def _new_adapters(sim, vios, elem, mapping, lpar):
    vid = xu.text(vios.elem, 'PartitionID')
    cla_in = xu.find(mapping, 'ClientAdapter')
    sva_in = xu.find(mapping, 'ServerAdapter')
    s_slot = check_slot(vios, _wanted_slot(sva_in) or
                        free(server_slots(sim, vios, elem)))
    names = [xu.text(a, 'AdapterName') for a in
             elem.iter(xu.qn('ServerAdapter'))]
    vhost = 'vhost%d' % free(set(int(n[5:]) for n in names
                                 if n and n.startswith('vhost')), 0)
    lid = xu.text(lpar.elem, 'PartitionID') if lpar is not None else None
    c_slot = None
    if cla_in is not None and lid is not None:
        c_slot = check_slot(lpar, _wanted_slot(cla_in) or
                            free(client_slots(sim, lid)))
    sva, s_loc = build_adapter(sim, 'ServerAdapter', vid, s_slot)
    xu.sub(sva, 'AdapterName', vhost)
    xu.sub(sva, 'BackingDeviceName')
    xu.sub(sva, 'RemoteLogicalPartitionID', lid or 0)
    xu.sub(sva, 'RemoteSlotNumber', c_slot if c_slot is not None else 65535)
    cla = None
    if c_slot is not None:
        cla, c_loc = build_adapter(sim, 'ClientAdapter', lid, c_slot)
        xu.sub(cla, 'RemoteLogicalPartitionID', vid)
        xu.sub(cla, 'RemoteSlotNumber', s_slot)
        xu.sub(cla, 'ServerLocationCode', s_loc)
        xu.sub(sva, 'ServerLocationCode', c_loc)
    xu.sub(sva, 'UniqueDeviceID', '1e%s' % s_loc)
    for old, new in ((cla_in, cla), (sva_in, sva)):
        if old is not None:
            mapping.remove(old)
        if new is not None:
            xu.insert_ordered(mapping, new, MAP_ORDER)


def _wanted_slot(adapter):
    if adapter is None:
        return None
    if xu.text(adapter, 'UseNextAvailableSlotID') == 'false':
        num = xu.text(adapter, 'VirtualSlotNumber')
        return int(num) if num else None
    return None


def _target(sim, elem, mapping, stg_kind, stg_elem):
    tgt_wrap = xu.find(mapping, 'TargetDevice')
    tname = _TARGETS[stg_kind]
    given = None
    if tgt_wrap is not None and len(tgt_wrap):
        given = tgt_wrap[0]
        mapping.remove(tgt_wrap)
    sva = xu.find(mapping, 'ServerAdapter')
    udid = xu.text(sva, 'UniqueDeviceID')
    siblings = [m for m in xu.findall(elem, _SCSI + '/VirtualSCSIMapping')
                if m is not mapping and xu.find(m, 'TargetDevice') is not None
                and xu.text(m, 'ServerAdapter/UniqueDeviceID') == udid]
    prefix = 'vtopt' if stg_kind == 'VirtualOpticalMedia' else 'vtscsi'
    used = set()
    for tn in elem.iter(xu.qn('TargetName')):
        if tn.text and tn.text.startswith(prefix):
            used.add(int(tn.text[len(prefix):] or 0))
    # The lowest LUN no other device of the adapter uses.
    taken = {xu.text(m, 'TargetDevice/*/LogicalUnitAddress')
             for m in siblings}
    lun = 1
    while '0x8%d00000000000000' % lun in taken:
        lun += 1
    lua = (xu.text(given, 'LogicalUnitAddress') if given is not None
           else '0x8%d00000000000000' % lun)
    name = (xu.text(given, 'TargetName') if given is not None else None) \
        or '%s%d' % (prefix, free(used, 0))
    wrap = etree.Element(xu.qn('TargetDevice'))
    dev = xu.sub(wrap, tname, schemaVersion='V1_0')
    xu.sub(xu.sub(dev, 'Metadata'), 'Atom')
    xu.sub(dev, 'LogicalUnitAddress', lua)
    xu.sub(dev, 'TargetName', name)
    xu.sub(dev, 'UniqueDeviceID', '09' + sim.hexid(16))
    xu.insert_ordered(mapping, wrap, MAP_ORDER)


def _server_filled(mapping, stg):
    """Whether a mapping is one the server already completed."""
    has_id = (xu.find(stg, 'UniqueDeviceID') is not None or
              xu.find(stg, 'MediaUDID') is not None)
    return has_id and xu.text(
        mapping, 'TargetDevice/*/UniqueDeviceID') is not None


def process_scsi_mappings(sim, vios, elem):
    """Fill in server-side fields of every VSCSI mapping in ``elem``.

    :param sim: the Simulator.
    :param vios: the stored VIOS :class:`Obj`.
    :param elem: the new VIOS element (modified in place).
    """
    for mapping in xu.findall(elem, _SCSI + '/VirtualSCSIMapping'):
        href = None
        alp = xu.find(mapping, 'AssociatedLogicalPartition')
        if alp is not None:
            href = alp.get('href')
        lpar = sim.store.get(xu.href_uuid(href)) if href else None
        if alp is not None and lpar is not None:
            alp.set('href', sim.href(lpar))
            alp.set('rel', 'related')
        if not _is_filled(xu.find(mapping, 'ServerAdapter')):
            _new_adapters(sim, vios, elem, mapping, lpar)
        stg = xu.find(mapping, 'Storage')
        if stg is None or not len(stg):
            tgt = xu.find(mapping, 'TargetDevice')
            if tgt is not None and stg is None:
                mapping.remove(tgt)
            continue
        if _server_filled(mapping, stg[0]):
            continue
        kind = xu.local(stg[0].tag)
        full = storage.resolve(sim, vios, kind, stg[0])
        stg.remove(stg[0])
        stg.append(full)
        sva = xu.find(mapping, 'ServerAdapter')
        xu.set_text(sva, 'BackingDeviceName',
                    storage.backing_name(sim, kind, full))
        if xu.find(mapping, 'TargetDevice') is None or \
                xu.text(mapping, 'TargetDevice/*/UniqueDeviceID') is None:
            _target(sim, elem, mapping, kind, full)


def _dump(node):
    return b'' if node is None else etree.tostring(node)


class VirtualIOServer(registry.Resource):
    kind = 'VirtualIOServer'
    search_keys = {'PartitionName': 'PartitionName',
                   'PartitionID': 'PartitionID'}

    def update(self, sim, obj, body, groups):
        new = registry.merge_groups(obj.elem, body, groups)
        old_maps = _dump(xu.find(obj.elem, _SCSI))
        process_scsi_mappings(sim, obj, new)
        sim.registry.run_hooks('fc_update', sim, obj, new)
        obj.elem = new
        if _dump(xu.find(new, _SCSI)) != old_maps:
            sim.emit('MODIFY_URI', obj, 'VirtualSCSIMappings')

    def quick(self, sim, obj):
        return sim_lpar.quick_props(sim, obj)
