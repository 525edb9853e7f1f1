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
"""What the driver cannot do yet fails cleanly, and vanished partitions.

Each unsupported operation fails before the partition is touched and
says so; a server whose partition was deleted behind nova's back is
deleted without leaking its disk, media or mappings.
"""

import time

from nova import context as nova_context
from nova.tests.functional.api import client as api_client

from nova_powervm.tests.functional import base


class TestVolumesNotYet(base.PowerVMFunctionalTestCase):

    def test_boot_from_a_volume_of_unknown_protocol(self):
        # nova's CinderFixture gives driver_volume_type 'fake'.
        self.start_compute('host1')
        body = self._build_server(
            image_uuid='', flavor_id='1', networks='none')
        body['block_device_mapping_v2'] = [{
            'boot_index': 0, 'uuid': self.cinder.IMAGE_BACKED_VOL,
            'source_type': 'volume', 'destination_type': 'volume'}]
        server = self.api.post_server({'server': body})
        server = self.wait_for(server, 'ERROR')
        self.assertIn('uses fake, which the PowerVM driver cannot attach',
                      server['fault']['message'])
        self.assertIn(self.cinder.IMAGE_BACKED_VOL,
                      server['fault']['message'])
        self.assertEqual([], self.lpars('host1'))


class TestVanishedPartition(base.PowerVMFunctionalTestCase):

    def test_delete_removes_what_the_partition_left(self):
        self.start_compute('host1')
        server = self.boot()
        lpar = self.lpar_of('host1', server)
        self.sim_admin('host1', 'POST', 'lpar/%s/state' % lpar['uuid'],
                       {'state': 'not activated'})
        self.simulators['host1'].adapter.delete(
            'LogicalPartition', root_id=lpar['uuid'])
        self.assertIsNone(self.lpar_of('host1', server))
        # nova learns the partition is gone: no power state any more.
        ctx = nova_context.get_admin_context()
        deadline = time.monotonic() + base.WAIT
        while time.monotonic() < deadline:
            self.computes['host1'].manager._sync_power_states(ctx)
            server = self.api.get_server(server['id'])
            if server['OS-EXT-STS:power_state'] == 0:
                break
            time.sleep(0.2)
        self.assertEqual(0, server['OS-EXT-STS:power_state'])
        self.assertEqual(1, len(self.boot_disks('host1')))
        self.delete(server)
        self.assert_sim_empty('host1')
        self.assert_no_usage('host1')
        self.assertRaises(api_client.OpenStackApiNotFoundException,
                          self.api.get_server, server['id'])
