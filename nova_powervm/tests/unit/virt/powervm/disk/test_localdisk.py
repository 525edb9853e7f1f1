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
"""The localdisk adapter on the simulator."""

import os

import fixtures
from nova import exception as nova_exc

from nova_powervm import conf as pvm_conf
from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.virt.powervm import disk
from nova_powervm.virt.powervm.disk import localdisk


class TestLocalStorage(flowbase.FlowTestCase):

    def dvr(self):
        return self.hctx.disk_dvr

    def test_found_vg_and_capabilities(self):
        self.assertIsInstance(self.dvr(), localdisk.LocalStorage)
        vios1 = [v for v in self.sim.state()['vioses']
                 if v['name'] == 'vios1'][0]
        self.assertEqual([vios1['uuid'].upper()],
                         [u.upper() for u in self.dvr().vios_uuids])
        self.assertTrue(self.dvr().capabilities['has_imagecache'])
        self.assertFalse(self.dvr().capabilities['shared_storage'])
        # vios1 is not the management partition: a snapshot maps the
        # disk to it for the read.
        self.assertTrue(self.dvr().capabilities['snapshot'])

    def test_disk_usage(self):
        total, used = self.dvr().disk_usage()
        self.assertEqual(500.0, total)
        self.assertEqual(0.0, used)
        self.dvr().create_disk_from_image(self.ctx, self.instance(root_gb=5),
                                          self.image_meta)
        self.assertEqual(6.0, self.dvr().capacity_used)

    def test_missing_or_unknown_vg(self):
        self.flags(volume_group_name='', group='powervm')
        self.assertRaises(nova_exc.InvalidInput, disk.get_disk_adapter,
                          self.adapter, self.hctx.host_uuid,
                          self.hctx.mgmt_uuid)
        self.flags(volume_group_name='nosuchvg', group='powervm')
        self.assertRaises(nova_exc.InvalidInput, disk.get_disk_adapter,
                          self.adapter, self.hctx.host_uuid,
                          self.hctx.mgmt_uuid)

    def test_every_disk_driver_choice_has_an_adapter(self):
        # [powervm] disk_driver offers exactly the adapters that exist.
        opt = [o for o in pvm_conf.powervm.ALL_OPTS
               if o.name == 'disk_driver'][0]
        self.assertEqual(sorted(disk.ADAPTERS), sorted(opt.type.choices))

    def test_create_uncached_then_cached(self):
        inst = self.instance()
        (vd, cached), calls = self.count_rest(
            self.dvr().create_disk_from_image, self.ctx, inst,
            self.image_meta)
        # GET VG, POST VG (cache disk), File PUT/PUT/DELETE, POST VG (copy)
        self.assertEqual(6, calls)
        img_name = self.dvr().image_name(self.image_meta.id)
        self.assertEqual(img_name, cached.name)
        self.assertEqual(self.dvr().boot_disk_name(inst), vd.name)
        n = len(self.IMAGE_BYTES)
        self.assertEqual(self.IMAGE_BYTES, self.disk_bytes(img_name, n))
        self.assertEqual(self.IMAGE_BYTES, self.disk_bytes(vd.name, n))
        other = self.instance()
        (vd2, cached2), calls = self.count_rest(
            self.dvr().create_disk_from_image, self.ctx, other,
            self.image_meta)
        self.assertEqual(2, calls)
        self.assertIsNone(cached2)
        self.assertEqual(self.IMAGE_BYTES, self.disk_bytes(vd2.name, n))

    def test_delete_disks(self):
        vd, cached = self.dvr().create_disk_from_image(
            self.ctx, self.instance(), self.image_meta)
        self.assertEqual([vd.name], self.dvr().delete_disks([vd]))
        self.assertEqual([cached.name], self.vdisk_names())
        self.assertEqual([], self.dvr().delete_disks([vd]))
        self.assertEqual([], self.dvr().delete_disks([]))

    def test_is_instance_disk(self):
        inst = self.instance()
        vd, cached = self.dvr().create_disk_from_image(
            self.ctx, inst, self.image_meta)
        self.assertTrue(self.dvr().is_instance_disk(vd, inst))
        self.assertFalse(self.dvr().is_instance_disk(cached, inst))
        self.assertFalse(self.dvr().is_instance_disk(vd, self.instance()))

    def test_manage_image_cache(self):
        inst = self.instance()
        self.dvr().create_disk_from_image(self.ctx, inst, self.image_meta)
        unused = self.new_image(b'other')
        self.dvr().create_disk_from_image(self.ctx, self.instance(), unused)
        self.flags(remove_unused_base_images=False, group='image_cache')
        self.assertEqual([], self.dvr().manage_image_cache(self.ctx, [inst]))
        self.flags(remove_unused_base_images=True, group='image_cache')
        self.assertEqual([self.dvr().image_name(unused.id)],
                         self.dvr().manage_image_cache(self.ctx, [inst]))
        self.assertIn(self.dvr().image_name(self.image_meta.id),
                      self.vdisk_names())

    def test_disk_size_at_least_image(self):
        inst = self.instance(root_gb=0)
        big = flowbase.objects.ImageMeta.from_dict(
            {'id': self.image_meta.id, 'size': 3 * 1024 ** 3 + 1})
        self.assertEqual(4, self.dvr().disk_size_gb(inst, big))
        self.assertEqual(1, self.dvr().disk_size_gb(
            inst, flowbase.objects.ImageMeta.from_dict({})))


class TestUploadOverHTTP(flowbase.FlowTestCase):
    """The image goes through a real HTTP server as a chunked upload."""

    sim_kwargs = {'mode': 'server', 'port': 0}
    IMAGE_BYTES = bytes(range(256)) * 8192 + b'tail'

    def test_bytes_read_back(self):
        dvr = self.hctx.disk_dvr
        vd, cached = dvr.create_disk_from_image(self.ctx, self.instance(),
                                                self.image_meta)
        n = len(self.IMAGE_BYTES)
        self.assertEqual(self.IMAGE_BYTES, self.disk_bytes(cached.name, n))
        self.assertEqual(self.IMAGE_BYTES, self.disk_bytes(vd.name, n))

    def test_random_bytes_identical_in_the_file_store(self):
        # Not a multiple of the upload chunk nor of Glance's pieces.
        data = os.urandom(5 * 1024 * 1024 + 4097)
        meta = self.new_image(data)
        dvr = self.hctx.disk_dvr
        _vd, cached = dvr.create_disk_from_image(self.ctx, self.instance(),
                                                 meta)
        self.assertEqual(data, self.disk_bytes(cached.name, len(data)))
        self.assertEqual([], self.sim.state()['files'])

    def test_download_failing_midway_leaves_no_file_and_no_disk(self):
        meta = self.new_image(os.urandom(4 * 1024 * 1024))

        class Failing:
            """Glance dying after 2 MiB of the image (64 KiB pieces)."""

            def download(self, context, image_id, data=None, **kwargs):
                for _piece in range(32):
                    data.write(os.urandom(64 * 1024))
                raise nova_exc.ImageNotFound(image_id=image_id)

        self.useFixture(fixtures.MonkeyPatch(
            'nova_powervm.virt.powervm.image._API', Failing()))
        disk_dir = os.path.dirname(self.sim.sim.files.disk_path('x'))
        before_files = sorted(os.listdir(disk_dir))
        before = self.vdisk_names()
        self.assertRaises(nova_exc.NovaException,
                          self.hctx.disk_dvr.create_disk_from_image,
                          self.ctx, self.instance(), meta)
        self.assertEqual(before, self.vdisk_names())
        self.assertEqual([], self.sim.state()['files'])
        self.assertEqual(before_files, sorted(os.listdir(disk_dir)))
