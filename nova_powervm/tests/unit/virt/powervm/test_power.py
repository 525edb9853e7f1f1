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
"""The one power path: jobs from cached templates, progressive power off."""

from nova.compute import power_state
from nova import exception as nova_exc

from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.virt.powervm import cache as pvm_cache
from nova_powervm.virt.powervm import power
from nova_powervm.virt.powervm import vm


class TestPower(flowbase.FlowTestCase):
    """Power operations on a partition, through the host's context."""

    def setUp(self):
        super().setUp()
        self.inst = self.instance()
        vm.create_lpar(self.adapter, self.host_wrapper(), self.inst)

    def state(self):
        return self.lpar(self.inst)['state']

    def jobs(self):
        """The power job requests the simulator served, by operation."""
        return {key: n for key, n in self.sim.stats()['by_pattern'].items()
                if '/do/Power' in key}

    def test_power_on_off_within_budget(self):
        _r, calls = self.count_rest(power.power_on, self.hctx, self.inst)
        self.assertLessEqual(calls, 3, self.sim.stats()['by_pattern'])
        self.assertEqual('running', self.state())
        self.assertEqual(power_state.RUNNING,
                         vm.get_power_state(self.adapter, self.inst))
        _r, calls = self.count_rest(power.power_off, self.hctx, self.inst,
                                    timeout=30)
        self.assertLessEqual(calls, 3, self.sim.stats()['by_pattern'])
        self.assertEqual('not activated', self.state())

    def test_state_already_reached_costs_one_get(self):
        _r, calls = self.count_rest(power.power_off, self.hctx, self.inst)
        self.assertEqual(1, calls)
        power.power_on(self.hctx, self.inst)
        _r, calls = self.count_rest(power.power_on, self.hctx, self.inst)
        self.assertEqual(1, calls)

    def test_given_wrapper_saves_the_get(self):
        lpar_w = vm.get_instance_wrapper(self.adapter, self.inst)
        _r, calls = self.count_rest(power.power_on, self.hctx, self.inst,
                                    lpar_w=lpar_w)
        self.assertEqual(2, calls)
        self.assertEqual('running', self.state())

    def test_force_power_off(self):
        power.power_on(self.hctx, self.inst)
        self.sim.reset_stats()
        power.power_off(self.hctx, self.inst, force_immediate=True)
        self.assertEqual('not activated', self.state())
        self.assertEqual({'PUT /rest/api/uom/LogicalPartition/{uuid}/do/'
                          'PowerOff': 1}, self.jobs())

    def test_destroy_power_off_rides_through_one_failed_job(self):
        power.power_on(self.hctx, self.inst)
        lpar_w = vm.get_instance_wrapper(self.adapter, self.inst)
        self.sim.add_fault(method='PUT', path='/do/PowerOff', kind='job_fail',
                           job='PowerOff', count=1, message='HSCL1234 busy')
        self.sim.reset_stats()
        power.power_off_to_destroy(self.hctx, self.inst, lpar_w)
        self.assertEqual('not activated', self.state())
        self.assertEqual({'PUT /rest/api/uom/LogicalPartition/{uuid}/do/'
                          'PowerOff': 2}, self.jobs())

    def test_destroy_power_off_gives_up_after_the_second_failure(self):
        power.power_on(self.hctx, self.inst)
        lpar_w = vm.get_instance_wrapper(self.adapter, self.inst)
        self.sim.add_fault(method='PUT', path='/do/PowerOff', kind='job_fail',
                           job='PowerOff', count=2, message='HSCL1234 busy')
        err = self.assertRaises(nova_exc.InstancePowerOffFailure,
                                power.power_off_to_destroy, self.hctx,
                                self.inst, lpar_w)
        self.assertIn('HSCL1234', err.format_message())
        self.assertEqual('running', self.state())

    def test_soft_power_off_falls_back_to_hard(self):
        power.power_on(self.hctx, self.inst)
        # The gentle steps fail (VSP normal without RMC); hard works.
        self.sim.add_fault(method='PUT', path='/do/PowerOff', kind='job_fail',
                           job='PowerOff', count=1, message='HSCLXXXX busy')
        self.sim.reset_stats()
        power.power_off(self.hctx, self.inst, timeout=5)
        self.assertEqual('not activated', self.state())
        self.assertEqual({'PUT /rest/api/uom/LogicalPartition/{uuid}/do/'
                          'PowerOff': 2}, self.jobs())

    def test_soft_power_off_gives_up_with_a_nova_error(self):
        power.power_on(self.hctx, self.inst)
        self.sim.add_fault(method='PUT', path='/do/PowerOff', kind='job_fail',
                           job='PowerOff', count=5, message='HSCL9999 stuck')
        err = self.assertRaises(nova_exc.InstancePowerOffFailure,
                                power.power_off, self.hctx, self.inst,
                                timeout=5)
        self.assertIn('HSCL9999', err.format_message())
        self.assertEqual('running', self.state())

    def test_already_off_job_error_is_success(self):
        lpar_w = vm.get_instance_wrapper(self.adapter, self.inst)
        power.power_on(self.hctx, self.inst)
        # The wrapper still says "not activated": the job runs and the
        # host answers that the partition is on already.
        self.sim.add_fault(method='PUT', path='/do/PowerOn', kind='job_fail',
                           job='PowerOn', count=1,
                           message='HSCL3681 already powered on')
        power.power_on(self.hctx, self.inst, lpar_w=lpar_w)
        self.assertEqual('running', self.state())

    def test_reboot_hard_and_soft(self):
        power.power_on(self.hctx, self.inst)
        for hard in (True, False):
            _r, calls = self.count_rest(power.reboot, self.hctx, self.inst,
                                        hard)
            self.assertLessEqual(calls, 3)
            self.assertEqual('running', self.state())

    def test_reboot_of_stopped_instance_starts_it(self):
        power.reboot(self.hctx, self.inst, hard=True)
        self.assertEqual('running', self.state())

    def test_power_on_failure_is_a_nova_error(self):
        self.sim.add_fault(method='PUT', path='/do/PowerOn', kind='job_fail',
                           job='PowerOn', count=1, message='HSCL9999 no')
        err = self.assertRaises(nova_exc.InstancePowerOnFailure,
                                power.power_on, self.hctx, self.inst)
        self.assertIn('HSCL9999', err.format_message())
        self.assertEqual('not activated', self.state())

    def test_reboot_failure_is_a_reboot_error(self):
        power.power_on(self.hctx, self.inst)
        self.sim.add_fault(method='PUT', path='/do/PowerOff', kind='job_fail',
                           job='PowerOff', count=1, message='HSCL9999 no')
        self.assertRaises(nova_exc.InstanceRebootFailure, power.reboot,
                          self.hctx, self.inst, True)

    def test_missing_partition(self):
        self.assertRaises(nova_exc.InstanceNotFound, power.power_on,
                          self.hctx, self.instance())


class TestTemplates(flowbase.FlowTestCase):
    """Job request templates are read once per host and partition type."""

    def test_read_once_per_host_cache(self):
        self.hctx.cache = pvm_cache.HostCache(self.hctx.host_uuid)
        insts = [self.instance() for _i in range(2)]
        for inst in insts:
            vm.create_lpar(self.adapter, self.host_wrapper(), inst)
        lpars = [vm.get_instance_wrapper(self.adapter, i) for i in insts]
        _r, first = self.count_rest(power.power_on, self.hctx, insts[0],
                                    lpar_w=lpars[0])
        _r, second = self.count_rest(power.power_on, self.hctx, insts[1],
                                     lpar_w=lpars[1])
        self.assertEqual((3, 2), (first, second))
        self.assertEqual(['running', 'running'],
                         [self.lpar(i)['state'] for i in insts])

    def test_primed_at_start(self):
        # host_context() primes them as init_host does: no template GET.
        inst = self.instance()
        lpar_w = vm.create_lpar(self.adapter, self.host_wrapper(), inst)
        _r, calls = self.count_rest(power.power_on, self.hctx, inst,
                                    lpar_w=lpar_w)
        self.assertEqual(2, calls)
        self.assertNotIn('GET /rest/api/uom/LogicalPartition/{uuid}/do/'
                         'PowerOn', self.sim.stats()['by_pattern'])

    def test_templates_are_per_host(self):
        inst = self.instance()
        lpar_w = vm.create_lpar(self.adapter, self.host_wrapper(), inst)
        self.hctx.cache = pvm_cache.HostCache(self.hctx.host_uuid)
        _r, calls = self.count_rest(power.power_on, self.hctx, inst,
                                    lpar_w=lpar_w)
        self.assertEqual(3, calls)  # a new host cache reads its own
