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
"""Ephemeral and swap disks, rescue and rebuild through nova's API."""

import hashlib

from oslo_utils import uuidutils

from nova_powervm.sandbox import images
from nova_powervm.tests.functional import base

NEW_IMAGE_BYTES = (b'a-newer-image-' * 8192)[:512 * 1024 + 5]


class DiskTestCase(base.PowerVMFunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.start_compute('host1')

    def sim_state(self):
        return self.simulators['host1'].state()

    def mapped(self, server):
        """``(type, name)`` of the storage mapped to a server's LPAR."""
        lpar = self.lpar_of('host1', server)
        return sorted((m['storage_type'], m['storage_name'].split('/')[-1])
                      for v in self.sim_state()['vioses']
                      for m in v['scsi_mappings']
                      if (m['lpar_uuid'] or '').upper() == lpar['uuid'])

    def mapped_disks(self, server):
        return [name for kind, name in self.mapped(server)
                if kind == 'VirtualDisk']

    def booted_from(self, server):
        return self.lpar_of('host1', server)['booted_from']

    def disk_bytes(self, name, length):
        disks = [d for d in self.sim_state()['virtual_disks']
                 if d['name'] == name]
        self.assertEqual(1, len(disks), name)
        path = self.simulators['host1'].sim.files.disk_path(disks[0]['udid'])
        with open(path, 'rb') as fil:
            return fil.read(length)

    def new_image(self, data=NEW_IMAGE_BYTES, **props):
        image_id = uuidutils.generate_uuid()
        self.glance.create(None, {
            'id': image_id, 'name': 'img-%s' % image_id[:8],
            'status': 'active', 'visibility': 'public', 'is_public': True,
            'container_format': 'bare', 'disk_format': 'raw',
            'size': len(data), 'min_ram': 0, 'min_disk': 0,
            'protected': False, 'tags': [],
            'checksum': hashlib.md5(data, usedforsecurity=False).hexdigest(),
            'properties': dict({'architecture': 'ppc64le'}, **props)},
            data=data)
        return image_id

    def assert_only_its_disk(self, server):
        """The server has one boot disk, booted, and nothing else left."""
        disks = [d['name'] for d in self.boot_disks('host1')]
        self.assertEqual(1, len(disks), disks)
        self.assertEqual(disks, self.mapped_disks(server))
        self.assertEqual('running', self.lpar_of('host1', server)['state'])
        self.assertEqual(disks[0], self.booted_from(server))
        self.assertEqual([], self.sim_state()['files'])
        return disks[0]


class TestEphemeralSwap(DiskTestCase):

    def test_flavor_disks_made_mapped_and_deleted(self):
        flavor = self._create_flavor(memory_mb=512, vcpu=1, disk=1,
                                     ephemeral=2, swap=512)
        server = self.boot(flavor_id=flavor)
        sizes = {d['name'][:2]: d['capacity_gb']
                 for d in self.boot_disks('host1')}
        self.assertEqual({'b_': 1.0, 'e0': 2.0, 's_': 0.5}, sizes)
        self.assertEqual(sorted(d['name'] for d in self.boot_disks('host1')),
                         self.mapped_disks(server))
        # nova counts the swap disk in whole GB.
        self.assertEqual({'VCPU': 1, 'MEMORY_MB': 512, 'DISK_GB': 4},
                         {k: v for k, v in self.usage('host1').items()
                          if k in ('VCPU', 'MEMORY_MB', 'DISK_GB')})
        self.delete(server)
        self.assert_no_usage('host1')
        self.assert_sim_empty('host1')

    def test_failed_blank_disks_leave_nothing(self):
        flavor = self._create_flavor(memory_mb=512, vcpu=1, disk=1,
                                     ephemeral=1, swap=256)
        # Image cached first; then the 2nd volume group POST (the blank
        # disks) fails, and the boot is rescheduled nowhere: ERROR.
        self.delete(self.boot())
        self.simulators['host1'].add_fault(method='POST',
                                           path='VolumeGroup', skip=1)
        server = self.boot(flavor_id=flavor, expected='ERROR')
        self.simulators['host1'].clear_faults()
        self.delete(server)
        self.assert_no_usage('host1')
        self.assert_sim_empty('host1')


class TestRescue(DiskTestCase):

    def test_rescue_and_unrescue(self):
        server = self.boot()
        boot = self.assert_only_its_disk(server)
        rescue_image = self.new_image()
        server = self.action(
            server, {'rescue': {'rescue_image_ref': rescue_image}}, 'RESCUE')
        rescue = [n for n in self.mapped_disks(server) if n != boot]
        self.assertEqual(1, len(rescue), self.mapped(server))
        self.assertTrue(rescue[0].startswith('r_'))
        self.assertEqual('running', self.lpar_of('host1', server)['state'])
        self.assertEqual(rescue[0], self.booted_from(server))
        self.assertEqual(NEW_IMAGE_BYTES,
                         self.disk_bytes(rescue[0], len(NEW_IMAGE_BYTES)))
        server = self.action(server, {'unrescue': None}, 'ACTIVE')
        self.assertEqual(boot, self.assert_only_its_disk(server))
        self.delete(server)
        self.assert_sim_empty('host1')

    def test_rescue_with_own_image_then_delete(self):
        server = self.boot()
        server = self.action(server, {'rescue': None}, 'RESCUE')
        self.assertTrue(self.booted_from(server).startswith('r_'))
        self.delete(server)
        self.assert_no_usage('host1')
        self.assert_sim_empty('host1')

    def test_unsupported_rescue_bus_is_refused(self):
        server = self.boot()
        image = self.new_image(hw_rescue_bus='usb')
        self.api.post_server_action(
            server['id'], {'rescue': {'rescue_image_ref': image}})
        server = self.wait_for(server, 'ERROR')
        self.assertIn('hw_rescue_bus=usb', server['fault']['message'])
        self.assertEqual(1, len(self.boot_disks('host1')))
        server = self.action(server, {'reboot': {'type': 'HARD'}}, 'ACTIVE')
        self.assert_only_its_disk(server)

    def test_failure_at_each_step_of_rescue(self):
        server = self.boot()
        sim = self.simulators['host1']
        steps = [dict(method='POST', path='VolumeGroup'),
                 dict(method='POST', path='VirtualIOServer/[^/]+$'),
                 dict(kind='job_fail', job='PowerOn')]
        for fault in steps:
            sim.add_fault(count=1, **fault)
            self.api.post_server_action(server['id'], {'rescue': None})
            server = self.wait_for(server, 'ERROR')
            sim.clear_faults()
            # Off, on its own disk only; a hard reboot brings it back.
            self.assertEqual(1, len(self.boot_disks('host1')), fault)
            self.assertEqual('not activated',
                             self.lpar_of('host1', server)['state'])
            server = self.action(server, {'reboot': {'type': 'HARD'}},
                                 'ACTIVE')
            self.assert_only_its_disk(server)
        # And rescue still works.
        server = self.action(server, {'rescue': None}, 'RESCUE')
        server = self.action(server, {'unrescue': None}, 'ACTIVE')
        self.assert_only_its_disk(server)

    def test_failure_at_each_step_of_unrescue(self):
        server = self.boot()
        sim = self.simulators['host1']
        steps = [dict(kind='job_fail', job='PowerOff'),
                 dict(method='POST', path='VirtualIOServer/[^/]+$'),
                 dict(method='POST', path='VolumeGroup'),
                 dict(kind='job_fail', job='PowerOn')]
        for fault in steps:
            server = self.action(server, {'rescue': None}, 'RESCUE')
            sim.add_fault(count=1, **fault)
            self.api.post_server_action(server['id'], {'unrescue': None})
            # nova marks the server ERROR; a hard reboot finishes the job.
            server = self.wait_for(server, 'ERROR')
            sim.clear_faults()
            server = self.action(server, {'reboot': {'type': 'HARD'}},
                                 'ACTIVE')
            self.assert_only_its_disk(server)
        self.delete(server)
        self.assert_sim_empty('host1')


class TestRebuild(DiskTestCase):

    def test_rebuild_keeps_the_partition(self):
        server = self.boot(networks='auto')
        lpar = self.lpar_of('host1', server)
        cnas = [c for c in self.sim_state()['cnas']
                if c['lpar_uuid'].upper() == lpar['uuid']]
        new = self.new_image()
        server = self.action(server, {'rebuild': {'imageRef': new}},
                             'ACTIVE')
        self.assertEqual(new, server['image']['id'])
        after = self.lpar_of('host1', server)
        self.assertEqual((lpar['uuid'], lpar['id']),
                         (after['uuid'], after['id']))
        self.assertEqual(cnas, [c for c in self.sim_state()['cnas']
                                if c['lpar_uuid'].upper() == lpar['uuid']])
        disk = self.assert_only_its_disk(server)
        self.assertEqual(NEW_IMAGE_BYTES,
                         self.disk_bytes(disk, len(NEW_IMAGE_BYTES)))
        # Back to the first image.
        server = self.action(
            server, {'rebuild': {'imageRef': images.DEFAULT_IMAGE_ID}},
            'ACTIVE')
        disk = self.assert_only_its_disk(server)
        data = self.glance.image_data(images.DEFAULT_IMAGE_ID)
        self.assertEqual(data, self.disk_bytes(disk, len(data)))
        self.delete(server)
        self.assert_no_usage('host1')
        self.assert_sim_empty('host1')

    def test_rebuild_preserve_ephemeral(self):
        flavor = self._create_flavor(memory_mb=512, vcpu=1, disk=1,
                                     ephemeral=1, swap=256)
        server = self.boot(flavor_id=flavor)

        def udids():
            return {d['name'][:2]: d['udid']
                    for d in self.boot_disks('host1')}
        before = udids()
        server = self.action(server, {'rebuild': {
            'imageRef': self.new_image(), 'preserve_ephemeral': True}},
            'ACTIVE')
        kept = udids()
        self.assertEqual(before['e0'], kept['e0'])
        self.assertEqual(before['s_'], kept['s_'])
        self.assertIn('n_', kept)
        server = self.action(server, {'rebuild': {
            'imageRef': images.DEFAULT_IMAGE_ID}}, 'ACTIVE')
        remade = udids()
        self.assertNotEqual(kept['e0'], remade['e0'])
        self.assertEqual(3, len(self.mapped_disks(server)))
        self.delete(server)
        self.assert_sim_empty('host1')

    def test_failure_at_each_step_of_rebuild(self):
        server = self.boot()
        sim = self.simulators['host1']
        # Each rebuild is to an image not cached yet: volume group POSTs
        # are then the cache disk, the boot disk copy, the deletion of
        # the replaced disk.
        steps = [
            # The soft power off (OS, then VSP: RMC is active) falls back
            # to a hard one: fail all three.
            dict(kind='job_fail', job='PowerOff', count=3),
            dict(method='POST', path='VolumeGroup'),
            dict(method='PUT', path='web/File/contents'),
            dict(method='POST', path='VolumeGroup', skip=1),
            dict(method='POST', path='VirtualIOServer/[^/]+$'),
            dict(method='POST', path='VolumeGroup', skip=2),
            dict(kind='job_fail', job='PowerOn')]
        for fault in steps:
            new = self.new_image()
            sim.add_fault(**dict({'count': 1}, **fault))
            self.api.post_server_action(server['id'],
                                        {'rebuild': {'imageRef': new}})
            server = self.wait_for(server, 'ERROR')
            sim.clear_faults()
            # Usable: a hard reboot brings it back, on one boot disk...
            server = self.action(server, {'reboot': {'type': 'HARD'}},
                                 'ACTIVE')
            self.assert_only_its_disk(server)
            # ...and a rebuild run again completes.
            server = self.action(server, {'rebuild': {'imageRef': new}},
                                 'ACTIVE')
            disk = self.assert_only_its_disk(server)
            self.assertEqual(NEW_IMAGE_BYTES,
                             self.disk_bytes(disk, len(NEW_IMAGE_BYTES)))
        self.delete(server)
        self.assert_no_usage('host1')
        self.assert_sim_empty('host1')
