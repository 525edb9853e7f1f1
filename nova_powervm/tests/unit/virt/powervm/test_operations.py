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
"""Operator features through the driver, on the simulator.

Interface hot plug, VIF types, crash dump, host status and diagnostics,
with their REST budgets and, for every step that creates something, an
injected failure that must leave nothing behind.
"""

from nova.compute import power_state
from nova import exception as nova_exc
from nova.network import model as net_model
from nova import objects
from oslo_utils import timeutils
from pypowervm.wrappers import logical_partition as pvm_lpar
import requests

from nova_powervm import exception as pvm_exc
from nova_powervm.simulator import builders
from nova_powervm.tests.unit.virt.powervm import test_driver
from nova_powervm.virt.powervm import host as pvm_host
from nova_powervm.virt.powervm import vif as pvm_vif
from nova_powervm.virt.powervm import vm


def sea_vif(vlan=200, mac='fa:16:3e:00:01:01'):
    return builders.sea_network_info(vlan=vlan, mac=mac)[0]


class OperationsTestCase(test_driver.DriverTestCase):
    """A driver after ``init_host``; lifecycle checks kept out of counts."""

    EVENT_DELAY = 3600

    def cnas(self, inst):
        uuid = vm.get_pvm_uuid(inst)
        return sorted((c['mac'], c['vlan']) for c in self.sim.state()['cnas']
                      if c['lpar_uuid'].upper() == uuid)

    def running_instance(self, rmc='active'):
        inst = self.lpar_instance()
        resp = requests.post(
            self.sim_url('/sim/lpar/%s/state' % vm.get_pvm_uuid(inst)),
            json={'state': 'running', 'rmc_state': rmc}, timeout=10)
        self.assertEqual(200, resp.status_code, resp.text)
        return inst


class TestVifTypes(OperationsTestCase):

    def test_table_is_keyed_by_vif_type(self):
        self.assertIs(pvm_vif.SeaVif, pvm_vif.VIF_TYPES['pvm_sea'])
        for vif_type, cls in pvm_vif.VIF_TYPES.items():
            self.assertEqual(vif_type, cls.vif_type)
            self.assertTrue(issubclass(cls, pvm_vif.PowerVif))

    def test_unknown_type_refused_before_anything_is_created(self):
        nwi = builders.sea_network_info()
        nwi.append(net_model.VIF(id='port-ovs', address='fa:16:3e:00:00:77',
                                 type='ovs', network=nwi[0]['network']))
        inst = self.instance()
        error, calls = self.count_rest(
            self.assertRaises, nova_exc.InvalidInput, self.drv.spawn,
            self.ctx, inst, objects.ImageMeta.from_dict({}), [], None, {},
            network_info=nwi)
        self.assertIn('VIF type ovs (port port-ovs) is not supported',
                      error.format_message())
        self.assertIn('pvm_sea', error.format_message())
        self.assertEqual(0, calls)
        self.assertIsNone(self.lpar(inst))


class TestAttachDetach(OperationsTestCase):

    def test_capability(self):
        for cap in ('supports_attach_interface', 'supports_device_tagging',
                    'supports_tagged_attach_interface',
                    'supports_tagged_attach_volume'):
            self.assertTrue(self.drv.capabilities[cap], cap)

    def test_tagged_interface_in_the_device_metadata(self):
        inst = self.lpar_instance()
        inst.device_metadata = None
        self.add_vif_record(inst, 'fa:16:3e:00:01:01', tag='db')
        self.drv.attach_interface(self.ctx, inst, None, sea_vif())
        self.assertEqual(
            [('fa:16:3e:00:01:01', ['db'])],
            [(d.mac, d.tags) for d in inst.device_metadata.devices])
        # nova still has the record while the driver detaches.
        self.drv.detach_interface(self.ctx, inst, sea_vif())
        self.assertEqual([], inst.device_metadata.devices)
        self.assertEqual([], self.cnas(inst))

    def test_failed_detach_keeps_adapter_and_tag(self):
        inst = self.lpar_instance()
        inst.device_metadata = None
        self.add_vif_record(inst, 'fa:16:3e:00:01:01', tag='db')
        self.drv.attach_interface(self.ctx, inst, None, sea_vif())
        self.sim.add_fault(method='DELETE', path='/ClientNetworkAdapter/',
                           status=500)
        self.assertRaises(nova_exc.NovaException, self.drv.detach_interface,
                          self.ctx, inst, sea_vif())
        self.assertEqual([('FA163E000101', 200)], self.cnas(inst))
        self.assertEqual(['db'], [d.tags[0] for d in
                                  inst.device_metadata.devices])

    def test_detach_survives_a_lost_event(self):
        inst = self.lpar_instance()
        self.drv.attach_interface(self.ctx, inst, None, sea_vif())
        self.sim.add_fault(method='PUT', path='/uom/Event$', status=500)
        self.drv.detach_interface(self.ctx, inst, sea_vif())
        self.assertEqual([], self.cnas(inst))
        self.assertEqual([], self.sim.sim.faults.list())

    def test_failed_tag_record_leaves_no_adapter(self):
        inst = self.lpar_instance()
        inst.device_metadata = None

        def broken(*args):
            raise nova_exc.NovaException('database gone')
        self.stub_out(
            'nova.objects.VirtualInterfaceList.get_by_instance_uuid', broken)
        self.assertRaises(nova_exc.NovaException, self.drv.attach_interface,
                          self.ctx, inst, None, sea_vif())
        self.assertEqual([], self.cnas(inst))
        self.assertIsNone(inst.device_metadata)
        # A failure after the metadata step ran puts the old value back.
        self.stub_out(
            'nova.objects.VirtualInterfaceList.get_by_instance_uuid',
            lambda *args: objects.VirtualInterfaceList(objects=[]))
        self.drv.attach_interface(self.ctx, inst, None, sea_vif())
        before = inst.device_metadata
        self.sim.add_fault(method='DELETE', path='/ClientNetworkAdapter/',
                           status=500)
        self.assertRaises(nova_exc.NovaException, self.drv.detach_interface,
                          self.ctx, inst, sea_vif())
        self.assertIs(before, inst.device_metadata)

    def _attach_detach(self, inst):
        vif = sea_vif()
        _, calls = self.count_rest(self.drv.attach_interface, self.ctx,
                                   inst, None, vif)
        self.assertLessEqual(calls, 5)
        self.assertEqual([('FA163E000101', 200)], self.cnas(inst))
        # Attaching again changes nothing (the MAC is there).
        self.drv.attach_interface(self.ctx, inst, None, vif)
        self.assertEqual([('FA163E000101', 200)], self.cnas(inst))
        # A second interface no longer reads the switches (cached).
        _, calls = self.count_rest(
            self.drv.attach_interface, self.ctx, inst, None,
            sea_vif(vlan=201, mac='fa:16:3e:00:01:02'))
        self.assertLessEqual(calls, 4)
        _, calls = self.count_rest(self.drv.detach_interface, self.ctx,
                                   inst, vif)
        self.assertLessEqual(calls, 4)
        self.assertEqual([('FA163E000102', 201)], self.cnas(inst))
        # Detaching what is gone is fine.
        self.drv.detach_interface(self.ctx, inst, vif)
        return calls

    def test_stopped_server(self):
        inst = self.lpar_instance()
        self._attach_detach(inst)
        self.assertEqual('not activated', self.lpar(inst)['state'])

    def test_running_server(self):
        inst = self.running_instance()
        self._attach_detach(inst)
        self.assertEqual('running', self.lpar(inst)['state'])

    def test_agents_are_told(self):
        inst = self.lpar_instance()
        self.sim.reset_stats()
        self.drv.attach_interface(self.ctx, inst, None, sea_vif())
        self.drv.detach_interface(self.ctx, inst, sea_vif())
        puts = self.sim.stats()['by_pattern']
        self.assertEqual(2, sum(n for pat, n in puts.items()
                                if pat.startswith('PUT') and 'Event' in pat),
                         puts)

    def test_running_without_rmc_is_refused(self):
        inst = self.running_instance(rmc='inactive')
        error = self.assertRaises(pvm_exc.InterfaceHotplugNotPossible,
                                  self.drv.attach_interface, self.ctx, inst,
                                  None, sea_vif())
        self.assertIn('RMC', error.format_message())
        self.assertEqual([], self.cnas(inst))

    def test_unknown_vif_type(self):
        inst = self.lpar_instance()
        vif = sea_vif()
        vif['type'] = 'hw_veb'
        error, calls = self.count_rest(
            self.assertRaises, nova_exc.VirtualInterfacePlugException,
            self.drv.attach_interface, self.ctx, inst, None, vif)
        self.assertIn('hw_veb', str(error))
        self.assertEqual(0, calls)

    def test_missing_partition(self):
        self.assertRaises(nova_exc.InstanceNotFound,
                          self.drv.attach_interface, self.ctx,
                          self.instance(), None, sea_vif())

    def test_failure_after_the_adapter_is_created_leaves_none(self):
        inst = self.lpar_instance()
        self.sim.add_fault(method='PUT', path='/uom/Event$', status=500)
        self.assertRaises(nova_exc.NovaException, self.drv.attach_interface,
                          self.ctx, inst, None, sea_vif())
        self.assertEqual([], self.cnas(inst))

    def test_each_attach_request_failing_leaves_nothing(self):
        steps = [('GET', '/LogicalPartition/[^/]+$'),
                 ('GET', '/ClientNetworkAdapter$'),
                 ('PUT', '/ClientNetworkAdapter$'),
                 ('PUT', '/uom/Event$')]
        inst = self.lpar_instance()
        for method, path in steps:
            self.sim.add_fault(method=method, path=path, status=500)
            self.assertRaises(nova_exc.NovaException,
                              self.drv.attach_interface, self.ctx, inst,
                              None, sea_vif())
            self.assertEqual([], self.cnas(inst), (method, path))
            self.assertEqual([], self.sim.sim.faults.list())
        # And then it works.
        self.drv.attach_interface(self.ctx, inst, None, sea_vif())
        self.assertEqual([('FA163E000101', 200)], self.cnas(inst))


class TestCrashDump(OperationsTestCase):

    def test_dump_keeps_the_server_running(self):
        inst = self.running_instance()
        _, calls = self.count_rest(self.drv.trigger_crash_dump, inst)
        self.assertLessEqual(calls, 3)
        lpar = self.lpar(inst)
        self.assertEqual(1, lpar['dumps'])
        self.assertEqual('running', lpar['state'])
        self.assertEqual(power_state.RUNNING,
                         self.drv.get_info(inst, use_cache=False).state)

    def test_refused_when_not_running(self):
        inst = self.lpar_instance()
        _, calls = self.count_rest(
            self.assertRaises, nova_exc.InstanceNotRunning,
            self.drv.trigger_crash_dump, inst)
        self.assertEqual(1, calls)  # the partition's GET; no job
        lpar = self.lpar(inst)
        self.assertEqual(0, lpar['dumps'])
        self.assertEqual('not activated', lpar['state'])

    def test_missing_partition(self):
        self.assertRaises(nova_exc.InstanceNotFound,
                          self.drv.trigger_crash_dump, self.instance())

    def test_job_failure_is_reported(self):
        inst = self.running_instance()
        self.sim.add_fault(kind='job_fail', job='PowerOff',
                           message='PVME01050000 dump refused')
        error = self.assertRaises(nova_exc.NovaException,
                                  self.drv.trigger_crash_dump, inst)
        self.assertIn('dump refused', error.format_message())
        self.assertEqual(0, self.lpar(inst)['dumps'])


class TestHostStatus(OperationsTestCase):

    def test_maintenance_mode_refuses_new_instances(self):
        self.assertEqual('on_maintenance',
                         self.drv.host_maintenance_mode('compute1', True))
        inst = self.instance()
        _, calls = self.count_rest(
            self.assertRaises, nova_exc.ComputeResourcesUnavailable,
            self.drv.spawn, self.ctx, inst,
            objects.ImageMeta.from_dict({}), [], None, {})
        self.assertEqual(0, calls)
        self.assertIsNone(self.lpar(inst))
        # Partitions already here are untouched.
        running = self.running_instance()
        self.assertEqual('running', self.lpar(running)['state'])
        self.assertEqual('off_maintenance',
                         self.drv.host_maintenance_mode('compute1', False))
        self.assertFalse(self.drv._maintenance)

    def test_set_host_enabled(self):
        self.assertEqual('disabled', self.drv.set_host_enabled(False))
        self.assertEqual('enabled', self.drv.set_host_enabled(True))

    def test_node_is_available(self):
        self.assertTrue(self.drv.node_is_available('compute1'))
        self.assertFalse(self.drv.node_is_available('compute2'))
        self.drv.cleanup_host('compute1')
        self.assertFalse(self.drv.node_is_available('compute1'))

    def test_uptime_is_the_novalink_partitions(self):
        mgmt = [p for p in pvm_lpar.LPAR.get(self.adapter)
                if p.is_mgmt_partition][0]
        days, rest = divmod(mgmt.uptime, 86400)
        text, calls = self.count_rest(self.drv.get_host_uptime)
        self.assertEqual(0, calls)  # read at init_host
        self.assertRegex(text, r'^ \d\d:\d\d:\d\d up %d days, +%d:%02d$'
                         % (days, rest // 3600, rest % 3600 // 60))
        # The hypervisors API (2.88+) shows the resource stats' uptime.
        res = self.drv.get_available_resource('compute1')
        self.assertIn(' up %d days' % days, res['stats']['uptime'])

    def test_uptime_counts_on(self):
        clock = [100.0]
        uptime = pvm_host.Uptime(86400 + 3600, clock=lambda: clock[0])
        self.assertEqual(90000, uptime.seconds())
        clock[0] += 120
        self.assertEqual(90120, uptime.seconds())
        self.assertTrue(uptime.text().endswith(' up 1 days,  1:02'))


class TestDiagnostics(OperationsTestCase):

    def instance_with_port(self, running=True):
        inst = self.running_instance() if running else self.lpar_instance()
        nwi = builders.sea_network_info(vlan=300, mac='fa:16:3e:00:03:01')
        inst.info_cache = objects.InstanceInfoCache(network_info=nwi)
        inst.launched_at = timeutils.utcnow()
        inst.config_drive = 'True'
        inst.system_metadata = {}
        self.drv.attach_interface(self.ctx, inst, None, nwi[0])
        return inst

    def test_figures_from_the_phyp_sample(self):
        inst = self.instance_with_port()
        diags, calls = self.count_rest(self.drv.get_instance_diagnostics,
                                       inst)
        self.assertLessEqual(calls, 2)
        self.assertEqual('powervm', diags.hypervisor)
        self.assertFalse(diags.obj_attr_is_set('driver'))
        self.assertEqual('running', diags.state)
        self.assertTrue(diags.config_drive)
        self.assertEqual(2, diags.num_cpus)  # the flavor's vCPUs
        self.assertEqual([0, 1], [c.id for c in diags.cpu_details])
        self.assertGreater(diags.cpu_details[0].time, 0)
        self.assertEqual(30, diags.cpu_details[0].utilisation)
        self.assertEqual(inst.flavor.memory_mb,
                         diags.memory_details.maximum)
        self.assertEqual(inst.flavor.memory_mb, diags.memory_details.used)
        self.assertEqual(1, diags.num_nics)
        nic = diags.nic_details[0]
        self.assertEqual('fa:16:3e:00:03:01', nic.mac_address)
        self.assertGreater(nic.rx_octets, 0)
        self.assertGreater(nic.tx_packets, 0)
        self.assertEqual(0, diags.num_disks)

    def test_stopped_partition(self):
        inst = self.instance_with_port(running=False)
        diags = self.drv.get_instance_diagnostics(inst)
        self.assertEqual('shutdown', diags.state)
        self.assertEqual(0, diags.memory_details.used)
        self.assertEqual(0, diags.nic_details[0].rx_octets)

    def test_no_sample_yet(self):
        self.drv.cleanup_host('compute1')
        ms = self.sim.sim.store.first('ManagedSystem')
        ms.extra['pcm_LongTermMonitorEnabled'] = 'false'
        self.drv.init_host('compute1')
        # init_host turned the monitor on again.
        self.assertEqual('true', ms.extra['pcm_LongTermMonitorEnabled'])
        ms.extra['pcm_LongTermMonitorEnabled'] = 'false'
        inst = self.instance_with_port()
        inst.power_state = power_state.RUNNING
        diags, calls = self.count_rest(self.drv.get_instance_diagnostics,
                                       inst)
        self.assertEqual(1, calls)
        self.assertEqual('running', diags.state)
        self.assertEqual(0, diags.num_cpus)

    def test_metrics_unavailable_do_not_stop_the_driver(self):
        self.drv.cleanup_host('compute1')
        ms = self.sim.sim.store.first('ManagedSystem')
        ms.extra['pcm_LongTermMonitorEnabled'] = 'false'
        self.sim.add_fault(method='GET', path='/pcm/.*/preferences',
                           status=500)
        self.drv.init_host('compute1')
        self.assertEqual('false', ms.extra['pcm_LongTermMonitorEnabled'])
        inst = self.instance_with_port()
        inst.power_state = power_state.RUNNING
        diags = self.drv.get_instance_diagnostics(inst)
        self.assertEqual('powervm', diags.hypervisor)
        self.assertEqual(0, diags.num_cpus)

    def test_monitor_already_on_costs_one_get(self):
        self.drv.cleanup_host('compute1')
        _, calls = self.count_rest(self.drv.init_host, 'compute1')
        self.assertEqual(self.init_calls - 1, calls)
