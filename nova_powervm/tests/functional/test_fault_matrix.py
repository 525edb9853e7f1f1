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
"""Cells of the fault matrix through nova's API (a representative subset).

The full matrix runs on the flows (``tests/unit/virt/powervm/
test_fault_matrix.py``); here a few of its cells go through real nova
services, to check what the flows cannot: the server's status and fault
as the API shows them, and placement's usage.
"""

from unittest import mock

from nova_powervm.tests.functional import base


class TestFaultMatrixAPI(base.PowerVMFunctionalTestCase):

    def setUp(self):
        super().setUp()
        # pypowervm's VIOS-busy helper sleeps seconds between retries.
        patcher = mock.patch('pypowervm.helpers.vios_busy.SLEEP')
        patcher.start()
        self.addCleanup(patcher.stop)
        self.start_compute('host1')
        self.sim = self.simulators['host1']

    def test_boot_through_a_restart_of_the_rest_server(self):
        self.sim.add_fault(method='PUT', path='LogicalPartition$',
                           kind='restart', count=1)
        server = self.boot(networks='auto')
        self.assertIsNotNone(self.lpar_of('host1', server))
        self.assertEqual([], self.sim.sim.faults.list())
        self.delete(server)
        self.assert_sim_empty('host1')
        self.assert_no_usage('host1')

    def test_boot_through_a_busy_vios(self):
        self.sim.add_fault(method='POST', path='VirtualIOServer/[^/]+$',
                           kind='http', status=503, count=2)
        server = self.boot(networks='auto')
        self.assertEqual([], self.sim.sim.faults.list())
        self.delete(server)
        self.assert_sim_empty('host1')
        self.assert_no_usage('host1')

    def test_boot_failing_at_the_disk_goes_to_error_leaving_nothing(self):
        self.sim.add_fault(method='POST', path='VolumeGroup/[^/]+$',
                           kind='etag_conflict', count=-1)
        server = self.boot(networks='auto', expected='ERROR')
        self.assertIn('fault', server)
        self.assertTrue(server['fault']['message'].strip())
        self.sim.clear_faults()
        self.assert_sim_empty('host1')
        self.assert_no_usage('host1')

    def test_delete_failing_once_then_deleted(self):
        server = self.boot(networks='auto')
        self.sim.add_fault(method='DELETE', path='LogicalPartition/[^/]+$',
                           kind='http', status=500, count=1)
        self.api.delete_server(server['id'])
        server = self.wait_for(server, 'ERROR')
        self.assertIn('fault', server)
        self.delete(server)
        self.assert_sim_empty('host1')
        self.assert_no_usage('host1')
