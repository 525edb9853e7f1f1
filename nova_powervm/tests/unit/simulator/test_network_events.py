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
"""CNAs, vswitches, the event feed and the VNC host shim."""

import socket
import threading

from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import cna as tsk_cna
from pypowervm.tasks import power
from pypowervm.wrappers import event as pvm_evt
from pypowervm.wrappers import network as pvm_net
import requests

from nova_powervm.tests.unit.simulator import base


class TestNetwork(base.SimTestCase):

    def test_vswitches(self):
        names = [v.name for v in pvm_net.VSwitch.get(
            self.adpt, parent=self.host())]
        self.assertEqual(['ETHERNET0', 'MGMTSWITCH', 'NovaLinkVEABridge'],
                         names)

    def test_crt_cna_and_delete(self):
        lpar = self.make_lpar()
        cna = tsk_cna.crt_cna(self.adpt, None, lpar.uuid, 100,
                              mac_addr='fa:16:3e:00:00:01')
        self.assertEqual('FA163E000001', cna.mac)
        self.assertEqual(100, cna.pvid)
        cnas = self.fx.state()['cnas']
        self.assertEqual([{'lpar_uuid': lpar.uuid, 'mac': 'FA163E000001',
                           'vlan': 100, 'vswitch': 'ETHERNET0', 'slot': 3}],
                         [{k: c[k] for k in ('lpar_uuid', 'mac', 'vlan',
                                             'vswitch', 'slot')}
                          for c in cnas])
        second = tsk_cna.crt_cna(self.adpt, None, lpar.uuid, 4094,
                                 vswitch='MGMTSWITCH')
        self.assertEqual(4, second.slot)
        # Slots stop at the partition's MaximumVirtualIOSlots.
        lpar.io_config.max_virtual_slots = 5
        lpar = lpar.update()
        exc = self.assertRaises(pvm_exc.HttpError, tsk_cna.crt_cna,
                                self.adpt, None, lpar.uuid, 7)
        self.assertEqual(409, exc.response.status)
        listed = pvm_net.CNA.get(self.adpt, parent=lpar)
        self.assertEqual(2, len(listed))
        listed[0].delete()
        self.assertEqual(1, len(self.fx.state()['cnas']))


class TestEvents(base.SimTestCase):

    def _poll(self, appid):
        resp = self.adpt.read(
            'Event?QUEUE_CLIENTKEY_METHOD=USE_APPLICATIONID&'
            'QUEUE_APPLICATIONID=%s' % appid)
        return [(e.etype, e.data, e.detail)
                for e in pvm_evt.Event.wrap(resp)]

    def test_new_client_then_power_events(self):
        self.assertEqual('NEW_CLIENT', self._poll('app1')[0][0])
        lpar = self.make_lpar()
        power.power_on(lpar, None)
        evts = self._poll('app1')
        self.assertEqual('ADD_URI', evts[0][0])
        self.assertTrue(evts[0][1].endswith('LogicalPartition/' + lpar.uuid))
        states = [e for e in evts if e[2] == 'PartitionState']
        self.assertEqual(2, len(states))
        self.assertEqual('MODIFY_URI', states[0][0])

    def test_out_of_band_stop_passes_through_shutting_down(self):
        lpar = self.make_lpar()
        power.power_on(lpar, None)
        self._poll('oob')
        self._poll('oob')
        resp = requests.post(
            'http://localhost:12080/sim/lpar/%s/state' % lpar.uuid,
            json={'state': 'not activated'}, timeout=10)
        self.assertEqual(200, resp.status_code, resp.text)
        evts = [e for e in self._poll('oob') if e[2] == 'PartitionState']
        self.assertEqual(2, len(evts))
        self.assertEqual('not activated', self.lpar_state(lpar.uuid)['state'])

    def test_poll_blocks_until_event(self):
        self._poll('app2')
        self.sim.events.timeout = 5
        got = []
        thr = threading.Thread(target=lambda: got.append(
            self._poll('app2')))
        thr.start()
        thr.join(0.3)
        self.assertTrue(thr.is_alive())
        self.make_lpar()
        thr.join(5)
        self.assertEqual('ADD_URI', got[0][0][0])

    def test_custom_event_rebroadcast(self):
        self._poll('app3')
        evt = pvm_evt.Event.bld(self.adpt, 'http://x/CNA/1',
                                '{"provider": "NOVA_PVM_VIF"}')
        evt.create()
        evts = self._poll('app3')
        self.assertEqual([('CUSTOM_CLIENT_EVENT', 'http://x/CNA/1',
                           '{"provider": "NOVA_PVM_VIF"}')], evts)

    def test_event_listener(self):
        listener = self.adpt.session.get_event_listener()
        self.assertIsNotNone(listener)


class TestVterm(base.SimTestCase):

    def test_rfb_handshake(self):
        lpar = self.make_lpar()
        port = self.sim.vterms.open(lpar.uuid, 'inst-1')
        self.addCleanup(self.sim.vterms.close, lpar.uuid)
        conn = socket.create_connection(('127.0.0.1', port), timeout=5)
        self.addCleanup(conn.close)
        self.assertEqual(b'RFB 003.008\n', conn.recv(12))
        conn.sendall(b'RFB 003.008\n')
        self.assertEqual(b'\x01\x01', conn.recv(2))
        conn.sendall(b'\x01')
        self.assertEqual(b'\x00\x00\x00\x00', conn.recv(4))
        conn.sendall(b'\x01')
        init = conn.recv(1024)
        self.assertEqual(b'\x02\x80\x01\xe0', init[:4])

    def test_close_ends_connected_sessions(self):
        lpar = self.make_lpar()
        port = self.sim.vterms.open(lpar.uuid, 'inst-1')
        conn = socket.create_connection(('127.0.0.1', port), timeout=5)
        self.addCleanup(conn.close)
        self.assertEqual(b'RFB 003.008\n', conn.recv(12))
        self.assertTrue(self.sim.vterms.close(lpar.uuid))
        # rmvterm ends the session: the client sees EOF at once, not after
        # the listener's idle timeout.
        conn.settimeout(2)
        self.assertEqual(b'', conn.recv(12))
