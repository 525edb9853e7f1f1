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
"""The functional harness itself, with nova's fake driver.

Proves the base (services, node identities, image and network fixtures,
placement) independently of the PowerVM driver.
"""

from nova_powervm.tests.functional import base


class TestHarnessWithFakeDriver(base.PowerVMFunctionalTestCase):

    DRIVER = 'fake'

    def test_two_computes_boot_and_delete(self):
        self.start_compute('host1')
        self.start_compute('host2')
        rps = {rp['name'] for rp in self._get_all_providers()}
        self.assertEqual({'host1', 'host2'}, rps)

        server = self.boot(networks='auto')
        host = server['OS-EXT-SRV-ATTR:host']
        self.assertEqual({'VCPU': 1, 'MEMORY_MB': 512, 'DISK_GB': 1},
                         self.usage(host))
        ips = [a['addr'] for net in server['addresses'].values()
               for a in net]
        self.assertEqual(1, len(ips))

        self.delete(server)
        self.assert_no_usage(host)
