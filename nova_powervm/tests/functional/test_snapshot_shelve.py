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
"""Snapshot, shelve, shelve offload and unshelve through the compute API.

The computes' simulators run as HTTP servers here: booting from a
snapshot uploads the whole (1 GiB) disk image to the simulated host in
chunks, which the in-process interception would hold in memory.
"""

import hashlib
import time

import fixtures

from nova_powervm.tests.functional import base

GIB = 1024 ** 3


def digest(chunks):
    """``(size, sha256 hex)`` of an iterator of chunks."""
    sha, size = hashlib.sha256(), 0
    for buf in chunks:
        sha.update(buf)
        size += len(buf)
    return size, sha.hexdigest()


class SnapshotShelveTestCase(base.PowerVMFunctionalTestCase):

    def start_compute(self, host, **sim_kwargs):
        sim_kwargs.setdefault('mode', 'server')
        return super().start_compute(host, **sim_kwargs)

    def boot_disk(self, host, server):
        name = 'b_' + server['id'].replace('-', '')[:13]
        disks = [d for d in self.simulators[host].state()['virtual_disks']
                 if d['name'] == name]
        self.assertEqual(1, len(disks), name)
        return disks[0]

    def disk_digest(self, host, server):
        path = self.simulators[host].sim.files.disk_path(
            self.boot_disk(host, server)['udid'])

        def chunks():
            with open(path, 'rb') as fil:
                for buf in iter(lambda: fil.read(1024 * 1024), b''):
                    yield buf
        return digest(chunks())

    def image_digest(self, image_id):
        return digest(self.glance.image_chunks(image_id))

    def mgmt_mappings(self, host):
        """vSCSI mappings to the management partition (id 1)."""
        return [m for v in self.simulators[host].state()['vioses']
                for m in v['scsi_mappings'] if m['lpar_id'] == 1]

    def snapshot(self, server, name='snap'):
        resp = self.api.post_server_action(
            server['id'], {'createImage': {'name': name}})
        self.wait_for(server, 'ACTIVE')
        return resp['image_id']

    def shelved_image(self, server):
        images = [i for i in self.glance.images.values()
                  if i['name'] == server['name'] + '-shelved']
        return images[0] if images else None

    def wait_until(self, check, what, timeout=base.WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.1)
        self.fail('timed out waiting for %s' % what)


class TestSnapshot(SnapshotShelveTestCase):

    def setUp(self):
        super().setUp()
        self.start_compute('host1')

    def test_snapshot_of_running_server_and_boot_from_it(self):
        server = self.boot(name='orig')
        image_id = self.snapshot(server)
        image = self.glance.show(None, image_id)
        self.assertEqual('active', image['status'])
        self.assertEqual(('raw', 'bare'), (image['disk_format'],
                                           image['container_format']))
        self.assertEqual(GIB, image['size'])
        # The image holds the disk's bytes; the server kept running.
        self.assertEqual(self.disk_digest('host1', server),
                         self.image_digest(image_id))
        self.assertEqual('running', self.lpar_of('host1', server)['state'])
        self.assertEqual([], self.mgmt_mappings('host1'))
        # A server booted from the snapshot gets the same disk.
        body = self._build_server(image_uuid=image_id, flavor_id='1',
                                  networks='none', name='from-snap')
        clone = self.wait_for(self.api.post_server({'server': body}),
                              'ACTIVE')
        self.assertEqual(self.image_digest(image_id),
                         self.disk_digest('host1', clone))
        for srv in (server, clone):
            self.delete(srv)
        self.assert_sim_empty('host1')
        self.assert_no_usage('host1')

    def test_failed_snapshot_leaves_server_usable_and_no_image(self):
        server = self.boot(name='orig')
        images_before = set(self.glance.images)
        # The map of the disk to the management partition fails.
        self.simulators['host1'].add_fault(
            method='POST', path='VirtualIOServer/[^/]+$', count=1)
        self.api.post_server_action(server['id'],
                                    {'createImage': {'name': 'snap'}})
        self.wait_for(server, 'ACTIVE')
        # nova deletes the image of a failed snapshot.
        self.wait_until(lambda: set(self.glance.images) == images_before,
                        'the failed snapshot image to be deleted')
        self.assertEqual('running', self.lpar_of('host1', server)['state'])
        self.assertEqual([], self.mgmt_mappings('host1'))
        # The next one works.
        image_id = self.snapshot(server, 'snap2')
        self.assertEqual(self.disk_digest('host1', server),
                         self.image_digest(image_id))
        self.delete(server)
        self.assert_sim_empty('host1')

    def test_qcow2_image_refused_naming_the_format(self):
        image = self.glance.create(None, {
            'name': 'qcow', 'disk_format': 'qcow2',
            'container_format': 'bare', 'status': 'active',
            'visibility': 'public', 'min_disk': 0, 'min_ram': 0,
            'properties': dict(self.glance.images[
                base.images.DEFAULT_IMAGE_ID]['properties'])},
            data=b'QFI\xfb' + b'\1' * 4092)
        body = self._build_server(image_uuid=image['id'], flavor_id='1',
                                  networks='none', name='qcow')
        server = self.wait_for(self.api.post_server({'server': body}),
                               'ERROR')
        self.assertIn('disk format qcow2 is not supported',
                      server['fault']['message'])
        self.assertEqual([], self.lpars('host1'))
        self.delete(server)
        self.assert_sim_empty('host1')


class TestShelve(SnapshotShelveTestCase):

    def setUp(self):
        super().setUp()
        self.start_compute('host1')

    def test_shelve_then_unshelve(self):
        # Kept on the host while shelved.
        self.flags(shelved_offload_time=-1)
        server = self.boot(name='shelf')
        disk = self.disk_digest('host1', server)
        server = self.action(server, {'shelve': None}, 'SHELVED')
        image = self.shelved_image(server)
        self.assertIsNotNone(image)
        self.assertEqual(disk, self.image_digest(image['id']))
        self.assertEqual('not activated',
                         self.lpar_of('host1', server)['state'])
        self.assertEqual([], self.mgmt_mappings('host1'))
        server = self.action(server, {'unshelve': None}, 'ACTIVE')
        self.assertEqual('running', self.lpar_of('host1', server)['state'])
        # nova deletes the shelved image once the server is back.
        self.wait_until(lambda: self.shelved_image(server) is None,
                        'the shelved image to be deleted')
        self.delete(server)
        self.assert_sim_empty('host1')
        self.assert_no_usage('host1')

    def test_shelve_offload_and_unshelve_on_another_host(self):
        # shelved_offload_time 0 (nova's default): offloaded at once.
        self.flags(shelved_offload_time=0)
        server = self.boot(name='offload')
        disk = self.disk_digest('host1', server)
        server = self.action(server, {'shelve': None}, 'SHELVED_OFFLOADED')
        image = self.shelved_image(server)
        self.assertEqual(disk, self.image_digest(image['id']))
        # Nothing of the server is left on its host.
        self.assert_sim_empty('host1')
        self.assert_no_usage('host1')
        # Unshelved wherever the scheduler picks: host1 is disabled.
        self.start_compute('host2')
        self.api.put_service(
            self.api.get_services(host='host1',
                                  binary='nova-compute')[0]['id'],
            {'status': 'disabled'})
        server = self.action(server, {'unshelve': None}, 'ACTIVE')
        self.assertEqual('host2', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('running', self.lpar_of('host2', server)['state'])
        self.assertEqual(disk, self.disk_digest('host2', server))
        self.wait_until(lambda: self.shelved_image(server) is None,
                        'the shelved image to be deleted')
        self.delete(server)
        for host in ('host1', 'host2'):
            self.assert_sim_empty(host)
            self.assert_no_usage(host)

    def test_shelve_offload_of_a_shelved_server(self):
        self.flags(shelved_offload_time=-1)
        server = self.boot(name='later')
        server = self.action(server, {'shelve': None}, 'SHELVED')
        server = self.action(server, {'shelveOffload': None},
                             'SHELVED_OFFLOADED')
        self.assert_sim_empty('host1')
        self.assert_no_usage('host1')
        server = self.action(server, {'unshelve': None}, 'ACTIVE')
        self.assertEqual('running', self.lpar_of('host1', server)['state'])
        self.delete(server)
        self.assert_sim_empty('host1')


class TestImagePreCache(SnapshotShelveTestCase):
    """os-aggregates/{id}/images (microversion 2.81) on a PowerVM host."""

    def test_cache_images_of_an_aggregate(self):
        self.start_compute('host1')
        agg = self.admin_api.post_aggregate(
            {'aggregate': {'name': 'powervm'}})
        self.admin_api.add_host_to_aggregate(agg['id'], 'host1')
        self.admin_api.api_post(
            '/os-aggregates/%s/images' % agg['id'],
            {'cache': [{'id': base.images.DEFAULT_IMAGE_ID}]},
            check_response_status=[202])
        name = 'i_' + base.images.DEFAULT_IMAGE_ID.replace('-', '')[:13]

        data = self.glance.image_data(base.images.DEFAULT_IMAGE_ID)

        def cached():
            disks = [d for d in self.simulators['host1'].state()[
                'virtual_disks'] if d['name'] == name]
            if not disks:
                return False
            path = self.simulators['host1'].sim.files.disk_path(
                disks[0]['udid'])
            with open(path, 'rb') as fil:
                return fil.read(len(data)) == data
        # The conductor reports the end once every host answered.
        self.notifier.wait_for_versioned_notifications(
            'aggregate.cache_images.end')
        self.assertTrue(cached())
        # The first boot uses it: no upload (no File PUT).
        self.simulators['host1'].reset_stats()
        server = self.boot(name='cached')
        by_pattern = self.simulators['host1'].stats()['by_pattern']
        self.assertFalse([p for p in by_pattern if 'File' in p], by_pattern)
        self.delete(server)


class TestSnapshotSharedStoragePool(SnapshotShelveTestCase):
    """The same on a Shared Storage Pool: boot disks are linked clones."""

    def setUp(self):
        super().setUp()
        self.flags(disk_driver='ssp', group='powervm')
        self.pool_dir = self.useFixture(fixtures.TempDir()).path

    def start_compute(self, host, **sim_kwargs):
        sim_kwargs.setdefault('pool_dir', self.pool_dir)
        return super().start_compute(host, **sim_kwargs)

    def disk_digest(self, host, server):
        name = 'b_' + server['id'].replace('-', '')[:13]
        lus = [lu for lu in self.simulators[host].state()['lus']
               if lu['name'] == name]
        self.assertEqual(1, len(lus), name)
        files = self.simulators[host].sim.files
        # A clone's bytes: its own blocks over the image LU's.
        return digest(files.read_chunks(lus[0]['udid']))

    def test_snapshot_shelve_offload_unshelve(self):
        self.flags(shelved_offload_time=0)
        self.start_compute('host1')
        self.start_compute('host2')
        server = self.boot(name='ssp')
        host = server['OS-EXT-SRV-ATTR:host']
        image_id = self.snapshot(server)
        disk = self.disk_digest(host, server)
        self.assertEqual(disk, self.image_digest(image_id))
        self.assertEqual([], self.mgmt_mappings(host))
        server = self.action(server, {'shelve': None}, 'SHELVED_OFFLOADED')
        self.assertEqual(disk, self.image_digest(
            self.shelved_image(server)['id']))
        server = self.action(server, {'unshelve': None}, 'ACTIVE')
        new_host = server['OS-EXT-SRV-ATTR:host']
        self.assertEqual(disk, self.disk_digest(new_host, server))
        self.delete(server)
        for name in ('host1', 'host2'):
            self.assert_sim_empty(name)

    def test_cache_images_of_an_aggregate_into_the_pool(self):
        # Pre-cached once for the pool: a first boot on either host
        # clones it without an upload.
        self.start_compute('host1')
        self.start_compute('host2')
        agg = self.admin_api.post_aggregate(
            {'aggregate': {'name': 'powervm-ssp'}})
        for host in ('host1', 'host2'):
            self.admin_api.add_host_to_aggregate(agg['id'], host)
        self.admin_api.api_post(
            '/os-aggregates/%s/images' % agg['id'],
            {'cache': [{'id': base.images.DEFAULT_IMAGE_ID}]},
            check_response_status=[202])
        self.notifier.wait_for_versioned_notifications(
            'aggregate.cache_images.end')
        name = 'i_' + base.images.DEFAULT_IMAGE_ID.replace('-', '')[:13]
        lus = [lu for lu in self.simulators['host1'].state()['lus']
               if lu['name'] == name]
        self.assertEqual(1, len(lus))
        data = self.glance.image_data(base.images.DEFAULT_IMAGE_ID)
        files = self.simulators['host1'].sim.files
        self.assertEqual(data, b''.join(files.read_chunks(
            lus[0]['udid'], len(data)))[:len(data)])
        for host in ('host1', 'host2'):
            self.simulators[host].reset_stats()
        server = self.boot(name='cached')
        for host in ('host1', 'host2'):
            by_pattern = self.simulators[host].stats()['by_pattern']
            self.assertFalse([p for p in by_pattern if 'File' in p],
                             by_pattern)
        self.delete(server)
