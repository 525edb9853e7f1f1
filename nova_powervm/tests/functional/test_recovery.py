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
"""Crash recovery: nova-compute killed mid-operation, then started again.

A compute is "killed" at a chosen step: one task of the driver blocks
after it ran, the compute's RPC servers stop taking messages and its
driver lets go of NovaLink, and a new compute starts on the same
simulated host.  The blocked thread is released only at the test's end,
with an exception TaskFlow does not catch, so it reverts nothing: what
the simulator holds is what a killed process would have left.
"""

import functools
import logging
import threading
import time

import fixtures
from nova.tests.functional.api import client as api_client

from nova_powervm.sandbox import hosts
from nova_powervm.sandbox import images
from nova_powervm.simulator import xmlutil as xu
from nova_powervm.tests.functional import base
from nova_powervm.virt.powervm.tasks import move as tf_move
from nova_powervm.virt.powervm.tasks import storage as tf_stg

STRAY = '2b1c3d4e-0000-4000-8000-00000000abcd'
SMALL = dict(memory_mb=512, vcpu=1, disk=1, ephemeral=0)


class Killed(BaseException):
    """Ends the thread of a killed compute (TaskFlow does not catch it)."""


class Block(object):
    """The first call of ``cls.execute`` runs, then blocks.

    :ivar reached: set once the call ran and blocks.
    """

    def __init__(self, test, cls):
        self.reached = threading.Event()
        self.release = threading.Event()
        self.done = threading.Event()
        self.once = threading.Lock()
        original = cls.execute

        @functools.wraps(original)
        def execute(task, *args, **kwargs):
            result = original(task, *args, **kwargs)
            if self.once.acquire(blocking=False):
                self.reached.set()
                self.release.wait()
                self.done.set()
                raise Killed()
            return result
        test.useFixture(fixtures.MonkeyPatch(
            '%s.%s.execute' % (cls.__module__, cls.__name__), execute))
        test.addCleanup(self.release.set)

    def wait(self):
        if not self.reached.wait(base.WAIT):
            raise AssertionError('the blocked step was never reached')


class RecoveryTestCase(base.PowerVMFunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.small = self._create_flavor(**SMALL)

    def kill(self, host, block=None):
        """Stop a compute abruptly, as if its process died.

        Its RPC servers stop taking messages and its timers stop, its
        NovaLink session dies (any further request of it fails) and the
        blocked operation's thread ends without reverting anything,
        letting go of nova's in-process locks as a dead process would.

        :param block: the ``Block`` the operation waits in.
        """
        svc = self.computes[host]
        for server in (svc.rpcserver, getattr(svc, 'rpcserver_alt', None)):
            if server is not None:
                server.stop()
        svc.tg.stop()
        driver = svc.manager.driver
        adapter = driver.adapter
        driver.cleanup_host(host)

        def dead(*args, **kwargs):
            raise Killed()
        adapter.session.request = dead
        if block is not None:
            block.release.set()
            block.done.wait(base.WAIT)

    def restart(self, host):
        """Start a new compute on the host's (unchanged) simulator."""
        self.flags(group='powervm', **self.simulators[host].driver_flags())
        with hosts.node_identity(host):
            svc = self._start_compute(host)
        hosts.pin_node_identity(svc, host)
        return svc

    def recovery_log(self):
        """Messages the start-up recovery logs from now on."""
        records = []

        class Handler(logging.Handler):
            def emit(self, record):
                records.append(record.getMessage())
        logger = logging.getLogger('nova_powervm.virt.powervm.recovery')
        handler = Handler(logging.INFO)
        logger.addHandler(handler)
        self.addCleanup(logger.removeHandler, handler)
        return records

    def post(self, flavor=None):
        body = self._build_server(image_uuid=images.DEFAULT_IMAGE_ID,
                                  flavor_id=flavor or self.small,
                                  networks='none')
        return self.api.post_server({'server': body})

    def wait_gone(self, server):
        deadline = time.monotonic() + base.WAIT
        while True:
            try:
                self.api.get_server(server['id'])
            except api_client.OpenStackApiNotFoundException:
                return
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)

    def wait_task(self, server, task_state):
        deadline = time.monotonic() + base.WAIT
        while True:
            server = self.api.get_server(server['id'])
            if server['OS-EXT-STS:task_state'] == task_state:
                return server
            self.assertLess(time.monotonic(), deadline, server)
            time.sleep(0.05)


class TestCrashRecovery(RecoveryTestCase):

    def test_killed_mid_spawn_build_leftovers_removed(self):
        self.start_compute('host1')
        block = Block(self, tf_stg.CreateDiskForImg)
        server = self.post()
        block.wait()
        server = self.api.get_server(server['id'])
        # The partition and its boot disk exist when the compute dies.
        self.assertIsNotNone(self.lpar_of('host1', server))
        self.assertEqual(1, len(self.boot_disks('host1')))
        self.kill('host1', block)
        self.restart('host1')
        # nova sets the build to ERROR; the driver removed what it made.
        server = self.wait_for(server, 'ERROR')
        self.assertEqual([], self.lpars('host1'))
        self.assertEqual([], self.boot_disks('host1'))
        self.delete(server)
        self.assert_no_usage('host1')
        self.assert_sim_empty('host1')

    def test_killed_mid_destroy_delete_finishes(self):
        self.start_compute('host1')
        server = self.boot(flavor_id=self.small)
        block = Block(self, tf_stg.DeleteStorage)
        self.api.delete_server(server['id'])
        block.wait()
        # The disks are gone, the partition is still there.
        self.assertIsNotNone(self.lpar_of('host1', server))
        self.assertEqual([], self.boot_disks('host1'))
        self.kill('host1', block)
        self.restart('host1')
        # nova finishes the delete at start-up; the destroy copes with
        # what is already gone.
        self.wait_gone(server)
        self.assertEqual([], self.lpars('host1'))
        self.assert_no_usage('host1')
        self.assert_sim_empty('host1')

    def test_killed_mid_rescue_server_in_error_then_deleted(self):
        # nova leaves a rescue's task state at start-up: the driver puts
        # the server in ERROR (its partition may be half changed).
        self.start_compute('host1')
        server = self.boot(flavor_id=self.small)
        block = Block(self, tf_stg.CreateRescueDisk)
        self.api.post_server_action(server['id'], {'rescue': {}})
        block.wait()
        self.kill('host1', block)
        records = self.recovery_log()
        self.restart('host1')
        server = self.wait_for(server, 'ERROR')
        self.assertIn('The service stopped during rescuing; the partition '
                      'may be half changed: the server goes to ERROR.',
                      records)
        # Deleting it removes the partition and both disks.
        self.delete(server)
        self.assert_no_usage('host1')
        self.assert_sim_empty('host1')

    def test_partition_nova_does_not_have_is_reported_not_deleted(self):
        self.start_compute('host1')
        kept = self.boot(flavor_id=self.small)
        # A partition named like an instance nova never had.
        records = self.recovery_log()
        uuid, = self.simulators['host1'].add_lpars(
            [('instance-0000abcd', STRAY, 'running')])
        self.computes['host1'].stop()
        self.restart('host1')
        self.assertIn(
            'Partition instance-0000abcd (%s) on host1 belongs to no '
            'instance nova has on this host: nova has no instance of that '
            'UUID. It is left as it is' % uuid, '\n'.join(records))
        names = [lp['name'] for lp in self.lpars('host1')]
        self.assertIn('instance-0000abcd', names)
        # The server nova has is left alone and works.
        kept = self.action(kept, {'reboot': {'type': 'HARD'}}, 'ACTIVE')
        self.assertEqual('running', self.lpar_of('host1', kept)['state'])


class TestCrashDuringMigration(RecoveryTestCase):

    def setUp(self):
        super().setUp()
        self.flags(disk_driver='ssp', group='powervm')
        self.pool_dir = self.useFixture(fixtures.TempDir()).path

    def start(self, *names):
        for host in names:
            self.start_compute(host, pool_dir=self.pool_dir)

    def test_source_killed_mid_migration_server_back_on_source(self):
        self.start('host1')
        server = self.boot(flavor_id=self.small)
        self.start('host2')
        block = Block(self, tf_move.StopForMove)
        self.api.post_server_action(server['id'], {'migrate': None})
        block.wait()
        self.assertEqual('not activated',
                         self.lpar_of('host1', server)['state'])
        self.kill('host1', block)
        self.restart('host1')
        # nova reverts the interrupted migration on the source at start.
        server = self.wait_for(server, 'ACTIVE')
        self.assertEqual('host1', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('running', self.lpar_of('host1', server)['state'])
        self.assertIsNone(self.lpar_of('host2', server))
        # Placement as before the move: the source holds the server.
        self.assertEqual((1, 512), (self.usage('host1')['VCPU'],
                                    self.usage('host1')['MEMORY_MB']))
        self.assert_no_usage('host2')
        server = self.action(server, {'reboot': {'type': 'HARD'}}, 'ACTIVE')
        self.delete(server)
        for host in ('host1', 'host2'):
            self.assert_no_usage(host)
            self.assert_sim_empty(host)


class TestCrashDuringLiveMigration(RecoveryTestCase):
    """The source's compute dies while the migrate job runs on NovaLink."""

    LIVE = {'os-migrateLive': {'host': None, 'block_migration': 'auto'}}

    def setUp(self):
        super().setUp()
        self.flags(disk_driver='ssp', lpm_progress_interval=0.1,
                   group='powervm')
        self.pool_dir = self.useFixture(fixtures.TempDir()).path
        self.start('host1')
        self.server = self.boot(flavor_id=self.small)
        self.start('host2')
        # The migrate job's watcher of the compute is where it dies.
        self.block = WatchBlock(self)

    def start(self, *names):
        for host in names:
            self.start_compute(host, pool_dir=self.pool_dir)

    def migration(self):
        migs = self.api.api_get(
            '/os-migrations?instance_uuid=%s&migration_type=live-migration'
            % self.server['id']).body['migrations']
        return sorted(migs, key=lambda m: m['id'])[-1]

    def start_and_kill(self, seconds):
        self.simulators['host1'].sim.lpm_seconds = seconds
        self.api.post_server_action(self.server['id'], self.LIVE)
        self.block.wait()
        self.kill('host1', self.block)
        self.assertEqual('migrating', self.api.get_server(
            self.server['id'])['OS-EXT-STS:task_state'])

    def assert_only_on(self, host, other):
        server = self.wait_task(self.server, None)
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('running', self.lpar_of(host, server)['state'])
        self.assertIsNone(self.lpar_of(other, server))
        self.assertEqual((1, 512), (self.usage(host)['VCPU'],
                                    self.usage(host)['MEMORY_MB']))
        self.assert_no_usage(other)
        return server

    def finish(self, server, host):
        # The server works where nova says it is.
        server = self.action(server, {'os-stop': None}, 'SHUTOFF')
        self.assertEqual('not activated', self.lpar_of(host, server)['state'])
        server = self.action(server, {'os-start': None}, 'ACTIVE')
        self.delete(server)
        for name in ('host1', 'host2'):
            self.assert_no_usage(name)
            self.assert_sim_empty(name)

    def test_job_finished_while_down_server_on_destination(self):
        self.start_and_kill(seconds=0.5)
        # NovaLink finishes the move without the compute.
        deadline = time.monotonic() + base.WAIT
        while self.lpar_of('host2', self.server) is None:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        log = self.recovery_log()
        self.restart('host1')
        server = self.assert_only_on('host2', 'host1')
        self.assertEqual('completed', self.migration()['status'])
        self.assertTrue([m for m in log if 'finished the move' in m], log)
        self.finish(server, 'host2')

    def test_job_still_running_is_aborted_server_on_source(self):
        self.start_and_kill(seconds=60)
        lpar = self.lpar_of('host1', self.server)
        self.assertNotEqual('Not_Migrating', self.simulators['host1'].sim
                            .store.get(lpar['uuid']).elem.findtext(
                                xu.qn('MigrationState')))
        log = self.recovery_log()
        self.restart('host1')
        server = self.assert_only_on('host1', 'host2')
        self.assertEqual('error', self.migration()['status'])
        self.assertTrue([m for m in log if 'aborting it' in m], log)
        self.finish(server, 'host1')


class WatchBlock(Block):
    """Blocks the driver's watcher of a migrate job (the job runs on)."""

    def __init__(self, test):
        self.reached = threading.Event()
        self.release = threading.Event()
        self.done = threading.Event()

        def watch(lpm, *args, **kwargs):
            self.reached.set()
            self.release.wait()
            self.done.set()
            raise Killed()
        test.useFixture(fixtures.MonkeyPatch(
            'nova_powervm.virt.powervm.live_migration.LiveMigrations._watch',
            watch))
        test.addCleanup(self.release.set)
