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
"""A bad powervm:* extra spec never leaks anything."""

from nova.tests.functional.api import client as api_client

from nova_powervm.tests.functional import base


class TestBadExtraSpec(base.PowerVMFunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.start_compute('host1')
        self.flavor = self._create_flavor(memory_mb=512, vcpu=1, disk=1,
                                          ephemeral=0)

    def set_spec(self, key, value, microversion):
        self.api.microversion = microversion
        try:
            return self.api.post_extra_spec(
                self.flavor, {'extra_specs': {key: value}})
        finally:
            self.api.microversion = self.microversion

    def test_rejected_at_flavor_set(self):
        exc = self.assertRaises(
            api_client.OpenStackApiException, self.set_spec,
            'powervm:proc_units', 'lots', '2.86')
        self.assertEqual(400, exc.response.status_code)
        self.assertIn('powervm:proc_units', exc.response.text)
        exc = self.assertRaises(
            api_client.OpenStackApiException, self.set_spec,
            'powervm:no_such_key', '1', '2.86')
        self.assertEqual(400, exc.response.status_code)

    def test_unvalidated_spec_fails_the_boot_cleanly(self):
        # Before microversion 2.86 the API stores any value; the compute
        # must then refuse the boot and name the key.
        self.set_spec('powervm:proc_units', 'lots', '2.85')
        server = self.boot(flavor_id=self.flavor, expected='ERROR')
        self.assertIn('powervm:proc_units', server['fault']['message'])
        self.assert_sim_empty('host1')
        self.assert_no_usage('host1')
