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
"""Fidelity: what the simulator emits keeps the real captures' shape.

For each resource type served, the child elements of the object (and of
its main sub-structures) must appear in the same relative order as in the
real capture it was built from, and every element of the capture must be
present unless listed here as deliberately dropped (HMC-only fields).
"""

import io

from lxml import etree
from pypowervm.tasks import cna as tsk_cna
from pypowervm.tasks import hdisk
from pypowervm.tasks import power
from pypowervm.tasks import scsi_mapper as tsk_map
from pypowervm.tasks import storage as tsk_stg
from pypowervm.tasks import vfc_mapper
from pypowervm.wrappers import iocard as pvm_card
from pypowervm.wrappers import job as pvm_job
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import vios_file as pvm_file
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm.simulator import fixture as pvm_fx
from nova_powervm.simulator import inventory
from nova_powervm.simulator import templates
from nova_powervm.simulator import xmlutil as xu
from nova_powervm.tests import base as tests_base
from nova_powervm.tests.unit.simulator import base

#: capture elements the simulator leaves out on purpose (HMC-only).
DROPPED = {
    'LogicalPartition': {'AssociatedPartitionProfile', 'PartitionProfiles',
                         'ProcessorPool'},
    'ClientNetworkAdapter': {'TaggedVLANIDs', 'TrunkPriority',
                             'ConfiguredMTU', 'OvsBridge',
                             'OvsPortExternalIds'},
}
#: elements the simulator adds that the capture lacks (newer schema).
ADDED = {'LogicalPartition': {'MigrationState', 'PartitionNVRAM'}}


def _tags(elem):
    return [xu.local(c.tag) for c in elem if isinstance(c.tag, str)]


def _dedupe(tags):
    out = []
    for tag in tags:
        if not out or out[-1] != tag:
            out.append(tag)
    return out


class ShapeAssertions(object):
    """Shape comparison helpers (mixed into SimTestCase classes)."""

    def _served(self, path):
        resp = self.adpt.read_by_path(path)
        ent = resp.feed.entries[0] if resp.feed else resp.entry
        return ent.element.element

    def assertSameShape(self, kind, served, capture=None):
        capture = (capture if capture is not None
                   else templates.capture_kind(kind))
        want = _dedupe(_tags(capture))
        got = _dedupe(_tags(served))
        dropped = DROPPED.get(kind, set())
        added = ADDED.get(kind, set())
        self.assertEqual(set(), set(want) - set(got) - dropped,
                         '%s lost elements' % kind)
        self.assertEqual(set(), set(got) - set(want) - added,
                         '%s invented elements' % kind)
        common = [t for t in got if t in want]
        self.assertEqual([t for t in want if t in common], common,
                         '%s element order drifted' % kind)


class TestFidelity(ShapeAssertions, base.SimTestCase):

    def test_managed_system(self):
        self.assertSameShape('ManagedSystem',
                             self._served('/rest/api/uom/ManagedSystem'))
        # group=None hides the Hypervisor group like the real server.
        self.assertIsNone(xu.find(self.host().element.element,
                                  'AssociatedIPLConfiguration'))

    def test_lpar_vios_vg(self):
        lpar = self.make_lpar()
        self.assertSameShape('LogicalPartition', lpar.element.element)
        vios = pvm_vios.VIOS.get(self.adpt, uuid=self.vios('vios1'),
                                 xag=[])
        self.assertSameShape('VirtualIOServer', vios.element.element)
        vg = pvm_stg.VG.get(self.adpt, parent_type=pvm_vios.VIOS,
                            parent_uuid=vios.uuid)[0]
        self.assertSameShape('VolumeGroup', vg.element.element)

    def test_cna_vswitch_vnet_console(self):
        lpar = self.make_lpar()
        cna = tsk_cna.crt_cna(self.adpt, None, lpar.uuid, 100)
        self.assertSameShape('ClientNetworkAdapter', cna.element.element)
        sys_uuid = self.host().uuid
        for kind in ('VirtualSwitch', 'VirtualNetwork'):
            self.assertSameShape(kind, self._served(
                '/rest/api/uom/ManagedSystem/%s/%s' % (sys_uuid, kind)))
        self.assertSameShape('ManagementConsole', self._served(
            '/rest/api/uom/ManagementConsole'))

    def test_scsi_mapping_and_vdisk(self):
        lpar = self.make_lpar()
        vios_uuid = self.vios('vios1')
        vg = self.vg()
        vdisk = tsk_stg.crt_vdisk(self.adpt, vios_uuid, vg.uuid, 'd1', 1)
        tsk_map.add_vscsi_mapping(self.host().uuid, vios_uuid, lpar.uuid,
                                  vdisk)
        vios = pvm_vios.VIOS.get(self.adpt, uuid=vios_uuid,
                                 xag=['ViosSCSIMapping'])
        smap = vios.scsi_mappings[0].element.element
        real = templates.find_in_capture('fake_vios_ssp_npiv.txt',
                                         'VirtualSCSIMapping')
        self.assertSameShape('VirtualSCSIMapping', smap, real)
        for part in ('ClientAdapter', 'ServerAdapter'):
            self.assertSameShape(part, xu.find(smap, part),
                                 xu.find(real, part))
        self.assertSameShape('LogicalVolumeVirtualTargetDevice',
                             xu.find(smap, 'TargetDevice')[0],
                             templates.find_in_capture(
                                 'fake_vios_ssp_npiv.txt',
                                 'LogicalVolumeVirtualTargetDevice'))

    def test_job_response_and_event(self):
        lpar = self.make_lpar()
        power.power_on(lpar, None)
        resp = self.adpt.read('Event?QUEUE_CLIENTKEY_METHOD='
                              'USE_APPLICATIONID&QUEUE_APPLICATIONID=f')
        self.assertSameShape('Event', resp.feed.entries[0].element.element)
        job = self.adpt.read(lpar.schema_type, lpar.uuid,
                             suffix_type='do', suffix_parm='PowerOn')
        self.assertSameShape('JobRequest', job.entry.element.element)

    def test_compact_serialization(self):
        resp = self.adpt.read_by_path('/rest/api/uom/VirtualIOServer')
        self.assertNotIn(b'>\n', resp.body.encode()
                         if isinstance(resp.body, str) else resp.body)
        root = etree.fromstring(resp.body.encode())
        tags = root.findall('{%s}entry/{%s}etag' % (xu.ATOM, xu.UOM))
        self.assertTrue(all(t.text == t.text.strip() for t in tags))

    def test_file_job_response_pv_vopt(self):
        vios_uuid = self.vios('vios1')
        fil = pvm_file.File.bld(self.adpt, 'f1', 'BROKERED_DISK_IMAGE',
                                vios_uuid, f_size=3,
                                tdev_udid='0300aa.1').create()
        self.assertSameShape('File', fil.element.element)
        lpar = self.make_lpar()
        resp = self.adpt.read(lpar.schema_type, lpar.uuid,
                              suffix_type='do', suffix_parm='PowerOn')
        job = pvm_job.Job.wrap(resp.entry)
        job.run_job(lpar.uuid)
        # run_job keeps the JobResponse entry of the PUT reply.
        self.assertEqual('COMPLETED_OK', job.job_status)
        self.assertSameShape('JobResponse', job.entry.element)
        vios_w = pvm_vios.VIOS.get(self.adpt, uuid=vios_uuid,
                                   xag=['ViosStorage'])
        itls = hdisk.build_itls([p.wwpn for p in vios_w.pfc_ports],
                                ['500507680b215660'], 1)
        hdisk.discover_hdisk(self.adpt, vios_uuid, itls)
        vios_w = vios_w.refresh()
        real_pv = templates.find_in_capture('fake_vios_ssp_npiv.txt',
                                            'PhysicalVolume')
        self.assertSameShape('PhysicalVolume',
                             vios_w.phys_vols[0].element.element, real_pv)
        tsk_stg.upload_vopt(self.adpt, vios_uuid, io.BytesIO(b'x'), 'm1', 1)
        vg = self.vg('rootvg')
        self.assertSameShape(
            'VirtualOpticalMedia',
            vg.vmedia_repos[0].optical_media[0].element.element,
            templates.find_in_capture('fake_vios_ssp_npiv.txt',
                                      'VirtualOpticalMedia'))

    def test_vfc_mapping(self):
        lpar = self.make_lpar()
        host_uuid = self.host().uuid
        vioses = pvm_vios.VIOS.get(self.adpt,
                                   xag=['ViosFCMapping', 'ViosStorage'])
        pwwpns = [p.wwpn for v in vioses for p in v.pfc_ports]
        pmaps = vfc_mapper.derive_npiv_map(
            vioses, pwwpns, vfc_mapper.build_wwpn_pair(self.adpt,
                                                       host_uuid))
        vfc_mapper.add_map(vioses[0], host_uuid, lpar.uuid, pmaps[0],
                           error_if_invalid=False)
        vios = [v for v in vioses if v.vfc_mappings][0].update()
        got = vios.vfc_mappings[0].element.element
        real = templates.find_in_capture('fake_vios_ssp_npiv.txt',
                                         'VirtualFibreChannelMapping')
        self.assertSameShape('VirtualFibreChannelMapping', got, real)
        for part in ('ClientAdapter', 'Port', 'ServerAdapter'):
            self.assertSameShape(part, xu.find(got, part),
                                 xu.find(real, part))

    def test_vnic(self):
        lpar = self.make_lpar()
        back = pvm_card.VNICBackDev.bld(self.adpt, self.vios('vios1'), 1, 0)
        vnic = pvm_card.VNIC.bld(self.adpt, pvid=5, back_devs=[back])
        vnic = vnic.create(parent=lpar)
        real = templates.capture_object('vnic_feed.txt')
        self.assertSameShape('VirtualNICDedicated', vnic.element.element,
                             real)
        self.assertSameShape('Details', xu.find(vnic.element.element,
                                                'Details'),
                             xu.find(real, 'Details'))


class TestFidelitySSP(ShapeAssertions, base.SimTestCase):

    def setUp(self):
        tests_base.TestCase.setUp(self)
        self.fx = self.useFixture(pvm_fx.SimulatorFixture(
            inventory=inventory.Inventory(ssp=True)))
        self.adpt = self.fx.adapter

    def test_cluster_ssp_tier_lu(self):
        for kind, cap in (('Cluster', 'cluster.txt'),
                          ('SharedStoragePool', 'ssp.txt'),
                          ('Tier', 'tier.txt')):
            got = self.adpt.read_by_path('/rest/api/uom/' + (
                kind if kind != 'Tier' else 'SharedStoragePool'))
            elem = got.feed.entries[0].element.element
            if kind == 'Tier':
                ssp_uuid = got.feed.entries[0].uuid
                elem = self.adpt.read_by_path(
                    '/rest/api/uom/SharedStoragePool/%s/Tier' % ssp_uuid
                ).feed.entries[0].element.element
            self.assertSameShape(kind, elem,
                                 templates.capture_object(cap))
        tier = pvm_stg.Tier.get(self.adpt, parent_type=pvm_stg.SSP,
                                parent_uuid=ssp_uuid)[0]
        _t, img = tsk_stg.crt_lu(tier, 'img', 1, typ=pvm_stg.LUType.IMAGE)
        _t, lu = tsk_stg.crt_lu(tier, 'disk', 1, clone=img)
        self.assertSameShape('LogicalUnit', lu.element.element,
                             templates.capture_object('lufeed.txt'))


class TestAtomEnvelope(ShapeAssertions, base.SimTestCase):

    def test_entry_and_feed_envelopes(self):
        real = etree.fromstring(templates.read_capture('vswitch_feed.txt'))
        resp = self.adpt.read_by_path('/rest/api/uom/ManagedSystem/%s/'
                                      'VirtualSwitch' % self.host().uuid)
        served = etree.fromstring(resp.body.encode())
        self.assertEqual([t for t in _tags(real) if t != 'entry'],
                         [t for t in _tags(served) if t != 'entry'])
        ent_real = real.find(xu.qn('entry', xu.ATOM))
        ent = served.find(xu.qn('entry', xu.ATOM))
        self.assertEqual(_dedupe(_tags(ent_real)), _dedupe(_tags(ent)))
        self.assertEqual(ent.findtext(xu.qn('id', xu.ATOM)),
                         ent.find(xu.qn('link', xu.ATOM)).get(
                             'href').split('?')[0].rsplit('/', 1)[-1])
