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
"""ManagedSystem, ManagementConsole, VirtualSwitch and VirtualNetwork."""

import uuid as uuidlib

from nova_powervm.simulator import model
from nova_powervm.simulator import registry
from nova_powervm.simulator import templates as tpl
from nova_powervm.simulator import xmlutil as xu

_MS_EMPTY = ('AssociatedLogicalPartitions', 'AssociatedSystemVirtualStorage',
             'AssociatedReservedStorageDevicePool', 'AssociatedGroups',
             'AssociatedTasks')
_CAPS = 'AssociatedSystemCapabilities'
_MEM = 'AssociatedSystemMemoryConfiguration'
_PROC = 'AssociatedSystemProcessorConfiguration'


def build_managed_system(inv, base):
    """The ManagedSystem object for an inventory.

    :param inv: the :class:`~nova_powervm.simulator.inventory.Inventory`.
    :param base: the base URL for hrefs.
    """
    elem = tpl.capture_kind('ManagedSystem')
    uuid = inv.sys_uuid
    tpl.set_atom_id(elem, uuid)
    for name in _MS_EMPTY:
        tpl.empty(elem, name)
    tpl.empty(elem, _PROC + '/SharedProcessorPool')
    mtms = inv.mtms.split('*')
    model_type = mtms[0].split('-')
    xu.set_text(elem, 'MachineTypeModelAndSerialNumber/MachineType',
                model_type[0])
    xu.set_text(elem, 'MachineTypeModelAndSerialNumber/Model', model_type[1])
    xu.set_text(elem, 'MachineTypeModelAndSerialNumber/SerialNumber', mtms[1])
    xu.set_text(elem, 'SystemName', inv.system_name)
    xu.set_text(elem, 'PrimaryIPAddress', '127.0.0.1')
    mem = inv.memory_gb * 1024
    for name in ('ConfigurableSystemMemory', 'InstalledSystemMemory'):
        xu.set_text(elem, '%s/%s' % (_MEM, name), mem)
    for name in ('CurrentLogicalMemoryBlockSize', 'MemoryRegionSize',
                 'PendingLogicalMemoryBlockSize', 'PendingMemoryRegionSize'):
        xu.set_text(elem, '%s/%s' % (_MEM, name), inv.lmb_mb)
    xu.set_text(elem, '%s/MemoryUsedByHypervisor' % _MEM, inv.hypervisor_mb)
    for name in ('ConfigurableSystemProcessorUnits',
                 'InstalledSystemProcessorUnits'):
        xu.set_text(elem, '%s/%s' % (_PROC, name), inv.cores)
    caps = xu.find(elem, _CAPS)
    xu.set_text(caps, 'PowerVMLogicalPartitionSimplifiedRemoteRestartCapable',
                inv.srr_capable)
    xu.set_text(caps, 'ActiveMemoryExpansionCapable', inv.ame_capable)
    vnic = getattr(inv, 'vnic_capable', True)
    xu.set_text(caps, 'VirtualNICDedicatedSRIOVCapable', vnic)
    xu.set_text(caps, 'VirtualNICFailOverCapable', vnic)
    xu.set_text(elem, '%s/MinimumProcessorUnitsPerVirtualProcessor' % _PROC,
                '%g' % inv.min_proc_units_per_vcpu)
    proc = xu.find(elem, _PROC)
    modes = xu.findall(proc, 'SupportedPartitionProcessorCompatibilityModes')
    anchor = modes[0].getprevious()
    for mode in modes:
        proc.remove(mode)
    for mode in reversed(inv.compat_modes):
        new = xu.sub(proc, 'SupportedPartitionProcessorCompatibilityModes',
                     mode)
        proc.remove(new)
        anchor.addnext(new)
    return model.Obj('ManagedSystem', uuid, elem)


def partitions(sim):
    """Every partition object (LPARs and VIOSes).

    :param sim: the Simulator.
    """
    return (sim.store.all('LogicalPartition') +
            sim.store.all('VirtualIOServer'))


def available_proc_units(sim, exclude=None):
    """Processing units no partition holds (never below zero).

    :param sim: the Simulator.
    :param exclude: a partition :class:`Obj` whose units count as free
        (the one being changed), or None.
    """
    total = float(xu.text(sim.store.first('ManagedSystem').elem,
                          '%s/ConfigurableSystemProcessorUnits' % _PROC))
    used = sum(float(part.extra.get('proc_units', 0))
               for part in partitions(sim) if part is not exclude)
    return max(round(total - used, 2), 0)


def min_proc_units_per_vcpu(sim):
    """The host's MinimumProcessorUnitsPerVirtualProcessor.

    :param sim: the Simulator.
    """
    return float(xu.text(sim.store.first('ManagedSystem').elem,
                         '%s/MinimumProcessorUnitsPerVirtualProcessor'
                         % _PROC, 0.05))


def ame_capable(sim):
    """Whether the host offers Active Memory Expansion.

    :param sim: the Simulator.
    """
    return xu.text(sim.store.first('ManagedSystem').elem,
                   '%s/ActiveMemoryExpansionCapable' % _CAPS) == 'true'


def view_value(sim, name):
    """A value from the served ManagedSystem (memory/proc availability).

    :param sim: the Simulator.
    :param name: a leaf local name.
    """
    ms = sim.store.first('ManagedSystem')
    view = sim.registry.get('ManagedSystem').view(sim, ms)
    node = next(view.iter(xu.qn(name)), None)
    return None if node is None else node.text


class ManagedSystem(registry.Resource):
    kind = 'ManagedSystem'

    def view(self, sim, obj):
        elem = xu.deepcopy(obj.elem)
        mem_used = int(xu.text(elem, '%s/MemoryUsedByHypervisor' % _MEM))
        for part in partitions(sim):
            mem_used += int(xu.text(
                part.elem, 'PartitionMemoryConfiguration/DesiredMemory', 0))
        total_mem = int(xu.text(elem, '%s/ConfigurableSystemMemory' % _MEM))
        for name in ('CurrentAvailableSystemMemory',
                     'PendingAvailableSystemMemory'):
            xu.set_text(elem, '%s/%s' % (_MEM, name),
                        max(total_mem - mem_used, 0))
        for name in ('CurrentAvailableSystemProcessorUnits',
                     'PendingAvailableSystemProcessorUnits'):
            xu.set_text(elem, '%s/%s' % (_PROC, name),
                        '%g' % available_proc_units(sim))
        return elem


def query_reserved_memory(sim, target, params):
    """Hypervisor memory needed: 1/64 of max memory rounded up to LMBs.

    :param sim: the Simulator.
    :param target: the ManagedSystem object.
    :param params: the job parameters.
    """
    lmb = sim.inventory.lmb_mb
    desired = int(params.get('DesiredMemory', 0))
    maximum = int(params.get('MaximumMemory', desired))
    overhead = -(-max(maximum // 64, 256) // lmb) * lmb
    avail = view_value(sim, 'CurrentAvailableSystemMemory')
    return {'RequiredMemory': str(desired + overhead),
            'CurrentAvailableSystemMemory': str(avail)}


class ManagementConsole(registry.Resource):
    kind = 'ManagementConsole'

    def after_update(self, sim, obj):
        sim.store.touch(obj)


def build_management_console(inv):
    """The ManagementConsole object.

    :param inv: the Inventory.
    """
    elem = tpl.capture_kind('ManagementConsole')
    uuid = inv.console_uuid
    tpl.set_atom_id(elem, uuid)
    tpl.empty(elem, 'AuthorizedKeys')
    tpl.empty(elem, 'ManagedSystems')
    xu.set_text(elem, 'ManagementConsoleName', inv.console_name)
    return model.Obj('ManagementConsole', uuid, elem)


def build_vswitch(sim, name, switch_id, mode='Veb'):
    """A VirtualSwitch object (child of the ManagedSystem).

    :param sim: the Simulator.
    :param name: SwitchName.
    :param switch_id: SwitchID.
    :param mode: SwitchMode (Veb or Vepa).
    """
    elem = tpl.capture_kind('VirtualSwitch')
    uuid = str(uuidlib.uuid5(uuidlib.NAMESPACE_OID,
                             'vswitch-%s-%s' % (sim.sys_uuid, name)))
    tpl.set_atom_id(elem, uuid)
    xu.set_text(elem, 'SwitchID', switch_id)
    xu.set_text(elem, 'SwitchMode', mode)
    xu.set_text(elem, 'SwitchName', name)
    tpl.empty(elem, 'VirtualNetworks')
    return model.Obj('VirtualSwitch', uuid, elem,
                     ('ManagedSystem', sim.sys_uuid))


class VirtualSwitch(registry.Resource):
    kind = 'VirtualSwitch'
    root = False

    def create(self, sim, parent, body):
        name = xu.text(body, 'SwitchName')
        if not name:
            raise registry.SimError(400, 'SwitchName is required')
        ids = [int(xu.text(o.elem, 'SwitchID'))
               for o in sim.store.all(self.kind)]
        obj = build_vswitch(sim, name, max(ids + [-1]) + 1,
                            xu.text(body, 'SwitchMode', 'Veb'))
        return sim.store.add(obj)


def vswitch_by_id(sim, switch_id):
    """The VirtualSwitch object with a SwitchID, or None.

    :param sim: the Simulator.
    :param switch_id: the integer id.
    """
    for obj in sim.store.all('VirtualSwitch'):
        if xu.text(obj.elem, 'SwitchID') == str(switch_id):
            return obj
    return None


def ensure_vnet(sim, vswitch, vlan):
    """The VirtualNetwork for ``vlan`` on ``vswitch``, created if needed.

    :param sim: the Simulator.
    :param vswitch: the VirtualSwitch object.
    :param vlan: the VLAN id (int).
    """
    sw_id = xu.text(vswitch.elem, 'SwitchID')
    for obj in sim.store.all('VirtualNetwork'):
        if (xu.text(obj.elem, 'VswitchID') == sw_id and
                xu.text(obj.elem, 'NetworkVLANID') == str(vlan)):
            return obj
    elem = tpl.capture_kind('VirtualNetwork')
    uuid = str(uuidlib.uuid4())
    tpl.set_atom_id(elem, uuid)
    xu.find(elem, 'AssociatedSwitch').set('href', sim.href(vswitch))
    xu.set_text(elem, 'NetworkName', 'VLAN%s-%s' % (
        vlan, xu.text(vswitch.elem, 'SwitchName')))
    xu.set_text(elem, 'NetworkVLANID', vlan)
    xu.set_text(elem, 'VswitchID', sw_id)
    obj = sim.store.add(model.Obj('VirtualNetwork', uuid, elem,
                                  ('ManagedSystem', sim.sys_uuid)))
    nets = xu.find(vswitch.elem, 'VirtualNetworks')
    xu.sub(nets, 'link', href=sim.href(obj), rel='related')
    sim.store.touch(vswitch)
    return obj


class VirtualNetwork(registry.Resource):
    kind = 'VirtualNetwork'
    root = False


def build_proc_pools(sim, names):
    """The default shared processor pool plus named ones (ids 1, 2...).

    :param sim: the Simulator.
    :param names: extra pool names.
    """
    pools = []
    for pid, name in enumerate(['DefaultPool'] + list(names)):
        elem = tpl.capture_object('shrprocpool.txt', 0 if pid == 0 else 1)
        uuid = sim.uuid_for('pool', name)
        tpl.set_atom_id(elem, uuid)
        if pid == 0:
            tpl.empty(elem, 'AssignedPartitions', keep=())
        xu.set_text(elem, 'PoolID', pid)
        xu.set_text(elem, 'PoolName', name)
        pools.append(model.Obj('SharedProcessorPool', uuid, elem,
                               ('ManagedSystem', sim.sys_uuid)))
    return pools


class SharedProcessorPool(registry.Resource):
    kind = 'SharedProcessorPool'
    root = False

    def view(self, sim, obj):
        elem = xu.deepcopy(obj.elem)
        assigned = xu.find(elem, 'AssignedPartitions')
        if assigned is None:
            return elem
        pool_id = xu.text(elem, 'PoolID')
        for part in partitions(sim):
            mine = xu.text(part.elem, 'PartitionProcessorConfiguration/'
                           'SharedProcessorConfiguration/'
                           'SharedProcessorPoolID', '0')
            if mine == pool_id:
                xu.sub(assigned, 'link', href=sim.href(part),
                       rel='related')
        return elem
