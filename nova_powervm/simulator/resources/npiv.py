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
"""Physical FC ports, virtual FC (NPIV) mappings and GetNextWWPNs."""

from lxml import etree

from nova_powervm.simulator import registry
from nova_powervm.simulator.resources import vios as sim_vios
from nova_powervm.simulator import templates as tpl
from nova_powervm.simulator import xmlutil as xu

_VFC = 'VirtualFibreChannelMappings/VirtualFibreChannelMapping'
_PORTS = ('PartitionIOConfiguration/ProfileIOSlots/ProfileIOSlot/'
          'AssociatedIOSlot/RelatedIOAdapter/PhysicalFibreChannelAdapter/'
          'PhysicalFibreChannelPorts/PhysicalFibreChannelPort')
MAP_ORDER = ['AssociatedLogicalPartition', 'ClientAdapter', 'Port',
             'ServerAdapter', 'Storage']
PORT_FIELDS = ('LocationCode', 'PortName', 'UniqueDeviceID', 'WWPN',
               'AvailablePorts', 'TotalPorts')
_FIRST_WWPN = 0x10


def _fc_slot():
    root = etree.fromstring(tpl.read_capture('fake_vios_feed.txt'))
    for node in root.iter():
        if (isinstance(node.tag, str) and
                xu.local(node.tag) == 'PhysicalFibreChannelAdapter'):
            slot = next(a for a in node.iterancestors()
                        if xu.local(a.tag) == 'ProfileIOSlot')
            return xu.clean(slot)
    raise RuntimeError('no FC adapter in the capture')


def seed_ports(sim, vios, count):
    """Give a VIOS one FC adapter with ``count`` ports.

    :param sim: the Simulator.
    :param vios: the VIOS :class:`Obj`.
    :param count: number of ports.
    """
    if not count:
        return
    slot = _fc_slot()
    vid = int(xu.text(vios.elem, 'PartitionID'))
    ports = xu.find(slot, 'AssociatedIOSlot/RelatedIOAdapter/'
                    'PhysicalFibreChannelAdapter/PhysicalFibreChannelPorts')
    proto = xu.find(ports, 'PhysicalFibreChannelPort')
    for child in list(ports):
        if xu.local(child.tag) == 'PhysicalFibreChannelPort':
            ports.remove(child)
    loc = 'U78AF.001.%s-P1-C%d-L1' % (sim.inventory.mtms[-7:], 30 + vid)
    for idx in range(count):
        port = xu.deepcopy(proto)
        tpl.empty(port, 'PhysicalVolumes')
        xu.set_text(port, 'LocationCode', '%s-T%d' % (loc, idx + 1))
        xu.set_text(port, 'PortName', 'fcs%d' % idx)
        xu.set_text(port, 'UniqueDeviceID', '1a%s-T%d' % (loc, idx + 1))
        # Unique across hosts: the SAN masks LUNs by these WWPNs.
        xu.set_text(port, 'WWPN', '1000%s%02X%04X' % (
            sim.sys_uuid.replace('-', '')[:6].upper(), vid, idx))
        xu.set_text(port, 'AvailablePorts', 64)
        xu.set_text(port, 'TotalPorts', 64)
        ports.append(port)
    io_cfg = xu.find(vios.elem, 'PartitionIOConfiguration')
    slots = xu.find(io_cfg, 'ProfileIOSlots')
    if slots is None:
        slots = xu.sub(io_cfg, 'ProfileIOSlots')
    slots.append(slot)


def physical_ports(vios_elem):
    """Physical FC port elements of a VIOS.

    :param vios_elem: the VIOS element.
    """
    return xu.findall(vios_elem, _PORTS)


def _port_copy(port, name='Port'):
    out = etree.Element(xu.qn(name), schemaVersion='V1_0')
    xu.sub(xu.sub(out, 'Metadata'), 'Atom')
    for field in PORT_FIELDS:
        xu.sub(out, field, xu.text(port, field))
    return out


def new_wwpns(sim, count=2):
    """Fresh client WWPNs (lower-case hex), never handed out twice.

    The counter lives on the ManagedSystem object, so it is saved with
    the state and a restarted simulator goes on where it stopped.

    :param sim: the Simulator.
    :param count: how many.
    """
    base = int(sim.sys_uuid.replace('-', '')[:6], 16)
    with sim.store.lock:
        ms = sim.store.first('ManagedSystem')
        first = ms.extra.get('next_wwpn', _FIRST_WWPN)
        ms.extra['next_wwpn'] = first + count
        sim.store.dirty.set()
    return ['c0507%06x%05x' % (base, num)
            for num in range(first, first + count)]


def _adapters(sim, vios, elem, mapping, lpar):
    vid = xu.text(vios.elem, 'PartitionID')
    lid = xu.text(lpar.elem, 'PartitionID') if lpar is not None else '0'
    s_slot = sim_vios.check_slot(vios, sim_vios.free(
        sim_vios.server_slots(sim, vios, elem)))
    # The partition's slots in the store and in this update (several new
    # mappings of one partition in one VIOS update: one slot each).
    c_used = sim_vios.client_slots(sim, lid) | {
        int(xu.text(cla, 'VirtualSlotNumber', 0))
        for cla in elem.iter(xu.qn('ClientAdapter'))
        if xu.text(cla, 'LocalPartitionID') == str(lid)}
    c_slot = sim_vios.check_slot(lpar, sim_vios.free(c_used))
    names = [xu.text(a, 'AdapterName') or '' for a in
             xu.findall(elem, _VFC + '/ServerAdapter')]
    vfc = 'vfchost%d' % sim_vios.free(set(
        int(n[7:]) for n in names if n.startswith('vfchost')), 0)
    old_cla = xu.find(mapping, 'ClientAdapter')
    wwpns = xu.text(old_cla, 'WWPNs') if old_cla is not None else None
    cla, _loc = sim_vios.build_adapter(sim, 'ClientAdapter', lid, c_slot)
    xu.sub(cla, 'ConnectingPartitionID', vid)
    xu.sub(cla, 'ConnectingVirtualSlotNumber', s_slot)
    xu.sub(cla, 'WWPNs', wwpns or ' '.join(new_wwpns(sim)))
    sva, s_loc = sim_vios.build_adapter(sim, 'ServerAdapter', vid, s_slot)
    xu.sub(sva, 'AdapterName', vfc)
    xu.sub(sva, 'ConnectingPartitionID', lid)
    xu.sub(sva, 'ConnectingVirtualSlotNumber', c_slot)
    xu.sub(sva, 'UniqueDeviceID', '1d' + s_loc)
    for name, new in (('ClientAdapter', cla), ('ServerAdapter', sva)):
        old = xu.find(mapping, name)
        if old is not None:
            mapping.remove(old)
        xu.insert_ordered(mapping, new, MAP_ORDER)


def _fill_port(vios, mapping):
    port = xu.find(mapping, 'Port')
    sva = xu.find(mapping, 'ServerAdapter')
    for name in ('MapPort', 'PhysicalPort'):
        node = xu.find(sva, name)
        if node is not None:
            sva.remove(node)
    if port is None:
        return
    want = xu.text(port, 'PortName')
    phys = [p for p in physical_ports(vios.elem)
            if xu.text(p, 'PortName') == want]
    if not phys:
        raise registry.SimError(400, 'No FC port %s on %s' % (
            want, xu.text(vios.elem, 'PartitionName')))
    idx = list(mapping).index(port)
    mapping.remove(port)
    mapping.insert(idx, _port_copy(phys[0]))
    xu.sub(sva, 'MapPort', want)
    sva.append(_port_copy(phys[0], 'PhysicalPort'))


def process_vfc_mappings(sim, vios, elem):
    """Fill in server-side fields of VFC mappings in a VIOS POST.

    :param sim: the Simulator.
    :param vios: the stored VIOS :class:`Obj`.
    :param elem: the new VIOS element (modified in place).
    """
    for mapping in xu.findall(elem, _VFC):
        alp = xu.find(mapping, 'AssociatedLogicalPartition')
        lpar = None
        if alp is not None:
            lpar = sim.store.get(xu.href_uuid(alp.get('href')))
            if lpar is not None:
                alp.set('href', sim.href(lpar))
        sva = xu.find(mapping, 'ServerAdapter')
        if sva is None or xu.text(sva, 'AdapterName') is None:
            _adapters(sim, vios, elem, mapping, lpar)
        _fill_port(vios, mapping)
    _recount(vios, elem)


def _recount(vios, elem):
    used = {}
    for mapping in xu.findall(elem, _VFC):
        name = xu.text(mapping, 'Port/PortName')
        if name:
            used[name] = used.get(name, 0) + 1
    for port in physical_ports(elem):
        total = int(xu.text(port, 'TotalPorts', 64))
        xu.set_text(port, 'AvailablePorts',
                    total - used.get(xu.text(port, 'PortName'), 0))


def get_next_wwpns(sim, target, params):
    """Return ``numberPairsRequested`` WWPN pairs, comma-separated.

    :param sim: the Simulator.
    :param target: the ManagedSystem object.
    :param params: job parameters.
    """
    pairs = int(params.get('numberPairsRequested', 1))
    return {'wwpnList': ','.join(new_wwpns(sim, pairs * 2))}


def drop_client_adapters(sim, lpar):
    """Deleting an LPAR leaves its VFC/VSCSI server adapters orphaned.

    :param sim: the Simulator.
    :param lpar: the LPAR being deleted.
    """
    lid = xu.text(lpar.elem, 'PartitionID')
    for vios in sim.store.all('VirtualIOServer'):
        changed = False
        for mapping in list(vios.elem.iter(
                xu.qn('VirtualSCSIMapping'),
                xu.qn('VirtualFibreChannelMapping'))):
            cla = xu.find(mapping, 'ClientAdapter')
            if cla is not None and xu.text(cla, 'LocalPartitionID') == lid:
                mapping.remove(cla)
                changed = True
        if changed:
            sim.store.touch(vios)
