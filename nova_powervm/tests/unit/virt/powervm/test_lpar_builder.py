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
"""The spawn check of a flavor against a (simulated) host, and the build.

The host is the simulator's ManagedSystem as pypowervm reads it: 20
configurable processing units, 0.05 processing units at least per virtual
processor, Active Memory Expansion capable.  Where a test needs another
host, it edits that wrapper's XML as a different host would report it.
"""

from nova import exception as nova_exc
from pypowervm.wrappers import logical_partition as pvm_lpar

from nova_powervm import exception as exc
from nova_powervm.tests.unit.virt.powervm import simbase
from nova_powervm.virt.powervm import lpar_builder
from nova_powervm.virt.powervm import vm

_PROC = 'AssociatedSystemProcessorConfiguration/'
_AME_CAP = ('AssociatedSystemCapabilities/'
            'ActiveMemoryExpansionCapable')


class SpawnCheckBase(simbase.SimTestCase):

    def setUp(self):
        super().setUp()
        self.host = self.host_wrapper()

    def flavor(self, vcpus=4, memory_mb=2048, **specs):
        specs = {'powervm:' + k: v for k, v in specs.items()}
        return self.instance(vcpus=vcpus, memory_mb=memory_mb,
                             extra_specs=specs).flavor

    def refused(self, flavor, with_host=True):
        """The message of the refusal of ``flavor`` (on the host)."""
        error = self.assertRaises(
            exc.InvalidExtraSpec, lpar_builder.validate_extra_specs,
            flavor, self.host if with_host else None)
        # nova aborts the build without a reschedule.
        self.assertIsInstance(error, nova_exc.InvalidInput)
        return error.format_message()


class TestSimulatedHost(SpawnCheckBase):

    def test_host_is_what_the_tests_assume(self):
        self.assertEqual(0.05, self.host.min_proc_units)
        self.assertEqual(20, self.host.proc_units_configurable)
        self.assertTrue(self.host.get_capability(
            'active_memory_expansion_capable'))
        self.assertEqual(256, self.host.max_sys_procs_limit)


class TestProcUnitsPerVirtualProcessor(SpawnCheckBase):

    def test_more_than_one_unit_per_vcpu(self):
        self.assertEqual(
            'Invalid flavor extra spec powervm:proc_units=25: 25 processing '
            'units on 1 virtual processor: more than 1 per virtual '
            'processor (at most 1)',
            self.refused(self.flavor(vcpus=1, proc_units='25')))
        self.assertEqual(
            'Invalid flavor extra spec powervm:proc_units=20.5: 20.5 '
            'processing units on 4 virtual processors: more than 1 per '
            'virtual processor (at most 4)',
            self.refused(self.flavor(vcpus=4, proc_units='20.5')))

    def test_less_than_the_host_minimum_per_vcpu(self):
        self.assertEqual(
            'Invalid flavor extra spec powervm:proc_units=0.15: 0.15 '
            'processing units on 4 virtual processors: less than the '
            'host\'s minimum of 0.05 per virtual processor (at least 0.2)',
            self.refused(self.flavor(vcpus=4, proc_units='0.15')))

    def test_minimum_is_read_from_the_host(self):
        # Older firmware asks for 0.1 per virtual processor.
        self.host.set_parm_value(
            _PROC + 'MinimumProcessorUnitsPerVirtualProcessor', '0.10')
        self.assertEqual(0.1, self.host.min_proc_units)
        self.assertEqual(
            'Invalid flavor extra spec powervm:proc_units=0.3: 0.3 '
            'processing units on 4 virtual processors: less than the '
            'host\'s minimum of 0.1 per virtual processor (at least 0.4)',
            self.refused(self.flavor(vcpus=4, proc_units='0.3')))
        attrs = lpar_builder.validate_extra_specs(
            self.flavor(vcpus=4, proc_units='0.4'), self.host)
        self.assertEqual(0.4, attrs['proc_units'])

    def test_bounds_themselves_are_accepted(self):
        for units in ('0.2', '4', '4.00'):
            attrs = lpar_builder.validate_extra_specs(
                self.flavor(vcpus=4, proc_units=units), self.host)
            self.assertEqual(float(units), attrs['proc_units'])

    def test_without_host_the_firmware_minimum_applies(self):
        self.assertIn(
            'less than the host\'s minimum of 0.05 per virtual processor',
            self.refused(self.flavor(vcpus=4, proc_units='0.19'),
                         with_host=False))
        self.assertIn(
            'more than 1 per virtual processor',
            self.refused(self.flavor(vcpus=2, proc_units='2.01'),
                         with_host=False))

    def test_minimum_level_names_the_key_it_comes_from(self):
        # 2 units for 4 vCPUs is fine, but the minimum keeps 2 units
        # (the default) on one virtual processor.
        self.assertEqual(
            'Invalid flavor extra spec powervm:min_vcpu=1: 2 minimum '
            'processing units on 1 minimum virtual processor: more than 1 '
            'per virtual processor (at most 1)',
            self.refused(self.flavor(vcpus=4, proc_units='2',
                                     min_vcpu='1')))
        attrs = lpar_builder.validate_extra_specs(self.flavor(
            vcpus=4, proc_units='2', min_vcpu='1', min_proc_units='0.5'),
            self.host)
        self.assertEqual(0.5, attrs['min_proc_units'])

    def test_maximum_level_with_default_units(self):
        # 4 vCPUs get 0.4 units by default ([powervm] proc_units_factor
        # 0.1), too few for 64 virtual processors at most.
        self.assertEqual(
            'Invalid flavor extra spec powervm:max_vcpu=64: 0.4 maximum '
            'processing units on 64 maximum virtual processors: less than '
            'the host\'s minimum of 0.05 per virtual processor (at least '
            '3.2)',
            self.refused(self.flavor(vcpus=4, max_vcpu='64')))
        self.assertEqual(
            'Invalid flavor extra spec powervm:max_proc_units=2.5: 2.5 '
            'maximum processing units on 2 maximum virtual processors: more '
            'than 1 per virtual processor (at most 2)',
            self.refused(self.flavor(vcpus=2, max_proc_units='2.5')))

    def test_defaults_below_the_host_minimum(self):
        self.flags(proc_units_factor=0.05, group='powervm')
        self.host.set_parm_value(
            _PROC + 'MinimumProcessorUnitsPerVirtualProcessor', '0.10')
        self.assertEqual(
            'Invalid flavor extra spec powervm:proc_units=(not set): 0.2 '
            'processing units on 4 virtual processors: less than the '
            'host\'s minimum of 0.1 per virtual processor (at least 0.4); '
            'the default is vCPUs x [powervm] proc_units_factor (0.05)',
            self.refused(self.flavor(vcpus=4)))

    def test_dedicated_processors_have_no_units_to_check(self):
        attrs = lpar_builder.validate_extra_specs(
            self.flavor(vcpus=4, dedicated_proc='true', max_vcpu='64'),
            self.host)
        self.assertIs(True, attrs['dedicated_proc'])


class TestHostCapacity(SpawnCheckBase):

    def test_maximum_units_beyond_the_host(self):
        self.assertEqual(
            'Invalid flavor extra spec powervm:max_proc_units=20.5: 20.5 '
            'maximum processing units: more than the host\'s 20 '
            'configurable processing units',
            self.refused(self.flavor(vcpus=4, max_vcpu='24',
                                     max_proc_units='20.5')))
        attrs = lpar_builder.validate_extra_specs(self.flavor(
            vcpus=4, max_vcpu='24', max_proc_units='20'), self.host)
        self.assertEqual(20, attrs['max_proc_units'])

    def test_units_beyond_a_smaller_host(self):
        for name in ('ConfigurableSystemProcessorUnits',
                     'InstalledSystemProcessorUnits'):
            self.host.set_parm_value(_PROC + name, '2')
        self.assertEqual(
            'Invalid flavor extra spec powervm:proc_units=3: 3 processing '
            'units: more than the host\'s 2 configurable processing units',
            self.refused(self.flavor(vcpus=4, proc_units='3')))

    def test_virtual_processor_limit_of_the_host(self):
        self.assertEqual(
            'Invalid flavor extra spec powervm:max_vcpu=300: more than the '
            '256 virtual processors a partition may have on this host',
            self.refused(self.flavor(vcpus=4, max_vcpu='300',
                                     max_proc_units='15')))


class TestMinDesiredMax(SpawnCheckBase):

    def test_each_minimum_and_maximum_against_the_flavor(self):
        cases = [
            (dict(min_mem='4096'), 'powervm:min_mem=4096: more than the '
             'flavor\'s 2048 MB of memory'),
            (dict(max_mem='1024'), 'powervm:max_mem=1024: less than the '
             'flavor\'s 2048 MB of memory'),
            (dict(min_vcpu='8'), 'powervm:min_vcpu=8: more than the '
             'flavor\'s 4 vCPUs'),
            (dict(max_vcpu='2'), 'powervm:max_vcpu=2: less than the '
             'flavor\'s 4 vCPUs'),
            (dict(proc_units='1', min_proc_units='2'),
             'powervm:min_proc_units=2: 2 minimum processing units: more '
             'than the 1 processing units'),
            (dict(proc_units='1', max_proc_units='0.5'),
             'powervm:max_proc_units=0.5: 0.5 maximum processing units: '
             'less than the 1 processing units'),
        ]
        for specs, text in cases:
            self.assertEqual('Invalid flavor extra spec ' + text,
                             self.refused(self.flavor(**specs)))

    def test_default_units_follow_a_given_minimum_and_maximum(self):
        # pypowervm clamps vCPUs x proc_units_factor into min..max.
        attrs = lpar_builder.validate_extra_specs(
            self.flavor(vcpus=4, min_proc_units='1', max_proc_units='3'),
            self.host)
        self.assertNotIn('proc_units', attrs)
        inst = self.instance(vcpus=4, extra_specs={
            'powervm:min_proc_units': '1', 'powervm:max_proc_units': '3'})
        vm.create_lpar(self.adapter, self.host, inst)
        self.assertAlmostEqual(1.0, self.lpar(inst)['proc_units'])


class TestActiveMemoryExpansion(SpawnCheckBase):

    def read_lpar(self, inst):
        return pvm_lpar.LPAR.get(self.adapter, uuid=vm.get_pvm_uuid(inst))

    def test_applied_on_a_capable_host(self):
        inst = self.instance(extra_specs={
            'powervm:ame_expansion_factor': '1.5'})
        lpar_builder.validate_extra_specs(inst.flavor, self.host)
        vm.create_lpar(self.adapter, self.host, inst)
        self.assertEqual(1.5, self.read_lpar(inst).mem_config.exp_factor)

    def test_refused_on_a_host_without_ame(self):
        self.host.set_parm_value(_AME_CAP, 'false')
        inst = self.instance(extra_specs={
            'powervm:ame_expansion_factor': '2'})
        self.assertEqual(
            'Invalid flavor extra spec powervm:ame_expansion_factor=2: the '
            'host is not Active Memory Expansion (AME) capable; only 0 '
            '(off) is accepted here',
            self.refused(inst.flavor))
        error = self.assertRaises(exc.InvalidExtraSpec, vm.create_lpar,
                                  self.adapter, self.host, inst)
        self.assertIn('powervm:ame_expansion_factor', error.format_message())
        self.assertIsNone(self.lpar(inst))

    def test_zero_is_off_on_any_host(self):
        self.host.set_parm_value(_AME_CAP, 'false')
        inst = self.instance(extra_specs={
            'powervm:ame_expansion_factor': '0'})
        attrs = lpar_builder.build_attrs(self.adapter, self.host, inst)
        self.assertNotIn('ame_factor', attrs)
        vm.create_lpar(self.adapter, self.host, inst)
        self.assertEqual(0, self.read_lpar(inst).mem_config.exp_factor)

    def test_range(self):
        for value in ('0.5', '10.5', '1.005', 'x'):
            self.assertIn(
                'Invalid flavor extra spec powervm:ame_expansion_factor=%s: '
                % value,
                self.refused(self.flavor(ame_expansion_factor=value)))


class TestErrorsNameKeyAndValue(SpawnCheckBase):

    def test_boolean(self):
        for key in ('dedicated_proc', 'uncapped', 'srr_capability',
                    'enable_lpar_metric', 'enforce_affinity_check'):
            self.assertEqual(
                'Invalid flavor extra spec powervm:%s=maybe: not a boolean '
                '(true/false, yes/no, on/off, 1/0)' % key,
                self.refused(self.flavor(**{key: 'maybe'})))

    def test_numbers(self):
        self.assertEqual(
            'Invalid flavor extra spec powervm:proc_units=0.055: more than '
            'two decimal places (PowerVM counts in hundredths)',
            self.refused(self.flavor(proc_units='0.055')))
        self.assertEqual(
            'Invalid flavor extra spec powervm:shared_weight=256: more than '
            'the maximum 255',
            self.refused(self.flavor(shared_weight='256')))
