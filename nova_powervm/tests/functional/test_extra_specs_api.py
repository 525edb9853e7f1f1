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
"""Processing units and memory expansion through nova's API.

What one key and its value can say is refused by the API (microversion
2.86 and later); what depends on the flavor's vCPUs or on the host fails
the boot on the compute host before anything is created there.  The
simulated host has 20 configurable processing units and is Active Memory
Expansion capable.
"""

from nova.tests.functional.api import client as api_client
from pypowervm.wrappers import logical_partition as pvm_lpar

from nova_powervm.tests.functional import base

VALIDATING_MICROVERSION = '2.86'


class TestProcUnitsAndAME(base.PowerVMFunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.start_compute('host1')

    def flavor(self, vcpus=4, **specs):
        """A flavor with ``powervm:`` extra specs set at microversion 2.86.

        :returns: the flavor id.
        """
        flavor = self._create_flavor(memory_mb=512, vcpu=vcpus, disk=1,
                                     ephemeral=0)
        if specs:
            self.set_specs(flavor, **specs)
        return flavor

    def set_specs(self, flavor, **specs):
        self.api.microversion = VALIDATING_MICROVERSION
        try:
            return self.api.post_extra_spec(flavor, {'extra_specs': {
                'powervm:' + k: v for k, v in specs.items()}})
        finally:
            self.api.microversion = self.microversion

    def assert_refused_by_api(self, key, value, reason):
        flavor = self.flavor()
        error = self.assertRaises(api_client.OpenStackApiException,
                                  self.set_specs, flavor, **{key: value})
        self.assertEqual(400, error.response.status_code)
        self.assertIn('invalid flavor extra spec powervm:%s=%s: %s'
                      % (key, value, reason), error.response.text)
        self.assertEqual({}, self.api.get_flavor(flavor).get(
            'extra_specs', {}))

    def assert_boot_refused(self, flavor, text):
        server = self.boot(flavor_id=flavor, expected='ERROR')
        self.assertIn(text, server['fault']['message'])
        self.assertEqual([], self.lpars('host1'))
        self.assert_sim_empty('host1')
        self.assert_no_usage('host1')

    def test_api_refuses_what_no_host_accepts(self):
        self.assert_refused_by_api('proc_units', '0.01',
                                   'less than the minimum 0.05')
        self.assert_refused_by_api('max_proc_units', '0.125',
                                   'more than two decimal places')
        self.assert_refused_by_api('ame_expansion_factor', '0.5',
                                   'must be 0 (off) or from 1.0 to 10.0')
        self.assert_refused_by_api('dedicated_proc', 'maybe',
                                   'not a boolean')

    def test_more_than_one_unit_per_vcpu_fails_the_boot(self):
        # 4 vCPUs with 20.5 processing units: any single value is fine
        # for the API, the pair is not for any host.
        flavor = self.flavor(vcpus=4, proc_units='20.5')
        self.assert_boot_refused(
            flavor, 'Invalid flavor extra spec powervm:proc_units=20.5: '
                    '20.5 processing units on 4 virtual processors: more '
                    'than 1 per virtual processor (at most 4)')

    def test_units_beyond_the_host_fail_the_boot(self):
        flavor = self.flavor(vcpus=4, max_vcpu='24', max_proc_units='20.5')
        self.assert_boot_refused(
            flavor, 'Invalid flavor extra spec powervm:max_proc_units=20.5: '
                    '20.5 maximum processing units: more than the host\'s '
                    '20 configurable processing units')

    def test_memory_expansion_reaches_the_partition(self):
        flavor = self.flavor(vcpus=1, ame_expansion_factor='1.5',
                             proc_units='0.5')
        server = self.boot(flavor_id=flavor)
        lpar = self.lpar_of('host1', server)
        self.assertAlmostEqual(0.5, lpar['proc_units'])
        wrapper = pvm_lpar.LPAR.get(self.simulators['host1'].adapter,
                                    uuid=lpar['uuid'])
        self.assertEqual(1.5, wrapper.mem_config.exp_factor)
        self.delete(server)
        self.assert_sim_empty('host1')
