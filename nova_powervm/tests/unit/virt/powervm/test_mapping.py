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
"""The VIOS mapping layer, and that each owner touches only its mappings."""

from pypowervm.tasks import hdisk
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.virt.powervm import flows
from nova_powervm.virt.powervm import mapping
from nova_powervm.virt.powervm import media
from nova_powervm.virt.powervm.tasks import storage as tf_stg
from nova_powervm.virt.powervm import vm


class MappingTestCase(flowbase.FlowTestCase):

    def scsi_mappings(self):
        """``(vios name, lpar uuid, storage type, storage name)`` tuples."""
        return sorted(
            (vios['name'], (m['lpar_uuid'] or '').upper(),
             m['storage_type'], m['storage_name'])
            for vios in self.sim.state()['vioses']
            for m in vios['scsi_mappings'])

    def discover_hdisk(self, lpar_uuid):
        """A SAN disk seen by the VIOS and mapped to the partition.

        Stands for a Cinder volume's mapping, which the disk adapter and
        the config drive must never touch.
        """
        vios_w = pvm_vios.VIOS.get(self.adapter, xag=['ViosStorage'])[0]
        itls = hdisk.build_itls([p.wwpn for p in vios_w.pfc_ports],
                                ['500507680b215660'], 238)
        _status, name, udid = hdisk.discover_hdisk(self.adapter,
                                                   vios_w.uuid, itls)
        mappings = mapping.VIOSMappings(self.adapter, 'map_volume')
        mappings.add_vscsi(vios_w.uuid, lpar_uuid,
                           pvm_stg.PV.bld(self.adapter, name, udid))
        mappings.execute()
        return name


class TestVIOSMappings(MappingTestCase):

    def setUp(self):
        super().setUp()
        self.inst = self.instance()
        self.lpar_w = vm.create_lpar(self.adapter, self.host_wrapper(),
                                     self.inst)
        self.vios_uuid = self.hctx.disk_dvr.vios_uuids[0]

    def vdisks(self, *names):
        vg_w = self.hctx.disk_dvr.get_vg()
        for name in names:
            vg_w.virtual_disks.append(pvm_stg.VDisk.bld(self.adapter, name,
                                                        1))
        vg_w = vg_w.update()
        return [vd for vd in vg_w.virtual_disks if vd.name in names]

    def test_nothing_to_do_costs_nothing(self):
        mappings = mapping.VIOSMappings(self.adapter, 'noop')
        removed, calls = self.count_rest(mappings.execute)
        self.assertEqual(([], 0), (removed, calls))

    def test_many_changes_one_read_one_post_per_vios(self):
        disks = self.vdisks('d_one', 'd_two', 'd_three')
        mappings = mapping.VIOSMappings(self.adapter, 'map_three')
        for disk in disks:
            mappings.add_vscsi(self.vios_uuid, self.lpar_w.uuid, disk)
        _r, calls = self.count_rest(mappings.execute)
        self.assertEqual(2, calls, self.sim.stats()['by_pattern'])
        self.assertIn('GET /rest/api/uom/VirtualIOServer',
                      self.sim.stats()['by_pattern'])
        names = [m[3] for m in self.scsi_mappings()]
        self.assertEqual(['d_one', 'd_three', 'd_two'], sorted(names))

    def test_remove_by_name_leaves_the_rest(self):
        disks = self.vdisks('d_keep', 'd_drop')
        mappings = mapping.VIOSMappings(self.adapter, 'map')
        for disk in disks:
            mappings.add_vscsi(self.vios_uuid, self.lpar_w.uuid, disk)
        mappings.execute()
        mappings = mapping.VIOSMappings(self.adapter, 'unmap')
        mappings.remove_vscsi(mapping.storage_named(['d_drop']),
                              lpar_uuid=self.lpar_w.uuid)
        removed = mappings.execute()
        self.assertEqual(['d_drop'], [stg.name for _v, stg in removed])
        self.assertEqual(['d_keep'], [m[3] for m in self.scsi_mappings()])

    def test_storage_named_ignores_the_vg_prefix(self):
        match = mapping.storage_named(['b_1234'])
        self.assertTrue(match(pvm_stg.VDisk.bld(self.adapter, 'b_1234', 1)))
        self.assertFalse(match(None))
        self.assertFalse(match(pvm_stg.VDisk.bld(self.adapter, 'b_12345',
                                                 1)))


class TestOwnersTouchOnlyTheirOwn(MappingTestCase):
    """Spawn and destroy leave a volume's mapping alone."""

    def spawn(self, inst):
        flows.spawn(self.hctx, self.ctx, inst, self.image_meta, [], None,
                    flowbase.sea_network_info(), None, True)

    def test_destroy_keeps_a_volume_mapping_of_the_partition(self):
        inst = self.instance()
        self.spawn(inst)
        lpar_uuid = vm.get_pvm_uuid(inst)
        hdisk_name = self.discover_hdisk(lpar_uuid)
        own = {self.hctx.disk_dvr.boot_disk_name(inst),
               media.vopt_name(inst)}
        self.assertEqual(own | {hdisk_name},
                         {m[3] for m in self.scsi_mappings()})
        # The disk adapter's and the config drive's removals, as destroy
        # runs them, leave the volume mapped.
        tf_stg.disconnect(self.hctx, inst, lpar_uuid)
        self.assertEqual([hdisk_name], [m[3] for m in self.scsi_mappings()])

    def test_connect_maps_on_every_vios_the_adapter_names(self):
        inst = self.instance()
        lpar_w = vm.create_lpar(self.adapter, self.host_wrapper(), inst)
        disk = self.vdisks_for(inst)
        mappings = mapping.VIOSMappings(self.adapter, 'map')
        self.hctx.disk_dvr.connect_disk(mappings, lpar_w.uuid, disk)
        mappings.execute()
        vioses = {m[0] for m in self.scsi_mappings()}
        self.assertEqual(len(self.hctx.disk_dvr.vios_uuids), len(vioses))

    def vdisks_for(self, inst):
        vg_w = self.hctx.disk_dvr.get_vg()
        vg_w.virtual_disks.append(pvm_stg.VDisk.bld(
            self.adapter, self.hctx.disk_dvr.boot_disk_name(inst), 1))
        vg_w = vg_w.update()
        return [vd for vd in vg_w.virtual_disks if self.hctx.disk_dvr
                .is_instance_disk(vd, inst)][0]


class TestOneElementSeveralVIOSes(flowbase.SSPMixin, flowbase.FlowTestCase):
    """One storage element mapped through two VIOSes maps on both."""

    def test_same_element_on_two_vioses(self):
        inst = self.instance()
        lpar_w = vm.create_lpar(self.adapter, self.host_wrapper(), inst)
        dvr = self.hctx.disk_dvr
        self.assertEqual(2, len(dvr.vios_uuids))
        disk, _cached = dvr.create_disk_from_image(self.ctx, inst,
                                                   self.image_meta)
        ref = pvm_stg.LU.bld_ref(self.adapter, disk.name, disk.udid)
        # The updates of the two VIOSes run in parallel; in whatever order
        # they apply the element, each mapping keeps its storage.
        vioses = pvm_vios.VIOS.get(self.adapter, xag=[mapping.SCSI])
        for vios_w in vioses:
            self.assertTrue(mapping._add_vscsi(vios_w, vios_w.uuid,
                                               lpar_w.uuid, ref))
        for vios_w in vioses:
            stgs = [m.backing_storage for m in vios_w.scsi_mappings
                    if m.backing_storage is not None
                    and m.backing_storage.name == disk.name]
            self.assertEqual(1, len(stgs), vios_w.name)
        mappings = mapping.VIOSMappings(self.adapter, 'map_both')
        for vios_uuid in dvr.vios_uuids:
            mappings.add_vscsi(vios_uuid, lpar_w.uuid, ref)
        mappings.execute()
        held = [len([m for m in v['scsi_mappings']
                     if m['storage_name'] == disk.name])
                for v in self.sim.state()['vioses']]
        self.assertEqual([1, 1], held)
