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
"""Driver-shaped sequences: scrubs, config-drive cleanup, console keys."""

import io

from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import management_console as tsk_mc
from pypowervm.tasks import partition as pvm_part
from pypowervm.tasks import scsi_mapper as tsk_map
from pypowervm.tasks import storage as tsk_stg
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm.tests.unit.simulator import base


class TestFlows(base.SimTestCase):

    def test_config_drive_create_and_cleanup_by_equality(self):
        lpar = self.make_lpar()
        iso = b'ISO' * 100
        name, _f = tsk_stg.upload_vopt(self.adpt, self.vios('vios1'),
                                       io.BytesIO(iso), 'cfg_x.iso',
                                       len(iso))
        vopt = pvm_stg.VOptMedia.bld_ref(self.adpt, 'cfg_x.iso')
        tsk_map.add_vscsi_mapping(self.host().uuid, self.vios('vios1'),
                                  lpar.uuid, vopt)
        # Loaded media cannot be deleted.
        vg = self.vg('rootvg')
        self.assertRaises(pvm_exc.HttpError, tsk_stg.rm_vg_storage, vg,
                          vopts=list(vg.vmedia_repos[0].optical_media))
        vios_w = pvm_vios.VIOS.get(self.adpt, uuid=self.vios('vios1'),
                                   xag=['ViosSCSIMapping'])
        removed = tsk_map.remove_maps(
            vios_w, lpar.id, match_func=tsk_map.gen_match_func(
                pvm_stg.VOptMedia))
        vios_w.update()
        # The media element taken from the mapping must equal the one in
        # the volume group, or pypowervm silently leaks it.
        tsk_stg.rm_vg_storage(self.vg('rootvg'),
                              vopts=[m.backing_storage for m in removed])
        self.assertEqual([], self.fx.state()['optical_media'])

    def test_comprehensive_scrub_removes_stale_mappings(self):
        lpar = self.make_lpar()
        vdisk = tsk_stg.crt_vdisk(self.adpt, self.vios('vios1'),
                                  self.vg('datavg').uuid, 'b_stale', 1)
        tsk_map.add_vscsi_mapping(self.host().uuid, self.vios('vios1'),
                                  lpar.uuid, vdisk)
        lpar.delete()
        self.assertEqual(1, len(self.fx.state()['vioses'][0][
            'scsi_mappings']))
        tsk_stg.ComprehensiveScrub(self.adpt).execute()
        self.assertEqual([], self.fx.state()['vioses'][0]['scsi_mappings'])
        self.assertEqual([], self.fx.state()['virtual_disks'])

    def test_console_keys(self):
        key = tsk_mc.get_public_key(self.adpt)
        self.assertTrue(key.startswith('ssh-rsa'))
        tsk_mc.add_authorized_key(self.adpt, 'ssh-rsa AAAAnew peer')
        self.assertIn('ssh-rsa AAAAnew peer',
                      tsk_mc.get_authorized_keys(self.adpt))

    def test_host_refresh_304_and_mgmt_lookup(self):
        host = pvm_ms.System.get(self.adpt)[0]
        self.fx.reset_stats()
        same = host.refresh()
        self.assertEqual(host.etag, same.etag)
        self.make_lpar(mem=1024)
        fresh = host.refresh()
        self.assertLess(fresh.memory_free, host.memory_free)
        mgmt = pvm_part.get_mgmt_partition(self.adpt)
        self.assertEqual(1, mgmt.id)
        self.assertTrue(mgmt.is_mgmt_partition)
