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
"""The powervm:* extra spec table, its nova validator and the builder."""

from nova.api.validation.extra_specs import validators
from nova import exception as nova_exc
from nova import objects
from pypowervm.utils import lpar_builder as pvm_lb
from pypowervm.wrappers import base_partition as pvm_bp

from nova_powervm import exception as exc
from nova_powervm.tests.unit import base as tests_base
from nova_powervm.virt.powervm import extra_specs
from nova_powervm.virt.powervm import lpar_builder

GOOD = {
    'powervm:min_mem': '1024', 'powervm:max_mem': '4096',
    'powervm:min_vcpu': '1', 'powervm:max_vcpu': '8',
    'powervm:proc_units': '0.5', 'powervm:min_proc_units': '0.1',
    'powervm:max_proc_units': '2', 'powervm:dedicated_proc': 'false',
    'powervm:uncapped': 'yes', 'powervm:shared_weight': '128',
    'powervm:shared_proc_pool_name': 'DefaultPool',
    'powervm:availability_priority': '200',
    'powervm:processor_compatibility': 'POWER6+',
    'powervm:srr_capability': 'true', 'powervm:enable_lpar_metric': 'no',
    'powervm:ppt_ratio': '1:4096', 'powervm:enforce_affinity_check': 'false',
    'powervm:secure_boot': '0', 'powervm:ame_expansion_factor': '1.25',
}

BAD = {
    'powervm:min_mem': '64', 'powervm:max_vcpu': '0',
    'powervm:proc_units': '0.01', 'powervm:max_proc_units': 'many',
    'powervm:dedicated_proc': 'maybe', 'powervm:uncapped': '2x',
    'powervm:shared_weight': '256',
    'powervm:dedicated_sharing_mode': 'hoard',
    'powervm:availability_priority': '-1',
    'powervm:processor_compatibility': 'POWER99',
    'powervm:ppt_ratio': '1:3', 'powervm:secure_boot': '10',
    'powervm:min_proc_units': '0.125', 'powervm:enable_lpar_metric': 'nope',
    'powervm:ame_expansion_factor': '0.5', 'powervm:not_a_key': '1',
}


def _flavor(specs, vcpus=8, memory_mb=2048):
    return objects.Flavor(extra_specs=specs, vcpus=vcpus,
                          memory_mb=memory_mb)


class TestTable(tests_base.NoDBTestCase):

    def test_choices_match_pypowervm(self):
        self.assertEqual(set(pvm_bp.DedicatedSharingMode.ALL_VALUES),
                         set(extra_specs.DEDICATED_SHARING_MODES.values()))
        self.assertEqual(set(pvm_bp.LPARCompat.ALL_VALUES),
                         set(extra_specs.PROC_COMPAT_MODES))
        self.assertEqual(set(pvm_lb.ALLOWED_PPT_RATIOS),
                         set(extra_specs.PPT_RATIOS))

    def test_proc_units_bound_matches_pypowervm(self):
        self.assertEqual(pvm_lb.PROC_UNITS_LOW_BOUND,
                         extra_specs.PROC_UNITS_MIN)
        for key in ('proc_units', 'min_proc_units', 'max_proc_units'):
            spec = extra_specs.SPECS[key]
            self.assertIn('at least 0.05', spec.value['description'])
            self.assertEqual(0.05, spec.parse('0.05'))
            self.assertRaises(ValueError, spec.parse, '0.04')

    def test_every_spec_feeds_a_builder_attribute(self):
        attrs = {v for k, v in vars(pvm_lb).items()
                 if k.isupper() and isinstance(v, str)}
        for spec in extra_specs.SPECS.values():
            self.assertIn(spec.attr, attrs, spec.key)

    def test_good_values_parse(self):
        attrs = lpar_builder.validate_extra_specs(_flavor(GOOD))
        self.assertEqual(0.5, attrs['proc_units'])
        self.assertEqual('POWER6_Plus', attrs['processor_compatibility'])
        self.assertEqual('uncapped', attrs['sharing_mode'])
        self.assertEqual(4096, attrs['max_mem'])
        self.assertIs(False, attrs['enable_lpar_metric'])

    def test_each_bad_value_names_its_key_and_value(self):
        for key, value in BAD.items():
            error = self.assertRaises(
                exc.InvalidExtraSpec, lpar_builder.validate_extra_specs,
                _flavor({key: value}))
            self.assertIn('%s=%s: ' % (key, value), error.format_message())
            self.assertIsInstance(error, nova_exc.InvalidInput)

    def test_dedicated_sharing_mode(self):
        attrs = lpar_builder.validate_extra_specs(_flavor({
            'powervm:dedicated_proc': 'true',
            'powervm:dedicated_sharing_mode': 'KEEP_IDLE_PROCS'}))
        self.assertEqual('keep idle procs', attrs['sharing_mode'])
        self.assertIs(True, attrs['dedicated_proc'])

    def test_two_keys_for_one_setting_conflict(self):
        error = self.assertRaises(
            exc.InvalidExtraSpec, lpar_builder.validate_extra_specs,
            _flavor({'powervm:uncapped': 'true',
                     'powervm:dedicated_sharing_mode': 'keep_idle_procs'}))
        self.assertEqual(
            'Invalid flavor extra spec powervm:uncapped=true: conflicts '
            'with powervm:dedicated_sharing_mode', error.format_message())

    def test_other_namespaces_are_ignored(self):
        self.assertEqual({}, lpar_builder.validate_extra_specs(
            _flavor({'hw:cpu_policy': 'dedicated', 'quota:x': 'y'})))


class TestNovaValidator(tests_base.NoDBTestCase):
    """What nova-api does at ``openstack flavor set``."""

    def test_registered_through_the_entry_point(self):
        self.assertIn('powervm:proc_units', validators.VALIDATORS)
        self.assertEqual(len(extra_specs.SPECS),
                         len([n for n in validators.VALIDATORS
                              if n.startswith('powervm:')]))

    def test_api_accepts_good_values(self):
        for key, value in GOOD.items():
            validators.validate(key, value)
        validators.validate('powervm:dedicated_sharing_mode',
                            'share_idle_procs_always')

    def test_api_rejects_bad_values_naming_key_and_value(self):
        for key, value in BAD.items():
            error = self.assertRaises(nova_exc.ValidationError,
                                      validators.validate, key, value)
            if key == 'powervm:not_a_key':
                # nova's own message for a key of a known namespace.
                self.assertIn("'%s'" % key, error.format_message())
            else:
                self.assertIn('invalid flavor extra spec %s=%s: '
                              % (key, value), error.format_message())

    def test_boolean_errors_name_the_key(self):
        for key in ('dedicated_proc', 'uncapped', 'srr_capability',
                    'enable_lpar_metric', 'enforce_affinity_check'):
            error = self.assertRaises(
                nova_exc.ValidationError, validators.validate,
                'powervm:' + key, 'maybe')
            self.assertEqual(
                'Validation failed; invalid flavor extra spec powervm:%s='
                'maybe: not a boolean (true/false, yes/no, on/off, 1/0).'
                % key, error.format_message())

    def test_integer_errors_name_the_key(self):
        error = self.assertRaises(nova_exc.ValidationError,
                                  validators.validate,
                                  'powervm:min_mem', '64')
        self.assertEqual(
            'Validation failed; invalid flavor extra spec powervm:min_mem=64: '
            'less than the minimum 128.', error.format_message())

    def test_proc_units_range(self):
        for key in ('powervm:proc_units', 'powervm:min_proc_units',
                    'powervm:max_proc_units'):
            for value in ('0.05', '0.5', '1', '16.25', '64.00'):
                validators.validate(key, value)
            for value, reason in (
                    ('0.04', 'less than the minimum 0.05'),
                    ('-1', 'less than the minimum 0.05'),
                    ('0.055', 'more than two decimal places (PowerVM '
                              'counts in hundredths)'),
                    ('nan', 'not a finite number'),
                    ('inf', 'not a finite number'),
                    ('1e40', 'too large'),
                    ('lots', 'not a number')):
                error = self.assertRaises(nova_exc.ValidationError,
                                          validators.validate, key, value)
                self.assertEqual(
                    'Validation failed; invalid flavor extra spec %s=%s: '
                    '%s.' % (key, value, reason), error.format_message())

    def test_ame_expansion_factor_range(self):
        key = 'powervm:ame_expansion_factor'
        for value in ('0', '1', '1.0', '2.5', '10', '10.00'):
            validators.validate(key, value)
        for value, reason in (
                ('0.5', 'must be 0 (off) or from 1.0 to 10.0'),
                ('10.01', 'must be 0 (off) or from 1.0 to 10.0'),
                ('-1', 'must be 0 (off) or from 1.0 to 10.0'),
                ('1.005', 'more than two decimal places (PowerVM counts '
                          'in hundredths)'),
                ('big', 'not a number')):
            error = self.assertRaises(nova_exc.ValidationError,
                                      validators.validate, key, value)
            self.assertEqual(
                'Validation failed; invalid flavor extra spec %s=%s: %s.'
                % (key, value, reason), error.format_message())


class TestAgainstPypowervm(tests_base.NoDBTestCase):
    """The host-independent rules agree with pypowervm's own checks."""

    def test_ame_range_matches_pypowervm(self):
        spec = extra_specs.SPECS['ame_expansion_factor']
        self.assertEqual('ame_factor', spec.attr)
        self.assertEqual(pvm_lb.AME_FACTOR, spec.attr)
        for value in ('0', '0.99', '1', '1.5', '9.99', '10', '10.01', '11',
                      '-1'):
            mem = pvm_lb.Memory(2048, 2048, 2048, value, True, 256)
            try:
                mem.validate()
                pypowervm_accepts = True
            except ValueError:
                pypowervm_accepts = False
            try:
                spec.parse(value)
                we_accept = True
            except ValueError:
                we_accept = False
            self.assertEqual(pypowervm_accepts, we_accept, value)

    def test_proc_units_minimum_matches_pypowervm(self):
        for value in ('0.04', '0.05', '0.1'):
            units = pvm_lb.ProcUnits(value, value, value)
            try:
                units.validate()
                pypowervm_accepts = True
            except ValueError:
                pypowervm_accepts = False
            try:
                extra_specs.SPECS['proc_units'].parse(value)
                we_accept = True
            except ValueError:
                we_accept = False
            self.assertEqual(pypowervm_accepts, we_accept, value)
