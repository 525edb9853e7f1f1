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
"""The volume steps of a live migration, on one simulated host.

The destination's ``pre_live_migration`` (discovery without mappings, and
its revert at each failing step), the rollback there (nova's detach of a
partition that is not on the host) and the source's removal of unmapped
hdisks, with their REST cost.
"""

from nova import exception as nova_exc

from nova_powervm.simulator.resources import lpm_storage
from nova_powervm.simulator import xmlutil as xu
from nova_powervm.tests.unit.virt.powervm import test_volumes
from nova_powervm.virt.powervm import lpm_volumes
from nova_powervm.virt.powervm.volume import vscsi


def _bdi(*infos):
    return {'block_device_mapping': [
        {'connection_info': info, 'mount_device': '/dev/sd%s' % chr(98 + i),
         'boot_index': None} for i, info in enumerate(infos)]}


class TestPreLiveMigration(test_volumes.VolumeTestCase):

    def test_discovers_without_mapping_then_rollback_detach(self):
        inst = self.instance()
        fc_info = self.volume('vol-fc')
        iscsi_info = self.volume('vol-iscsi', protocol='iscsi')
        self.drv.get_volume_connector(inst)  # learned once per host
        _res, calls = self.count_rest(
            self.drv.pre_live_migration, self.ctx, inst,
            _bdi(fc_info, iscsi_info), [], None, 'data')
        # Per volume, one discovery job (3) on each of the 2 VIOSes.
        self.assertEqual(2 * 2 * 3, calls)
        self.assertEqual(2, len(self.hdisks(fc_info)))
        self.assertEqual(2, len(self.hdisks(iscsi_info)))
        self.assertEqual(2, len(self.sessions()))
        self.assertEqual([], self.volume_maps())
        for info in (fc_info, iscsi_info):
            self.assertEqual(self.san.lun(info['data']['volume_id'])['udid'],
                             info['data'][vscsi.UDID_KEY])
        # The migration fails: nova detaches each volume here, where the
        # partition never came; what the discovery made goes.
        _res, calls = self.count_rest(self.detach, fc_info, inst)
        self.assertEqual([], self.hdisks(fc_info))
        # 1 GET partition (absent), 1 GET VIOSes, RemoveDevice (3) x 2.
        self.assertEqual(1 + 1 + 2 * 3, calls)
        self.detach(iscsi_info, inst)
        self.assertEqual([], self.hdisks(iscsi_info))
        self.assertEqual([], self.sessions())

    def test_a_failure_at_each_discovery_removes_what_was_found(self):
        inst = self.instance()
        fc_info = self.volume('vol-fc')
        iscsi_info = self.volume('vol-iscsi', protocol='iscsi')
        self.drv.get_volume_connector(inst)
        # The first volume on no VIOS, on one VIOS only (one path is
        # enough: the second volume then fails), the second on none.
        for fault in (dict(job='LUARecovery', count=20),
                      dict(job='LUARecovery', count=20, skip=1),
                      dict(job='ISCSIDiscovery', count=20)):
            self.sim.add_fault(kind='job_fail', **fault)
            if fault.get('skip'):
                self.sim.add_fault(kind='job_fail', job='ISCSIDiscovery',
                                   count=20)
            self.assertRaises(
                nova_exc.VolumeAttachFailed, self.drv.pre_live_migration,
                self.ctx, inst, _bdi(fc_info, iscsi_info), [], None, 'data')
            self.sim.clear_faults()
            self.assertEqual([], self.hdisks(fc_info), fault)
            self.assertEqual([], self.hdisks(iscsi_info), fault)
            self.assertEqual([], self.sessions(), fault)
        # And then it works.
        self.drv.pre_live_migration(self.ctx, inst, _bdi(fc_info), [],
                                    None, 'data')
        self.assertEqual(2, len(self.hdisks(fc_info)))


class TestReleaseUnmapped(test_volumes.VolumeTestCase):

    def test_mapped_hdisks_stay_unmapped_ones_go(self):
        inst = self.lpar_instance()
        info = self.volume('vol-1')
        self.attach(info, inst)
        before = self.hdisks(info)
        self.assertEqual(2, len(before))
        # Still mapped to the partition: nothing to remove (1 GET).
        removed, calls = self.count_rest(lpm_volumes.release_unmapped,
                                         self.drv._host_ctx(), inst, [info])
        self.assertEqual(([], 1), (removed, calls))
        self.assertEqual(before, self.hdisks(info))
        # The partition left (as after the migrate job): its mappings
        # go; the source's post step removes the hdisks, the UDID taken
        # from the destination's saved info when the source's lacks it.
        lpar = [lp for lp in self.sim.sim.store.all('LogicalPartition')
                if xu.text(lp.elem, 'PartitionName') == inst.name][0]
        lpm_storage.remove_source(self.sim.sim, lpar)
        self.drv.destroy(self.ctx, inst, [], None)
        self.assertEqual([], self.volume_maps())
        self.assertEqual(before, self.hdisks(info))
        udid = info['data'].pop(vscsi.UDID_KEY)
        self.assertEqual([], lpm_volumes.release_unmapped(
            self.drv._host_ctx(), inst, [info]))
        self.assertEqual(before, self.hdisks(info))
        removed, calls = self.count_rest(
            lpm_volumes.release_unmapped, self.drv._host_ctx(), inst,
            [info], udids={'vol-1': udid})
        self.assertEqual(2, len(removed))
        self.assertEqual(1 + 2 * 3, calls)
        self.assertEqual([], self.hdisks(info))

    def test_npiv_and_unknown_protocols_are_left_alone(self):
        inst = self.instance()
        removed, calls = self.count_rest(
            lpm_volumes.release_unmapped, self.drv._host_ctx(), inst,
            [{'driver_volume_type': 'nfs', 'data': {}}])
        self.assertEqual(([], 0), (removed, calls))
