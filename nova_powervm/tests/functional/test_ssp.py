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

from nova_powervm.tests.functional import base

POOL_GB = 1024


class TestSharedStoragePool(base.PowerVMFunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.flags(disk_driver='ssp', group='powervm')
        self.pool_dir = self.useFixture(fixtures.TempDir()).path

    def start(self, *hosts):
        for host in hosts:
            self.start_compute(host, pool_dir=self.pool_dir)

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
