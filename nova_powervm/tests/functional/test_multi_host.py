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
"""Two computes, each with its own simulated NovaLink host."""

from nova_powervm.tests.functional import base


class TestTwoHosts(base.PowerVMFunctionalTestCase):

    def test_servers_land_on_both_hosts_each_holding_its_own(self):
        self.start_compute('host1')
        self.start_compute('host2')
        hypervisors = self.admin_api.api_get(
            '/os-hypervisors/detail').body['hypervisors']
        self.assertEqual(['host1', 'host2'], sorted(
            h['hypervisor_hostname'] for h in hypervisors))
        self.assertEqual(2, len({h['id'] for h in hypervisors}))
        self.assertEqual({'host1', 'host2'},
                         {rp['name'] for rp in self._get_all_providers()})
        servers = [self.boot(name='vm%d' % i) for i in range(2)]
        by_host = {s['OS-EXT-SRV-ATTR:host']: s for s in servers}
        self.assertEqual({'host1', 'host2'}, set(by_host))
        for host, server in by_host.items():
            lpars = self.lpars(host)
            self.assertEqual(1, len(lpars))
            self.assertIsNotNone(self.lpar_of(host, server))
        for server in servers:
            self.delete(server)
        for host in ('host1', 'host2'):
            self.assert_sim_empty(host)
            self.assert_no_usage(host)
