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
"""What the simulated host holds at first start (the inventory knobs).

The objects are created from these knobs by
:func:`nova_powervm.simulator.resources.seed`.
"""

import uuid as uuidlib

COMPAT_MODES = ('default', 'POWER6', 'POWER6_Plus', 'POWER7', 'POWER8',
                'POWER9')


class Inventory(object):
    """Inventory knobs.

    :param cores: configurable processor units.
    :param memory_gb: configurable memory (GB).
    :param lmb_mb: logical memory block size (MB).
    :param vioses: number of VIOSes (``vios1``...; ids 2, 3, ...).
    :param volume_groups: list of ``(name, capacity_gb, repo_gb|None)``
        created on the first VIOS.
    :param vswitches: list of vswitch names (the first is the default).
    :param fc_ports: physical FC ports per VIOS.
    :param srr_capable: simplified remote restart capability.
    :param ame_capable: Active Memory Expansion capability (POWER8 and
        later hosts have it; partitions with an expansion factor are
        refused when False).
    :param min_proc_units_per_vcpu: the host's minimum processing units
        per virtual processor (0.05 on current firmware).
    :param compat_modes: supported processor compatibility modes.
    :param mgmt_memory_mb: memory of the NovaLink partition.
    :param ssp: create an SSP cluster (when the SSP module is present).
    :param mgmt_vios: the NovaLink partition is an I/O host (it appears
        in the VIOS feed with ``IsManagementPartition=true`` and owns the
        volume groups) instead of a plain LPAR.
    :param proc_pools: names of shared processor pools besides
        ``DefaultPool`` (pool ids 1, 2, ...).
    :param sriov_label: label of every SR-IOV physical port (physnet), or
        a dict ``{'<adapter id>/<port id>': label}`` (others ``default``).
    :param vnic_capable: the system and its VIOSes can back vNICs with
        SR-IOV logical ports, with failover (``False``: neither).
    :param system_name: the ManagedSystem name.
    :param mtms: ``type-model*serial``.
    """

    def __init__(self, cores=20, memory_gb=256, lmb_mb=256, vioses=2,
                 volume_groups=None, vswitches=None, fc_ports=2,
                 srr_capable=True, compat_modes=COMPAT_MODES,
                 mgmt_memory_mb=4096, ssp=False, sriov_label='default',
                 mgmt_vios=False, proc_pools=('SharedPool01',),
                 system_name='Server-9009-42A-SN21F64EV',
                 mtms='9009-42A*21F64EV', ame_capable=True,
                 min_proc_units_per_vcpu=0.05, vnic_capable=True):
        self.cores = cores
        self.memory_gb = memory_gb
        self.lmb_mb = lmb_mb
        self.vioses = vioses
        self.volume_groups = (volume_groups if volume_groups is not None
                              else [('rootvg', 100, 10), ('datavg', 500,
                                                          None)])
        self.vswitches = (vswitches if vswitches is not None else
                          ['ETHERNET0', 'MGMTSWITCH', 'NovaLinkVEABridge'])
        self.fc_ports = fc_ports
        self.srr_capable = srr_capable
        self.ame_capable = ame_capable
        self.min_proc_units_per_vcpu = min_proc_units_per_vcpu
        self.compat_modes = tuple(compat_modes)
        self.mgmt_memory_mb = mgmt_memory_mb
        self.hypervisor_mb = 8192
        self.ssp = ssp
        self.sriov_label = sriov_label
        self.vnic_capable = vnic_capable
        self.mgmt_vios = mgmt_vios
        self.proc_pools = list(proc_pools)
        self.system_name = system_name
        self.mtms = mtms
        ns = uuidlib.uuid5(uuidlib.NAMESPACE_OID, 'pvm-sim-' + system_name)
        self.sys_uuid = str(ns)
        self.console_uuid = str(uuidlib.uuid5(ns, 'console'))
        self.console_name = 'novalink'

    @property
    def loc_prefix(self):
        """Location code prefix ``<type>.<model>.<serial>``."""
        mtm, serial = self.mtms.split('*')
        return '%s.%s' % (mtm.replace('-', '.'), serial)

    def partition_uuid(self, name):
        """A stable UPPER-case UUID for a seeded partition.

        :param name: the partition name.
        """
        val = uuidlib.uuid5(uuidlib.UUID(self.sys_uuid), name)
        # Keep the first nibble < 8 like PowerVM UUIDs.
        text = '%x%s' % (int(str(val)[0], 16) & 7, str(val)[1:])
        return text.upper()

    def to_dict(self):
        """JSON-able knobs (persisted with the state)."""
        return dict((k, v) for k, v in vars(self).items()
                    if not k.startswith('_'))

    @classmethod
    def from_dict(cls, data):
        """Rebuild from :meth:`to_dict` output.

        :param data: the dict.
        """
        inv = cls()
        for key, val in data.items():
            setattr(inv, key, tuple(val) if key == 'compat_modes' else val)
        return inv
