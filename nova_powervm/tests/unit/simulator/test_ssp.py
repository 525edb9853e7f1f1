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
"""Shared storage pool: cluster, tier, LUs, linked clones, uploads."""

import io
import os

import fixtures
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import cluster_ssp
from pypowervm.tasks import scsi_mapper as tsk_map
from pypowervm.tasks import storage as tsk_stg
from pypowervm.wrappers import cluster as pvm_clust
from pypowervm.wrappers import storage as pvm_stg

from nova_powervm.simulator import fixture as pvm_fx
from nova_powervm.simulator import inventory
from nova_powervm.simulator import pool as sim_pool
from nova_powervm.simulator import xmlutil
from nova_powervm.tests import base as tests_base
from nova_powervm.tests.unit.simulator import base


class TestSSP(base.SimTestCase):

    def setUp(self):
        tests_base.TestCase.setUp(self)
        self.fx = self.useFixture(pvm_fx.SimulatorFixture(
            inventory=inventory.Inventory(ssp=True)))
        self.sim = self.fx.sim
        self.adpt = self.fx.adapter
        self.clust = pvm_clust.Cluster.search(
            self.adpt, name='ssp_cluster')[0]
        self.ssp = pvm_stg.SSP.get_by_href(self.adpt,
                                           self.clust.ssp_uri)
        self.tier = tsk_stg.default_tier_for_ssp(self.ssp)

    def test_cluster_nodes_and_search(self):
        self.assertEqual(2, len(self.clust.nodes))
        self.assertEqual(
            sorted(self.vios(n) for n in ('vios1', 'vios2')),
            sorted(n.vios_uuid for n in self.clust.nodes))
        found = pvm_stg.SSP.search(self.adpt, name='ssp_pool')
        self.assertEqual([self.ssp.uuid], [s.uuid for s in found])
        self.assertTrue(self.tier.is_default)

    def test_image_upload_linked_clone_map_and_remove(self):
        data = os.urandom(100000)
        image = cluster_ssp.get_or_upload_image_lu(
            self.tier, 'image_base', self.vios('vios1'),
            lambda: io.BytesIO(data), len(data),
            upload_type=tsk_stg.UploadType.IO_STREAM_BUILDER)
        int(image.udid[2:], 16)
        _tier, disk = tsk_stg.crt_lu(self.tier, 'boot_inst', 1,
                                     typ=pvm_stg.LUType.DISK, clone=image)
        self.assertEqual(image.udid[2:], disk.cloned_from_udid[2:])
        self.assertEqual(data, b''.join(
            self.sim.files.read_chunks(disk.udid, len(data))))
        # The clone shares the image's blocks: it holds none of its own.
        self.assertEqual(0, os.stat(
            self.sim.files.disk_path(disk.udid)).st_blocks)
        lpar = self.make_lpar()
        tsk_map.add_vscsi_mapping(self.host().uuid, self.vios('vios1'),
                                  lpar.uuid, disk)
        lus = {lu['name']: lu for lu in self.fx.state()['lus']}
        self.assertTrue(lus['boot_inst']['in_use'])
        self.assertEqual({'boot_inst', 'image_base'}, set(lus))
        tsk_map.remove_lu_mapping(self.adpt, self.vios('vios1'), lpar.id,
                                  udids=[disk.udid])
        tsk_stg.rm_tier_storage([disk], tier=self.tier)
        self.assertEqual([], self.fx.state()['lus'])

    def test_capacity(self):
        # A thick LU takes its size from the pool; a thin one what is
        # written to it.
        tsk_stg.crt_lu(self.tier, 'x', 10, thin=False,
                       typ=pvm_stg.LUType.DISK)
        _tier, thin = tsk_stg.crt_lu(self.tier, 'y', 10,
                                     typ=pvm_stg.LUType.DISK)
        ssp = self.ssp.refresh()
        self.assertAlmostEqual(ssp.capacity - 10, ssp.free_space)
        self.assertEqual(20, ssp.total_lu_size)
        self.assertEqual(2, len(ssp.logical_units))
        data = b'\1' * (64 * 1024 ** 2)
        tsk_stg.upload_lu(self.vios('vios1'), thin, io.BytesIO(data),
                          len(data))
        ssp = ssp.refresh()
        self.assertAlmostEqual(ssp.capacity - 10 - 0.06, ssp.free_space,
                               places=2)

    def test_copy_on_write_clone(self):
        data = os.urandom(3 * 1024 ** 2)
        _tier, image = tsk_stg.crt_lu(self.tier, 'img', 1,
                                      typ=pvm_stg.LUType.IMAGE)
        tsk_stg.upload_lu(self.vios('vios1'), image, io.BytesIO(data),
                          len(data))
        _tier, clone = tsk_stg.crt_lu(self.tier, 'clone', 2,
                                      typ=pvm_stg.LUType.DISK, clone=image)
        files = self.sim.files
        self.assertEqual(2 * 1024 ** 3, files.size(clone.udid))
        # A partial write copies its block up; the rest stays shared.
        patch = b'\xee' * 1000
        files.write_disk(clone.udid, io.BytesIO(patch))
        seen = b''.join(files.read_chunks(clone.udid, len(data) + 10))
        self.assertEqual(patch + data[1000:] + bytes(10), seen)
        self.assertEqual(data, b''.join(files.read_chunks(image.udid,
                                                          len(data))))
        self.assertEqual(1024 ** 2 // 512, os.stat(
            files.disk_path(clone.udid)).st_blocks)
        # The host's view of the device holds the merged bytes.
        with open(files.device_path(clone.udid), 'rb') as fil:
            self.assertEqual(seen, fil.read(len(seen)))
        # The image cannot go while a clone uses its blocks.
        self.assertRaises(pvm_exc.HttpError, image.delete)
        clone.delete()
        image.delete()
        self.assertEqual([], self.fx.state()['lus'])
        self.assertEqual([], os.listdir(os.path.join(
            self.sim.pool.files.root, 'disks')))

    def test_device_view_of_a_large_clone_copies_only_data(self):
        # The host's view of a linked clone (what a snapshot reads) is
        # built from the data regions of the clone and its bases: a
        # 64 GiB clone of a 3 MiB image costs 3 MiB.  A pass over every
        # byte took longer than the host shim waits for the answer once
        # the machine was loaded, and snapshots failed (soak, seed 4242).
        data = os.urandom(3 * 1024 ** 2)
        _tier, image = tsk_stg.crt_lu(self.tier, 'img', 1,
                                      typ=pvm_stg.LUType.IMAGE)
        tsk_stg.upload_lu(self.vios('vios1'), image, io.BytesIO(data),
                          len(data))
        _tier, clone = tsk_stg.crt_lu(self.tier, 'clone', 64,
                                      typ=pvm_stg.LUType.DISK, clone=image)
        files = self.sim.files
        patch = b'\xee' * 1000
        files.write_disk(clone.udid, io.BytesIO(patch))
        tail = 64 * 1024 ** 3 - 4096
        with open(files.disk_path(clone.udid), 'r+b') as fil:
            fil.seek(tail)
            fil.write(b'\x11' * 4096)
        view = files.device_path(clone.udid)
        self.assertEqual(64 * 1024 ** 3, os.path.getsize(view))
        with open(view, 'rb') as fil:
            self.assertEqual(patch + data[1000:] + bytes(10),
                             fil.read(len(data) + 10))
            fil.seek(tail - 10)
            self.assertEqual(bytes(10) + b'\x11' * 4096, fil.read())
        # Sparse: only the image's blocks and the two written ones.
        self.assertLess(os.stat(view).st_blocks * 512, 8 * 1024 ** 2)
        clone.delete()
        image.delete()

    def _lu(self, name):
        return [lu for lu in pvm_stg.LUEnt.get(self.adpt, parent=self.tier)
                if lu.name == name][0]

    def test_lu_grows_never_shrinks(self):
        data = os.urandom(3 * 1024 ** 2)
        _tier, image = tsk_stg.crt_lu(self.tier, 'img', 1,
                                      typ=pvm_stg.LUType.IMAGE)
        tsk_stg.upload_lu(self.vios('vios1'), image, io.BytesIO(data),
                          len(data))
        tsk_stg.crt_lu(self.tier, 'clone', 2, typ=pvm_stg.LUType.DISK,
                       clone=image)
        lu = self._lu('clone')
        lu.set_float_gb_value('UnitCapacity', 5)
        lu.update()
        lu = self._lu('clone')
        self.assertEqual(5, lu.capacity)
        self.assertEqual(5 * 1024 ** 3, self.sim.files.size(lu.udid))
        # Still a linked clone of its image's bytes.
        self.assertEqual(data, b''.join(self.sim.files.read_chunks(
            lu.udid, len(data))))
        lu.set_float_gb_value('UnitCapacity', 4)
        err = self.assertRaises(pvm_exc.HttpError, lu.update)
        self.assertEqual(409, err.response.status)
        self.assertIn('cannot shrink', err.response.body)
        self.assertEqual(5, self._lu('clone').capacity)

    def test_thick_lu_grows_within_the_free_space(self):
        tsk_stg.crt_lu(self.tier, 'thick', 10, thin=False,
                       typ=pvm_stg.LUType.DISK)
        lu = self._lu('thick')
        free = self.ssp.refresh().free_space
        lu.set_float_gb_value('UnitCapacity', 10 + free + 1)
        err = self.assertRaises(pvm_exc.HttpError, lu.update)
        self.assertEqual(409, err.response.status)
        self.assertEqual(10, self._lu('thick').capacity)


class TestSharedPool(base.SimTestCase):
    """Two hosts that share one pool directory serve one cluster."""

    def setUp(self):
        tests_base.TestCase.setUp(self)
        pool_dir = self.useFixture(fixtures.TempDir()).path
        self.fx1 = self.useFixture(pvm_fx.SimulatorFixture(
            port=12081, pool_dir=pool_dir,
            inventory=inventory.Inventory(system_name='host1',
                                          mtms='9009-42A*0000001')))
        self.fx2 = self.useFixture(pvm_fx.SimulatorFixture(
            port=12082, pool_dir=pool_dir,
            inventory=inventory.Inventory(system_name='host2',
                                          mtms='9009-42A*0000002')))

    def _tier(self, fx):
        clust = pvm_clust.Cluster.get(fx.adapter)[0]
        ssp = pvm_stg.SSP.get_by_href(fx.adapter, clust.ssp_uri)
        return clust, ssp, tsk_stg.default_tier_for_ssp(ssp)

    def test_one_pool_two_hosts(self):
        clust1, ssp1, tier1 = self._tier(self.fx1)
        clust2, ssp2, tier2 = self._tier(self.fx2)
        self.assertEqual(ssp1.uuid, ssp2.uuid)
        self.assertEqual(4, len(clust1.nodes))
        vioses1 = {v['uuid'] for v in self.fx1.state()['vioses']}
        vioses2 = {v['uuid'] for v in self.fx2.state()['vioses']}
        self.assertEqual(vioses1 | vioses2,
                         {n.vios_uuid for n in clust2.nodes})
        self.assertTrue(all(self.fx2.sim.sys_uuid in n.vios_uri
                            for n in clust2.nodes
                            if n.vios_uuid in vioses2))
        # An LU made through host1 is host2's to map and to see in use.
        data = os.urandom(4096)
        _t, image = tsk_stg.crt_lu(tier1, 'img', 1, typ=pvm_stg.LUType.IMAGE)
        tsk_stg.upload_lu(sorted(vioses1)[0], image, io.BytesIO(data),
                          len(data))
        _t, disk = tsk_stg.crt_lu(tier2, 'boot', 1, typ=pvm_stg.LUType.DISK,
                                  clone=image)
        self.assertEqual({'img', 'boot'}, {
            lu.name for lu in pvm_stg.LUEnt.get(self.fx1.adapter,
                                                parent=tier1)})
        self.assertEqual(data, b''.join(
            self.fx1.sim.files.read_chunks(disk.udid, len(data))))
        lpar = self.make_lpar_on(self.fx2)
        vios2 = sorted(vioses2)[0]
        tsk_map.add_vscsi_mapping(self.fx2.sim.sys_uuid, vios2, lpar.uuid,
                                  disk)
        lus = {lu.name: lu for lu in pvm_stg.LUEnt.get(self.fx1.adapter,
                                                       parent=tier1)}
        self.assertTrue(lus['boot'].in_use)
        self.assertRaises(pvm_exc.HttpError, lus['boot'].delete)

    def make_lpar_on(self, fx):
        self.fx, self.adpt = fx, fx.adapter
        return self.make_lpar()

    def test_pool_saved_with_its_hosts(self):
        _c, _s, tier1 = self._tier(self.fx1)
        tsk_stg.crt_lu(tier1, 'keep', 1, typ=pvm_stg.LUType.DISK)
        self.fx1.sim.save()
        # What a restarted process would load from the pool directory.
        again = sim_pool.SharedPool(self.fx1.sim.pool.root)
        self.assertEqual(['keep'], [
            xmlutil.text(o.elem, 'UnitName')
            for o in again.store.all('LogicalUnit')])
        self.assertEqual(1, len(again.store.all('Cluster')))
