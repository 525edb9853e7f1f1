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
"""Live migration of servers with Cinder volumes, through nova's API.

Two computes on one simulated SAN: the destination discovers each
volume's hdisk (pre_live_migration), the migrate job carries the
mappings, the source removes its hdisks after the move; a failure or an
abort leaves the server running on its source with its volumes mapped
and nothing of them on the destination.
"""

import time


from nova_powervm.tests.functional import base
from nova_powervm.tests.functional import test_live_migration as test_lpm
from nova_powervm.tests.functional import test_move_volumes

LIVE = test_lpm.LIVE


class LiveMigrationVolumesTestCase(test_move_volumes.MoveVolumesTestCase):

    migrations = test_lpm.LiveMigrationTestCase.migrations
    wait_migration = test_lpm.LiveMigrationTestCase.wait_migration
    in_progress = test_lpm.LiveMigrationTestCase.in_progress

    def setUp(self):
        super().setUp()
        self.flags(lpm_progress_interval=0.1, group='powervm')

    def live_migrate(self, server):
        self.api.post_server_action(server['id'], LIVE)

    def attachment_hosts(self, vol):
        """The hosts of the volume's Cinder attachments (connectors)."""
        return sorted((a['connector'] or {}).get('host')
                      for a in self.cinder.volume_to_attachment[vol]
                      .values())

    def moved(self, server, source, dest, vols, count=1):
        """The server runs on dest with its volumes; source has nothing."""
        server = self.wait_for(server, 'ACTIVE')
        self.assertEqual(dest, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('running', self.size(dest, server)[2])
        self.assertIsNone(self.lpar_of(source, server))
        self.assert_attached(dest, server, count=count)
        self.assert_gone(source)
        for vol in vols:
            self.assertEqual([dest], self.attachment_hosts(vol))
        return server

    def stayed(self, server, source, dest, maps, vols):
        """The server runs on source as before; nothing on dest."""
        server = self.wait_for(server, 'ACTIVE')
        self.assertEqual(source, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('running', self.size(source, server)[2])
        self.assertEqual(maps, self.volume_maps(source, server))
        self.assertEqual([], self.lpars(dest))
        self.assert_gone(dest)
        for vol in vols:
            self.assertEqual([source], self.attachment_hosts(vol))
        return server


class TestBootFromVolume(LiveMigrationVolumesTestCase):
    """Boot-from-volume servers on localdisk hosts: nothing else moves."""

    def test_live_migrate_with_budget_then_back(self):
        self.start('host1', 'host2')
        server, vol = self.boot_from_volume(self.small)
        source = server['OS-EXT-SRV-ATTR:host']
        dest = 'host2' if source == 'host1' else 'host1'
        uuid = self.lpar_of(source, server)['uuid']
        # No progress reads: the budget counts the steps.
        self.flags(lpm_progress_interval=30, group='powervm')
        before = self.rest_total(source)
        self.live_migrate(server)
        self.wait_migration(server, 'completed')
        server = self.moved(server, source, dest, [vol])
        self.assertEqual(uuid, self.lpar_of(dest, server)['uuid'])
        self.wait_usage(source, (0, 0))
        self.wait_usage(dest, (1, 512))
        # Source side (devref/flows.rst): the SSP server's 10 plus the
        # job's polls, plus 1 GET of the VIOSes and one RemoveDevice job
        # (3 round trips, its polls apart) per VIOS and volume.  Measured:
        # 7 + 1 + 2 * 3 = 14.
        stats = self.simulators[source].stats()['by_pattern']
        polls = sum(c for p, c in stats.items()
                    if p == 'GET /rest/api/uom/jobs/{id}')
        rest = self.rest_total(source) - before
        self.assertLessEqual(rest - polls, 10 + 1 + 2 * 3)
        # It boots from the volume on its new host.
        server = self.action(server, {'os-stop': None}, 'SHUTOFF')
        server = self.action(server, {'os-start': None}, 'ACTIVE')
        self.assertEqual(self.volume_maps(dest, server)[0][1],
                         self.lpar_of(dest, server)['booted_from'])
        # And back again: the volume follows.
        self.flags(lpm_progress_interval=0.1, group='powervm')
        self.live_migrate(server)
        deadline = time.monotonic() + base.WAIT
        while self.api.get_server(server['id'])[
                'OS-EXT-SRV-ATTR:host'] != source:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        server = self.moved(server, dest, source, [vol])
        server = self.action(server, {'os-stop': None}, 'SHUTOFF')
        self.finish(server, 'host1', 'host2')

    def test_fault_at_pre_live_migration_rolls_back(self):
        self.start('host1', 'host2')
        server, boot = self.boot_from_volume(self.small)
        data = self.cinder.add(size=1)
        self.attach(server, data)
        source = server['OS-EXT-SRV-ATTR:host']
        dest = 'host2' if source == 'host1' else 'host1'
        maps = self.volume_maps(source, server)
        # The boot volume is found on both VIOSes of the destination,
        # the data volume on none: the boot volume's hdisks go again.
        self.simulators[dest].add_fault(kind='job_fail', job='LUARecovery',
                                        skip=2, count=20)
        self.live_migrate(server)
        self.wait_migration(server, 'error')
        self.simulators[dest].clear_faults()
        server = self.stayed(server, source, dest, maps, [boot, data])
        self.wait_usage(dest, (0, 0))
        # Nothing stuck: the next attempt moves it.
        self.live_migrate(server)
        self.wait_migration(server, 'completed')
        server = self.moved(server, source, dest, [boot, data], count=2)
        self.finish(server, 'host1', 'host2')

    def test_fault_at_the_migrate_job_and_abort(self):
        self.start('host1', 'host2')
        server, vol = self.boot_from_volume(self.small)
        data = self.cinder.add(size=1, protocol='iscsi')
        self.attach(server, data)
        source = server['OS-EXT-SRV-ATTR:host']
        dest = 'host2' if source == 'host1' else 'host1'
        maps = self.volume_maps(source, server)
        self.simulators[source].add_fault(kind='job_fail', job='Migrate')
        self.live_migrate(server)
        self.wait_migration(server, 'failed')
        server = self.stayed(server, source, dest, maps, [vol, data])
        # No iSCSI session left on the destination, two on the source.
        self.assertEqual(2, len(self.devices(source)[1]))
        self.wait_usage(dest, (0, 0))
        # An abort mid-transfer: the same.
        self.simulators[source].sim.lpm_seconds = 60
        self.live_migrate(server)
        self.wait_migration(server, 'running')
        deadline = time.monotonic() + base.WAIT
        while True:
            mig = self.in_progress(server)
            if mig and mig['memory_processed_bytes']:
                break
            self.assertLess(time.monotonic(), deadline, mig)
            time.sleep(0.1)
        self.api.api_delete('/servers/%s/migrations/%s'
                            % (server['id'], mig['id']))
        self.wait_migration(server, 'cancelled')
        server = self.stayed(server, source, dest, maps, [vol, data])
        self.assertEqual(2, len(self.devices(source)[1]))
        self.wait_usage(dest, (0, 0))
        self.finish(server, 'host1', 'host2')


class TestSharedStoragePoolWithVolume(base.SharedStoragePool,
                                      LiveMigrationVolumesTestCase):
    """An SSP server with a data volume: its LU and the volume move."""

    def test_live_migrate_with_fc_and_iscsi_volumes(self):
        self.start('host1')
        server = self.boot(flavor_id=self.small)
        fc_vol = self.cinder.add(size=1)
        iscsi_vol = self.cinder.add(size=1, protocol='iscsi')
        self.attach(server, fc_vol)
        self.attach(server, iscsi_vol)
        self.start('host2')
        self.live_migrate(server)
        self.wait_migration(server, 'completed')
        server = self.moved(server, 'host1', 'host2', [fc_vol, iscsi_vol],
                            count=2)
        self.assertEqual(2, len(self.devices('host2')[1]))
        self.assertEqual([], self.boot_disks('host1'))
        self.wait_usage('host1', (0, 0))
        self.wait_usage('host2', (1, 512))
        self.detach(server, iscsi_vol)
        self.assertEqual([], self.devices('host2')[1])
        self.finish(server, 'host1', 'host2')
