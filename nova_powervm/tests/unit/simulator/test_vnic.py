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
"""SR-IOV vNICs through pypowervm's card wrappers."""

from pypowervm import exceptions as pvm_exc
from pypowervm.wrappers import iocard as pvm_card

from nova_powervm.tests.unit.simulator import base


class TestVNIC(base.SimTestCase):

    def test_sriov_ports_labelled(self):
        sys_w = self.host()
        ports = [p for a in sys_w.asio_config.sriov_adapters
                 for p in getattr(a, 'phys_ports', [])]
        self.assertEqual(8, len(ports))
        self.assertEqual({'default'}, set(p.label for p in ports))

    def test_create_and_delete_vnic(self):
        lpar = self.make_lpar()
        back = pvm_card.VNICBackDev.bld(self.adpt, self.vios('vios1'), 1, 0,
                                        capacity=0.02)
        vnic = pvm_card.VNIC.bld(self.adpt, pvid=101, back_devs=[back],
                                 mac_addr='fa163e000002')
        vnic = vnic.create(parent=lpar)
        self.assertEqual('FA163E000002', vnic.mac.upper())
        self.assertEqual(101, vnic.pvid)
        self.assertTrue(vnic.back_devs[0].is_active)
        got = self.fx.state()['vnics']
        self.assertEqual([(lpar.uuid, 101, [[1, 0]])],
                         [(v['lpar_uuid'], v['vlan'], v['backing'])
                          for v in got])
        listed = pvm_card.VNIC.get(self.adpt, parent=lpar)
        self.assertEqual(1, len(listed))
        listed[0].delete()
        self.assertEqual([], self.fx.state()['vnics'])

    def test_bad_port_rejected(self):
        lpar = self.make_lpar()
        back = pvm_card.VNICBackDev.bld(self.adpt, self.vios('vios1'), 9, 0)
        vnic = pvm_card.VNIC.bld(self.adpt, pvid=1, back_devs=[back])
        self.assertRaises(pvm_exc.HttpError, vnic.create, parent=lpar)
        self.assertEqual([], self.fx.state()['vnics'])
