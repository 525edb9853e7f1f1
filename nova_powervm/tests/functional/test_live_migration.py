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
"""Live migration (LPM) with two computes through nova's API."""

import time

import fixtures

from nova_powervm.simulator.resources import migration
from nova_powervm.simulator import xmlutil as xu
from nova_powervm.tests.functional import base
from nova_powervm.tests.functional import test_move

LIVE = {'os-migrateLive': {'host': None, 'block_migration': 'auto'}}


class LiveMigrationTestCase(test_move.MoveTestCase):

    def setUp(self):
        super().setUp()
        self.flags(disk_driver='ssp', lpm_progress_interval=0.1,
                   group='powervm')
        self.pool_dir = self.useFixture(fixtures.TempDir()).path

    def start(self, *hosts):
        for host in hosts:
            self.start_compute(host, pool_dir=self.pool_dir)

    def live_migrate(self, server):
        self.api.post_server_action(server['id'], LIVE)

    def migrations(self, server):
        """nova's live-migration records of the server, newest last."""
        migs = self.api.api_get(
            '/os-migrations?instance_uuid=%s&migration_type=live-migration'
            % server['id']).body['migrations']
        return sorted(migs, key=lambda m: m['id'])

    def wait_migration(self, server, status):
        deadline = time.monotonic() + base.WAIT
        while True:
            migs = self.migrations(server)
            if migs and migs[-1]['status'] == status:
                return migs[-1]
            if time.monotonic() > deadline:
                self.fail('migration of %s is %s, not %s' % (
                    server['id'], migs and migs[-1]['status'], status))
            time.sleep(0.05)

    def in_progress(self, server):
        """The running migration, as ``server migration show`` shows it.

        With its memory progress.
        """
        migs = self.api.api_get('/servers/%s/migrations'
                                % server['id']).body['migrations']
        return migs[0] if migs else None

    def lu_mapped_to(self, host, server):
        """(VIOS, LU) of the server's logical unit mappings on a host."""
        lpar = self.lpar_of(host, server)
        return sorted((v['name'], m['storage_name'])
                      for v in self.simulators[host].state()['vioses']
                      for m in v['scsi_mappings']
                      if lpar and m['lpar_uuid'] == lpar['uuid'] and
                      m['storage_type'] == 'LogicalUnit')

    def assert_stays_on_host1(self, server, status='ACTIVE'):
        server = self.wait_for(server, status)
        self.assertEqual('host1', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('running', self.size('host1', server)[2])
        self.assertEqual(self.mapped, self.lu_mapped_to('host1', server))
        self.assertEqual([], self.lpars('host2'))
        self.wait_usage('host2', (0, 0))
        self.wait_usage('host1', (1, 512))
        return server

    def finish(self, server):
        self.delete(server)
        for host in ('host1', 'host2'):
            self.assert_no_usage(host)
            self.assert_sim_empty(host)


class ServerOnHost1(LiveMigrationTestCase):
    """A running SSP server on host1, its LU mapped there; host2 started."""

    def setUp(self):
        super().setUp()
        self.start('host1')
        self.server = self.boot(flavor_id=self.small)
        self.mapped = self.lu_mapped_to('host1', self.server)
        self.assertTrue(self.mapped)
        self.start('host2')


class TestLiveMigration(ServerOnHost1):

    def test_live_migrate_running_server(self):
        server = self.server
        uuid = self.lpar_of('host1', server)['uuid']
        # No progress reads: this budget counts the steps.
        self.flags(lpm_progress_interval=30, group='powervm')
        before = self.rest_total('host1')
        self.live_migrate(server)
        self.wait_migration(server, 'completed')
        server = self.wait_for(server, 'ACTIVE')
        self.assertEqual('host2', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual((512, 1, 'running'), self.size('host2', server))
        self.assertEqual(uuid, self.lpar_of('host2', server)['uuid'])
        self.assertIsNone(self.lpar_of('host1', server))
        self.assertEqual(self.mapped, self.lu_mapped_to('host2', server))
        self.wait_usage('host1', (0, 0))
        self.wait_usage('host2', (1, 512))
        # Source side budget (devref/flows.rst): at most 10 plus the
        # migrate job's polls: 2 GETs of the partition (check, job), the
        # job (template, PUT, DELETE), and nova's resource update after
        # the move (host, pool): 7.
        stats = self.simulators['host1'].stats()['by_pattern']
        polls = sum(c for p, c in stats.items()
                    if p == 'GET /rest/api/uom/jobs/{id}')
        rest = self.rest_total('host1') - before
        self.assertLessEqual(rest - polls, 10)
        # The server works on its new host.
        server = self.action(server, {'os-stop': None}, 'SHUTOFF')
        self.assertEqual('not activated', self.size('host2', server)[2])
        server = self.action(server, {'os-start': None}, 'ACTIVE')
        self.finish(server)

    def test_progress_is_reported_then_abort(self):
        server = self.server
        self.simulators['host1'].sim.lpm_seconds = 60
        self.live_migrate(server)
        self.wait_migration(server, 'running')
        deadline = time.monotonic() + base.WAIT
        while True:
            mig = self.in_progress(server)
            if mig and mig['memory_processed_bytes']:
                break
            if time.monotonic() > deadline:
                self.fail('no progress: %s' % mig)
            time.sleep(0.1)
        self.assertEqual(512 * 1024 * 1024, mig['memory_total_bytes'])
        self.assertEqual(mig['memory_total_bytes'],
                         mig['memory_processed_bytes'] +
                         mig['memory_remaining_bytes'])
        self.api.api_delete('/servers/%s/migrations/%s'
                            % (server['id'], mig['id']))
        self.wait_migration(server, 'cancelled')
        server = self.assert_stays_on_host1(server)
        self.assertEqual('Not_Migrating', self.simulators['host1'].sim.store
                         .get(self.lpar_of('host1', server)['uuid'])
                         .elem.findtext(xu.qn('MigrationState')))
        self.finish(server)


class TestLiveMigrationFaults(ServerOnHost1):
    """A fault at each step rolls back: the server stays usable on host1."""

    def refused(self, fault_host, expect='error', **fault):
        self.simulators[fault_host].add_fault(**fault)
        self.live_migrate(self.server)
        self.wait_migration(self.server, expect)
        server = self.assert_stays_on_host1(self.server)
        self.simulators[fault_host].clear_faults()
        return server

    def test_destination_check(self):
        # The destination's VIOS feed (the mover service partitions).
        server = self.refused('host2', method='GET',
                              path='/uom/VirtualIOServer$')
        self.finish(server)

    def test_source_check(self):
        server = self.refused('host1', method='GET',
                              path='/LogicalPartition/[^/]*$', count=1)
        self.finish(server)

    def test_migrate_job(self):
        server = self.refused('host1', kind='job_fail', job='Migrate',
                              expect='failed')
        # The failure is over: the next attempt moves it.
        self.live_migrate(server)
        self.wait_migration(server, 'completed')
        server = self.wait_for(server, 'ACTIVE')
        self.assertEqual('host2', server['OS-EXT-SRV-ATTR:host'])
        self.finish(server)

    def test_broken_transfer_is_recovered(self):
        # host2 is reachable only at the address it published, where
        # nothing answers: the transfer breaks mid-way (Migration_Failed),
        # the driver runs MigrateRecover, nova rolls back.
        migration.PEERS.pop(
            self.simulators['host2'].sim.inventory.system_name)
        self.live_migrate(self.server)
        self.wait_migration(self.server, 'failed')
        server = self.assert_stays_on_host1(self.server)
        self.assertEqual('Not_Migrating', self.simulators['host1'].sim.store
                         .get(self.lpar_of('host1', server)['uuid'])
                         .elem.findtext(xu.qn('MigrationState')))
        self.finish(server)


class TestLocalDiskRefused(test_move.MoveTestCase):

    def tracebacks(self, server):
        """What the user reads of the failed live migration's events.

        Their ``details`` (microversion 2.84).
        """
        actions = self.api.get_instance_actions(server['id'])
        last = sorted(actions, key=lambda a: a['start_time'])[-1]
        events = self.api.api_get('/servers/%s/os-instance-actions/%s' % (
            server['id'], last['request_id'])).body['instanceAction'][
            'events']
        return ' '.join(str(e.get('details')) for e in events)

    def test_refused_with_a_readable_reason(self):
        self.start_compute('host1')
        server = self.boot(flavor_id=self.small)
        self.start_compute('host2')
        # With the destination named, nova does not try another host and
        # the driver's reason reaches the instance action.
        self.api.post_server_action(server['id'], {'os-migrateLive': {
            'host': 'host2', 'block_migration': 'auto'}})
        deadline = time.monotonic() + base.WAIT
        while 'shared storage pool' not in self.tracebacks(server):
            if time.monotonic() > deadline:
                self.fail(self.tracebacks(server))
            time.sleep(0.1)
        server = self.wait_for(server, 'ACTIVE')
        self.assertEqual('host1', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('running', self.size('host1', server)[2])
        self.assertEqual([], self.lpars('host2'))
        self.wait_usage('host2', (0, 0))
        self.delete(server)
        self.assert_sim_empty('host1')
        self.assert_sim_empty('host2')
