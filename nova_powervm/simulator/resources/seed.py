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
"""The objects a simulated host holds at first start, from an Inventory."""

from nova_powervm.simulator import model
from nova_powervm.simulator.resources import lpar as sim_lpar
from nova_powervm.simulator.resources import storage
from nova_powervm.simulator.resources import system
from nova_powervm.simulator.resources import vios as sim_vios
from nova_powervm.simulator import xmlutil as xu


def _mgmt_partition(sim, inv):
    mgmt_uuid = inv.partition_uuid('novalink')
    if inv.mgmt_vios:
        obj = sim_vios.build_vios(sim, 'novalink', 1, mgmt_uuid,
                                  mem_mb=inv.mgmt_memory_mb, procs=0.5)
        xu.set_text(obj.elem, 'PartitionType', 'AIX/Linux')
        xu.set_text(obj.elem, 'IsManagementPartition', True)
        return obj
    elem = sim_lpar.build_partition(
        sim, sim_lpar.lpar_template(), 'novalink', 1, mgmt_uuid,
        'AIX/Linux', 'running', mgmt=True)
    xu.set_text(elem, 'PartitionMemoryConfiguration/DesiredMemory',
                inv.mgmt_memory_mb)
    mgmt = model.Obj('LogicalPartition', mgmt_uuid, elem,
                     ('ManagedSystem', inv.sys_uuid))
    sim_lpar.sync_partition(mgmt)
    return mgmt


def seed(sim, inv):
    """Create the initial objects of an inventory in ``sim``'s store.

    :param sim: the Simulator.
    :param inv: the :class:`Inventory`.
    """
    store = sim.store
    store.add(system.build_managed_system(inv, sim.base_url))
    store.add(system.build_management_console(inv))
    mgmt = store.add(_mgmt_partition(sim, inv))
    vioses = [mgmt] if inv.mgmt_vios else []
    for idx in range(inv.vioses):
        name = 'vios%d' % (idx + 1)
        obj = sim_vios.build_vios(sim, name, idx + 2,
                                  inv.partition_uuid(name))
        store.add(obj)
        sim.registry.run_hooks('fc_seed', sim, obj, inv.fc_ports)
        vioses.append(obj)
    if vioses:
        for name, cap, repo in inv.volume_groups:
            store.add(storage.build_vg(sim, vioses[0], name, cap, repo))
    for pool in system.build_proc_pools(sim, inv.proc_pools):
        store.add(pool)
    for idx, name in enumerate(inv.vswitches):
        mode = 'Vepa' if name == 'MGMTSWITCH' else 'Veb'
        store.add(system.build_vswitch(sim, name, idx, mode))
    sim.registry.run_hooks('ssp_seed', sim, inv)
    sim.registry.run_hooks('seed_done', sim, inv)
