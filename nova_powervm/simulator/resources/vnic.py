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
"""SR-IOV backed vNICs (``VirtualNICDedicated``, LPAR children).

Each backing device of a vNIC takes one logical port and its capacity on
an SR-IOV physical port: the ports' ``ConfiguredEthernetLogicalPorts`` and
``AllocatedCapacity`` follow the vNICs that exist (recounted from the
values the host was seeded with), and a vNIC that does not fit is refused
as a host refuses it.  Adding or removing a vNIC of a running partition
needs its RMC connection (``network.check_dlpar``).

Each backing device is an SR-IOV logical port the VIOS owns: a
``SRIOVEthernetLogicalPort`` child of the VIOS (``VNICPortUsage`` ``VNIC``),
which the backing device's ``RelatedSRIOVLogicalPort`` links to.  They
come and go with the vNICs (``sync_logical_ports``).
"""

from lxml import etree
from pypowervm.wrappers import iocard

from nova_powervm.simulator import model
from nova_powervm.simulator import registry
from nova_powervm.simulator.resources import network
from nova_powervm.simulator.resources import vios as sim_vios
from nova_powervm.simulator import templates as tpl
from nova_powervm.simulator import xmlutil as xu

VNIC_ORDER = list(iocard._VNIC_EL_ORDER)
BD_ORDER = list(iocard._VNICBD_EL_ORDER)
_CLIENT_ONLY = ('UseNextAvailableSlotID', 'UseNextAvailableHighSlotID')
_BD = 'AssociatedBackingDevices/VirtualNICBackingDeviceChoice/' \
      'VirtualNICSRIOVBackingDevice'


def _sriov_ports(sim):
    ms = sim.store.first('ManagedSystem')
    ports = {}
    for adp in ms.elem.iter(xu.qn('SRIOVAdapter')):
        aid = xu.text(adp, 'SRIOVAdapterID')
        for port in adp.iter(
                xu.qn('SRIOVEthernetPhysicalPort'),
                xu.qn('SRIOVConvergedNetworkAdapterPhysicalPort')):
            ports[(aid, xu.text(port, 'PhysicalPortID'))] = port
    return ports


def _capacity(text):
    """A capacity ``'2.0%'`` (or ``0.02``) as a fraction."""
    text = (text or '').strip()
    if text.endswith('%'):
        return float(text[:-1]) / 100.0
    return float(text or 0)


def _port_usage(sim, exclude_lpar=None, extra=None):
    """``{(adapter id, port id): (logical ports, capacity)}`` of vNICs.

    :param sim: the Simulator.
    :param exclude_lpar: UUID of a partition whose vNICs do not count.
    :param extra: a vNIC element not stored yet that counts.
    """
    elems = [v.elem for v in sim.store.all('VirtualNICDedicated')
             if v.parent[1] != exclude_lpar]
    if extra is not None:
        elems.append(extra)
    usage = {}
    for elem in elems:
        for bdev in xu.findall(elem, _BD):
            key = (xu.text(bdev, 'RelatedSRIOVAdapterID'),
                   xu.text(bdev, 'RelatedSRIOVPhysicalPortID'))
            lps, cap = usage.get(key, (0, 0.0))
            usage[key] = (lps + 1, cap + _capacity(xu.text(
                bdev, 'CurrentCapacityPercentage',
                xu.text(bdev, 'DesiredCapacityPercentage', '2.0%'))))
    return usage


def _baseline(sim):
    """The seeded use of every port (what no vNIC of ours holds)."""
    ms = sim.store.first('ManagedSystem')
    base = ms.extra.get('sriov_base')
    if base is None:
        base = {}
        for key, port in _sriov_ports(sim).items():
            base['%s/%s' % key] = [
                int(xu.text(port, 'ConfiguredEthernetLogicalPorts', 0)),
                _capacity(xu.text(port, 'AllocatedCapacity', '0'))]
        ms.extra['sriov_base'] = base
    return base


def _check_fit(sim, elem):
    """Refuse a vNIC whose backing devices do not fit on their ports."""
    base = _baseline(sim)
    ports = _sriov_ports(sim)
    for key, (lps, cap) in _port_usage(sim, extra=elem).items():
        port = ports[key]
        blps, bcap = base.get('%s/%s' % key, (0, 0.0))
        limit = int(xu.text(port, 'ConfiguredMaxEthernetLogicalPorts', 0)
                    or 0)
        if limit and blps + lps > limit:
            raise registry.SimError(
                409, 'HSCLB0A1 SR-IOV physical port %s has no free logical '
                'port (maximum %d).'
                % (xu.text(port, 'LocationCode'), limit))
        if bcap + cap > 1.0 + 1e-9:
            raise registry.SimError(
                409, 'HSCLB0A2 SR-IOV physical port %s has not enough free '
                'capacity (%.0f%% in use).' % (
                    xu.text(port, 'LocationCode'), bcap * 100))


def recount(sim, exclude_lpar=None):
    """Set the ports' logical port counts and capacity from the vNICs.

    :param sim: the Simulator.
    :param exclude_lpar: UUID of a partition being deleted.
    """
    base = _baseline(sim)
    usage = _port_usage(sim, exclude_lpar=exclude_lpar)
    for key, port in _sriov_ports(sim).items():
        blps, bcap = base.get('%s/%s' % key, (0, 0.0))
        lps, cap = usage.get(key, (0, 0.0))
        for name, value in (('ConfiguredEthernetLogicalPorts', blps + lps),
                            ('AllocatedCapacity',
                             '%.1f%%' % ((bcap + cap) * 100))):
            node = xu.find(port, name)
            if node is not None:
                node.text = str(value)
    sim.store.touch(sim.store.first('ManagedSystem'))
    sync_logical_ports(sim, exclude_lpar=exclude_lpar)


def sync_logical_ports(sim, exclude_lpar=None):
    """One VIOS logical port per vNIC backing device, no more.

    :param sim: the Simulator.
    :param exclude_lpar: UUID of a partition being deleted.
    """
    wanted = {}
    ports = _sriov_ports(sim)
    for vnic in sim.store.all('VirtualNICDedicated'):
        if vnic.parent[1] == exclude_lpar:
            continue
        for idx, bdev in enumerate(xu.findall(vnic.elem, _BD)):
            uuid = sim.uuid_for('lport', vnic.uuid, str(idx))
            wanted[uuid] = (vnic, bdev, idx)
    for lport in sim.store.all('SRIOVEthernetLogicalPort'):
        if lport.uuid not in wanted:
            sim.store.remove(lport)
    for uuid, (vnic, bdev, idx) in wanted.items():
        vios_link = xu.find(bdev, 'AssociatedVirtualIOServer')
        vios_uuid = xu.href_uuid(vios_link.get('href'))
        lport = sim.store.get(uuid, 'SRIOVEthernetLogicalPort')
        if lport is None:
            lport = sim.store.add(_logical_port(sim, uuid, vios_uuid, vnic,
                                                bdev, ports))
        link = xu.find(bdev, 'RelatedSRIOVLogicalPort')
        if link is None:
            link = xu.insert_ordered(
                bdev, etree.Element(xu.qn('RelatedSRIOVLogicalPort')),
                BD_ORDER)
        link.set('href', sim.href(lport))
        link.set('rel', 'related')


def _logical_port(sim, uuid, vios_uuid, vnic, bdev, ports):
    """A VIOS's ``SRIOVEthernetLogicalPort`` for one backing device."""
    elem = tpl.capture_object('sriov_lp_feed.txt')
    tpl.set_atom_id(elem, uuid)
    aid = xu.text(bdev, 'RelatedSRIOVAdapterID')
    pid = xu.text(bdev, 'RelatedSRIOVPhysicalPortID')
    port = ports.get((aid, pid))
    loc = xu.text(port, 'LocationCode') if port is not None else ''
    count = len(sim.store.all('SRIOVEthernetLogicalPort'))
    for name, value in (
            ('LogicalPortID', 654311424 + int(aid) * 65536 + count + 1),
            ('AdapterID', aid), ('PhysicalPortID', pid),
            ('ConfiguredCapacity',
             xu.text(bdev, 'CurrentCapacityPercentage', '2.0%')),
            ('ConfiguredMaxCapacity',
             xu.text(bdev, 'MaxCapacityPercentage', '100.0%')),
            ('PortVLANID', xu.text(vnic.elem, 'Details/PortVLANID', 0)),
            ('LocationCode', '%s-S%d' % (loc, count + 1)),
            ('VNICPortUsage', 'VNIC'),
            ('MACAddress', xu.text(vnic.elem, 'Details/MACAddress'))):
        if xu.find(elem, name) is not None:
            xu.set_text(elem, name, value)
    return model.Obj('SRIOVEthernetLogicalPort', uuid, elem,
                     ('VirtualIOServer', vios_uuid))


class SRIOVEthernetLogicalPort(registry.Resource):
    """Logical ports of the VIOSes, made for vNIC backing devices."""

    kind = 'SRIOVEthernetLogicalPort'
    root = False

    def create(self, sim, parent, body):
        raise registry.SimError(
            405, 'The simulator makes SR-IOV logical ports only as vNIC '
                 'backing devices')

    def delete(self, sim, obj):
        raise registry.SimError(
            409, 'The logical port backs a vNIC: delete the vNIC')


def release_lpar(sim, lpar):
    """``lpar_delete`` hook: the partition's vNICs free their ports.

    :param sim: the Simulator.
    :param lpar: the partition :class:`Obj` being deleted.
    """
    if sim.store.children('VirtualNICDedicated', lpar.uuid):
        recount(sim, exclude_lpar=lpar.uuid)


def _set(node, name, value):
    found = xu.find(node, name)
    if found is None:
        found = xu.insert_ordered(node, etree.Element(xu.qn(name)),
                                  BD_ORDER)
    found.text = value


def _fill_backing(sim, vnic_elem):
    ports = _sriov_ports(sim)
    for idx, bdev in enumerate(xu.findall(vnic_elem, _BD)):
        key = (xu.text(bdev, 'RelatedSRIOVAdapterID'),
               xu.text(bdev, 'RelatedSRIOVPhysicalPortID'))
        if key not in ports:
            raise registry.SimError(
                400, 'No SR-IOV physical port %s/%s' % key)
        vios = sim.store.get(xu.href_uuid(xu.find(
            bdev, 'AssociatedVirtualIOServer').get('href')),
            'VirtualIOServer')
        if vios is None:
            raise registry.SimError(400, 'Unknown backing VIOS')
        # The client asks through Current... (pypowervm) or Desired...
        cap = (xu.text(bdev, 'DesiredCapacityPercentage') or
               xu.text(bdev, 'CurrentCapacityPercentage') or '2.0%')
        mx = (xu.text(bdev, 'DesiredMaxCapacityPercentage') or
              xu.text(bdev, 'MaxCapacityPercentage') or '100.0%')
        _set(bdev, 'DeviceType', 'SRIOV')
        _set(bdev, 'IsActive', 'true' if idx == 0 else 'false')
        _set(bdev, 'Status', 'OPERATIONAL')
        _set(bdev, 'CurrentCapacityPercentage', cap)
        _set(bdev, 'MaxCapacityPercentage', mx)


class VirtualNICDedicated(registry.Resource):
    kind = 'VirtualNICDedicated'
    root = False

    def create(self, sim, parent, body):
        if parent is None or parent.kind != 'LogicalPartition':
            raise registry.SimError(405, 'vNICs are LPAR children')
        network.check_dlpar(parent)
        elem = tpl.capture_object('vnic_feed.txt')
        uuid = sim.new_uuid()
        tpl.empty(elem, 'AssociatedBackingDevices', keep=())
        client = xu.deepcopy(body)
        tpl.prune(client, _CLIENT_ONLY + ('Metadata',))
        registry.merge_fields(elem, client)
        tpl.set_atom_id(elem, uuid)
        pid = xu.text(parent.elem, 'PartitionID')
        used = sim_vios.cna_slots(sim, parent) | \
            sim_vios.adapter_slots(sim, parent) | vnic_slots(sim, parent)
        slot = xu.text(body, 'VirtualSlotNumber')
        slot = int(slot) if slot and xu.text(
            body, 'UseNextAvailableSlotID') != 'true' else max(used | {2}) + 1
        xu.set_text(elem, 'DynamicReconfigurationConnectorName',
                    'U%s-V%s-C%s' % (sim.inventory.loc_prefix, pid, slot))
        xu.set_text(elem, 'LocalPartitionID', pid)
        xu.set_text(elem, 'VirtualSlotNumber', slot)
        mac = xu.text(elem, 'Details/MACAddress')
        if not mac or xu.find(body, 'Details/MACAddress') is None:
            xu.set_text(elem, 'Details/MACAddress', network.new_mac(sim))
        _fill_backing(sim, elem)
        _check_fit(sim, elem)
        obj = sim.store.add(model.Obj(self.kind, uuid, elem,
                                      (parent.kind, parent.uuid)))
        recount(sim)
        return obj

    def after_update(self, sim, obj):
        _fill_backing(sim, obj.elem)
        recount(sim)

    def delete(self, sim, obj):
        part = sim.store.get(obj.parent[1])
        if part is not None:
            network.check_dlpar(part)
        sim.store.remove(obj)
        recount(sim)


def vnic_slots(sim, part):
    """Slots used by vNICs of a partition.

    :param sim: the Simulator.
    :param part: the partition :class:`Obj`.
    """
    return set(int(xu.text(v.elem, 'VirtualSlotNumber', 0))
               for v in sim.store.children('VirtualNICDedicated', part.uuid))


def state_vnics(sim, out):
    """Fill ``vnics`` in ``/sim/state``.

    :param sim: the Simulator.
    :param out: the state dict.
    """
    out['vnics'] = [_vnic_state(v)
                    for v in sim.store.all('VirtualNICDedicated')]


def _vnic_state(vnic):
    backing = [[int(xu.text(b, 'RelatedSRIOVAdapterID')),
                int(xu.text(b, 'RelatedSRIOVPhysicalPortID'))]
               for b in xu.findall(vnic.elem, _BD)]
    return {'lpar_uuid': vnic.parent[1], 'uuid': vnic.uuid,
            'mac': xu.text(vnic.elem, 'Details/MACAddress'),
            'vlan': int(xu.text(vnic.elem, 'Details/PortVLANID', 0)),
            'slot': int(xu.text(vnic.elem, 'VirtualSlotNumber', 0)),
            'backing': backing}


def label_ports(sim, inv):
    """Label the SR-IOV physical ports (``Inventory.sriov_label``).

    ``sriov_label`` is one label for every port, or a dict of
    ``'<adapter id>/<port id>'`` to label (other ports: ``default``).
    The VIOSes say whether they can back vNICs (``Inventory.vnic_capable``).

    :param sim: the Simulator.
    :param inv: the Inventory.
    """
    labels = getattr(inv, 'sriov_label', 'default')
    for key, port in _sriov_ports(sim).items():
        label = (labels.get('%s/%s' % key, 'default')
                 if isinstance(labels, dict) else labels)
        node = xu.find(port, 'Label')
        if node is None:
            node = xu.insert_ordered(port, etree.Element(xu.qn('Label')),
                                     list(iocard._SRIOVEPP_EL_ORDER))
        node.text = label
    capable = getattr(inv, 'vnic_capable', True)
    for vios in sim.store.all('VirtualIOServer'):
        for name in ('IsVNICCapable', 'VNICFailOverCapable'):
            xu.set_text(vios.elem, name, capable)
