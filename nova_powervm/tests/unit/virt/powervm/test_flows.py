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
"""Spawn and destroy flows on the simulator.

Flow structure per case, state on the simulator afterwards, a revert test
for every step of spawn, destroy idempotency and the REST budgets.
"""

import json
import re
import threading

from nova import exception as nova_exc
import testscenarios

from nova_powervm import exception as pvm_exception
from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.tests.unit.virt.powervm import test_media
from nova_powervm.virt.powervm import cache as pvm_cache
from nova_powervm.virt.powervm import flows
from nova_powervm.virt.powervm import media
from nova_powervm.virt.powervm import vm


class SpawnDestroyTestCase(flowbase.FlowTestCase):
    """Common helpers."""

    def spawn(self, inst, network_info=None, power_on=True, image_meta=None):
        flows.spawn(self.hctx, self.ctx, inst, image_meta or self.image_meta,
                    [('/etc/motd', b'hello')], 'secret-pass',
                    network_info, None, power_on)

    def destroy(self, inst, destroy_disks=True):
        flows.destroy(self.hctx, self.ctx, inst, [], None, destroy_disks)

    def mappings(self, inst):
        lpar_uuid = vm.get_pvm_uuid(inst)
        return sorted(
            (m['storage_type'], m['storage_name'])
            for vios in self.sim.state()['vioses']
            for m in vios['scsi_mappings']
            if (m['lpar_uuid'] or '').upper() == lpar_uuid)

    def storage_mappings(self, inst):
        """Mappings of the instance's disk and media, to any client."""
        names = {self.hctx.disk_dvr.boot_disk_name(inst),
                 media.vopt_name(inst)}
        return sorted(
            (m['storage_type'], m['storage_name'])
            for vios in self.sim.state()['vioses']
            for m in vios['scsi_mappings']
            if (m['storage_name'] or '').split('/')[-1] in names)

    def cnas(self, inst):
        lpar_uuid = vm.get_pvm_uuid(inst)
        return sorted((c['mac'], c['vlan'], c['vswitch'])
                      for c in self.sim.state()['cnas']
                      if c['lpar_uuid'].upper() == lpar_uuid)


class TestSpawnStructure(SpawnDestroyTestCase):
    """The task list of each spawn case (built without any REST call)."""

    def names(self, inst, network_info=None, power_on=True):
        self.sim.reset_stats()
        flow = flows.build_spawn(self.hctx, self.ctx, inst, self.image_meta,
                                 [], None, network_info, None, power_on)
        self.assertEqual(0, self.sim.stats()['total'])
        return [atom.name for atom in flow]

    def test_full(self):
        self.assertEqual(
            ['validate_flavor', 'create_lpar', 'plug_vifs',
             'update_device_metadata', 'plug_mgmt_vif',
             'create_disk_from_image', 'create_config_drive',
             'connect_storage', 'power_on'],
            self.names(self.instance(), flowbase.sea_network_info()))

    def test_no_power_on_no_network_no_config_drive(self):
        self.assertEqual(
            ['validate_flavor', 'create_lpar', 'plug_mgmt_vif',
             'create_disk_from_image', 'connect_storage'],
            self.names(self.instance(config_drive=False), power_on=False))

    def test_no_mgmt_vif(self):
        self.flags(use_rmc_mgmt_vif=False, group='powervm')
        self.assertNotIn('plug_mgmt_vif', self.names(self.instance()))

    def test_destroy_structure(self):
        flow = flows.build_destroy(self.hctx, self.instance(), True)
        self.assertEqual(
            ['power_off', 'close_console', 'disconnect_storage',
             'delete_storage', 'delete_lpar'], [a.name for a in flow])


class TestSpawn(SpawnDestroyTestCase):

    def test_spawn_builds_everything(self):
        inst = self.instance()
        nwi = flowbase.sea_network_info()
        self.spawn(inst, nwi)
        lpar = self.lpar(inst)
        self.assertEqual('running', lpar['state'])
        self.assertEqual(2, lpar['vcpus'])
        disk_name = self.hctx.disk_dvr.boot_disk_name(inst)
        self.assertEqual(
            [('VirtualDisk', disk_name),
             ('VirtualOpticalMedia', media.vopt_name(inst))],
            self.mappings(inst))
        cnas = self.cnas(inst)
        self.assertEqual(2, len(cnas), cnas)
        self.assertIn(('FA163E000001', 100, 'ETHERNET0'), cnas)
        self.assertIn((4094, 'MGMTSWITCH'), [c[1:] for c in cnas])
        self.assertEqual(
            [([('network-vif-plugged', nwi[0]['id'])], 300)],
            self.virtapi.waited)
        # The image went through the cache and the copy.
        self.assertIn(self.hctx.disk_dvr.image_name(self.image_meta.id),
                      self.vdisk_names())
        self.assertEqual(
            self.IMAGE_BYTES,
            self.disk_bytes(disk_name, len(self.IMAGE_BYTES)))
        media_names = [m['name'] for m in self.sim.state()['optical_media']]
        self.assertIn(media.vopt_name(inst), media_names)
        # The config drive describes the VIF and the RMC adapter.
        mgmt_mac = [c[0] for c in cnas if c[1] == 4094][0]
        iso = self.media_bytes(media.vopt_name(inst))
        net = json.loads(test_media.read_iso(
            iso, '/openstack/latest/network_data.json')[1])
        self.assertEqual(
            sorted(['fa:16:3e:00:00:01',
                    ':'.join(mgmt_mac[i:i + 2].lower()
                             for i in range(0, 12, 2))]),
            sorted(link['ethernet_mac_address'] for link in net['links']))

    def test_power_on_false_leaves_it_off(self):
        inst = self.instance()
        self.spawn(inst, power_on=False)
        self.assertEqual('not activated', self.lpar(inst)['state'])
        self.assertEqual(2, len(self.mappings(inst)))

    def test_active_vif_is_not_waited_for(self):
        inst = self.instance(config_drive=False)
        self.spawn(inst, flowbase.sea_network_info(active=True))
        self.assertEqual([], self.virtapi.waited)
        self.assertEqual([('VirtualDisk',
                           self.hctx.disk_dvr.boot_disk_name(inst))],
                         self.mappings(inst))

    def test_vif_timeout_not_fatal_goes_on(self):
        self.flags(vif_plugging_is_fatal=False)
        self.virtapi.outcome = 'timeout'
        inst = self.instance()
        self.spawn(inst, flowbase.sea_network_info())
        self.assertEqual('running', self.lpar(inst)['state'])

    def test_disk_sized_from_flavor(self):
        inst = self.instance(root_gb=7)
        self.spawn(inst)
        name = self.hctx.disk_dvr.boot_disk_name(inst)
        sizes = {vd['name']: vd['capacity_gb']
                 for vd in self.sim.state()['virtual_disks']}
        self.assertEqual(7.0, sizes[name])

    def test_rest_budget_image_cached(self):
        # Warm up: caches the image, the job template and the host.
        self.spawn(self.instance(), flowbase.sea_network_info())
        inst = self.instance()
        _r, calls = self.count_rest(
            self.spawn, inst,
            flowbase.sea_network_info(mac='fa:16:3e:00:00:02'))
        self.assertLessEqual(calls, 12, self.sim.stats()['by_pattern'])

    def test_rest_budget_first_spawn_image_cached(self):
        # Image cached, but nothing else known yet by this host's cache
        # except what init_host seeds it with: the host wrapper and the
        # media repository.  The switch feed and the PowerOn job template
        # cost one GET each, once.
        self.spawn(self.instance(), flowbase.sea_network_info())
        repo = self.hctx.cache.media_repo()
        self.hctx.cache = pvm_cache.HostCache(self.hctx.host_uuid)
        self.hctx.cache.remember_repo(*repo)
        self.hctx.cache.remember_host(self.host_wrapper())
        _r, calls = self.count_rest(
            self.spawn, self.instance(),
            flowbase.sea_network_info(mac='fa:16:3e:00:00:02'))
        self.assertLessEqual(calls, 14, self.sim.stats()['by_pattern'])


_SPAWN_STEP_FAULTS = [
        ('validate_flavor', dict(
            fault=None, specs={'powervm:bogus_key': '1'}, vif=True,
            error=pvm_exception.InvalidExtraSpec)),
        ('create_lpar', dict(
            fault=dict(method='PUT', path='ManagedSystem/[^/]+/'
                       'LogicalPartition$'), vif=True, specs=None,
            error=pvm_exception.PowerVMAPIFailed)),
        ('plug_vifs', dict(
            fault=dict(method='PUT', path='ClientNetworkAdapter'), vif=True,
            specs=None, error=nova_exc.VirtualInterfacePlugException)),
        ('plug_vifs_event_timeout', dict(
            fault='timeout', vif=True, specs=None,
            error=nova_exc.VirtualInterfaceCreateException)),
        ('plug_vifs_event_failed', dict(
            fault='failed', vif=True, specs=None,
            error=nova_exc.VirtualInterfaceCreateException)),
        ('plug_mgmt_vif', dict(
            fault=dict(method='PUT', path='ClientNetworkAdapter'), vif=False,
            specs=None, error=pvm_exception.PowerVMAPIFailed)),
        ('create_disk_copy', dict(
            fault=dict(method='POST', path='VolumeGroup'), vif=True,
            specs=None, error=pvm_exception.PowerVMAPIFailed)),
        ('create_config_drive', dict(
            fault=dict(method='PUT', path='web/File/contents'), vif=True,
            specs=None, error=pvm_exception.PowerVMAPIFailed)),
        ('connect_storage', dict(
            fault=dict(method='POST', path='VirtualIOServer/[^/]+$'),
            vif=True, specs=None, error=pvm_exception.PowerVMAPIFailed)),
        ('power_on', dict(
            fault=dict(kind='job_fail', job='PowerOn'), vif=True,
            specs=None, error=nova_exc.InstancePowerOnFailure)),
]


class TestSpawnReverts(testscenarios.WithScenarios, SpawnDestroyTestCase):
    """A failure at each step of spawn leaves the host as it was.

    Each step fails once for a flavor without, and once for a flavor with
    ephemeral and swap disks.
    """

    scenarios = (
        [(name, dict(spec, local=False))
         for name, spec in _SPAWN_STEP_FAULTS] +
        [(name + '_with_local_disks', dict(spec, local=True))
         for name, spec in _SPAWN_STEP_FAULTS] +
        # The 1st VG POST copies the boot disk, the 2nd makes the blanks.
        [('create_local_disks', dict(
            fault=dict(method='POST', path='VolumeGroup', skip=1),
            vif=True, specs=None, local=True,
            error=pvm_exception.PowerVMAPIFailed))])

    def test_revert_leaves_nothing(self):
        # The image is cached first: the cache is not what is tested here.
        self.spawn(self.instance(config_drive=False), power_on=False)
        before = flowbase.normalise(self.sim.state())
        if self.fault in ('timeout', 'failed'):
            self.virtapi.outcome = self.fault
        elif self.fault:
            self.sim.add_fault(count=1, **self.fault)
        inst = self.instance(extra_specs=self.specs)
        if self.local:
            inst.flavor.ephemeral_gb = 2
            inst.flavor.swap = 512
        nwi = flowbase.sea_network_info(mac='fa:16:3e:00:00:09') \
            if self.vif else None
        self.assertRaises(self.error, self.spawn, inst, nwi)
        self.assertIsNone(self.lpar(inst))
        self.assertEqual(before, flowbase.normalise(self.sim.state()))


class TestSpawnRevertsUncached(SpawnDestroyTestCase):
    """A failed spawn also removes the image cache entry it created."""

    def _check(self, **fault):
        before = flowbase.normalise(self.sim.state())
        self.sim.add_fault(count=1, **fault)
        self.assertRaises(nova_exc.NovaException, self.spawn,
                          self.instance())
        self.assertEqual(before, flowbase.normalise(self.sim.state()))

    def test_image_upload_fails(self):
        self._check(method='PUT', path='web/File/contents')

    def test_copy_fails_after_upload(self):
        # The 1st VG POST creates the cache disk, the 2nd the copy.
        before = flowbase.normalise(self.sim.state())
        self.sim.add_fault(method='POST', path='VolumeGroup/[^/]+$',
                           count=-1)
        self.assertRaises(nova_exc.NovaException, self.spawn,
                          self.instance())
        self.sim.clear_faults()
        self.assertEqual(before, flowbase.normalise(self.sim.state()))

    def test_power_on_fails(self):
        self._check(kind='job_fail', job='PowerOn')


class TestUnsupportedBlockDevices(SpawnDestroyTestCase):
    """Volumes are refused, not ignored."""

    def _refused(self, inst, bdi, fragment):
        before = flowbase.normalise(self.sim.state())
        self.sim.reset_stats()
        exc = self.assertRaises(
            nova_exc.InvalidInput, flows.spawn, self.hctx, self.ctx, inst,
            self.image_meta, [], None, [], bdi, True)
        self.assertIn(fragment, str(exc))
        self.assertEqual(0, self.sim.stats()['total'])
        self.assertEqual(before, flowbase.normalise(self.sim.state()))

    def test_volume_of_unknown_protocol_at_boot(self):
        bdi = {'block_device_mapping': [
            {'connection_info': {'driver_volume_type': 'rbd',
                                 'serial': 'vol-1'},
             'mount_device': '/dev/sda', 'boot_index': 0}]}
        self.sim.reset_stats()
        err = self.assertRaises(
            pvm_exception.VolumeProtocolNotSupported, flows.spawn, self.hctx,
            self.ctx, self.instance(), self.image_meta, [], None, [], bdi,
            True)
        self.assertIn('vol-1', str(err))
        self.assertEqual(0, self.sim.stats()['total'])

    def test_too_many_ephemerals(self):
        bdi = {'ephemerals': [{'device_name': '/dev/sd%s' % chr(98 + n),
                               'size': 1, 'num': n} for n in range(11)]}
        self._refused(self.instance(), bdi, 'at most 10 ephemeral disks')


class TestLocalDisks(SpawnDestroyTestCase):
    """Ephemeral and swap disks: made, mapped with the boot disk, removed."""

    def sizes(self):
        return {vd['name']: vd['capacity_gb']
                for vd in self.sim.state()['virtual_disks']}

    def local_instance(self, ephemeral_gb=2, swap=512):
        inst = self.instance()
        inst.flavor.ephemeral_gb = ephemeral_gb
        inst.flavor.swap = swap
        return inst

    def test_flavor_disks(self):
        inst = self.local_instance()
        self.spawn(inst, flowbase.sea_network_info())
        dvr = self.hctx.disk_dvr
        eph, swap = (dvr.ephemeral_disk_name(inst, 0),
                     dvr.swap_disk_name(inst))
        sizes = self.sizes()
        self.assertEqual(2.0, sizes[eph])
        self.assertEqual(0.5, sizes[swap])
        self.assertEqual(
            sorted([('VirtualDisk', dvr.boot_disk_name(inst)),
                    ('VirtualDisk', eph), ('VirtualDisk', swap),
                    ('VirtualOpticalMedia', media.vopt_name(inst))]),
            self.mappings(inst))
        self.assertEqual('running', self.lpar(inst)['state'])
        self.assertEqual(sorted([dvr.boot_disk_name(inst), eph, swap]),
                         dvr.existing_disk_names(inst))
        self.destroy(inst)
        self.assertEqual([dvr.image_name(self.image_meta.id)],
                         self.vdisk_names())
        self.assertEqual([], self.mappings(inst))

    def test_block_device_mapping_disks_win(self):
        inst = self.local_instance(ephemeral_gb=4, swap=256)
        bdi = {'ephemerals': [
            {'device_name': '/dev/sdb', 'size': 1, 'num': 0},
            {'device_name': '/dev/sdc', 'size': 3, 'num': 1}],
            'swap': {'device_name': '/dev/sdd', 'swap_size': 1024}}
        flows.spawn(self.hctx, self.ctx, inst, self.image_meta, [], None,
                    None, bdi, False)
        dvr = self.hctx.disk_dvr
        sizes = self.sizes()
        self.assertEqual(1.0, sizes[dvr.ephemeral_disk_name(inst, 0)])
        self.assertEqual(3.0, sizes[dvr.ephemeral_disk_name(inst, 1)])
        self.assertEqual(1.0, sizes[dvr.swap_disk_name(inst)])
        self.assertEqual(5, len(self.mappings(inst)))

    def test_structure(self):
        flow = flows.build_spawn(self.hctx, self.ctx, self.local_instance(),
                                 self.image_meta, [], None, None)
        names = [atom.name for atom in flow]
        self.assertEqual(names.index('create_disk_from_image') + 1,
                         names.index('create_local_disks'))

    def test_rest_budget(self):
        # Ephemeral and swap disks cost 2 round trips (1 GET and 1 POST
        # of the volume group), whatever their number; they are mapped in
        # the spawn's one VIOS update.
        self.spawn(self.instance(), flowbase.sea_network_info())
        _r, calls = self.count_rest(
            self.spawn, self.local_instance(),
            flowbase.sea_network_info(mac='fa:16:3e:00:00:02'))
        self.assertLessEqual(calls, 14, self.sim.stats()['by_pattern'])


class TestDestroy(SpawnDestroyTestCase):

    def setUp(self):
        super().setUp()
        self.empty = flowbase.normalise(self.sim.state())
        self.inst = self.instance()
        self.spawn(self.inst, flowbase.sea_network_info())
        self.image_vd = self.hctx.disk_dvr.image_name(self.image_meta.id)

    def assert_gone(self, keep_disk=False):
        self.assertIsNone(self.lpar(self.inst))
        self.assertEqual([], self.mappings(self.inst))
        self.assertEqual([], self.cnas(self.inst))
        self.assertEqual([], self.sim.state()['optical_media'])
        expect = [self.image_vd]
        if keep_disk:
            expect.append(self.hctx.disk_dvr.boot_disk_name(self.inst))
        self.assertEqual(sorted(expect), self.vdisk_names())

    def test_destroy_running(self):
        _r, calls = self.count_rest(self.destroy, self.inst)
        self.assertLessEqual(calls, 10, self.sim.stats()['by_pattern'])
        self.assert_gone()

    def test_destroy_second_time_in_process(self):
        self.destroy(self.instance())  # missing: nothing but a GET
        other = self.instance()
        self.spawn(other, flowbase.sea_network_info(mac='fa:16:3e:0:0:7'))
        self.destroy(other)
        _r, calls = self.count_rest(self.destroy, self.inst)
        self.assertLessEqual(calls, 10, self.sim.stats()['by_pattern'])
        self.assert_gone()

    def test_destroy_is_idempotent(self):
        self.destroy(self.inst)
        before = flowbase.normalise(self.sim.state())
        # The partition is gone: its storage is looked for (VIOS feed,
        # volume group, media repository) and nothing is changed.
        _r, calls = self.count_rest(self.destroy, self.inst)
        self.assertLessEqual(calls, 4, self.sim.stats()['by_pattern'])
        self.assertEqual(before, flowbase.normalise(self.sim.state()))
        self.assert_gone()

    def test_destroy_after_partition_vanished(self):
        # Deleted behind nova's back: the disk, the config drive and their
        # mappings still belong to the instance and are removed.
        self.set_state(self.inst, 'not activated')
        self.adapter.delete('LogicalPartition',
                            root_id=vm.get_pvm_uuid(self.inst))
        self.assertIsNone(self.lpar(self.inst))
        self.assertEqual(2, len(self.storage_mappings(self.inst)))
        self.destroy(self.inst)
        self.assertEqual([], self.storage_mappings(self.inst))
        self.assert_gone()

    def test_destroy_keeps_disk_when_asked(self):
        self.destroy(self.inst, destroy_disks=False)
        self.assert_gone(keep_disk=True)

    def test_destroy_powered_off(self):
        self.set_state(self.inst, 'not activated')
        self.destroy(self.inst)
        self.assert_gone()

    def test_destroy_then_image_cache_cleanup(self):
        self.destroy(self.inst)
        self.assertEqual([], flows.manage_image_cache(self.hctx, self.ctx,
                                                      [self.inst]))
        self.assertEqual([self.image_vd], flows.manage_image_cache(
            self.hctx, self.ctx, []))
        self.assertEqual(self.empty, flowbase.normalise(self.sim.state()))

    def test_cleanup_is_destroy(self):
        flows.cleanup(self.hctx, self.ctx, self.inst, [], None, True)
        self.assert_gone()
        flows.cleanup(self.hctx, self.ctx, self.inst, [], None, True)


class TestPlugUnplug(SpawnDestroyTestCase):

    def test_plug_existing_and_new_then_unplug(self):
        inst = self.instance(config_drive=False)
        nwi = flowbase.sea_network_info(active=True)
        self.spawn(inst, nwi)
        _r, calls = self.count_rest(flows.plug_vifs, self.hctx, inst, nwi)
        self.assertEqual(2, calls)
        self.assertEqual(2, len(self.cnas(inst)))
        more = flowbase.sea_network_info(vlan=200, mac='fa:16:3e:00:00:0b')
        flows.plug_vifs(self.hctx, inst, more)
        self.assertIn(('FA163E00000B', 200, 'ETHERNET0'), self.cnas(inst))
        self.assertEqual([], self.virtapi.waited)
        flows.unplug_vifs(self.hctx, inst, more)
        self.assertNotIn(('FA163E00000B', 200, 'ETHERNET0'),
                         self.cnas(inst))
        self.assertIn(('FA163E000001', 100, 'ETHERNET0'), self.cnas(inst))

    def test_plug_missing_lpar(self):
        self.assertRaises(nova_exc.VirtualInterfacePlugException,
                          flows.plug_vifs, self.hctx, self.instance(),
                          flowbase.sea_network_info())

    def test_unplug_missing_lpar_is_fine(self):
        flows.unplug_vifs(self.hctx, self.instance(),
                          flowbase.sea_network_info())


class TestConcurrentSpawns(SpawnDestroyTestCase):

    def test_two_spawns_share_one_image_upload(self):
        insts = [self.instance(), self.instance()]
        errors = []

        def run(inst, mac):
            try:
                self.spawn(inst, flowbase.sea_network_info(mac=mac))
            except Exception as exc:  # reported below
                errors.append(exc)
        threads = [threading.Thread(target=run, args=(inst, mac))
                   for inst, mac in zip(insts, ('fa:16:3e:0:0:a1',
                                                'fa:16:3e:0:0:a2'))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual([], errors)
        self.assertEqual(['running', 'running'],
                         [self.lpar(i)['state'] for i in insts])
        dvr = self.hctx.disk_dvr
        self.assertEqual(
            sorted([dvr.image_name(self.image_meta.id)] +
                   [dvr.boot_disk_name(i) for i in insts]),
            self.vdisk_names())
        for inst in insts:
            self.assertEqual(2, len(self.mappings(inst)))


class TestSpawnFailsAtEachRequest(SpawnDestroyTestCase):
    """Every REST request of a spawn fails once, in turn.

    The spawn either copes (a failed descriptor or job cleanup) or fails and
    leaves the host exactly as it was.
    """

    @staticmethod
    def regex(pattern):
        path = re.escape(pattern.split(' ', 1)[1])
        for key in ('uuid', 'id'):
            path = path.replace(re.escape('{%s}' % key), '[^/]+')
        return path + '$'

    def test_each_request(self):
        self.spawn(self.instance(config_drive=False), power_on=False)
        self.spawn(self.instance(), flowbase.sea_network_info())
        self.sim.reset_stats()
        self.spawn(self.instance(),
                   flowbase.sea_network_info(mac='fa:16:3e:00:00:03'))
        requests = sorted(self.sim.stats()['by_pattern'])
        self.assertEqual(11, len(requests), requests)
        failed = []
        for n, request in enumerate(requests):
            before = flowbase.normalise(self.sim.state())
            inst = self.instance()
            self.sim.add_fault(method=request.split(' ')[0],
                               path=self.regex(request), count=1)
            try:
                self.spawn(inst, flowbase.sea_network_info(
                    mac='fa:16:3e:00:01:%02x' % n))
            except nova_exc.NovaException:
                failed.append(request)
                self.assertEqual(before,
                                 flowbase.normalise(self.sim.state()),
                                 request)
            else:
                self.assertEqual('running', self.lpar(inst)['state'],
                                 request)
                self.assertEqual(2, len(self.mappings(inst)), request)
            self.sim.clear_faults()
        # Only the cleanup DELETEs (upload descriptor, finished job) may
        # fail without failing the spawn.
        self.assertEqual(
            sorted(r for r in requests if not r.startswith('DELETE')),
            sorted(failed))


class TestDestroyFailsAtEachRequest(SpawnDestroyTestCase):
    """Every REST request of a destroy fails once, in turn.

    Whatever was done before the failure, destroying again finishes the
    job and leaves nothing of the instance.
    """

    def test_each_request(self):
        empty = flowbase.normalise(self.sim.state())
        inst = self.instance()
        self.spawn(inst, flowbase.sea_network_info())
        self.sim.reset_stats()
        self.destroy(inst)
        requests = sorted(self.sim.stats()['by_pattern'])
        image_vd = self.hctx.disk_dvr.image_name(self.image_meta.id)
        for n, request in enumerate(requests):
            inst = self.instance()
            self.spawn(inst, flowbase.sea_network_info(
                mac='fa:16:3e:00:02:%02x' % n))
            self.sim.add_fault(method=request.split(' ')[0],
                               path=TestSpawnFailsAtEachRequest.regex(
                                   request), count=1)
            try:
                self.destroy(inst)
            except nova_exc.NovaException:
                self.sim.clear_faults()
                self.destroy(inst)
            self.sim.clear_faults()
            self.assertIsNone(self.lpar(inst), request)
            self.assertEqual([image_vd], self.vdisk_names(), request)
            self.assertEqual([], self.sim.state()['optical_media'], request)
            self.assertEqual([], self.sim.state()['cnas'], request)
            self.assertEqual([], self.mappings(inst), request)
        flows.manage_image_cache(self.hctx, self.ctx, [])
        self.assertEqual(empty, flowbase.normalise(self.sim.state()))


class TestDeviceTags(SpawnDestroyTestCase):
    """Tagged interfaces reach the config drive's device list."""

    def test_tagged_interface_in_the_config_drive(self):
        inst = self.instance()
        nwi = flowbase.sea_network_info()
        nwi.append(flowbase.sea_network_info(
            vlan=101, mac='fa:16:3e:00:00:02')[0])
        self.add_vif_record(inst, 'fa:16:3e:00:00:01', tag='data')
        self.add_vif_record(inst, 'fa:16:3e:00:00:02')  # no tag
        self.spawn(inst, nwi)
        _label, meta = test_media.read_iso(
            self.media_bytes(media.vopt_name(inst)),
            '/openstack/latest/meta_data.json')
        self.assertEqual(
            [{'type': 'nic', 'mac': 'fa:16:3e:00:00:01', 'tags': ['data'],
              'bus': 'none', 'address': 'none', 'vf_trusted': False}],
            json.loads(meta)['devices'])
        self.assertEqual(['data'], [
            d.tags[0] for d in inst.device_metadata.devices])

    def test_no_tags_no_devices(self):
        inst = self.instance()
        self.add_vif_record(inst, 'fa:16:3e:00:00:01')
        self.spawn(inst, flowbase.sea_network_info())
        _label, meta = test_media.read_iso(
            self.media_bytes(media.vopt_name(inst)),
            '/openstack/latest/meta_data.json')
        self.assertEqual([], json.loads(meta).get('devices', []))


class SSPSpawnTestCase(flowbase.SSPMixin, SpawnDestroyTestCase):
    """Spawn and destroy with ``disk_driver = ssp``."""

    def lu_mappings(self, inst):
        name = self.hctx.disk_dvr.boot_disk_name(inst)
        return sorted(vios['name'] for vios in self.sim.state()['vioses']
                      for m in vios['scsi_mappings']
                      if m['storage_name'] == name)


class TestSSPSpawn(SSPSpawnTestCase):

    def test_spawn_and_destroy(self):
        inst = self.instance()
        self.spawn(inst, flowbase.sea_network_info())
        self.assertEqual('running', self.lpar(inst)['state'])
        # The LU on both VIOSes of the cluster, the media on one.
        self.assertEqual(['vios1', 'vios2'], self.lu_mappings(inst))
        self.assertEqual(3, len(self.mappings(inst)))
        boot = self.hctx.disk_dvr.boot_disk_name(inst)
        image = self.hctx.disk_dvr.image_name(self.image_meta.id)
        self.assertEqual(sorted([boot, image]), self.lu_names())
        self.assertEqual(self.IMAGE_BYTES,
                         self.lu_bytes(boot, len(self.IMAGE_BYTES)))
        self.destroy(inst)
        self.assertEqual([image], self.lu_names())
        self.assertEqual([], self.mappings(inst))
        self.assertEqual([image], flows.manage_image_cache(
            self.hctx, self.ctx, []))
        self.assertEqual([], self.lu_names())

    def test_rest_budget_image_cached(self):
        # Warm up: the image LU, the job template, the host, the repository.
        self.spawn(self.instance(), flowbase.sea_network_info())
        _r, calls = self.count_rest(
            self.spawn, self.instance(),
            flowbase.sea_network_info(mac='fa:16:3e:00:00:02'))
        # flows.rst: the clone PUT, and one mapping POST per cluster VIOS.
        self.assertEqual(12, calls, self.sim.stats()['by_pattern'])

    def test_rest_budget_destroy(self):
        inst = self.instance()
        self.spawn(inst, flowbase.sea_network_info())
        _r, calls = self.count_rest(self.destroy, inst)
        # flows.rst: GET LU feed + DELETE LU replace GET + POST VG; the
        # mappings go from both VIOSes.
        self.assertEqual(11, calls, self.sim.stats()['by_pattern'])


class TestSSPLocalDisks(SSPSpawnTestCase):
    """Ephemeral and swap disks as blank thin LUs of the pool."""

    def local_instance(self, ephemeral_gb=2, swap=512):
        return TestLocalDisks.local_instance(self, ephemeral_gb, swap)

    def lus(self):
        return {lu['name']: lu for lu in self.sim.state()['lus']}

    def test_flavor_disks(self):
        inst = self.local_instance()
        self.spawn(inst, flowbase.sea_network_info())
        dvr = self.hctx.disk_dvr
        boot, eph, swap = (dvr.boot_disk_name(inst),
                           dvr.ephemeral_disk_name(inst, 0),
                           dvr.swap_disk_name(inst))
        lus = self.lus()
        self.assertEqual((2.0, 0.5), (lus[eph]['capacity_gb'],
                                      lus[swap]['capacity_gb']))
        self.assertEqual(('VirtualIO_Disk', None),
                         (lus[eph]['type'], lus[eph]['cloned_from']))
        # Each LU through both VIOSes, the media through one.
        self.assertEqual(
            sorted([('LogicalUnit', name) for name in (boot, eph, swap)] * 2
                   + [('VirtualOpticalMedia', media.vopt_name(inst))]),
            self.mappings(inst))
        self.assertEqual('running', self.lpar(inst)['state'])
        names, calls = self.count_rest(dvr.existing_disk_names, inst)
        self.assertEqual(sorted([boot, eph, swap]), names)
        self.assertEqual(1, calls)
        self.destroy(inst)
        self.assertEqual([dvr.image_name(self.image_meta.id)],
                         self.lu_names())
        self.assertEqual([], self.mappings(inst))

    def test_block_device_mapping_disks_win(self):
        inst = self.local_instance(ephemeral_gb=4, swap=256)
        bdi = {'ephemerals': [
            {'device_name': '/dev/sdb', 'size': 1, 'num': 0},
            {'device_name': '/dev/sdc', 'size': 3, 'num': 1}],
            'swap': {'device_name': '/dev/sdd', 'swap_size': 1024}}
        flows.spawn(self.hctx, self.ctx, inst, self.image_meta, [], None,
                    None, bdi, False)
        dvr = self.hctx.disk_dvr
        lus = self.lus()
        self.assertEqual(
            [1.0, 3.0, 1.0],
            [lus[name]['capacity_gb'] for name in (
                dvr.ephemeral_disk_name(inst, 0),
                dvr.ephemeral_disk_name(inst, 1), dvr.swap_disk_name(inst))])
        # 4 LUs through 2 VIOSes, and the config drive.
        self.assertEqual(9, len(self.mappings(inst)))

    def test_rest_budget(self):
        # One LU PUT per blank disk; they are mapped in the spawn's one
        # update of each VIOS.
        self.spawn(self.instance(), flowbase.sea_network_info())
        _r, calls = self.count_rest(
            self.spawn, self.local_instance(),
            flowbase.sea_network_info(mac='fa:16:3e:00:00:02'))
        self.assertEqual(14, calls, self.sim.stats()['by_pattern'])


def _ssp_revert_scenarios():
    """TestSpawnReverts' steps, with LU PUTs for volume group POSTs.

    The image LU is known: the 1st LU PUT is the boot disk's clone, the
    2nd and 3rd the blank ephemeral and swap LUs.
    """
    out = []
    for name, params in TestSpawnReverts.scenarios:
        if name.startswith('create_disk_copy'):
            name, params = name.replace('copy', 'clone'), dict(
                params, fault=dict(method='PUT', path='LogicalUnit$'))
        elif name == 'create_local_disks':
            out.append(('create_swap_lu', dict(
                params, fault=dict(method='PUT', path='LogicalUnit$',
                                   skip=2))))
            params = dict(params, fault=dict(method='PUT',
                                             path='LogicalUnit$', skip=1))
        out.append((name, params))
    return out


class TestSSPSpawnReverts(testscenarios.WithScenarios, SSPSpawnTestCase):
    """A failure at each step of an SSP spawn leaves no LU or mapping."""

    scenarios = _ssp_revert_scenarios()
    test_revert_leaves_nothing = TestSpawnReverts.test_revert_leaves_nothing


class TestSSPSpawnFailsAtEachRequest(SSPSpawnTestCase):
    """Every request of a first SSP spawn (image upload) fails in turn."""

    def test_each_request(self):
        empty = flowbase.normalise(self.sim.state())
        inst = self.instance()
        self.sim.reset_stats()
        self.spawn(inst, flowbase.sea_network_info())
        by_pattern = dict(self.sim.stats()['by_pattern'])
        self.destroy(inst)
        flows.manage_image_cache(self.hctx, self.ctx, [])
        self.assertEqual(empty, flowbase.normalise(self.sim.state()))
        failed = []
        # The last descriptor is the config drive's: media.upload
        # deletes it again when its delete failed, so it never stays.
        descriptors = ['DELETE /rest/api/web/File/{uuid} #%d' % (n + 1)
                       for n in range(by_pattern[
                           'DELETE /rest/api/web/File/{uuid}'] - 1)]
        for pattern, times in sorted(by_pattern.items()):
            if pattern.startswith('GET /rest/api/uom/Event'):
                continue
            if pattern.startswith('DELETE /rest/api/uom/Tier'):
                # The boot disk's DELETE belongs to the destroy.
                times = 1
            for skip in range(times):
                # A new process: nothing remembered of the image LU.
                self.hctx.disk_dvr._image_lus.clear()
                inst = self.instance()
                self.sim.add_fault(
                    method=pattern.split(' ')[0], skip=skip, count=1,
                    path=TestSpawnFailsAtEachRequest.regex(pattern))
                what = '%s #%d' % (pattern, skip + 1)
                try:
                    self.spawn(inst, flowbase.sea_network_info(
                        mac='fa:16:3e:00:03:%02x' % len(failed)))
                except nova_exc.NovaException:
                    failed.append(what)
                else:
                    self.assertEqual('running', self.lpar(inst)['state'],
                                     what)
                    # Requests of the first spawn only (the media
                    # repository lookup) are not made again.
                    self.sim.clear_faults()
                    self.destroy(inst)
                self.sim.clear_faults()
                flows.manage_image_cache(self.hctx, self.ctx, [])
                state = flowbase.normalise(self.sim.state())
                # A descriptor whose delete failed stays (NovaLink expires
                # them); the spawn does not fail for it.
                leftover = state.pop('files')
                self.assertEqual(
                    len([w for w in descriptors if w <= what]),
                    len(leftover), what)
                self.assertEqual(dict(empty, files=[]),
                                 dict(state, files=[]), what)
        # Only cleanup requests may fail without failing the spawn: the
        # descriptor and job DELETEs, and the marker's (retried).
        self.assertEqual(
            [], [w for w in failed if w.startswith('DELETE')], failed)
        self.assertGreater(len(failed), 15, failed)
