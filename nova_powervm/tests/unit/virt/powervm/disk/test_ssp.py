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
"""The SSP disk adapter on the simulator (one host, and two sharing)."""

import os
import threading

import fixtures
from nova import exception as nova_exc
from pypowervm.tasks import storage as pvm_tsk_stg
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm.simulator import fixture as sim_fixture
from nova_powervm.simulator import inventory
from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.virt.powervm import disk
from nova_powervm.virt.powervm.disk import base
from nova_powervm.virt.powervm.disk import ssp


class SSPTestCase(flowbase.SSPMixin, flowbase.FlowTestCase):

    def dvr(self):
        return self.hctx.disk_dvr

    def new_dvr(self, adapter=None):
        return disk.get_disk_adapter(adapter or self.adapter,
                                     self.hctx.host_uuid, self.hctx.mgmt_uuid)


class TestSSPAdapter(SSPTestCase):

    def test_found_cluster_and_capabilities(self):
        dvr = self.dvr()
        self.assertIsInstance(dvr, ssp.SSPDiskAdapter)
        self.assertEqual('ssp_cluster', dvr.cluster.name)
        self.assertTrue(dvr.tier.is_default)
        self.assertEqual(sorted(v['uuid'].upper()
                                for v in self.sim.state()['vioses']),
                         sorted(dvr.vios_uuids))
        self.assertTrue(dvr.capabilities['has_imagecache'])
        self.assertTrue(dvr.capabilities['shared_storage'])

    def test_cluster_name(self):
        self.flags(cluster_name='ssp_cluster', group='powervm')
        self.assertEqual('ssp_cluster', self.new_dvr().cluster.name)
        self.flags(cluster_name='nosuch', group='powervm')
        exc = self.assertRaises(nova_exc.InvalidInput, self.new_dvr)
        self.assertIn('nosuch', str(exc))

    def test_start_costs_three_gets(self):
        vioses = pvm_vios.VIOS.get(self.adapter)
        _dvr, calls = self.count_rest(
            disk.get_disk_adapter, self.adapter, self.hctx.host_uuid,
            self.hctx.mgmt_uuid, vioses=vioses)
        self.assertEqual(3, calls)

    def test_no_member_vios(self):
        exc = self.assertRaises(
            nova_exc.InvalidInput, disk.get_disk_adapter, self.adapter,
            self.hctx.host_uuid, self.hctx.mgmt_uuid, vioses=[])
        self.assertIn('ssp_cluster', str(exc))

    def test_create_uncached_then_cached(self):
        inst = self.instance(root_gb=3)
        (lu, cached), calls = self.count_rest(
            self.dvr().create_disk_from_image, self.ctx, inst,
            self.image_meta)
        # GET LUs, PUT marker, GET LUs, PUT image LU, GET LUs, File
        # PUT/PUT/DELETE, DELETE marker, PUT clone.
        self.assertEqual(10, calls, self.sim.stats()['by_pattern'])
        img_name = self.dvr().image_name(self.image_meta.id)
        self.assertEqual(img_name, cached.name)
        self.assertEqual(pvm_stg.LUType.IMAGE, cached.lu_type)
        self.assertEqual(self.dvr().boot_disk_name(inst), lu.name)
        self.assertEqual(3, lu.capacity)
        self.assertEqual(cached.udid[2:], lu.cloned_from_udid[2:])
        self.assertEqual(sorted([img_name, lu.name]), self.lu_names())
        n = len(self.IMAGE_BYTES)
        self.assertEqual(self.IMAGE_BYTES, self.lu_bytes(img_name, n))
        self.assertEqual(self.IMAGE_BYTES, self.lu_bytes(lu.name, n))
        # The clone holds no block of its own: it shares the image's.
        self.assertEqual(0, os.stat(
            self.sim.sim.files.disk_path(lu.udid)).st_blocks)
        other = self.instance()
        (lu2, cached2), calls = self.count_rest(
            self.dvr().create_disk_from_image, self.ctx, other,
            self.image_meta)
        self.assertEqual(1, calls)
        self.assertIsNone(cached2)
        self.assertEqual(self.IMAGE_BYTES, self.lu_bytes(lu2.name, n))
        # Another process of the cluster finds the image LU in one GET.
        (lu3, cached3), calls = self.count_rest(
            self.new_dvr().create_disk_from_image, self.ctx,
            self.instance(), self.image_meta)
        self.assertEqual(2, calls)
        self.assertIsNone(cached3)

    def test_image_lu_gone_behind_our_back(self):
        inst = self.instance()
        lu, cached = self.dvr().create_disk_from_image(self.ctx, inst,
                                                       self.image_meta)
        # Another host cleaned the cache up after this one's last clone.
        other = self.new_dvr()
        other.delete_disks([lu])
        self.assertEqual([cached.name], other.manage_image_cache(self.ctx,
                                                                 []))
        lu2, cached2 = self.dvr().create_disk_from_image(
            self.ctx, self.instance(), self.image_meta)
        self.assertEqual(cached.name, cached2.name)
        self.assertNotEqual(cached.udid, cached2.udid)
        self.assertEqual(self.IMAGE_BYTES, self.lu_bytes(
            lu2.name, len(self.IMAGE_BYTES)))

    def test_clone_failure_keeps_a_cached_image(self):
        self.dvr().create_disk_from_image(self.ctx, self.instance(),
                                          self.image_meta)
        self.sim.add_fault(method='PUT', path='LogicalUnit$', count=1)
        self.assertRaises(nova_exc.NovaException,
                          self.dvr().create_disk_from_image, self.ctx,
                          self.instance(), self.image_meta)
        self.assertEqual(2, len(self.lu_names()))

    def test_upload_failure_leaves_nothing(self):
        self.sim.add_fault(method='PUT', path='web/File/contents', count=1)
        self.assertRaises(nova_exc.NovaException,
                          self.dvr().create_disk_from_image, self.ctx,
                          self.instance(), self.image_meta)
        self.assertEqual([], self.lu_names())
        self.assertEqual([], self.sim.state()['files'])

    def test_delete_disks(self):
        inst = self.instance()
        lu, cached = self.dvr().create_disk_from_image(self.ctx, inst,
                                                       self.image_meta)
        self.assertTrue(self.dvr().is_instance_disk(lu, inst))
        self.assertFalse(self.dvr().is_instance_disk(cached, inst))
        self.assertEqual([lu.name], self.dvr().delete_disks([lu]))
        self.assertEqual([cached.name], self.lu_names())
        self.assertEqual([], self.dvr().delete_disks([lu, None]))

    def test_delete_instance_disks_by_name(self):
        inst = self.instance()
        lu, _cached = self.dvr().create_disk_from_image(self.ctx, inst,
                                                        self.image_meta)
        names, calls = self.count_rest(self.dvr().delete_instance_disks,
                                       inst)
        self.assertEqual([lu.name], names)
        self.assertEqual(2, calls)
        self.assertEqual([], self.dvr().delete_instance_disks(inst))

    def test_manage_image_cache(self):
        inst = self.instance()
        lu, cached = self.dvr().create_disk_from_image(self.ctx, inst,
                                                       self.image_meta)
        unused = self.new_image(b'other')
        lu2, cached2 = self.dvr().create_disk_from_image(
            self.ctx, self.instance(), unused)
        self.flags(remove_unused_base_images=False, group='image_cache')
        self.assertEqual([], self.dvr().manage_image_cache(self.ctx, []))
        self.flags(remove_unused_base_images=True, group='image_cache')
        # A clone anywhere in the cluster keeps its image.
        self.assertEqual([], self.dvr().manage_image_cache(self.ctx, []))
        self.dvr().delete_disks([lu2])
        self.assertEqual([cached2.name],
                         self.dvr().manage_image_cache(self.ctx, [inst]))
        self.assertEqual(sorted([lu.name, cached.name]), self.lu_names())
        # Gone from the adapter's memory too: the next deploy uploads.
        _lu3, again = self.dvr().create_disk_from_image(
            self.ctx, self.instance(), unused)
        self.assertEqual(cached2.name, again.name)

    def test_disk_usage(self):
        total, used = self.dvr().disk_usage()
        self.assertEqual(1024.0, total)
        self.assertEqual(0.0, used)
        big = self.new_image(b'\1' * (40 * 1024 ** 2))
        self.dvr().create_disk_from_image(self.ctx, self.instance(root_gb=50),
                                          big)
        total, used = self.dvr().disk_usage()
        self.assertEqual(1024.0, total)
        # The image's blocks; the 50 GB clone shares them.
        self.assertAlmostEqual(0.04, used, places=2)


class TestSSPInstanceDisks(SSPTestCase):
    """Blank, rescue and rebuild disks; listing and deleting by name."""

    def lus(self):
        return {lu['name']: lu for lu in self.sim.state()['lus']}

    def blanks(self, inst):
        dvr = self.dvr()
        return [base.LocalDisk('ephemeral', dvr.ephemeral_disk_name(inst, 0),
                               2.0),
                base.LocalDisk('ephemeral', dvr.ephemeral_disk_name(inst, 1),
                               1.0),
                base.LocalDisk('swap', dvr.swap_disk_name(inst), 0.5)]

    def test_blank_disks_listed_and_deleted_by_name(self):
        dvr, inst = self.dvr(), self.instance()
        blanks = self.blanks(inst)
        made, calls = self.count_rest(dvr.create_blank_disks, inst, blanks)
        # One PUT per LU.
        self.assertEqual(3, calls)
        self.assertEqual([d.name for d in blanks], [lu.name for lu in made])
        lus = self.lus()
        for blank in blanks:
            self.assertEqual(blank.size_gb, lus[blank.name]['capacity_gb'])
            self.assertEqual('VirtualIO_Disk', lus[blank.name]['type'])
            self.assertIsNone(lus[blank.name]['cloned_from'])
        # Thin: nothing taken from the pool.
        self.assertEqual(0.0, dvr.disk_usage()[1])
        self.assertEqual([], dvr.create_blank_disks(inst, []))
        # Another instance's disks are not this one's.
        other = self.instance()
        dvr.create_disk_from_image(self.ctx, other, self.image_meta)
        names, calls = self.count_rest(dvr.existing_disk_names, inst)
        self.assertEqual(sorted(d.name for d in blanks), names)
        self.assertEqual(1, calls)
        # With the tier's LU feed already read: no round trip.
        feed = dvr._lus()
        names, calls = self.count_rest(dvr.existing_disk_names, inst, feed)
        self.assertEqual(sorted(d.name for d in blanks), names)
        self.assertEqual(0, calls)
        swap = dvr.swap_disk_name(inst)
        deleted, calls = self.count_rest(
            dvr.delete_disks_named, inst,
            [swap, dvr.rescue_disk_name(inst), dvr.boot_disk_name(other)])
        # GET the LUs, DELETE the one that exists and is the instance's.
        self.assertEqual([swap], deleted)
        self.assertEqual(2, calls)
        self.assertIn(dvr.boot_disk_name(other), self.lus())
        deleted, calls = self.count_rest(dvr.delete_disks_named, inst,
                                         ['i_whatever', 'nosuch'])
        self.assertEqual(([], 0), (deleted, calls))
        self.assertEqual(sorted(d.name for d in blanks[:2]),
                         dvr.delete_instance_disks(inst))
        self.assertEqual([], dvr.existing_disk_names(inst))

    def test_blank_disk_failure_deletes_those_made(self):
        inst = self.instance()
        # The 2nd LU PUT fails: the 1st LU goes.
        self.sim.add_fault(method='PUT', path='LogicalUnit$', skip=1,
                           count=1)
        self.assertRaises(nova_exc.NovaException,
                          self.dvr().create_blank_disks, inst,
                          self.blanks(inst))
        self.assertEqual([], self.lu_names())

    def test_rescue_and_rebuild_disks_are_clones(self):
        dvr, inst = self.dvr(), self.instance(root_gb=4)
        boot, img = dvr.create_disk_from_image(self.ctx, inst,
                                               self.image_meta)
        (rescue, cached), calls = self.count_rest(
            dvr.create_rescue_disk, self.ctx, inst, self.image_meta)
        self.assertEqual((1, None), (calls, cached))
        self.assertEqual(dvr.rescue_disk_name(inst), rescue.name)
        # Sized as the image, not the flavor's root disk.
        self.assertEqual(1, rescue.capacity)
        self.assertEqual(img.udid[2:], rescue.cloned_from_udid[2:])
        alt = dvr.alt_boot_disk_name(inst)
        (new, cached), calls = self.count_rest(
            dvr.create_boot_disk, self.ctx, inst, self.image_meta, alt)
        self.assertEqual((1, None), (calls, cached))
        self.assertEqual((alt, 4), (new.name, new.capacity))
        self.assertEqual(img.udid[2:], new.cloned_from_udid[2:])
        n = len(self.IMAGE_BYTES)
        for name in (rescue.name, alt):
            self.assertEqual(self.IMAGE_BYTES, self.lu_bytes(name, n))
        self.assertEqual(sorted([boot.name, rescue.name, alt]),
                         dvr.existing_disk_names(inst))
        self.assertTrue(dvr.can_rebuild())
        self.assertEqual(sorted([boot.name, rescue.name, alt]),
                         sorted(dvr.delete_instance_disks(inst)))
        self.assertEqual([img.name], self.lu_names())

    def test_rescue_clone_failure_removes_the_image_it_uploaded(self):
        # PUTs: marker, image LU, clone.
        self.sim.add_fault(method='PUT', path='LogicalUnit$', skip=2,
                           count=1)
        self.assertRaises(nova_exc.NovaException,
                          self.dvr().create_rescue_disk, self.ctx,
                          self.instance(), self.image_meta)
        self.assertEqual([], self.lu_names())
        self.assertEqual({}, self.dvr()._image_lus)


class TestSSPCacheImage(SSPTestCase):
    """Pre-caching an image uploads its image LU once."""

    def image_lus(self):
        return [lu for lu in self.sim.state()['lus']
                if lu['type'] == 'VirtualIO_Image']

    def test_cache_then_cached(self):
        dvr = self.dvr()
        uploaded, calls = self.count_rest(dvr.cache_image, self.ctx,
                                          self.image_meta)
        self.assertTrue(uploaded)
        # As a first deploy's upload, without the clone.
        self.assertEqual(9, calls, self.sim.stats()['by_pattern'])
        lus = self.image_lus()
        self.assertEqual([dvr.image_name(self.image_meta.id)],
                         [lu['name'] for lu in lus])
        n = len(self.IMAGE_BYTES)
        self.assertEqual(self.IMAGE_BYTES, self.lu_bytes(lus[0]['name'], n))
        # Cached: the tier is read, nothing uploaded.
        uploaded, calls = self.count_rest(dvr.cache_image, self.ctx,
                                          self.image_meta)
        self.assertFalse(uploaded)
        self.assertEqual(1, calls)
        # The first boot clones it: 1 round trip.
        (lu, cached), calls = self.count_rest(
            dvr.create_disk_from_image, self.ctx, self.instance(),
            self.image_meta)
        self.assertEqual((1, None), (calls, cached))
        self.assertEqual(self.IMAGE_BYTES, self.lu_bytes(lu.name, n))

    def test_cache_again_after_another_host_removed_it(self):
        dvr = self.dvr()
        self.assertTrue(dvr.cache_image(self.ctx, self.image_meta))
        self.flags(remove_unused_original_minimum_age_seconds=0,
                   group='image_cache')
        # Another host's cache pass does not know it was pre-cached.
        self.assertEqual(1, len(self.new_dvr().manage_image_cache(self.ctx,
                                                                  [])))
        self.assertTrue(dvr.cache_image(self.ctx, self.image_meta))
        self.assertEqual(1, len(self.image_lus()))

    def test_cache_pass_keeps_a_fresh_pre_cached_image(self):
        dvr = self.dvr()
        dvr.cache_image(self.ctx, self.image_meta)
        self.assertEqual([], dvr.manage_image_cache(self.ctx, []))
        self.assertEqual(1, len(self.image_lus()))
        self.flags(remove_unused_original_minimum_age_seconds=0,
                   group='image_cache')
        self.assertEqual([dvr.image_name(self.image_meta.id)],
                         dvr.manage_image_cache(self.ctx, []))
        self.assertEqual([], self.image_lus())

    def test_upload_failure_leaves_nothing(self):
        self.sim.add_fault(method='PUT', path='web/File/contents', count=1)
        self.assertRaises(nova_exc.NovaException, self.dvr().cache_image,
                          self.ctx, self.image_meta)
        self.assertEqual([], self.lu_names())


class TestSharedPoolUploads(SSPTestCase):
    """Two hosts of one cluster deploy the same image at the same time."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'nova_powervm.virt.powervm.disk.ssp.POLL_SECONDS', 0.05))
        self.other = self.useFixture(sim_fixture.SimulatorFixture(
            port=12099, pool_dir=self.sim.sim.pool.root,
            inventory=inventory.Inventory(system_name='host2',
                                          mtms='9009-42A*0000002')))

    def test_one_upload_for_the_cluster(self):
        dvr2 = disk.get_disk_adapter(self.other.adapter,
                                     self.other.sim.sys_uuid, None)
        self.assertEqual(
            sorted(v['uuid'].upper()
                   for v in self.other.state()['vioses']),
            sorted(dvr2.vios_uuids))
        results, errors = {}, []
        start = threading.Event()

        def run(name, dvr):
            start.wait()
            try:
                # Past the in-process lock, as two hosts would be.
                results[name] = dvr._find_or_upload(self.ctx,
                                                    self.image_meta)
            except Exception as exc:  # reported below
                errors.append(exc)
        threads = [threading.Thread(target=run, args=args)
                   for args in (('one', self.dvr()), ('two', dvr2))]
        for thread in threads:
            thread.start()
        start.set()
        for thread in threads:
            thread.join(60)
        self.assertEqual([], errors)
        (img1, made1), (img2, made2) = results['one'], results['two']
        self.assertEqual(img1.udid, img2.udid)
        self.assertEqual(1, len([m for m in (made1, made2) if m]))
        uploads = [s['by_pattern'].get('PUT /rest/api/web/File/contents/'
                                       '{uuid}', 0)
                   for s in (self.sim.stats(), self.other.stats())]
        self.assertEqual(1, sum(uploads), uploads)
        name = self.dvr().image_name(self.image_meta.id)
        self.assertEqual([name], self.lu_names())
        self.assertEqual(self.IMAGE_BYTES, self.lu_bytes(
            name, len(self.IMAGE_BYTES)))

    def test_waits_for_a_marker_of_another_host(self):
        luname = self.dvr().image_name(self.image_meta.id)
        tier = self.dvr().tier
        _t, marker = pvm_tsk_stg.crt_lu(tier, 'part00000000' + luname,
                                        ssp.MARKER_GB,
                                        typ=pvm_stg.LUType.IMAGE)

        def other_host_finishes():
            _t, img = pvm_tsk_stg.crt_lu(tier, luname, 1,
                                         typ=pvm_stg.LUType.IMAGE)
            marker.delete()
        timer = threading.Timer(0.3, other_host_finishes)
        timer.start()
        self.addCleanup(timer.cancel)
        img, created = self.dvr().get_image_lu(self.ctx, self.image_meta)
        self.assertIsNone(created)
        self.assertEqual(luname, img.name)
        self.assertEqual([luname], self.lu_names())
        self.assertEqual(0, self.sim.stats()['by_pattern'].get(
            'PUT /rest/api/web/File/contents/{uuid}', 0))
