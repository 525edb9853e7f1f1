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
"""Two computes whose simulated hosts share one Shared Storage Pool."""

import fixtures

from nova_powervm.sandbox import images
from nova_powervm.tests.functional import base
from nova_powervm.tests.functional import test_disks_rescue_rebuild as disks

POOL_GB = 1024


class TestSharedStoragePool(base.PowerVMFunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.flags(disk_driver='ssp', group='powervm')
        self.pool_dir = self.useFixture(fixtures.TempDir()).path

    def start(self, *hosts):
        for host in hosts:
            self.start_compute(host, pool_dir=self.pool_dir)

    new_image = disks.DiskTestCase.new_image

    def lus(self, host='host1'):
        return {lu['name']: lu for lu in self.simulators[host].state()['lus']}

    def lu_mappings(self, host, server):
        """Names of the host's VIOSes that map the server's boot LU."""
        lpar = self.lpar_of(host, server)
        return sorted(v['name'] for v in self.simulators[host].state()[
            'vioses'] for m in v['scsi_mappings']
            if m['lpar_uuid'] == lpar['uuid'] and
            m['storage_type'] == 'LogicalUnit')

    def test_boot_delete_on_two_hosts_sharing_the_pool(self):
        self.start('host1', 'host2')
        # Every host of the cluster reports the pool as its DISK_GB.
        for host in ('host1', 'host2'):
            inv = self._get_provider_inventory(
                self._get_provider_uuid_by_host(host))
            self.assertEqual(POOL_GB, inv['DISK_GB']['total'])
        servers = [self.boot(name='vm%d' % i) for i in range(2)]
        by_host = {s['OS-EXT-SRV-ATTR:host']: s for s in servers}
        self.assertEqual({'host1', 'host2'}, set(by_host))
        # One image LU for the cluster; each boot disk a clone of it.
        lus = self.lus()
        self.assertEqual(lus, self.lus('host2'))
        images = [lu for lu in lus.values()
                  if lu['type'] == 'VirtualIO_Image']
        self.assertEqual(1, len(images), lus)
        disks = [lu for lu in lus.values() if lu['type'] == 'VirtualIO_Disk']
        self.assertEqual(2, len(disks))
        for lu in disks:
            self.assertEqual(images[0]['udid'][2:], lu['cloned_from'][2:])
            self.assertTrue(lu['in_use'])
        uploads = sum(sim.stats()['by_pattern'].get(
            'PUT /rest/api/web/File/contents/{uuid}', 0)
            for sim in self.simulators.values())
        self.assertEqual(1, uploads)
        for host, server in by_host.items():
            # Mapped through both VIOSes of its own host.
            self.assertEqual(['vios1', 'vios2'],
                             self.lu_mappings(host, server))
            self.assertEqual(1, self.usage(host)['DISK_GB'])
        for server in servers:
            self.delete(server)
        # Nothing left but the cached image LU until the image cache pass.
        self.assertEqual([images[0]['name']], list(self.lus()))
        for host in ('host1', 'host2'):
            self.assert_sim_empty(host)
            self.assert_no_usage(host)
        self.assertEqual({}, self.lus())

    def test_clone_failure_leaves_no_lu(self):
        self.start('host1')
        # The marker and image LU PUTs pass; every clone PUT fails.
        self.simulators['host1'].add_fault(
            method='PUT', path='LogicalUnit$', skip=2, count=-1,
            message='simulated clone failure')
        server = self.boot(expected='ERROR')
        self.assertIn('fault', server)
        self.assertEqual({}, self.lus())
        self.assert_sim_empty('host1')
        self.assert_no_usage('host1')

    def disk_lus(self, host='host1'):
        """Name -> LU of the instances' disks (not image LUs)."""
        return {name: lu for name, lu in self.lus(host).items()
                if lu['type'] == 'VirtualIO_Disk'}

    def mapped_lus(self, host, server):
        """``(VIOS, LU name)`` of the LUs mapped to a server."""
        lpar = self.lpar_of(host, server)
        return sorted((v['name'], m['storage_name'])
                      for v in self.simulators[host].state()['vioses']
                      for m in v['scsi_mappings']
                      if m['lpar_uuid'] == lpar['uuid'] and
                      m['storage_type'] == 'LogicalUnit')

    def lu_bytes(self, host, name, length):
        lu = self.lus(host)[name]
        return b''.join(self.simulators[host].sim.files.read_chunks(
            lu['udid'], length))

    def image_lu(self, image_id):
        return self.lus()['i_' + image_id.replace('-', '')[:13]]

    def assert_on(self, server, name):
        """The server runs from its only disk LU ``name``."""
        self.assertEqual([name], list(self.disk_lus()))
        self.assertEqual([('vios1', name), ('vios2', name)],
                         self.mapped_lus('host1', server))
        lpar = self.lpar_of('host1', server)
        self.assertEqual(('running', name), (lpar['state'],
                                             lpar['booted_from']))

    def test_rescue_unrescue_rebuild(self):
        self.start('host1')
        server = self.boot()
        short = server['id'].replace('-', '')[:13]
        boot, rescue, alt = 'b_' + short, 'r_' + short, 'n_' + short
        self.assert_on(server, boot)
        lpar = self.lpar_of('host1', server)
        new = self.new_image()
        server = self.action(
            server, {'rescue': {'rescue_image_ref': new}}, 'RESCUE')
        # The rescue disk: a linked clone of the rescue image's LU, mapped
        # through both VIOSes beside the boot disk, and booted.
        self.assertEqual(sorted([boot, rescue]), sorted(self.disk_lus()))
        self.assertEqual(
            sorted([('vios1', boot), ('vios2', boot),
                    ('vios1', rescue), ('vios2', rescue)]),
            self.mapped_lus('host1', server))
        self.assertEqual(rescue, self.lpar_of('host1', server)['booted_from'])
        self.assertEqual(self.image_lu(new)['udid'][2:],
                         self.lus()[rescue]['cloned_from'][2:])
        n = len(disks.NEW_IMAGE_BYTES)
        self.assertEqual(disks.NEW_IMAGE_BYTES,
                         self.lu_bytes('host1', rescue, n))
        server = self.action(server, {'unrescue': None}, 'ACTIVE')
        self.assert_on(server, boot)
        # Rebuild: a clone of the new image's LU, on the same partition.
        server = self.action(server, {'rebuild': {'imageRef': new}},
                             'ACTIVE')
        self.assertEqual(new, server['image']['id'])
        self.assert_on(server, alt)
        self.assertEqual(lpar['uuid'], self.lpar_of('host1', server)['uuid'])
        self.assertEqual(self.image_lu(new)['udid'][2:],
                         self.lus()[alt]['cloned_from'][2:])
        self.assertEqual(disks.NEW_IMAGE_BYTES,
                         self.lu_bytes('host1', alt, n))
        # And back to the first image: the names take turns.
        server = self.action(
            server, {'rebuild': {'imageRef': images.DEFAULT_IMAGE_ID}},
            'ACTIVE')
        self.assert_on(server, boot)
        data = self.glance.image_data(images.DEFAULT_IMAGE_ID)
        self.assertEqual(data, self.lu_bytes('host1', boot, len(data)))
        self.delete(server)
        self.assert_sim_empty('host1')
        self.assert_no_usage('host1')
        self.assertEqual({}, self.lus())

    def test_ephemeral_swap_and_rebuild_preserving_them(self):
        self.start('host1')
        flavor = self._create_flavor(memory_mb=512, vcpu=1, disk=1,
                                     ephemeral=1, swap=256)
        server = self.boot(flavor_id=flavor)
        lus = self.disk_lus()
        self.assertEqual({'b_': 1.0, 'e0': 1.0, 's_': 0.25},
                         {name[:2]: lu['capacity_gb']
                          for name, lu in lus.items()})
        # Each LU through both VIOSes.
        self.assertEqual(6, len(self.mapped_lus('host1', server)))
        before = {name[:2]: lu['udid'] for name, lu in lus.items()}
        server = self.action(server, {'rebuild': {
            'imageRef': self.new_image(), 'preserve_ephemeral': True}},
            'ACTIVE')
        kept = {name[:2]: lu['udid'] for name, lu in self.disk_lus().items()}
        self.assertEqual(sorted(['n_', 'e0', 's_']), sorted(kept))
        self.assertEqual((before['e0'], before['s_']),
                         (kept['e0'], kept['s_']))
        # Without preserve_ephemeral the ephemeral LU is made again.
        server = self.action(server, {'rebuild': {
            'imageRef': images.DEFAULT_IMAGE_ID}}, 'ACTIVE')
        remade = {name[:2]: lu['udid']
                  for name, lu in self.disk_lus().items()}
        self.assertNotEqual(kept['e0'], remade['e0'])
        self.assertEqual(kept['s_'], remade['s_'])
        self.assertEqual(6, len(self.mapped_lus('host1', server)))
        self.delete(server)
        self.assert_sim_empty('host1')
        self.assert_no_usage('host1')
        self.assertEqual({}, self.lus())

    def test_failed_rescue_clone_then_rescue(self):
        self.start('host1')
        server = self.boot()
        short = server['id'].replace('-', '')[:13]
        # The image LU is there: the rescue's one LU PUT is the clone.
        self.simulators['host1'].add_fault(method='PUT',
                                           path='LogicalUnit$', count=1)
        self.api.post_server_action(server['id'], {'rescue': None})
        server = self.wait_for(server, 'ERROR')
        self.simulators['host1'].clear_faults()
        self.assertEqual(['b_' + short], list(self.disk_lus()))
        server = self.action(server, {'reboot': {'type': 'HARD'}}, 'ACTIVE')
        self.assert_on(server, 'b_' + short)
        server = self.action(server, {'rescue': None}, 'RESCUE')
        self.assertEqual('r_' + short,
                         self.lpar_of('host1', server)['booted_from'])
        server = self.action(server, {'unrescue': None}, 'ACTIVE')
        self.assert_on(server, 'b_' + short)
        self.delete(server)
        self.assert_sim_empty('host1')
