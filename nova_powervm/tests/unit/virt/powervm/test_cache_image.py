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
"""Image pre-caching (nova's aggregate ``cache-images``) on localdisk."""

import io

from nova import exception as nova_exc
from nova import objects
from nova.tests import fixtures as nova_fixtures
from oslo_utils import uuidutils

from nova_powervm.tests.unit.virt.powervm import test_driver


class TestCacheImage(test_driver.DriverTestCase):

    DATA = (b'pre-cached-' * 100000)[:1024 * 1024 + 5]

    def setUp(self):
        super().setUp()
        self.glance = self.useFixture(nova_fixtures.GlanceFixture(self))
        self.image_id = self.new_image('raw')

    def new_image(self, disk_format):
        meta = {'id': uuidutils.generate_uuid(), 'name': 'img',
                'size': len(self.DATA), 'disk_format': disk_format,
                'container_format': 'bare', 'status': 'active'}
        return self.glance.create(self.ctx, meta,
                                  data=io.BytesIO(self.DATA))['id']

    def cache_disks(self):
        return [vd for vd in self.sim.state()['virtual_disks']
                if vd['name'].startswith('i_')]

    def test_cache_then_existing(self):
        cached, calls = self.count_rest(self.drv.cache_image, self.ctx,
                                        self.image_id)
        self.assertTrue(cached)
        # GET VG, POST VG, PUT File, PUT contents, DELETE File.
        self.assertEqual(5, calls)
        disks = self.cache_disks()
        self.assertEqual(['i_' + self.image_id.replace('-', '')[:13]],
                         [vd['name'] for vd in disks])
        with open(self.sim.sim.files.disk_path(disks[0]['udid']),
                  'rb') as fil:
            self.assertEqual(self.DATA, fil.read(len(self.DATA)))
        cached, calls = self.count_rest(self.drv.cache_image, self.ctx,
                                        self.image_id)
        self.assertFalse(cached)
        self.assertEqual(1, calls)

    def test_first_boot_uses_the_cached_image(self):
        self.drv.cache_image(self.ctx, self.image_id)
        meta = objects.ImageMeta.from_dict(
            self.glance.show(self.ctx, self.image_id))
        inst = self.instance()
        _, calls = self.count_rest(
            self.drv._ctx.disk_dvr.create_disk_from_image, self.ctx, inst,
            meta)
        # GET and POST of the VG: no upload.
        self.assertEqual(2, calls)

    def test_cache_pass_keeps_a_fresh_pre_cached_image(self):
        self.drv.cache_image(self.ctx, self.image_id)
        self.drv.manage_image_cache(self.ctx, [])
        self.assertEqual(1, len(self.cache_disks()))
        self.flags(remove_unused_original_minimum_age_seconds=0,
                   group='image_cache')
        self.drv.manage_image_cache(self.ctx, [])
        self.assertEqual([], self.cache_disks())

    def test_other_formats_refused(self):
        qcow = self.new_image('qcow2')
        self.sim.reset_stats()
        err = self.assertRaises(nova_exc.ImageUnacceptable,
                                self.drv.cache_image, self.ctx, qcow)
        self.assertIn('qcow2', str(err))
        self.assertEqual(0, self.sim.stats()['total'])
        self.assertEqual([], self.cache_disks())

    def test_missing_image(self):
        self.assertRaises(nova_exc.ImageNotFound, self.drv.cache_image,
                          self.ctx, uuidutils.generate_uuid())
        self.assertEqual([], self.cache_disks())
