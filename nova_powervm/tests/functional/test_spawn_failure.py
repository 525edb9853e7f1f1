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
"""A spawn failing midway leaves nothing behind on the failed host."""

from nova_powervm.tests.functional import base


class TestSpawnFailure(base.PowerVMFunctionalTestCase):

    # host1 is always tried first, host2 is its alternate.
    HOST_WEIGHTS = {'host1': 100, 'host2': 50}

    def test_power_on_fails_server_in_error(self):
        self.start_compute('host1')
        self.simulators['host1'].add_fault(
            method='*', path='.', kind='job_fail', job='PowerOn',
            count=-1, message='HSCL0DB4 simulated power-on failure')
        server = self.boot(networks='auto', expected='ERROR')
        self.assertIn('fault', server)
        # It failed where injected (the partition was built and powered
        # on), not earlier for some other reason.
        tried = self.simulators['host1'].stats()['by_pattern']
        self.assertTrue([p for p in tried if p.endswith('/do/PowerOn')],
                        tried)
        self.assert_sim_empty('host1')
        self.assert_no_usage('host1')

    def test_network_adapter_failure_midway_server_in_error(self):
        # The partition and its disk exist when the adapter fails.
        self.start_compute('host1')
        self.simulators['host1'].add_fault(
            method='PUT', path='ClientNetworkAdapter', kind='http',
            status=500, count=-1, message='simulated adapter failure')
        server = self.boot(networks='auto', expected='ERROR')
        self.assertIn('fault', server)
        tried = self.simulators['host1'].stats()['by_pattern']
        self.assertTrue([p for p in tried if p.startswith('PUT ')
                         and 'ClientNetworkAdapter' in p], tried)
        self.assert_sim_empty('host1')
        self.assert_no_usage('host1')

    def test_failure_on_one_host_reschedules_to_the_other(self):
        self.start_compute('host1')
        self.start_compute('host2')
        self.simulators['host1'].add_fault(
            method='*', path='.', kind='job_fail', job='PowerOn',
            count=-1, message='HSCL0DB4 simulated power-on failure')
        server = self.boot(networks='auto')
        self.assertEqual('host2', server['OS-EXT-SRV-ATTR:host'])
        self.assertIsNotNone(self.lpar_of('host2', server))
        # The failed attempt left nothing on host1 (its PowerOn job ran).
        tried = self.simulators['host1'].stats()['by_pattern']
        self.assertTrue([p for p in tried if p.endswith('/do/PowerOn')],
                        tried)
        self.assert_sim_empty('host1')
        self.assert_no_usage('host1')
        self.delete(server)
        self.assert_sim_empty('host2')
