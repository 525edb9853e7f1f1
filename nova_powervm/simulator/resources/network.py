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
"""ClientNetworkAdapter (LPAR and VIOS children)."""

import itertools

from nova_powervm.simulator import model
from nova_powervm.simulator import registry
from nova_powervm.simulator.resources import system
from nova_powervm.simulator.resources import vios as sim_vios
from nova_powervm.simulator import templates as tpl
from nova_powervm.simulator import xmlutil as xu

_OPTIONAL = ('TaggedVLANIDs', 'TrunkPriority', 'ConfiguredMTU', 'OvsBridge',
             'OvsPortExternalIds')
_CLIENT_ONLY = ('UseNextAvailableSlotID', 'UseNextAvailableHighSlotID')
_MACS = itertools.count(1)


def _vswitch(sim, body):
    link = xu.find(body, 'AssociatedVirtualSwitch/link')
    if link is not None:
        found = sim.store.get(xu.href_uuid(link.get('href')), 'VirtualSwitch')
        if found is None:
            raise registry.SimError(400, 'Unknown virtual switch %s'
                                    % link.get('href'))
        return found
    found = system.vswitch_by_id(sim, xu.text(body, 'VirtualSwitchID', 0))
    if found is None:
        raise registry.SimError(400, 'No virtual switch given')
    return found


def _slot(sim, part, body):
    return sim_vios.check_slot(part, _pick_slot(sim, part, body))


def _pick_slot(sim, part, body):
    used = sim_vios.cna_slots(sim, part) | sim_vios.adapter_slots(sim, part)
    if xu.text(body, 'UseNextAvailableSlotID') == 'false' or (
            xu.text(body, 'VirtualSlotNumber') and
            xu.text(body, 'UseNextAvailableHighSlotID') != 'true'):
        slot = int(xu.text(body, 'VirtualSlotNumber'))
        if slot in used:
            raise registry.SimError(
                409, 'HSCL294C Slot %d is already in use.' % slot)
        return slot
    if xu.text(body, 'UseNextAvailableHighSlotID') == 'true':
        return max(used | {2}) + 1
    slot = 2
    while slot in used:
        slot += 1
    return slot


# What a host answers to a dynamic (DLPAR) adapter change on a running
# partition whose RMC connection is down.
HSCLA246 = ('HSCLA246 The management console cannot communicate with '
            'partition %s. Either the network connection is not available '
            'or the partition does not have a level of software that is '
            'capable of supporting this operation. Verify the correct '
            'network and setup of the partition, and try the operation '
            'again.')


def check_dlpar(part):
    """Refuse an adapter change on a running partition without RMC.

    Adding or removing an adapter of a running partition is a dynamic
    reconfiguration the host does through the partition's RMC connection;
    the NovaLink partition itself and stopped partitions need none.

    :param part: the partition :class:`Obj`.
    :raises SimError: HTTP 500 with the host's HSCLA246 message.
    """
    if (part.kind == 'LogicalPartition'
            and xu.text(part.elem, 'IsManagementPartition') != 'true'
            and xu.text(part.elem, 'PartitionState') in (
                'running', 'open firmware')
            and xu.text(part.elem, 'ResourceMonitoringControlState')
            != 'active'):
        raise registry.SimError(500, HSCLA246 % xu.text(
            part.elem, 'PartitionName'))


def new_mac(sim):
    """A fresh, unused MAC address (12 upper-case hex digits).

    :param sim: the Simulator.
    """
    while True:
        mac = 'AE%010X' % (hash(sim.sys_uuid) % 0xFFFF * 0x10000 +
                           next(_MACS))
        mac = mac[:12]
        if not any(xu.text(c.elem, 'MACAddress') == mac
                   for c in sim.store.all('ClientNetworkAdapter')):
            return mac


class ClientNetworkAdapter(registry.Resource):
    kind = 'ClientNetworkAdapter'
    root = False

    def create(self, sim, parent, body):
        if parent is None or parent.kind not in ('LogicalPartition',
                                                 'VirtualIOServer'):
            raise registry.SimError(405, 'CNAs are partition children')
        check_dlpar(parent)
        vsw = _vswitch(sim, body)
        elem = tpl.capture_kind('ClientNetworkAdapter')
        uuid = sim.new_uuid()
        tpl.set_atom_id(elem, uuid)
        tpl.prune(elem, [n for n in _OPTIONAL if xu.find(body, n) is None])
        registry.merge_fields(elem, _strip(body))
        tpl.set_atom_id(elem, uuid)
        pid = xu.text(parent.elem, 'PartitionID')
        slot = _slot(sim, parent, body)
        loc = 'U%s-V%s-C%s' % (sim.inventory.loc_prefix, pid, slot)
        vlan = int(xu.text(body, 'PortVLANID', 1))
        mac = (xu.text(body, 'MACAddress') or new_mac(sim)).upper()
        mac = mac.replace(':', '')
        for path, val in (('DynamicReconfigurationConnectorName', loc),
                          ('LocationCode', loc), ('LocalPartitionID', pid),
                          ('VirtualSlotNumber', slot), ('Enabled', 'true'),
                          ('MACAddress', mac), ('PortVLANID', vlan),
                          ('VirtualSwitchID',
                           xu.text(vsw.elem, 'SwitchID'))):
            xu.set_text(elem, path, val)
        if (xu.text(parent.elem, 'IsManagementPartition') == 'true'
                and xu.find(elem, 'TrunkPriority') is not None):
            # A trunk of the NovaLink partition is a device of its OS.
            if not xu.text(elem, 'DeviceName'):
                xu.set_text(elem, 'DeviceName', 'pvmtrk%s' % slot)
        else:
            tpl.prune(elem, ('DeviceName',))
        link = xu.find(elem, 'AssociatedVirtualSwitch/link')
        link.set('href', sim.href(vsw))
        link.set('rel', 'related')
        nets = tpl.empty(elem, 'VirtualNetworks', keep=())
        vnet = system.ensure_vnet(sim, vsw, vlan)
        xu.sub(nets, 'link', href=sim.href(vnet), rel='related')
        return sim.store.add(model.Obj(self.kind, uuid, elem,
                                       (parent.kind, parent.uuid)))

    def after_update(self, sim, obj):
        for name in _CLIENT_ONLY:
            tpl.prune(obj.elem, (name,))

    def delete(self, sim, obj):
        part = sim.store.get(obj.parent[1])
        if part is not None:
            check_dlpar(part)
        sim.store.remove(obj)


def _strip(body):
    out = xu.deepcopy(body)
    tpl.prune(out, _CLIENT_ONLY + ('Metadata', 'AssociatedVirtualSwitch'))
    return out
