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
"""The driver's own methods against the simulator (REST budgets included)."""

import socket

from nova.compute import power_state
from nova.compute import provider_tree
from nova.compute import task_states
from nova.console import type as ctype
from nova import exception as nova_exc
from nova.virt import event as virtevent
from nova.virt import fake
from nova.virt import node as nova_node
import os_resource_classes as orc
import os_traits

from nova_powervm import conf as pvm_conf
from nova_powervm import exception as pvm_exception
from nova_powervm.tests.unit.virt.powervm import simbase
from nova_powervm.tests.unit.virt.powervm import test_event
from nova_powervm.tests.unit.virt.powervm import test_session
from nova_powervm.virt.powervm.disk import base as disk_base
from nova_powervm.virt.powervm import driver
from nova_powervm.virt.powervm import session
from nova_powervm.virt.powervm import vm


class DriverTestCase(simbase.SimTestCase):
    """A driver after ``init_host`` against the simulator."""

    # Seconds between a state change and the driver's lifecycle check.
    EVENT_DELAY = 0.05

    def setUp(self):
        super().setUp()
        self.flags(my_ip='192.0.2.10')
        self.drv = driver.PowerVMDriver(fake.FakeVirtAPI())
        self.drv.event_delay = self.EVENT_DELAY
        self.addCleanup(self.drv.cleanup_host, 'compute1')
        _, self.init_calls = self.count_rest(self.drv.init_host, 'compute1')

    def lpar_instance(self, running=False, **kwargs):
        inst = self.instance(**kwargs)
        vm.create_lpar(self.adapter, self.host_wrapper(), inst)
        if running:
            self.set_state(inst, 'running')
        return inst


class TestInitHost(DriverTestCase):

    def test_init_host_budget_and_context(self):
        # + 1: the event listener's priming GET of the event feed.
        self.assertLessEqual(self.init_calls + 1, 10)
        ctx = self.drv._ctx
        self.assertEqual('compute1', ctx.host)
        self.assertEqual(self.host_wrapper().uuid, ctx.host_uuid)
        self.assertIsNotNone(ctx.disk_dvr)
        self.assertEqual(['compute1'], self.drv.get_available_nodes())
        self.assertTrue(self.drv.capabilities['has_imagecache'])

    def test_options_are_snapshot_at_init_host(self):
        self.flags(group='powervm', pvm_port=1, pvm_host='192.0.2.99')
        self.assertEqual(20, self.drv.get_available_resource('x')['vcpus'])
        inst = self.lpar_instance(running=True)
        console = self.drv.get_vnc_console(self.ctx, inst)
        self.assertIsInstance(console, ctype.ConsoleVNC)

    def test_cleanup_host_stops_the_event_thread(self):
        thread = session.event_poll_thread(self.drv._events._listener)
        self.drv.cleanup_host('compute1')
        self.assertFalse(thread.is_alive())
        self.assertRaises(nova_exc.VirtDriverNotReady,
                          self.drv.list_instances)

    def test_second_init_host_replaces_the_first(self):
        thread = session.event_poll_thread(self.drv._events._listener)
        self.drv.init_host('compute1')
        self.assertFalse(thread.is_alive())
        self.assertEqual([], self.drv.list_instances())

    def test_node_identity_is_novas(self):
        # One compute per process, as nova runs it: the node is nova's
        # persistent identity (several computes in one process are the
        # sandbox's business, see sandbox/hosts.py).
        self.assertEqual({nova_node.get_local_node_uuid(): 'compute1'},
                         self.drv.get_nodenames_by_uuid())
        self.assertNotIn('uuid', self.drv.get_available_resource('compute1'))

    def test_no_vios_in_time_fails_init_host(self):
        self.flags(group='powervm', vios_active_wait_timeout=1)
        self.sim.add_fault(method='GET', path='VirtualIOServer', kind='http',
                           status=500, count=-1)
        drv = driver.PowerVMDriver(fake.FakeVirtAPI())
        self.assertRaises(pvm_exception.NoActiveVIOS, drv.init_host,
                          'compute9')
        self.assertRaises(nova_exc.VirtDriverNotReady, drv.list_instances)


class TestStartFailures(simbase.SimTestCase):
    """init_host and the constructor fail fast and leave nothing running."""

    def test_constructor_names_the_bad_option(self):
        self.flags(group='powervm', volume_group_name=' ')
        exc = self.assertRaises(pvm_conf.InvalidOption, driver.PowerVMDriver,
                                fake.FakeVirtAPI())
        self.assertIn('volume_group_name', str(exc))

    def test_missing_volume_group_fails_init_host(self):
        self.flags(group='powervm', volume_group_name='novg')
        drv = driver.PowerVMDriver(fake.FakeVirtAPI())
        exc = self.assertRaises(nova_exc.NovaException, drv.init_host,
                                'compute1')
        self.assertIn('novg', exc.format_message())
        self.assertRaises(nova_exc.VirtDriverNotReady, drv.list_instances)

    def test_unreachable_novalink_fails_init_host(self):
        self.flags(group='powervm', pvm_port=test_session._free_port(),
                   pvm_host='127.0.0.1', pvm_connect_timeout=1)
        drv = driver.PowerVMDriver(fake.FakeVirtAPI())
        self.assertRaises(pvm_exception.NovaLinkNotReachable, drv.init_host,
                          'compute1')


class TestReporting(DriverTestCase):

    def test_available_resource(self):
        res, calls = self.count_rest(self.drv.get_available_resource,
                                     'compute1')
        self.assertLessEqual(calls, 3)
        for key in ('vcpus', 'memory_mb', 'local_gb', 'cpu_info',
                    'vcpus_used', 'memory_mb_used', 'local_gb_used',
                    'numa_topology', 'disk_available_least',
                    'supported_instances', 'hypervisor_version'):
            self.assertIn(key, res)
        self.assertEqual(20, res['vcpus'])
        self.assertEqual(500, res['local_gb'])
        self.assertEqual('192.0.2.10', self.drv.get_host_ip_addr())

    def test_provider_tree(self):
        tree = provider_tree.ProviderTree()
        tree.new_root('compute1', 'd3e2f1a0-0000-4000-8000-000000000001')
        tree.add_traits('compute1', os_traits.HW_CPU_X86_AVX)
        self.drv.get_available_resource('compute1')
        _, calls = self.count_rest(self.drv.update_provider_tree, tree,
                                   'compute1')
        self.assertEqual(0, calls)
        inv = tree.data('compute1').inventory
        self.assertEqual(20, inv[orc.VCPU]['total'])
        self.assertGreaterEqual(inv[orc.VCPU]['reserved'], 1)
        self.assertEqual(4.0, inv[orc.VCPU]['allocation_ratio'])
        self.assertGreater(inv[orc.MEMORY_MB]['reserved'], 512)
        self.assertEqual(500, inv[orc.DISK_GB]['total'])
        traits = tree.data('compute1').traits
        self.assertIn(os_traits.COMPUTE_ARCH_PPC64LE, traits)
        self.assertIn(os_traits.HW_CPU_X86_AVX, traits)  # not ours: kept

    def test_uptime(self):
        self.assertIn(' up ', self.drv.get_host_uptime())


class TestInstances(DriverTestCase):

    def test_listing(self):
        self.assertEqual([], self.drv.list_instances())
        self.assertEqual([], self.drv.list_instance_uuids())
        inst = self.lpar_instance()
        names, calls = self.count_rest(self.drv.list_instances)
        self.assertEqual(([inst.name], 1), (names, calls))
        self.assertIn(inst.uuid, self.drv.list_instance_uuids())
        self.assertTrue(self.drv.instance_exists(inst))
        self.assertFalse(self.drv.instance_exists(self.instance()))

    def test_partitions_not_made_by_nova_are_not_instances(self):
        self.flags(instance_name_template='aix-%d')
        self.lpar_instance()
        self.flags(instance_name_template='instance-%08x')
        self.assertEqual([], self.drv.list_instances())
        self.assertEqual([], self.drv.list_instance_uuids())
        inst = self.lpar_instance()
        self.assertEqual([inst.name], self.drv.list_instances())

    def test_get_info_is_one_call(self):
        # Left off: no power-on event can add its lifecycle check's GET.
        inst = self.lpar_instance()
        info, calls = self.count_rest(self.drv.get_info, inst,
                                      use_cache=False)
        self.assertEqual((power_state.SHUTDOWN, 1), (info.state, calls))
        self.assertEqual(
            1, self.sim.stats()['by_pattern'].get(
                'GET /rest/api/uom/LogicalPartition/{uuid}/quick/{prop}'))
        # The first cached call reads the state snapshot (the LPAR feed).
        info, calls = self.count_rest(self.drv.get_info, inst)
        self.assertEqual((power_state.SHUTDOWN, 1), (info.state, calls))
        self.set_state(inst, 'error')
        self.assertEqual(power_state.CRASHED,
                         self.drv.get_info(inst, use_cache=False).state)
        for use_cache in (False, True):
            self.assertRaises(nova_exc.InstanceNotFound, self.drv.get_info,
                              self.instance(), use_cache=use_cache)

    def test_forced_power_off_and_resume(self):
        inst = self.lpar_instance(running=True)
        self.drv.power_off(inst)
        self.assertEqual('not activated', self.lpar(inst)['state'])
        self.drv.resume_state_on_host_boot(self.ctx, inst, [], None)
        self.assertEqual('running', self.lpar(inst)['state'])

    def test_out_of_band_stop_reaches_nova_as_stopped(self):
        inst = self.lpar_instance(running=True)
        got = test_event.Collector()
        self.drv.register_event_listener(got)
        self.drv.get_info(inst)  # the driver now knows the instance
        self.set_state(inst, 'not activated')
        self.assertIsNotNone(got.wait_for(inst.uuid,
                                          virtevent.EVENT_LIFECYCLE_STOPPED))
        self.assertEqual(power_state.SHUTDOWN, self.drv.get_info(inst).state)

    def test_vnc_console_through_the_shim(self):
        inst = self.lpar_instance(running=True)
        console = self.drv.get_vnc_console(self.ctx, inst)
        self.assertIsInstance(console, ctype.ConsoleVNC)
        with socket.create_connection((console.host, console.port),
                                      timeout=5) as sock:
            banner = sock.recv(12)
        self.assertTrue(banner.startswith(b'RFB '), banner)
        self.assertRaises(nova_exc.InstanceNotFound,
                          self.drv.get_vnc_console, self.ctx,
                          self.instance())


class TestPowerBudgets(DriverTestCase):
    """REST budgets of the power operations.

    The lifecycle checks that follow each state change read the partition
    state too; they are pushed past the test so that only the operations'
    own round trips are counted.
    """

    EVENT_DELAY = 3600

    def test_power_budgets(self):
        inst = self.lpar_instance()
        _, calls = self.count_rest(self.drv.power_on, self.ctx, inst, [])
        self.assertLessEqual(calls, 4)
        self.assertEqual('running', self.lpar(inst)['state'])
        for rtype in ('SOFT', 'HARD'):
            _, calls = self.count_rest(self.drv.reboot, self.ctx, inst, [],
                                       rtype)
            self.assertLessEqual(calls, 4)
            self.assertEqual('running', self.lpar(inst)['state'])
        _, calls = self.count_rest(self.drv.power_off, inst, 60, 10)
        self.assertLessEqual(calls, 4)
        self.assertEqual('not activated', self.lpar(inst)['state'])


class TestNotSupportedYet(DriverTestCase):
    """What the driver cannot do yet is refused before anything changes."""

    def test_power_off_before_rescue_or_shelve_goes_ahead(self):
        # nova powers off before a rescue and before a shelve's snapshot;
        # both are supported now.
        for task in (task_states.RESCUING, task_states.SHELVING):
            inst = self.lpar_instance(running=True)
            inst.task_state = task
            self.drv.power_off(inst)
            self.assertEqual('not activated', self.lpar(inst)['state'])

    def test_rebuild_needs_the_disk_adapter_calls(self):
        # An adapter without them (the base's refusing defaults) makes the
        # driver refuse before any change: nova then destroys and spawns.
        inst = self.lpar_instance(running=True)
        dvr = self.drv._host_ctx().disk_dvr
        self.assertTrue(dvr.can_rebuild())
        real = type(dvr)
        self.addCleanup(setattr, dvr, '__class__', real)
        dvr.__class__ = type('Bare', (real,), {
            'create_boot_disk': disk_base.DiskAdapter.create_boot_disk})
        self.assertFalse(dvr.can_rebuild())
        self.sim.reset_stats()
        err = self.assertRaises(
            NotImplementedError, self.drv.rebuild, self.ctx, inst, None, [],
            None, None, [], None, None)
        self.assertIn('rebuild on this disk driver', str(err))
        self.assertEqual(0, self.sim.stats()['total'])

    def test_live_migration_fails_its_pre_check_on_localdisk(self):
        inst = self.lpar_instance(running=True)
        self.sim.reset_stats()
        err = self.assertRaises(
            nova_exc.MigrationPreCheckError,
            self.drv.check_can_live_migrate_destination, None, inst, {}, {})
        self.assertIn('live migration needs a shared storage pool',
                      err.format_message())
        self.assertEqual(0, self.sim.stats()['total'])
