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
"""Resize, cold migration and evacuation through the API."""

import base64
import os
import time

import fixtures
from nova import context as nova_context

from nova_powervm.sandbox import hosts
from nova_powervm.simulator import xmlutil as xu
from nova_powervm.tests.functional import base

SMALL = dict(memory_mb=512, vcpu=1, disk=1, ephemeral=0)
BIG = dict(memory_mb=1024, vcpu=2, disk=2, ephemeral=0)


class MoveTestCase(base.PowerVMFunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.flags(allow_resize_to_same_host=True)
        self.small = self._create_flavor(**SMALL)
        self.big = self._create_flavor(**BIG)

    def size(self, host, server):
        lpar = self.lpar_of(host, server)
        return lpar['memory_mb'], lpar['vcpus'], lpar['state']

    def resize(self, server, flavor, status='VERIFY_RESIZE'):
        return self.action(server, {'resize': {'flavorRef': flavor}},
                           status)

    def vcpu_mem(self, host):
        usage = self.usage(host)
        return usage['VCPU'], usage['MEMORY_MB']

    def wait_usage(self, host, expected):
        """Wait for placement's (VCPU, MEMORY_MB) usage of a host.

        nova reverts allocations of a refused move just after it puts
        the server back.
        """
        deadline = time.monotonic() + base.WAIT
        while self.vcpu_mem(host) != expected:
            if time.monotonic() > deadline:
                self.assertEqual(expected, self.vcpu_mem(host))
            time.sleep(0.1)

    def last_error(self, server):
        """Traceback texts of the server's last instance action."""
        actions = self.api.get_instance_actions(server['id'])
        last = sorted(actions, key=lambda a: a['start_time'])[-1]
        events = self.api.api_get('/servers/%s/os-instance-actions/%s' % (
            server['id'], last['request_id'])).body['instanceAction'][
            'events']
        return ' '.join(str(e.get('result')) for e in events)

    def rest_total(self, host):
        """REST requests of the move methods the host served.

        Not counted: the event long polls and nova's own power state
        reads (``get_info``: quick properties).
        """
        stats = self.simulators[host].stats()['by_pattern']
        return sum(count for pattern, count in stats.items()
                   if not pattern.endswith('/Event') and
                   '/quick/' not in pattern)

    def lpar_ops(self, host, server):
        return self.lpar_of(host, server)['uuid']


class TestSameHostResize(MoveTestCase):

    def setUp(self):
        super().setUp()
        self.start_compute('host1')

    def vdisk_gb(self, server):
        name = 'b_' + server['id'].replace('-', '')[:13]
        for disk in self.boot_disks('host1'):
            if disk['name'].startswith(name[:12]):
                return disk['capacity_gb']
        self.fail('no boot disk of %s' % server['id'])

    def test_resize_running_then_revert(self):
        server = self.boot(flavor_id=self.small)
        uuid = self.lpar_of('host1', server)['uuid']
        self.assertEqual((512, 1, 'running'), self.size('host1', server))
        before = self.rest_total('host1')
        server = self.resize(server, self.big)
        rest = self.rest_total('host1') - before
        self.assertEqual((1024, 2, 'running'), self.size('host1', server))
        self.assertEqual(uuid, self.lpar_of('host1', server)['uuid'])
        self.assertEqual(2, self.vdisk_gb(server))
        # Same-host resize budget (devref/flows.rst): at most 10; 9 with
        # the root disk growth.
        self.assertLessEqual(rest, 10)
        self.assertEqual(9, rest)
        server = self.action(server, {'revertResize': None}, 'ACTIVE')
        self.assertEqual((512, 1, 'running'), self.size('host1', server))
        self.assertEqual(uuid, self.lpar_of('host1', server)['uuid'])
        self.wait_usage('host1', (1, 512))
        self.delete(server)
        self.assert_no_usage('host1')
        self.assert_sim_empty('host1')

    def test_stopped_server_stays_stopped_through_resize_and_confirm(self):
        server = self.boot(flavor_id=self.small)
        server = self.action(server, {'os-stop': None}, 'SHUTOFF')
        server = self.resize(server, self.big)
        self.assertEqual((1024, 2, 'not activated'),
                         self.size('host1', server))
        server = self.action(server, {'confirmResize': None}, 'SHUTOFF')
        self.assertEqual((1024, 2, 'not activated'),
                         self.size('host1', server))
        self.wait_usage('host1', (2, 1024))
        self.delete(server)
        self.assert_no_usage('host1')
        self.assert_sim_empty('host1')

    def test_revert_of_stopped_server_restores_it_exactly(self):
        server = self.boot(flavor_id=self.small)
        server = self.action(server, {'os-stop': None}, 'SHUTOFF')
        server = self.resize(server, self.big)
        server = self.action(server, {'revertResize': None}, 'SHUTOFF')
        self.assertEqual((512, 1, 'not activated'),
                         self.size('host1', server))
        self.wait_usage('host1', (1, 512))
        server = self.action(server, {'os-start': None}, 'ACTIVE')
        self.delete(server)
        self.assert_sim_empty('host1')

    def test_swap_change_is_refused_before_anything_changes(self):
        server = self.boot(flavor_id=self.small)
        other = self._create_flavor(swap=256, **BIG)
        self.api.post_server_action(server['id'],
                                    {'resize': {'flavorRef': other}})
        server = self.wait_for(server, 'ACTIVE')
        self.assertEqual((512, 1, 'running'), self.size('host1', server))
        self.wait_usage('host1', (1, 512))
        self.assertIn('Error', self.last_error(server))
        self.delete(server)
        self.assert_sim_empty('host1')

    def test_failure_at_each_step_rolls_back(self):
        server = self.boot(flavor_id=self.small)
        sim = self.simulators['host1']
        # migrate_disk_and_power_off: the stop fails -> nova rolls back,
        # the server stays ACTIVE and running.
        sim.add_fault(count=10, kind='job_fail', job='PowerOff')
        self.api.post_server_action(server['id'],
                                    {'resize': {'flavorRef': self.big}})
        server = self.wait_for(server, 'ACTIVE')
        sim.clear_faults()
        self.assertEqual((512, 1, 'running'), self.size('host1', server))
        self.wait_usage('host1', (1, 512))
        # finish_migration: new size refused, disk growth or start fails
        # -> nova marks the server ERROR; the partition is back to its
        # old size and running; a hard reboot makes it ACTIVE.
        steps = [dict(method='POST', path='LogicalPartition/[^/]+$'),
                 dict(method='POST', path='VolumeGroup'),
                 dict(kind='job_fail', job='PowerOn')]
        for fault in steps:
            sim.add_fault(count=1, **fault)
            self.api.post_server_action(server['id'],
                                        {'resize': {'flavorRef': self.big}})
            server = self.wait_for(server, 'ERROR')
            sim.clear_faults()
            self.assertEqual((512, 1, 'running'),
                             self.size('host1', server), fault)
            server = self.action(server, {'reboot': {'type': 'HARD'}},
                                 'ACTIVE')
        # And a resize still works.
        server = self.resize(server, self.big)
        server = self.action(server, {'confirmResize': None}, 'ACTIVE')
        self.assertEqual((1024, 2, 'running'), self.size('host1', server))
        self.delete(server)
        self.assert_no_usage('host1')
        self.assert_sim_empty('host1')


class TestLocalDiskAcrossHosts(MoveTestCase):

    def test_cold_migration_is_refused_before_anything_changes(self):
        self.start_compute('host1')
        server = self.boot(flavor_id=self.small)
        self.start_compute('host2')
        self.api.post_server_action(server['id'], {'migrate': None})
        server = self.wait_for(server, 'ACTIVE')
        self.assertEqual('host1', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual((512, 1, 'running'), self.size('host1', server))
        self.assertEqual([], self.lpars('host2'))
        self.wait_usage('host2', (0, 0))
        self.delete(server)
        self.assert_sim_empty('host1')
        self.assert_sim_empty('host2')


class TestSharedStoragePoolMoves(MoveTestCase):

    #: REST round trips of a same-host resize (devref/flows.rst).
    resize_budget = 10

    def setUp(self):
        super().setUp()
        self.flags(disk_driver='ssp', group='powervm')
        self.pool_dir = self.useFixture(fixtures.TempDir()).path

    def start(self, *hosts):
        for host in hosts:
            self.start_compute(host, pool_dir=self.pool_dir)

    def lu_names(self):
        return sorted(lu['name'] for lu in self.simulators['host1'].state()[
            'lus'] if lu['type'] == 'VirtualIO_Disk')

    def assert_host_clear(self, host):
        """Nothing of any server on the host but the shared pool's LUs."""
        left = hosts.leftovers_of(self.simulators[host].state(),
                                  self.baselines[host])
        left.pop('lus', None)
        self.assertEqual({}, left, 'leftovers on %s' % host)

    def restart_compute(self, host):
        """Start a stopped compute again, on its own simulator."""
        self.flags(group='powervm', **self.simulators[host].driver_flags())
        with hosts.node_identity(host):
            svc = self._start_compute(host)
        hosts.pin_node_identity(svc, host)
        return svc

    def assert_lu_mapped(self, host, server):
        """The server's boot LU is mapped to its partition on the host."""
        lpar = self.lpar_of(host, server)
        names = [m['storage_name'] for v in self.simulators[host].state()[
            'vioses'] for m in v['scsi_mappings']
            if m['lpar_uuid'] == lpar['uuid'] and
            m['storage_type'] == 'LogicalUnit']
        self.assertIn('b_' + server['id'].replace('-', '')[:13], names)

    def migrate(self, server, status='VERIFY_RESIZE'):
        source = server['OS-EXT-SRV-ATTR:host']
        server = self.action(server, {'migrate': None}, status)
        dest = server['OS-EXT-SRV-ATTR:host']
        self.assertNotEqual(source, dest)
        return server, source, dest

    def test_cold_migrate_confirm(self):
        self.start('host1')
        server = self.boot(flavor_id=self.small)
        disks = self.lu_names()
        self.start('host2')
        server, source, dest = self.migrate(server)
        self.assertEqual((512, 1, 'running'), self.size(dest, server))
        self.assert_lu_mapped(dest, server)
        self.assertEqual((512, 1, 'not activated'),
                         self.size(source, server))
        self.assertEqual(disks, self.lu_names())
        server = self.action(server, {'confirmResize': None}, 'ACTIVE')
        self.assertIsNone(self.lpar_of(source, server))
        self.assertEqual(disks, self.lu_names())
        self.wait_usage(source, (0, 0))
        self.wait_usage(dest, (1, 512))
        self.assert_host_clear(source)
        self.delete(server)
        self.assertEqual([], self.lu_names())
        for host in ('host1', 'host2'):
            self.assert_no_usage(host)
            self.assert_sim_empty(host)

    def test_cold_migrate_stopped_then_revert(self):
        self.start('host1')
        server = self.boot(flavor_id=self.small)
        server = self.action(server, {'os-stop': None}, 'SHUTOFF')
        disks = self.lu_names()
        self.start('host2')
        server, source, dest = self.migrate(server)
        self.assertEqual('not activated', self.size(dest, server)[2])
        server = self.action(server, {'revertResize': None}, 'SHUTOFF')
        self.assertEqual(source, server['OS-EXT-SRV-ATTR:host'])
        self.assertIsNone(self.lpar_of(dest, server))
        self.assertEqual((512, 1, 'not activated'),
                         self.size(source, server))
        self.assertEqual(disks, self.lu_names())
        self.wait_usage(dest, (0, 0))
        self.assert_host_clear(dest)
        server = self.action(server, {'os-start': None}, 'ACTIVE')
        self.delete(server)
        for host in ('host1', 'host2'):
            self.assert_no_usage(host)
            self.assert_sim_empty(host)

    def test_resize_on_another_host_then_revert(self):
        self.start('host1')
        server = self.boot(flavor_id=self.small)
        self.start('host2')
        self.flags(allow_resize_to_same_host=False)
        server = self.resize(server, self._create_flavor(
            memory_mb=1024, vcpu=2, disk=1, ephemeral=0))
        dest = server['OS-EXT-SRV-ATTR:host']
        self.assertEqual('host2', dest)
        self.assertEqual((1024, 2, 'running'), self.size(dest, server))
        server = self.action(server, {'revertResize': None}, 'ACTIVE')
        self.assertEqual((512, 1, 'running'), self.size('host1', server))
        self.assertIsNone(self.lpar_of('host2', server))
        self.delete(server)
        for host in ('host1', 'host2'):
            self.assert_no_usage(host)
            self.assert_sim_empty(host)

    def boot_lu_gb(self, server):
        name = 'b_' + server['id'].replace('-', '')[:13]
        return [lu['capacity_gb'] for lu in self.simulators['host1'].state()[
            'lus'] if lu['name'] == name][0]

    def test_resize_grows_the_boot_lu_same_host_and_another(self):
        self.start('host1')
        server = self.boot(flavor_id=self.small)
        self.assertEqual(1, self.boot_lu_gb(server))
        before = self.rest_total('host1')
        server = self.resize(server, self.big)
        # Same-host resize budget (devref/flows.rst): at most 10.
        self.assertLessEqual(self.rest_total('host1') - before,
                             self.resize_budget)
        self.assertEqual(2, self.boot_lu_gb(server))
        self.assertEqual((1024, 2, 'running'), self.size('host1', server))
        server = self.action(server, {'confirmResize': None}, 'ACTIVE')
        self.start('host2')
        self.flags(allow_resize_to_same_host=False)
        server = self.resize(server, self._create_flavor(
            memory_mb=1024, vcpu=2, disk=3, ephemeral=0))
        self.assertEqual('host2', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(3, self.boot_lu_gb(server))
        self.assert_lu_mapped('host2', server)
        # A revert cannot shrink the LU: the old flavor's server keeps
        # the larger disk (as on localdisk).
        server = self.action(server, {'revertResize': None}, 'ACTIVE')
        self.assertEqual('host1', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(3, self.boot_lu_gb(server))
        self.assert_lu_mapped('host1', server)
        self.delete(server)
        self.assertEqual([], self.lu_names())
        for host in ('host1', 'host2'):
            self.assert_no_usage(host)
            self.assert_sim_empty(host)

    def test_failed_migration_leaves_the_server_on_its_source(self):
        self.start('host1')
        server = self.boot(flavor_id=self.small)
        self.start('host2')
        self.simulators['host1'].add_fault(count=10, kind='job_fail',
                                           job='PowerOff')
        self.api.post_server_action(server['id'], {'migrate': None})
        server = self.wait_for(server, 'ACTIVE')
        self.assertEqual('host1', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual((512, 1, 'running'), self.size('host1', server))
        self.assertEqual([], self.lpars('host2'))
        self.wait_usage('host2', (0, 0))
        self.simulators['host1'].clear_faults()
        # The destination fails to map the disks: nova marks the server
        # ERROR on host2, which keeps nothing of it; host1 keeps its
        # partition stopped, without the disks.
        self.simulators['host2'].add_fault(
            count=1, method='POST', path='VirtualIOServer/[^/]+$')
        self.api.post_server_action(server['id'], {'migrate': None})
        server = self.wait_for(server, 'ERROR')
        self.simulators['host2'].clear_faults()
        self.assertEqual('host2', server['OS-EXT-SRV-ATTR:host'])
        self.assert_host_clear('host2')
        self.assertEqual('not activated', self.size('host1', server)[2])
        self.assertEqual(1, len(self.lu_names()))
        self.delete(server)
        self.assertEqual([], self.lu_names())
        # nova's periodic clean-up of deleted instances the source still
        # has (running_deleted_instance_action = reap) deletes the
        # partition left there.
        self.computes['host1'].manager._cleanup_running_deleted_instances(
            nova_context.get_admin_context())
        for host in ('host1', 'host2'):
            self.assert_no_usage(host)
            self.assert_sim_empty(host)

    def test_evacuate_then_old_host_cleans_up(self):
        self.start('host1')
        server = self.boot(flavor_id=self.small)
        disks = self.lu_names()
        self.start('host2')
        self.computes['host1'].stop()
        self.api.put_service_force_down(
            self.api.get_services(binary='nova-compute',
                                  host='host1')[0]['id'], True)
        # From microversion 2.95 an evacuated server arrives stopped.
        self.api.post_server_action(server['id'], {'evacuate': {}})
        deadline = time.monotonic() + base.WAIT
        while self.api.get_server(server['id'])[
                'OS-EXT-SRV-ATTR:host'] != 'host2':
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        server = self.wait_for(server, 'SHUTOFF')
        self.assertEqual('host2', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual((512, 1, 'not activated'),
                         self.size('host2', server))
        self.assertEqual(disks, self.lu_names())
        self.assert_lu_mapped('host2', server)
        server = self.action(server, {'os-start': None}, 'ACTIVE')
        self.assertEqual('running', self.size('host2', server)[2])
        # host1 comes back: nova deletes the partition left there, and
        # the shared disks stay.
        self.assertIsNotNone(self.lpar_of('host1', server))
        self.restart_compute('host1')
        self.api.put_service_force_down(
            self.api.get_services(binary='nova-compute',
                                  host='host1')[0]['id'], False)
        self.assertIsNone(self.lpar_of('host1', server))
        self.assertEqual(disks, self.lu_names())
        self.assert_no_usage('host1')
        self.delete(server)
        for host in ('host1', 'host2'):
            self.assert_no_usage(host)
            self.assert_sim_empty(host)


class TestNvramStore(TestSharedStoragePoolMoves):
    """``[powervm] nvram_store = local`` on a directory both hosts share."""

    # One GET more: the partition's NVRAM is stored on a resize.
    resize_budget = 11

    def setUp(self):
        super().setUp()
        self.nvram_dir = self.useFixture(fixtures.TempDir()).path
        self.flags(nvram_store='local', nvram_local_dir=self.nvram_dir,
                   group='powervm')

    def nvram_of(self, host, server):
        """The decoded NVRAM lines of the server's partition on a host."""
        lpar = self.lpar_of(host, server)
        obj = self.simulators[host].sim.store.get(lpar['uuid'].upper())
        text = xu.text(obj.elem, 'PartitionNVRAM')
        return base64.b64decode(text).decode().splitlines() if text else []

    def stored(self, server):
        path = os.path.join(self.nvram_dir, '%s.nvram' % (
            '%x' % (int(server['id'][0], 16) & 7) + server['id'][1:]).upper())
        if not os.path.exists(path):
            return None
        with open(path) as fil:
            return base64.b64decode(fil.read()).decode().splitlines()

    def wait_stored(self, server, expected):
        deadline = time.monotonic() + base.WAIT
        while self.stored(server) != expected:
            self.assertLess(time.monotonic(), deadline,
                            (self.stored(server), expected))
            time.sleep(0.1)

    def test_nvram_follows_the_server_and_goes_with_it(self):
        self.start('host1')
        server = self.boot(flavor_id=self.small)
        # The boot's NVRAM event updated the store.
        on_host1 = self.nvram_of('host1', server)
        self.assertEqual(2, len(on_host1), on_host1)
        self.wait_stored(server, on_host1)
        self.start('host2')
        server, source, dest = self.migrate(server)
        # Restored before the first boot on host2, which added its line.
        on_host2 = self.nvram_of(dest, server)
        self.assertEqual(on_host1, on_host2[:2])
        self.assertEqual(3, len(on_host2), on_host2)
        self.wait_stored(server, on_host2)
        server = self.action(server, {'confirmResize': None}, 'ACTIVE')
        self.delete(server)
        self.assertIsNone(self.stored(server))
        self.assertEqual([], os.listdir(self.nvram_dir))
        for host in ('host1', 'host2'):
            self.assert_no_usage(host)
            self.assert_sim_empty(host)
