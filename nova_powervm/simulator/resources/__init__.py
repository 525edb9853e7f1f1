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
"""The simulator's resource modules and the one list of what they provide.

The framework (``nova_powervm.simulator``) knows no resource type; a
:class:`~nova_powervm.simulator.core.Simulator` serves what
:func:`registry` builds from the three lists below.  A new resource
module adds its handler classes, job operations and hook functions here
(see ``README`` in the simulator package).
"""

from nova_powervm.simulator import registry as sim_registry
from nova_powervm.simulator.resources import file
from nova_powervm.simulator.resources import lpar
from nova_powervm.simulator.resources import migration
from nova_powervm.simulator.resources import network
from nova_powervm.simulator.resources import npiv
from nova_powervm.simulator.resources import pcm
from nova_powervm.simulator.resources import pv
from nova_powervm.simulator.resources import seed as sim_seed
from nova_powervm.simulator.resources import ssp
from nova_powervm.simulator.resources import storage
from nova_powervm.simulator.resources import system
from nova_powervm.simulator.resources import vios
from nova_powervm.simulator.resources import vnic
from nova_powervm.simulator import san

#: REST types served (one handler class per kind).
RESOURCES = (
    system.ManagedSystem,
    system.ManagementConsole,
    system.SharedProcessorPool,
    system.VirtualSwitch,
    system.VirtualNetwork,
    lpar.LogicalPartition,
    vios.VirtualIOServer,
    network.ClientNetworkAdapter,
    vnic.VirtualNICDedicated,
    storage.VolumeGroup,
    ssp.Cluster,
    ssp.SharedStoragePool,
    ssp.Tier,
    ssp.LogicalUnit,
    file.File,
)

#: Job operations: (group, operation name, function).
JOBS = (
    ('LogicalPartition', 'PowerOn', lpar.power_on),
    ('LogicalPartition', 'PowerOff', lpar.power_off),
    ('LogicalPartition', 'MigrateValidate', migration.migrate_validate),
    ('LogicalPartition', 'Migrate', migration.migrate),
    ('LogicalPartition', 'MigrateAbort', migration.migrate_abort),
    ('LogicalPartition', 'MigrateRecover', migration.migrate_recover),
    ('LogicalPartition', 'CloseVterm', migration.close_vterm),
    ('ManagedSystem', 'QueryReservedMemoryRequiredForPartition',
     system.query_reserved_memory),
    ('ManagedSystem', 'GetNextWWPNs', npiv.get_next_wwpns),
    ('VirtualIOServer', 'LUARecovery', pv.lua_recovery),
    ('VirtualIOServer', 'RemoveDevice', pv.remove_device),
    ('VirtualIOServer', 'RescanVirtualDisk', pv.rescan_vdisk),
    ('VirtualIOServer', 'ISCSIDiscovery', pv.iscsi_discovery),
    ('VirtualIOServer', 'ISCSIRemove', pv.iscsi_remove),
    ('VirtualIOServer', 'RBDExists', pv.rbd_exists),
)

#: Hook functions: (hook name, function), run in this order.
HOOKS = (
    ('fc_seed', npiv.seed_ports),
    ('fc_update', npiv.process_vfc_mappings),
    ('lpar_delete', npiv.drop_client_adapters),
    ('ssp_seed', ssp.seed),
    ('resolve_storage', ssp.resolve_lu),
    ('seed_done', vnic.label_ports),
    ('state', ssp.state_lus),
    ('state', vnic.state_vnics),
    ('pcm', pcm.handle),
    ('admin', lpar.admin_request),
    ('admin', migration.admin_request),
    ('admin', san.admin_request),
    ('state', pv.state_devices),
    ('started', migration.register_peer),
    ('closed', migration.unregister_peer),
)


def registry():
    """A new :class:`~nova_powervm.simulator.registry.Registry` of all."""
    return sim_registry.Registry(RESOURCES, JOBS, HOOKS)


def seed(sim, inventory):
    """Create the first-start objects of ``inventory`` in ``sim``.

    :param sim: the Simulator.
    :param inventory: the :class:`~nova_powervm.simulator.Inventory`.
    """
    sim_seed.seed(sim, inventory)
