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
"""host.py: discovery against the simulator, and resource reporting."""

import itertools
import threading

import os_resource_classes as orc
import os_traits

from nova_powervm import exception as pvm_exception
from nova_powervm.tests.unit.virt.powervm import simbase
from nova_powervm.virt.powervm import host

RATIOS = {orc.VCPU: 4.0, orc.MEMORY_MB: 1.0, orc.DISK_GB: 1.0}


class TestDiscover(simbase.SimTestCase):

    def test_discover_default_inventory(self):
        found, calls = self.count_rest(host.discover, self.adapter, 30)
        # ManagedSystem, VIOS feed, LPAR feed (NovaLink is an LPAR here).
        self.assertEqual(3, calls)
        self.assertEqual(['vios1', 'vios2'],
                         sorted(v.name for v in found.vioses))
        self.assertTrue(found.mgmt_w.is_mgmt_partition)
        self.assertEqual(1, found.mgmt_w.id)
        self.assertEqual(found.host_w.uuid, self.adapter.sys_uuid)
        expected_mem = int(found.host_w.firmware_memory or 0) + sum(
            host.partition_entitlement(p)[1]
            for p in [found.mgmt_w] + found.vioses)
        self.assertEqual(expected_mem, found.reserved.memory_mb)
        self.assertGreater(found.reserved.cores, 0)
        self.assertGreaterEqual(found.reserved.vcpus, found.reserved.cores)

    def test_no_vios_readable_times_out(self):
        self.sim.add_fault(method='GET', path='VirtualIOServer', kind='http',
                           status=500, count=-1)
        clock = itertools.count(0, 4).__next__
        stop = threading.Event()
        stop.wait = lambda timeout=None: False
        self.assertRaises(pvm_exception.NoActiveVIOS, host.wait_for_vioses,
                          self.adapter, 10, stop, clock)

    def test_stop_ends_vios_wait(self):
        self.sim.add_fault(method='GET', path='VirtualIOServer', kind='http',
                           status=500, count=-1)
        stop = threading.Event()
        stop.set()
        self.assertRaises(pvm_exception.NoActiveVIOS, host.wait_for_vioses,
                          self.adapter, 300, stop)

    def test_resources_of_simulated_host(self):
        host_w = self.host_wrapper()
        res = host.available_resources(host_w, 'node1', 500.0, 20.5)
        self.assertEqual(20, res['vcpus'])
        self.assertEqual(int(host_w.memory_configurable), res['memory_mb'])
        self.assertEqual(500, res['local_gb'])
        self.assertEqual(21, res['local_gb_used'])
        self.assertEqual(479, res['disk_available_least'])
        self.assertEqual('phyp', res['hypervisor_type'])
        self.assertEqual('node1', res['hypervisor_hostname'])
        self.assertEqual({'ppc64', 'ppc64le'},
                         {arch for arch, _, _ in res['supported_instances']})
        self.assertIn(os_traits.HW_CPU_PPC64LE_POWER9, host.traits(host_w))
        self.assertIn(os_traits.COMPUTE_ARCH_PPC64LE, host.traits(host_w))


class TestInventory(simbase.base.NoDBTestCase):

    RES = {'vcpus': 20, 'memory_mb': 262144, 'local_gb': 500}

    def test_platform_reserved_wins_over_small_config(self):
        inv = host.inventory(self.RES, host.Reserved(2.5, 12288), RATIOS,
                             reserved_disk_gb=1, reserved_host_cpus=0,
                             reserved_host_memory_mb=512)
        self.assertEqual(3, inv[orc.VCPU]['reserved'])
        self.assertEqual(4.0, inv[orc.VCPU]['allocation_ratio'])
        self.assertEqual(12288, inv[orc.MEMORY_MB]['reserved'])
        self.assertEqual(1, inv[orc.DISK_GB]['reserved'])
        self.assertEqual(500, inv[orc.DISK_GB]['max_unit'])

    def test_config_reserved_wins_when_larger(self):
        inv = host.inventory(self.RES, host.Reserved(0.5, 1024), RATIOS,
                             reserved_host_cpus=4,
                             reserved_host_memory_mb=4096)
        self.assertEqual(4, inv[orc.VCPU]['reserved'])
        self.assertEqual(4096, inv[orc.MEMORY_MB]['reserved'])

    def test_empty_resources_are_left_out(self):
        inv = host.inventory(dict(self.RES, local_gb=0), host.Reserved(),
                             RATIOS)
        self.assertNotIn(orc.DISK_GB, inv)
