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
"""Boot, power actions and delete through nova's API, on simulated hosts."""

from nova_powervm.sandbox import images
from nova_powervm.tests.functional import base


class TestLifecycle(base.PowerVMFunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.start_compute('host1')

    def assert_lpar_state(self, server, state):
        lpar = self.lpar_of('host1', server)
        self.assertIsNotNone(lpar, 'no LPAR for %s' % server['id'])
        self.assertEqual(state, lpar['state'])
        return lpar

    def test_boot_power_actions_delete(self):
        flavor = self.api.get_flavor('1')
        server = self.boot(networks='auto')
        self.assertEqual('host1', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(1, server['OS-EXT-STS:power_state'])
        self.assertEqual(
            {'VCPU': flavor['vcpus'], 'MEMORY_MB': flavor['ram'],
             'DISK_GB': flavor['disk']},
            {k: v for k, v in self.usage('host1').items()
             if k in ('VCPU', 'MEMORY_MB', 'DISK_GB')})
        lpar = self.assert_lpar_state(server, 'running')
        self.assertEqual(flavor['ram'], lpar['memory_mb'])
        self.assertEqual(flavor['vcpus'], lpar['vcpus'])
        state = self.simulators['host1'].state()
        self.assertEqual(1, len(self.boot_disks('host1')))
        self.assertEqual(
            [lpar['uuid']],
            [c['lpar_uuid'] for c in state['cnas']
             if c['vswitch'] != 'MGMTSWITCH'])

        server = self.action(server, {'os-stop': None}, 'SHUTOFF')
        self.assertEqual(4, server['OS-EXT-STS:power_state'])
        self.assert_lpar_state(server, 'not activated')

        server = self.action(server, {'os-start': None}, 'ACTIVE')
        self.assert_lpar_state(server, 'running')

        for kind in ('SOFT', 'HARD'):
            server = self.action(server, {'reboot': {'type': kind}},
                                 'ACTIVE')
            self.assertEqual(1, server['OS-EXT-STS:power_state'])
            self.assert_lpar_state(server, 'running')

        self.delete(server)
        self.assert_no_usage('host1')
        self.assert_sim_empty('host1')

    def test_boot_streams_the_image_to_the_disk(self):
        server = self.boot()
        state = self.simulators['host1'].state()
        # The boot disk is the flavor's root disk (1 GB for m1.tiny).
        disks = self.boot_disks('host1')
        self.assertEqual([1.0], [d['capacity_gb'] for d in disks])
        # The image went through one upload file, removed once streamed.
        self.assertEqual([], state['files'])
        stats = self.simulators['host1'].stats()['by_pattern']
        self.assertEqual(
            1, stats.get('PUT /rest/api/web/File/contents/{uuid}'), stats)
        mapped = [m['storage_name'] for v in state['vioses']
                  for m in v['scsi_mappings']]
        self.assertIn(disks[0]['name'], mapped)
        # The image's bytes are on the boot disk (and the cached image).
        image = images.make_image_bytes(self.IMAGE_SIZE)
        files = self.simulators['host1'].sim.files
        for disk in state['virtual_disks']:
            with open(files.disk_path(disk['udid']), 'rb') as backing:
                self.assertEqual(image, backing.read(len(image)),
                                 disk['name'])
        self.assertEqual(2, len(state['virtual_disks']))
        self.delete(server)
        self.assert_sim_empty('host1')
