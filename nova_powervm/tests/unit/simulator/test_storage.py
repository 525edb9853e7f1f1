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
"""Volume groups, uploads, optical media and VSCSI mappings."""

import io
import os

from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import partition as pvm_part
from pypowervm.tasks import scsi_mapper as tsk_map
from pypowervm.tasks import storage as tsk_stg
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import vios_file
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm.tests.unit.simulator import base


class TestStorage(base.SimTestCase):

    def setUp(self):
        super(TestStorage, self).setUp()
        self.vios_uuid = self.vios('vios1')
        vgs = pvm_stg.VG.get(self.adpt, parent_type=pvm_vios.VIOS,
                             parent_uuid=self.vios_uuid)
        self.vgs = {vg.name: vg for vg in vgs}

    def _vdisks(self):
        return {d['name']: d for d in self.fx.state()['virtual_disks']}

    def test_seeded_vgs(self):
        self.assertEqual({'rootvg', 'datavg'}, set(self.vgs))
        repo = self.vgs['rootvg'].vmedia_repos[0]
        self.assertEqual('VMLibrary', repo.name)
        self.assertEqual(500.0, self.vgs['datavg'].capacity)

    def test_crt_vdisk_resize_and_remove(self):
        vg_uuid = self.vgs['datavg'].uuid
        vdisk = tsk_stg.crt_vdisk(self.adpt, self.vios_uuid, vg_uuid,
                                  'b_inst_1', 20)
        self.assertTrue(vdisk.udid.startswith('03'))
        self.assertEqual(20.0, self._vdisks()['b_inst_1']['capacity_gb'])
        vg = pvm_stg.VG.get(self.adpt, uuid=vg_uuid,
                            parent_type=pvm_vios.VIOS,
                            parent_uuid=self.vios_uuid)
        self.assertAlmostEqual(480.0, vg.available_size, places=3)
        vg.virtual_disks[0].capacity = 30
        vg = vg.update()
        self.assertEqual(30.0, self._vdisks()['b_inst_1']['capacity_gb'])
        tsk_stg.rm_vg_storage(vg, vdisks=[vg.virtual_disks[0]])
        self.assertEqual({}, self._vdisks())

    def _disk_files(self):
        return sorted(os.listdir(os.path.join(self.sim.files.root,
                                              'disks')))

    def _datavg(self):
        return pvm_stg.VG.get(self.adpt, uuid=self.vgs['datavg'].uuid,
                              parent_type=pvm_vios.VIOS,
                              parent_uuid=self.vios_uuid)

    def test_refused_vg_update_changes_no_backing_file(self):
        vg_uuid = self.vgs['datavg'].uuid
        keep = tsk_stg.crt_vdisk(self.adpt, self.vios_uuid, vg_uuid,
                                 'b_keep', 10)
        files_before = self._disk_files()
        self.assertEqual(1, len(files_before))
        # One request removing b_keep and adding a disk that does not fit:
        # NovaLink refuses it whole, so b_keep must keep its backing file
        # and the new disk must not get one.
        vg = self._datavg()
        vg.virtual_disks.remove(vg.virtual_disks[0])
        vg.virtual_disks.append(pvm_stg.VDisk.bld(self.adpt, 'b_big',
                                                  10000))
        self.assertRaises(pvm_exc.HttpError, vg.update)
        self.assertEqual(['b_keep'], list(self._vdisks()))
        self.assertEqual(files_before, self._disk_files())
        self.assertTrue(os.path.exists(self.sim.files.disk_path(keep.udid)))

    def test_clone_of_missing_base_creates_nothing(self):
        vg_uuid = self.vgs['datavg'].uuid
        exc = self.assertRaises(
            pvm_exc.HttpError, tsk_stg.crt_copy_vdisk, self.adpt,
            self.vios_uuid, vg_uuid, '03deadbeef.1', 1024, 'b_copy', 1)
        self.assertEqual(400, exc.response.status)
        self.assertEqual({}, self._vdisks())
        self.assertEqual([], self._disk_files())

    def test_upload_copy_and_read_back(self):
        vg_uuid = self.vgs['datavg'].uuid
        data = os.urandom(300000)
        img, _fil = tsk_stg.upload_new_vdisk(
            self.adpt, self.vios_uuid, vg_uuid, io.BytesIO(data),
            'i_image', len(data))
        path = self.sim.files.disk_path(img.udid)
        with open(path, 'rb') as fil:
            self.assertEqual(data, fil.read(len(data)))
        copy = tsk_stg.crt_copy_vdisk(self.adpt, self.vios_uuid, vg_uuid,
                                      img.udid, len(data), 'b_copy', 2)
        with open(self.sim.files.disk_path(copy.udid), 'rb') as fil:
            self.assertEqual(data, fil.read(len(data)))
        self.assertEqual([], self.fx.state()['files'])

    def test_download_streams_uploaded_bytes(self):
        vg_uuid = self.vgs['datavg'].uuid
        vdisk = tsk_stg.crt_vdisk(self.adpt, self.vios_uuid, vg_uuid,
                                  'b_dl', 1)
        data = os.urandom(3 * 1024 * 1024 + 17)
        fil = vios_file.File.bld(
            self.adpt, 'b_dl', vios_file.FileType.DISK_IMAGE,
            self.vios_uuid, f_size=len(data), tdev_udid=vdisk.udid).create()
        self.adpt.upload_file(fil.element, io.BytesIO(data))
        out = io.BytesIO()
        self.adpt.download_file(fil.element, out)
        self.assertEqual(data, out.getvalue())

    def test_upload_vopt(self):
        iso = b'CD001' * 1000
        name, _f = tsk_stg.upload_vopt(self.adpt, self.vios_uuid,
                                       io.BytesIO(iso), 'cfg_inst.iso',
                                       len(iso))
        media = self.fx.state()['optical_media']
        self.assertEqual(['cfg_inst.iso'], [m['name'] for m in media])
        vg = self.vgs['rootvg']
        with open(self.sim.files.media_path(vg, 'cfg_inst.iso'), 'rb') as f:
            self.assertEqual(iso, f.read())

    def test_feed_task_mapping_and_removal(self):
        lpar = self.make_lpar()
        vg_uuid = self.vgs['datavg'].uuid
        vdisk = tsk_stg.crt_vdisk(self.adpt, self.vios_uuid, vg_uuid,
                                  'b_inst_1', 1)
        host_uuid = self.host().uuid
        ftsk = pvm_part.build_active_vio_feed_task(
            self.adpt, xag=['ViosSCSIMapping'])

        def add(vios_w):
            if vios_w.uuid != self.vios_uuid:
                return None
            smap = tsk_map.build_vscsi_mapping(host_uuid, vios_w,
                                               lpar.uuid, vdisk)
            return tsk_map.add_map(vios_w, smap)
        ftsk.add_functor_subtask(add)
        ftsk.execute()
        maps = self.fx.state()['vioses'][0]['scsi_mappings']
        self.assertEqual([{'lpar_uuid': lpar.uuid, 'lpar_id': lpar.id,
                           'storage_type': 'VirtualDisk',
                           'storage_name': 'b_inst_1',
                           'server_adapter': 'vhost0'}], maps)
        vios_w = pvm_vios.VIOS.get(self.adpt, uuid=self.vios_uuid,
                                   xag=['ViosSCSIMapping'])
        found = tsk_map.find_maps(vios_w.scsi_mappings, lpar.uuid)
        self.assertEqual(1, len(found))
        self.assertEqual(self.sim.files.disk_path(vdisk.udid),
                         found[0].server_adapter.backing_dev_name)
        self.assertIsNotNone(found[0].target_dev.lua)
        # A mapped disk cannot be removed.
        vg = pvm_stg.VG.get(self.adpt, uuid=vg_uuid,
                            parent_type=pvm_vios.VIOS,
                            parent_uuid=self.vios_uuid)
        self.assertRaises(pvm_exc.HttpError, tsk_stg.rm_vg_storage, vg,
                          vdisks=[vg.virtual_disks[0]])
        tsk_map.remove_maps(vios_w, lpar.id)
        vios_w.update()
        self.assertEqual([], self.fx.state()['vioses'][0]['scsi_mappings'])

    def test_second_device_clones_adapter(self):
        lpar = self.make_lpar()
        vg_uuid = self.vgs['datavg'].uuid
        host_uuid = self.host().uuid
        for name in ('d1', 'd2'):
            vdisk = tsk_stg.crt_vdisk(self.adpt, self.vios_uuid,
                                      vg_uuid, name, 1)
            tsk_map.add_vscsi_mapping(host_uuid, self.vios_uuid, lpar.uuid,
                                      vdisk)
        maps = self.fx.state()['vioses'][0]['scsi_mappings']
        self.assertEqual(['vhost0', 'vhost0'],
                         [m['server_adapter'] for m in maps])
        vios_w = pvm_vios.VIOS.get(self.adpt, uuid=self.vios_uuid,
                                   xag=['ViosSCSIMapping'])
        luas = sorted(m.target_dev.lua for m in vios_w.scsi_mappings)
        self.assertEqual(2, len(set(luas)))
