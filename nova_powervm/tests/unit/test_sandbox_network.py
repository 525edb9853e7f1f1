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
"""The sandbox's --vif-type: CLI flag, ML2 binding details, Cloud check."""

import io

import fixtures
from neutron_lib.plugins.ml2 import api

from nova_powervm.sandbox import cli
from nova_powervm.sandbox import cloud
from nova_powervm.sandbox import ml2
from nova_powervm.sandbox import network
from nova_powervm.tests import base

SEGMENT = {api.ID: 'seg', api.NETWORK_TYPE: 'vlan',
           api.PHYSICAL_NETWORK: 'physnet1', api.SEGMENTATION_ID: 101}


class TestVifTypeFlag(base.TestCase):

    def test_default_and_choices(self):
        self.assertEqual('pvm_sea', cli.parse_args([]).vif_type)
        for vif_type in ('pvm_sea', 'ovs', 'pvm_sriov'):
            self.assertEqual(vif_type, cli.parse_args(
                ['--vif-type', vif_type]).vif_type)
        err = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        self.assertRaises(SystemExit, cli.parse_args,
                          ['--vif-type', 'vhostuser'])
        self.assertIn('vhostuser', err.getvalue())

    def test_cloud_refuses_unknown_type(self):
        error = self.assertRaises(ValueError, cloud.Cloud,
                                  vif_type='vhostuser')
        self.assertIn('pvm_sriov', str(error))
        self.assertEqual('ovs', cloud.Cloud(vif_type='ovs').vif_type)
        # nova's fake driver binds as it always did.
        self.assertIsNone(cloud.Cloud(driver='fake',
                                      vif_type='ovs').vif_type)

    def test_fixture_bindings_cover_the_flag(self):
        self.assertEqual({'pvm_sea', 'ovs', 'pvm_sriov'},
                         set(network.VIF_TYPE_BINDING))
        for vif_type, binding in network.VIF_TYPE_BINDING.items():
            self.assertEqual(vif_type, binding['vif_type'])
            self.assertEqual(100, binding['vif_details']['vlan'])


class TestMl2Details(base.TestCase):

    def test_details_per_type(self):
        self.assertEqual({'vlan': 101, 'physical_network': 'physnet1'},
                         ml2.binding_details('pvm_sea', SEGMENT))
        self.assertEqual({'vlan': 101, 'physical_network': 'physnet1',
                          'bridge_name': 'br-int', 'port_filter': True},
                         ml2.binding_details('ovs', SEGMENT))
        self.assertEqual({'vlan': 101, 'physical_network': 'physnet1'},
                         ml2.binding_details('pvm_sriov', SEGMENT))

    def test_sriov_binds_direct_ports_too(self):
        self.assertIn('direct', ml2.VNIC_TYPES['pvm_sriov'])
        self.assertNotIn('ovs', ml2.VNIC_TYPES)
