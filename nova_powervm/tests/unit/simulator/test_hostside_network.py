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
"""The simulator's OVS host endpoints, vNIC capability and DLPAR refusal."""

from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import partition as pvm_par
from pypowervm.wrappers import iocard as pvm_card
from pypowervm.wrappers import network as pvm_net
from pypowervm.wrappers import virtual_io_server as pvm_vios
import requests

from nova_powervm.simulator import fixture as pvm_fx
from nova_powervm.simulator import inventory as sim_inv
from nova_powervm.tests.unit.simulator import base


class HostSideTestCase(base.SimTestCase):

    def admin(self, method, path, body=None):
        flags = self.fx.driver_flags()
        return requests.request(
            method, 'http://%s:%s/sim/%s' % (flags['pvm_host'],
                                             flags['pvm_port'], path),
            json=body, timeout=10)

    def vswitch_href(self, name):
        for vsw in pvm_net.VSwitch.get(self.adpt, parent=self.host()):
            if vsw.name == name:
                return vsw.related_href
        raise KeyError(name)


class TestOvsEndpoints(HostSideTestCase):

    def test_port_needs_a_trunk_device(self):
        resp = self.admin('POST', 'host/ovs', {'bridge': 'br-int',
                                               'name': 'tapnothere'})
        self.assertEqual(409, resp.status_code)
        self.assertIn('tapnothere', resp.text)
        mgmt = pvm_par.get_mgmt_partition(self.adpt)
        href = self.vswitch_href('NovaLinkVEABridge')
        trunk = pvm_net.CNA.bld(self.adpt, 7, href, trunk_pri=1,
                                dev_name='tap123').create(parent=mgmt)
        self.assertEqual('tap123', trunk.dev_name)
        resp = self.admin('POST', 'host/ovs', {
            'bridge': 'br-int', 'name': 'tap123', 'mtu': 9000, 'tag': 5,
            'external_ids': {'iface-id': 'p1'}})
        self.assertEqual(200, resp.status_code)
        self.assertEqual([{'bridge': 'br-int', 'name': 'tap123',
                           'mtu': 9000, 'tag': 5,
                           'external_ids': {'iface-id': 'p1'}}],
                         self.fx.state()['ovs_ports'])
        self.assertEqual({'deleted': True},
                         self.admin('DELETE', 'host/ovs/tap123').json())
        self.assertEqual({'deleted': False},
                         self.admin('DELETE', 'host/ovs/tap123').json())
        self.assertEqual([], self.admin('GET', 'host/ovs').json())

    def test_trunk_without_name_gets_one(self):
        mgmt = pvm_par.get_mgmt_partition(self.adpt)
        href = self.vswitch_href('NovaLinkVEABridge')
        trunk = pvm_net.CNA.bld(self.adpt, 7, href,
                                trunk_pri=1).create(parent=mgmt)
        self.assertTrue(trunk.dev_name.startswith('pvmtrk'))
        # A client adapter of an ordinary partition has no device name.
        lpar = self.make_lpar()
        cna = pvm_net.CNA.bld(self.adpt, 7, href,
                              dev_name='eth9').create(parent=lpar)
        self.assertNotEqual('eth9', cna.dev_name)


class TestDlparNeedsRmc(HostSideTestCase):

    def test_running_partition_without_rmc_refuses_adapters(self):
        lpar = self.make_lpar()
        href = self.vswitch_href('ETHERNET0')
        stopped = pvm_net.CNA.bld(self.adpt, 5, href).create(parent=lpar)
        self.admin('POST', 'lpar/%s/state' % lpar.uuid,
                   {'state': 'running', 'rmc_state': 'inactive'})
        for make in (
                lambda: pvm_net.CNA.bld(self.adpt, 6, href).create(
                    parent=lpar),
                lambda: pvm_card.VNIC.bld(self.adpt, pvid=1, back_devs=[
                    pvm_card.VNICBackDev.bld(self.adpt, self.vios(), 1, 0)
                ]).create(parent=lpar),
                stopped.delete):
            error = self.assertRaises(pvm_exc.HttpError, make)
            self.assertEqual(500, error.response.status)
            self.assertIn('HSCLA246', str(error.response.body))
        self.assertEqual(1, len(self.fx.state()['cnas']))
        self.admin('POST', 'lpar/%s/state' % lpar.uuid,
                   {'state': 'running', 'rmc_state': 'active'})
        pvm_net.CNA.bld(self.adpt, 6, href).create(parent=lpar)
        stopped.delete()
        self.assertEqual([6], [c['vlan'] for c in self.fx.state()['cnas']])


class TestVnicCapability(HostSideTestCase):

    def test_capable_by_default(self):
        sys_w = self.host()
        self.assertTrue(sys_w.get_capability('vnic_capable'))
        self.assertTrue(sys_w.get_capability('vnic_failover_capable'))
        for vios in pvm_vios.VIOS.get(self.adpt):
            self.assertTrue(vios.vnic_capable)
            self.assertTrue(vios.vnic_failover_capable)

    def test_deleting_the_partition_frees_the_ports(self):
        def used():
            return [(p.cfg_lps, round(p.allocated_capacity, 4))
                    for a in self.host().asio_config.sriov_adapters
                    for p in a.phys_ports]
        before = used()
        lpar = self.make_lpar()
        pvm_card.VNIC.bld(self.adpt, pvid=1, back_devs=[
            pvm_card.VNICBackDev.bld(self.adpt, self.vios(), 1, 0,
                                     capacity=0.5)]).create(parent=lpar)
        self.assertNotEqual(before, used())
        # The rest of that port cannot hold another 60%.
        self.assertRaises(pvm_exc.HttpError, pvm_card.VNIC.bld(
            self.adpt, pvid=1, back_devs=[pvm_card.VNICBackDev.bld(
                self.adpt, self.vios(), 1, 0, capacity=0.6)]).create,
            parent=lpar)
        lpar.delete()
        self.assertEqual(before, used())


class TestLogicalPorts(HostSideTestCase):

    def lports(self, vios_uuid):
        return pvm_card.SRIOVEthLPort.get(
            self.adpt, parent_type=pvm_vios.VIOS, parent_uuid=vios_uuid)

    def test_vnic_backing_devices_are_vios_logical_ports(self):
        vios1, vios2 = self.vios('vios1'), self.vios('vios2')
        self.assertEqual([], self.lports(vios1))
        lpar = self.make_lpar()
        vnic = pvm_card.VNIC.bld(self.adpt, pvid=33, back_devs=[
            pvm_card.VNICBackDev.bld(self.adpt, vios1, 1, 0, capacity=0.1),
            pvm_card.VNICBackDev.bld(self.adpt, vios2, 2, 0)],
            mac_addr='fa163e000009').create(parent=lpar)
        [lp1], [lp2] = self.lports(vios1), self.lports(vios2)
        self.assertEqual((1, 0, 'FA163E000009', 33),
                         (lp1.sriov_adap_id, lp1.pport_id,
                          lp1.mac.upper(), lp1.pvid))
        self.assertAlmostEqual(0.1, lp1.cfg_capacity)
        self.assertEqual(2, lp2.sriov_adap_id)
        self.assertEqual([lp1.uuid.lower(), lp2.uuid.lower()], [
            b.lport_href.rsplit('/', 1)[1].lower()
            for b in pvm_card.VNIC.get(self.adpt, parent=lpar)[0].back_devs])
        error = self.assertRaises(pvm_exc.HttpError, lp1.delete)
        self.assertEqual(409, error.response.status)
        vnic.delete()
        self.assertEqual([], self.lports(vios1) + self.lports(vios2))


class TestNotVnicCapable(base.SimTestCase):

    def setUp(self):
        super(base.SimTestCase, self).setUp()
        self.fx = self.useFixture(pvm_fx.SimulatorFixture(
            mode=self.mode,
            inventory=sim_inv.Inventory(vnic_capable=False)))
        self.adpt = self.fx.adapter

    def test_capabilities_say_no(self):
        self.assertFalse(self.host().get_capability('vnic_capable'))
        for vios in pvm_vios.VIOS.get(self.adpt):
            self.assertFalse(vios.vnic_capable)
