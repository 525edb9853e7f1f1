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

from pypowervm.tasks import cluster_ssp
from pypowervm.tasks import scsi_mapper as tsk_map
from pypowervm.tasks import storage as tsk_stg
from pypowervm.wrappers import cluster as pvm_clust
from pypowervm.wrappers import storage as pvm_stg

from nova_powervm.simulator import fixture as pvm_fx
from nova_powervm.simulator import inventory
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
        with open(self.sim.files.disk_path(disk.udid), 'rb') as fil:
            self.assertEqual(data, fil.read(len(data)))
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
        tsk_stg.crt_lu(self.tier, 'x', 10, typ=pvm_stg.LUType.DISK)
        ssp = self.ssp.refresh()
        self.assertAlmostEqual(ssp.capacity - 10, ssp.free_space)
        self.assertEqual(1, len(ssp.logical_units))
