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
"""Config drive ISO building and optical media on the simulator."""

import io
import json

from nova import test
import pycdlib

from nova_powervm.simulator import inventory as sim_inv
from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.virt.powervm import media


def read_iso(data, path):
    iso = pycdlib.PyCdlib()
    iso.open_fp(io.BytesIO(data))
    out = io.BytesIO()
    iso.get_file_from_iso_fp(out, rr_path=path)
    label = iso.pvd.volume_identifier.decode().strip()
    iso.close()
    return label, out.getvalue()


class TestBuildIso(test.NoDBTestCase):

    def test_names_and_contents(self):
        data = media.build_iso([
            ('openstack/latest/meta_data.json', '{"a": 1}'),
            ('openstack/content/0000', b'\x00\x01'),
            ('ec2/2009-04-04/meta-data.json', '{}')])
        label, got = read_iso(data, '/openstack/latest/meta_data.json')
        self.assertEqual('config-2', label)
        self.assertEqual(b'{"a": 1}', got)
        self.assertEqual(b'\x00\x01',
                         read_iso(data, '/openstack/content/0000')[1])
        self.assertEqual(b'{}',
                         read_iso(data, '/ec2/2009-04-04/meta-data.json')[1])

    def test_vopt_name(self):
        name = media.vopt_name(
            flowbase.objects.Instance(
                uuid='12345678-1234-1234-1234-123456789abc'))
        self.assertEqual('cfg_1234567812341234123412345678.iso', name)
        self.assertLessEqual(len(name), 37)


class TestConfigDrive(flowbase.FlowTestCase):

    def test_metadata_files(self):
        inst = self.instance()
        nwi = flowbase.sea_network_info()
        data = media.config_drive_iso(inst, [('/etc/motd', b'hello')],
                                      'pw', nwi)
        _l, md = read_iso(data, '/openstack/latest/meta_data.json')
        md = json.loads(md)
        self.assertEqual(inst.uuid, md['uuid'])
        self.assertEqual('pw', md['admin_pass'])
        path = md['files'][0]['content_path']
        self.assertEqual(b'hello', read_iso(data, '/openstack' + path)[1])
        _l, net = read_iso(data, '/openstack/latest/network_data.json')
        self.assertEqual(nwi[0]['id'],
                         json.loads(net)['links'][0]['vif_id'])

    def test_mgmt_adapter_link_local(self):
        inst = self.instance()
        data = media.config_drive_iso(inst, [], None, None,
                                      mgmt_mac='FA163E00ABCD')
        _l, net = read_iso(data, '/openstack/latest/network_data.json')
        net = json.loads(net)
        self.assertEqual('fa:16:3e:00:ab:cd',
                         net['links'][0]['ethernet_mac_address'])
        self.assertEqual('fe80::f816:3eff:fe00:abcd',
                         net['networks'][0]['ip_address'])
        self.flags(use_rmc_ipv6_scheme=False, group='powervm')
        data = media.config_drive_iso(inst, [], None, None,
                                      mgmt_mac='FA163E00ABCD')
        _l, net = read_iso(data, '/openstack/latest/network_data.json')
        self.assertEqual([], json.loads(net).get('links', []))

    def test_required(self):
        self.assertTrue(media.required(self.instance()))
        self.assertFalse(media.required(self.instance(config_drive=False)))


class TestRepository(flowbase.FlowTestCase):

    def test_remembered_by_the_disk_adapter(self):
        found, calls = self.count_rest(media.find_repo, self.adapter,
                                       self.hctx.cache)
        self.assertEqual(0, calls)
        vios1 = [v for v in self.sim.state()['vioses']
                 if v['name'] == 'vios1'][0]
        self.assertEqual(vios1['uuid'].upper(), found[0].upper())

    def test_found_when_forgotten(self):
        self.hctx.cache.forget_repo()
        found, calls = self.count_rest(media.find_repo, self.adapter,
                                       self.hctx.cache)
        self.assertEqual(2, calls)  # VIOS feed, vios1's VG feed
        self.assertEqual(found, media.find_repo(self.adapter,
                                                self.hctx.cache))

    def test_upload_and_delete(self):
        vios_uuid, _vg = media.find_repo(self.adapter, self.hctx.cache)
        vopt, calls = self.count_rest(media.upload, self.adapter, vios_uuid,
                                      'cfg_test.iso', b'ISO' * 1000)
        self.assertEqual(3, calls)
        self.assertEqual('cfg_test.iso', vopt.name)
        names = [m['name'] for m in self.sim.state()['optical_media']]
        self.assertEqual(['cfg_test.iso'], names)
        self.assertEqual(['cfg_test.iso'], media.delete_media(
            self.adapter, self.hctx.cache, ['cfg_test.iso', 'other']))
        self.assertEqual([], self.sim.state()['optical_media'])
        self.assertEqual([], media.delete_media(
            self.adapter, self.hctx.cache, ['cfg_test.iso']))


class TestNoRepository(flowbase.FlowTestCase):

    sim_kwargs = {'inventory': sim_inv.Inventory(
        volume_groups=[('rootvg', 100, None), ('datavg', 500, None)])}

    def test_created_in_vopt_media_volume_group(self):
        vios_uuid, vg_uuid = media.find_repo(self.adapter,
                                             self.hctx.cache)
        media.upload(self.adapter, vios_uuid, 'cfg_x.iso', b'x' * 2048)
        self.assertEqual([('rootvg', 'cfg_x.iso')],
                         [(m['vg'], m['name'])
                          for m in self.sim.state()['optical_media']])
