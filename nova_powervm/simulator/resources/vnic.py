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
"""SR-IOV backed vNICs (``VirtualNICDedicated``, LPAR children)."""

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
        cap = xu.text(bdev, 'DesiredCapacityPercentage', '2.0%')
        _set(bdev, 'DeviceType', 'SRIOV')
        _set(bdev, 'IsActive', 'true' if idx == 0 else 'false')
        _set(bdev, 'Status', 'OPERATIONAL')
        _set(bdev, 'CurrentCapacityPercentage', cap)
        _set(bdev, 'MaxCapacityPercentage', xu.text(
            bdev, 'DesiredMaxCapacityPercentage', '100.0%'))


class VirtualNICDedicated(registry.Resource):
    kind = 'VirtualNICDedicated'
    root = False

    def create(self, sim, parent, body):
        if parent is None or parent.kind != 'LogicalPartition':
            raise registry.SimError(405, 'vNICs are LPAR children')
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
        return sim.store.add(model.Obj(self.kind, uuid, elem,
                                       (parent.kind, parent.uuid)))

    def after_update(self, sim, obj):
        _fill_backing(sim, obj.elem)


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
    """Label every SR-IOV physical port (``Inventory.sriov_label``).

    :param sim: the Simulator.
    :param inv: the Inventory.
    """
    label = getattr(inv, 'sriov_label', 'default')
    for port in _sriov_ports(sim).values():
        node = xu.find(port, 'Label')
        if node is None:
            node = xu.insert_ordered(port, etree.Element(xu.qn('Label')),
                                     list(iocard._SRIOVEPP_EL_ORDER))
        node.text = label
