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
"""What a real host refuses: processing units and Active Memory Expansion.

PowerVM gives a shared-processor partition between the host's minimum
(``MinimumProcessorUnitsPerVirtualProcessor``) and 1.0 processing units
per virtual processor, never more units than the shared pool has left,
and an expansion factor only on an AME-capable host.
"""

from pypowervm import exceptions as pvm_exc
from pypowervm.wrappers import base_partition as pvm_bp
from pypowervm.wrappers import logical_partition as pvm_lpar

from nova_powervm.simulator import fixture as pvm_fx
from nova_powervm.simulator import inventory
from nova_powervm.tests.unit.simulator import base


class HostLimitsBase(base.SimTestCase):
    """A simulator built from ``self.knobs`` (Inventory keyword args)."""

    knobs = {}

    def setUp(self):
        super(base.SimTestCase, self).setUp()
        self.fx = self.useFixture(pvm_fx.SimulatorFixture(
            inventory=inventory.Inventory(**self.knobs)))
        self.sim = self.fx.sim
        self.adpt = self.fx.adapter

    def build(self, name='inst-1', vcpus=1, units=0.5, dedicated=False,
              factor=None):
        """An LPAR wrapper (not created) with these processor settings."""
        if dedicated:
            proc = pvm_bp.PartitionProcessorConfiguration.bld_dedicated(
                self.adpt, vcpus)
        else:
            proc = pvm_bp.PartitionProcessorConfiguration.bld_shared(
                self.adpt, units, vcpus)
        mem = pvm_bp.PartitionMemoryConfiguration.bld(self.adpt, 2048)
        if factor is not None:
            mem.exp_factor = factor
        return pvm_lpar.LPAR.bld(self.adpt, name, mem, proc)

    def refused(self, func, *args):
        """The message of the HTTP 400 ``func(*args)`` must raise."""
        exc = self.assertRaises(pvm_exc.HttpError, func, *args)
        self.assertEqual(400, exc.response.status)
        return exc.response.body

    def create(self, wrapper):
        return wrapper.create(parent=self.host())

    def names(self):
        return sorted(lpar['name'] for lpar in self.fx.state()['lpars'])


class TestProcessingUnits(HostLimitsBase):

    def test_host_serves_its_minimum_per_virtual_processor(self):
        self.assertEqual(0.05, self.host().min_proc_units)

    def test_more_than_one_unit_per_virtual_processor_refused(self):
        msg = self.refused(self.create, self.build(vcpus=1, units=2.5))
        self.assertIn('HSCLA4B2', msg)
        self.assertIn('inst-1', msg)
        self.assertIn('2.5 processing units for 1 virtual processors', msg)
        self.assertEqual([], self.names())

    def test_less_than_the_minimum_per_virtual_processor_refused(self):
        msg = self.refused(self.create, self.build(vcpus=4, units=0.15))
        self.assertIn('HSCLA4B1', msg)
        self.assertIn('at least 0.05 processing units per virtual', msg)
        self.assertEqual([], self.names())

    def test_the_bounds_themselves_accepted(self):
        self.create(self.build('low', vcpus=4, units=0.2))
        self.create(self.build('high', vcpus=2, units=2.0))
        self.assertEqual(['high', 'low'], self.names())
        self.assertEqual({0.2, 2.0}, {lpar['proc_units'] for lpar in
                                      self.fx.state()['lpars']})

    def test_more_than_the_pool_has_left_refused(self):
        # 20 cores, of which NovaLink holds 1.5 and each VIOS 1.0.
        self.assertEqual(16.5, self.host().proc_units_avail)
        msg = self.refused(self.create, self.build(vcpus=20, units=16.6))
        self.assertIn('HSCLA4B3', msg)
        self.assertIn('needs 16.6 processing units but only 16.5', msg)
        self.create(self.build(vcpus=20, units=16.5))
        self.assertEqual(0, self.host().proc_units_avail)
        msg = self.refused(self.create, self.build('more', units=0.05))
        self.assertIn('only 0 are available', msg)
        self.assertEqual(['inst-1'], self.names())

    def test_dedicated_processors_count_whole(self):
        msg = self.refused(self.create, self.build(vcpus=17,
                                                   dedicated=True))
        self.assertIn('HSCLA4B3', msg)
        lpar = self.create(self.build(vcpus=16, dedicated=True))
        self.assertTrue(lpar.proc_config.has_dedicated)
        self.assertEqual(0.5, self.host().proc_units_avail)

    def test_update_beyond_the_limits_refused_and_nothing_changes(self):
        lpar = self.create(self.build(vcpus=2, units=1.0))
        shared = lpar.proc_config.shared_proc_cfg
        shared.desired_virtual = 21
        shared.max_virtual = 21
        msg = self.refused(lpar.update)
        self.assertIn('HSCLA4B1', msg)
        lpar = pvm_lpar.LPAR.get(self.adpt, uuid=lpar.uuid)
        shared = lpar.proc_config.shared_proc_cfg
        shared.desired_units = 17.0
        shared.max_units = 17.0
        msg = self.refused(lpar.update)
        self.assertIn('HSCLA4B2', msg)
        self.assertEqual((2, 1.0), self.stored(lpar))
        shared.desired_virtual = 20
        shared.max_virtual = 20
        msg = self.refused(lpar.update)
        # The partition's own 1.0 unit counts as free for its update.
        self.assertIn('needs 17 processing units but only 16.5', msg)
        self.assertEqual((2, 1.0), self.stored(lpar))

    def test_update_within_the_limits_accepted(self):
        lpar = self.create(self.build(vcpus=2, units=1.0))
        shared = lpar.proc_config.shared_proc_cfg
        shared.desired_units = 16.5
        shared.max_units = 16.5
        shared.desired_virtual = 20
        shared.max_virtual = 20
        lpar = lpar.update()
        self.assertEqual((20, 16.5), self.stored(lpar))
        self.assertEqual(0, self.host().proc_units_avail)
        # Settings that leave processors alone pass on a full host.
        lpar.mem_config.desired = 4096
        lpar.mem_config.max = 4096
        lpar.update()
        self.assertEqual(4096, self.fx.state()['lpars'][0]['memory_mb'])

    def test_units_that_are_not_numbers_refused(self):
        lpar = self.build()
        lpar.proc_config.shared_proc_cfg.set_parm_value(
            'DesiredProcessingUnits', 'lots')
        msg = self.refused(self.create, lpar)
        self.assertIn("'lots'", msg)
        self.assertEqual([], self.names())

    def stored(self, lpar):
        """(virtual processors, units) of the LPAR as the host holds it."""
        got = [p for p in self.fx.state()['lpars']
               if p['uuid'] == lpar.uuid][0]
        return got['vcpus'], got['proc_units']


class TestHostMinimum(HostLimitsBase):

    knobs = {'min_proc_units_per_vcpu': 0.1}

    def test_minimum_from_the_inventory(self):
        self.assertEqual(0.1, self.host().min_proc_units)
        msg = self.refused(self.create, self.build(vcpus=2, units=0.15))
        self.assertIn('at least 0.1 processing units', msg)
        self.create(self.build(vcpus=2, units=0.2))
        self.assertEqual(['inst-1'], self.names())


class TestActiveMemoryExpansion(HostLimitsBase):

    def test_capable_host_applies_the_factor(self):
        self.assertTrue(self.host().get_capability(
            'active_memory_expansion_capable'))
        lpar = self.create(self.build(factor=2.0))
        lpar = pvm_lpar.LPAR.get(self.adpt, uuid=lpar.uuid)
        self.assertEqual(2.0, lpar.mem_config.exp_factor)
        self.assertTrue(lpar.mem_config.ame_enabled)
        self.assertEqual('2.0', lpar.mem_config._get_val_str(
            pvm_bp._MEM_CURR_EXP_FACT))

    def test_no_factor_means_no_expansion(self):
        lpar = self.create(self.build())
        self.assertFalse(lpar.mem_config.ame_enabled)
        self.assertEqual(0, lpar.mem_config.exp_factor)

    def test_factor_out_of_range_refused(self):
        msg = self.refused(self.create, self.build(factor=10.5))
        self.assertIn('HSCLA4B5', msg)
        self.assertIn('10.5', msg)
        self.assertEqual([], self.names())


class TestNoActiveMemoryExpansion(HostLimitsBase):

    knobs = {'ame_capable': False}

    def test_host_says_it_is_not_capable(self):
        self.assertFalse(self.host().get_capability(
            'active_memory_expansion_capable'))

    def test_factor_refused_on_create_and_update(self):
        msg = self.refused(self.create, self.build(factor=1.5))
        self.assertIn('HSCLA4B4', msg)
        self.assertIn('not capable of Active Memory Expansion', msg)
        self.assertIn('inst-1', msg)
        self.assertEqual([], self.names())
        lpar = self.create(self.build())
        lpar.mem_config.exp_factor = 1.5
        msg = self.refused(lpar.update)
        self.assertIn('HSCLA4B4', msg)
        self.assertEqual(0, pvm_lpar.LPAR.get(
            self.adpt, uuid=lpar.uuid).mem_config.exp_factor)
