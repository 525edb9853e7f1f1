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
"""SEA VIFs as client network adapters, on the simulator."""

from nova import exception as nova_exc

from nova_powervm.simulator import inventory as sim_inv
from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.tests.unit.virt.powervm import simbase
from nova_powervm.virt.powervm import cache as pvm_cache
from nova_powervm.virt.powervm import vif as pvm_vif
from nova_powervm.virt.powervm import vm


class VifTestCase(simbase.SimTestCase):

    def setUp(self):
        super().setUp()
        self.cache = pvm_cache.HostCache(self.host_wrapper().uuid)
        self.inst = self.instance()
        self.lpar_w = vm.create_lpar(self.adapter, self.host_wrapper(),
                                     self.inst)

    def sea(self, **kwargs):
        return pvm_vif.get_vif(self.adapter, self.cache,
                               flowbase.sea_network_info(**kwargs)[0])

    def cnas(self):
        return sorted((c['mac'], c['vlan'], c['vswitch'])
                      for c in self.sim.state()['cnas'])


class TestSeaVif(VifTestCase):

    def test_plug_creates_cna_with_vlan(self):
        cna, calls = self.count_rest(self.sea(vlan=321).plug, self.lpar_w)
        self.assertEqual('FA163E000001', cna.mac)
        self.assertEqual([('FA163E000001', 321, 'ETHERNET0')], self.cnas())
        self.assertEqual(2, calls)  # switch feed (first time), PUT CNA
        _c, calls = self.count_rest(
            self.sea(mac='fa:16:3e:00:00:02').plug, self.lpar_w)
        self.assertEqual(1, calls)

    def test_plug_existing_mac_does_nothing(self):
        self.sea().plug(self.lpar_w)
        existing = pvm_vif.get_cnas(self.adapter, self.lpar_w.uuid)
        res, calls = self.count_rest(self.sea().plug, self.lpar_w, existing)
        self.assertIsNone(res)
        self.assertEqual(0, calls)

    def test_vlan_from_network_meta(self):
        nwi = flowbase.sea_network_info()
        nwi[0]['details'] = {}
        nwi[0]['network']['meta']['vlan'] = 77
        vif = pvm_vif.get_vif(self.adapter, self.cache, nwi[0])
        self.assertEqual(77, vif.vlan())

    def test_no_vlan(self):
        nwi = flowbase.sea_network_info()
        nwi[0]['details'] = {}
        vif = pvm_vif.get_vif(self.adapter, self.cache, nwi[0])
        self.assertRaises(nova_exc.VirtualInterfacePlugException,
                          vif.plug, self.lpar_w)
        self.assertEqual([], self.cnas())

    def test_unknown_vswitch(self):
        nwi = flowbase.sea_network_info()
        nwi[0]['details']['vswitch'] = 'NOPE'
        vif = pvm_vif.get_vif(self.adapter, self.cache, nwi[0])
        self.assertRaises(nova_exc.VirtualInterfacePlugException,
                          vif.plug, self.lpar_w)

    def test_named_vswitch(self):
        nwi = flowbase.sea_network_info()
        nwi[0]['details']['vswitch'] = 'NovaLinkVEABridge'
        pvm_vif.get_vif(self.adapter, self.cache, nwi[0]).plug(
            self.lpar_w)
        self.assertEqual([('FA163E000001', 100, 'NovaLinkVEABridge')],
                         self.cnas())

    def test_unplug(self):
        sea = self.sea()
        sea.plug(self.lpar_w)
        cnas = pvm_vif.get_cnas(self.adapter, self.lpar_w.uuid)
        self.assertIsNotNone(sea.unplug(cnas))
        self.assertEqual([], self.cnas())
        self.assertIsNone(sea.unplug([]))

    def test_unsupported_type(self):
        nwi = flowbase.sea_network_info()
        nwi[0]['type'] = 'vhostuser'
        self.assertRaises(nova_exc.VirtualInterfacePlugException,
                          pvm_vif.get_vif, self.adapter, self.cache,
                          nwi[0])

    def test_get_cnas_of_missing_lpar(self):
        self.assertEqual([], pvm_vif.get_cnas(
            self.adapter, vm.get_pvm_uuid(self.instance())))

    def test_norm_mac(self):
        self.assertEqual('FA163E0000AB', pvm_vif.norm_mac('fa:16:3e:00:00:ab'))


class TestMgmtVif(VifTestCase):

    def test_created_once(self):
        cna = pvm_vif.plug_mgmt_vif(self.adapter, self.cache,
                                    self.lpar_w)
        self.assertEqual(4094, cna.pvid)
        self.assertEqual([(cna.mac, 4094, 'MGMTSWITCH')], self.cnas())
        existing = pvm_vif.get_cnas(self.adapter, self.lpar_w.uuid)
        self.assertIsNone(pvm_vif.plug_mgmt_vif(
            self.adapter, self.cache, self.lpar_w, existing))
        self.assertEqual(1, len(self.cnas()))


class TestNoMgmtSwitch(VifTestCase):

    sim_kwargs = {'inventory': sim_inv.Inventory(vswitches=['ETHERNET0'])}

    def test_no_switch_no_adapter(self):
        self.assertIsNone(pvm_vif.plug_mgmt_vif(
            self.adapter, self.cache, self.lpar_w))
        self.assertEqual([], self.cnas())
