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
"""The simulated SAN: admin API, LUA recovery, iSCSI login, extend."""

import base64
import json
import os

import fixtures
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import hdisk
from pypowervm.tasks import scsi_mapper as tsk_map
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm.simulator import core
from nova_powervm.simulator import fixture as pvm_fx
from nova_powervm.simulator import inventory
from nova_powervm.simulator import san as sim_san
from nova_powervm.tests import base as tests_base
from nova_powervm.tests.unit.simulator import base


class SANTestCase(base.SimTestCase):

    def setUp(self):
        super(SANTestCase, self).setUp()
        self.san = self.fx.san_client()

    def vios_w(self, name='vios1'):
        return pvm_vios.VIOS.get(self.adpt, uuid=self.vios(name),
                                 xag=['ViosStorage', 'ViosSCSIMapping'])

    def fc_itls(self, vios_w, doc):
        return hdisk.build_itls([p.wwpn for p in vios_w.pfc_ports],
                                doc['target_wwpns'], doc['target_lun'])

    def pvs(self, udid):
        return [(p['vios'], p['name'], p['capacity_mb'])
                for p in self.fx.state()['physical_volumes']
                if p['udid'] == udid]


class TestAdmin(SANTestCase):

    def test_info_and_lun_lifecycle(self):
        info = self.san.info()
        self.assertEqual(4, len(info['fc_targets']))
        self.assertEqual(['127.0.0.1:3260', '127.0.0.2:3260'],
                         info['iscsi_portals'])
        doc = self.san.create_lun('vol-1', 2)
        self.assertEqual('vol-1', doc['name'])
        self.assertEqual(2, doc['size_gb'])
        self.assertEqual(1, doc['target_lun'])
        self.assertEqual(info['fc_targets'], doc['target_wwpns'])
        self.assertEqual('iqn.2026-12.org.powervm-sim:vol-1',
                         doc['target_iqn'])
        self.assertEqual([], doc['initiators'])
        self.assertIsNone(doc['chap_username'])
        self.assertEqual([], doc['visible_on'])
        self.assertTrue(doc['udid'].startswith('01M0lC'))
        naa = base64.b64decode(doc['udid'][6:]).decode()
        self.assertTrue(naa.startswith('M21451260050768'), naa)
        self.assertEqual(2, self.san.create_lun('vol-2', 1)['target_lun'])
        self.assertEqual(['vol-1', 'vol-2'],
                         [x['name'] for x in self.san.luns()])
        err = self.assertRaises(sim_san.SANError, self.san.create_lun,
                                'vol-1', 1)
        self.assertEqual(409, err.status)
        self.assertEqual(doc, self.san.lun('vol-1'))
        self.assertEqual(3, self.san.resize('vol-1', 3)['size_gb'])
        err = self.assertRaises(sim_san.SANError, self.san.resize,
                                'vol-1', 1)
        self.assertEqual(400, err.status)
        self.san.delete('vol-1')
        err = self.assertRaises(sim_san.SANError, self.san.lun, 'vol-1')
        self.assertEqual(404, err.status)
        err = self.assertRaises(sim_san.SANError, self.san.delete, 'vol-1')
        self.assertEqual(404, err.status)

    def test_export_and_chap_secret_never_shown(self):
        self.san.create_lun('vol-1', 1)
        doc = self.san.export('vol-1', ['21:00:00:24:FF:64:91:04',
                                        'iqn.x:y'],
                              chap={'username': 'u1', 'secret': 's3cr3t!'})
        self.assertEqual(['21000024ff649104', 'iqn.x:y'], doc['initiators'])
        self.assertEqual('u1', doc['chap_username'])
        for text in (json.dumps(self.san.lun('vol-1')),
                     json.dumps(self.san.luns()),
                     json.dumps(self.fx.state())):
            self.assertNotIn('s3cr3t!', text)
        doc = self.san.unexport('vol-1', ['21000024ff649104'])
        self.assertEqual(['iqn.x:y'], doc['initiators'])

    def test_bad_requests(self):
        for body in ({}, {'name': 'x'}, {'name': 'x', 'size_gb': 0},
                     {'name': 'a/b', 'size_gb': 1},
                     {'name': 'x', 'size_gb': 'big'}):
            resp = self.san.session.post(self.san.base_url + '/luns',
                                         json=body)
            self.assertEqual(400, resp.status_code, body)
        self.san.create_lun('vol-1', 1)
        resp = self.san.session.put(self.san.base_url + '/luns/vol-1/export',
                                    json={'initiators': 'not-a-list'})
        self.assertEqual(400, resp.status_code)
        err = self.assertRaises(sim_san.SANError, self.san.export, 'vol-1',
                                ['iqn.x:y'], chap={'username': 'u'})
        self.assertEqual(400, err.status)
        resp = self.san.session.get(self.san.base_url + '/nothing')
        self.assertEqual(404, resp.status_code)

    def test_state_survives_restart(self):
        state_dir = self.useFixture(fixtures.TempDir()).path
        san_dir = os.path.join(state_dir, 'shared-san')
        sim = core.Simulator(state_dir=state_dir, san_dir=san_dir)
        sim.san.create_lun('vol-1', 5)
        sim.san.export('vol-1', ['iqn.a:b'], {'username': 'u',
                                              'secret': 'p'})
        sim.close(save=True)
        sim = core.Simulator(state_dir=state_dir, san_dir=san_dir)
        self.addCleanup(sim.close)
        lun = sim.san.lun('vol-1')
        self.assertEqual((5, ['iqn.a:b'], 'u'),
                         (lun['size_gb'], lun['initiators'],
                          lun['chap']['username']))
        self.assertEqual(2, sim.san.create_lun('vol-2', 1)['target_lun'])


class TestFibreChannel(SANTestCase):

    def test_lua_recovery_only_where_masked(self):
        doc = self.san.create_lun('vol-1', 2)
        v1, v2 = self.vios_w('vios1'), self.vios_w('vios2')
        self.san.export('vol-1', [v1.pfc_ports[0].wwpn])
        status, name, udid = hdisk.discover_hdisk(
            self.adpt, v1.uuid, self.fc_itls(v1, doc))
        # 4 good paths (1 port x 4 targets) out of 8.
        self.assertEqual(hdisk.LUAStatus.FOUND_ITL_ERR, status)
        self.assertEqual(doc['udid'], udid)
        self.assertEqual([('vios1', name, 2048)], self.pvs(udid))
        self.assertEqual(['Server-9009-42A-SN21F64EV/vios1'],
                         self.san.lun('vol-1')['visible_on'])
        # vios2's ports are not in the masking: the job fails the way a
        # VIOS reports it, the error and the output XML in its Results.
        job_err = self.assertRaises(pvm_exc.JobRequestFailed,
                                    hdisk.lua_recovery, self.adpt, v2.uuid,
                                    self.fc_itls(v2, doc))
        self.assertIn('No LUN at LUN address 1000000000000', str(job_err))
        self.assertEqual([('vios1', name, 2048)], self.pvs(udid))
        self.san.export('vol-1', [p.wwpn for p in v1.pfc_ports])
        status, name2, _udid = hdisk.discover_hdisk(
            self.adpt, v1.uuid, self.fc_itls(v1, doc))
        self.assertEqual((hdisk.LUAStatus.DEVICE_AVAILABLE, name),
                         (status, name2))

    def test_all_paths_good_in_use_remove_and_extend(self):
        doc = self.san.create_lun('vol-1', 1)
        v1 = self.vios_w('vios1')
        self.san.export('vol-1', [p.wwpn for p in v1.pfc_ports])
        itls = hdisk.build_itls([p.wwpn for p in v1.pfc_ports],
                                doc['target_wwpns'][:1], doc['target_lun'])
        status, name, udid = hdisk.discover_hdisk(self.adpt, v1.uuid, itls)
        self.assertEqual(hdisk.LUAStatus.DEVICE_AVAILABLE, status)
        lpar = self.make_lpar()
        tsk_map.add_vscsi_mapping(self.host().uuid, v1.uuid, lpar.uuid,
                                  pvm_stg.PV.bld(self.adpt, name, udid))
        self.assertEqual(['Server-9009-42A-SN21F64EV/vios1'],
                         self.san.lun('vol-1')['visible_on'])
        status, _n, _u = hdisk.discover_hdisk(self.adpt, v1.uuid, itls)
        self.assertEqual(hdisk.LUAStatus.DEVICE_IN_USE, status)
        # A mapped LUN cannot be deleted, its hdisk cannot be removed.
        err = self.assertRaises(sim_san.SANError, self.san.delete, 'vol-1')
        self.assertEqual(409, err.status)
        self.assertIn('vios1', err.message)
        self.assertRaises(pvm_exc.JobRequestFailed, hdisk.remove_hdisk,
                          self.adpt, None, name, v1.uuid)
        # Extend: the VIOS sees the new size after a rescan.
        self.san.resize('vol-1', 4)
        self.assertEqual([('vios1', name, 1024)], self.pvs(udid))
        hdisk.discover_hdisk(self.adpt, v1.uuid, itls)
        self.assertEqual([('vios1', name, 4096)], self.pvs(udid))
        tsk_map.remove_pv_mapping(self.adpt, v1.uuid, lpar.id, name)
        hdisk.remove_hdisk(self.adpt, None, name, v1.uuid)
        self.assertEqual([], self.pvs(udid))
        self.assertEqual([], self.san.lun('vol-1')['visible_on'])
        self.san.delete('vol-1')

    def test_rescan_virtual_disk_refreshes_a_lun(self):
        from pypowervm.tasks import storage as tsk_stg
        doc = self.san.create_lun('vol-1', 1)
        v1 = self.vios_w('vios1')
        self.san.export('vol-1', [p.wwpn for p in v1.pfc_ports])
        _st, name, udid = hdisk.discover_hdisk(self.adpt, v1.uuid,
                                               self.fc_itls(v1, doc))
        self.san.resize('vol-1', 2)
        pvol = [p for p in self.vios_w('vios1').phys_vols
                if p.udid == udid][0]
        tsk_stg.rescan_vstor(self.vios_w('vios1'), pvol)
        self.assertEqual([('vios1', name, 2048)], self.pvs(udid))

    def test_connection_info_fc(self):
        doc = self.san.create_lun('vol-1', 1)
        info = sim_san.connection_info(
            doc, {'wwpns': ['21:00:00:24:FF:64:91:04'],
                  'initiator': 'iqn.x'}, 'fibre_channel')
        self.assertEqual('fibre_channel', info['driver_volume_type'])
        self.assertEqual({
            'target_discovered': False, 'target_wwn': doc['target_wwpns'],
            'target_lun': 1, 'volume_id': 'vol-1', 'discard': False,
            'initiator_target_map': {
                '21000024ff649104': doc['target_wwpns']}}, info['data'])
        self.assertRaises(ValueError, sim_san.connection_info, doc, {},
                          'rbd')


class TestISCSI(SANTestCase):

    def initiator(self, vios='vios1'):
        return hdisk.discover_iscsi_initiator(self.adpt, self.vios(vios))

    def login(self, doc, vios='vios1', user=None, password=None,
              multipath=False, portals=None):
        return hdisk.discover_iscsi(
            self.adpt, portals or (doc['target_portals'] if multipath
                                   else doc['target_portals'][0]),
            user, password,
            [doc['target_iqn']] * 2 if multipath else doc['target_iqn'],
            self.vios(vios), lunid=doc['target_lun'],
            auth='CHAP' if user else None, multipath=multipath)

    def sessions(self):
        return sorted((s['vios'], s['portal'])
                      for s in self.fx.state()['iscsi_sessions'])

    def test_initiators_unique_per_vios_and_host(self):
        iqn1, iqn2 = self.initiator('vios1'), self.initiator('vios2')
        self.assertNotEqual(iqn1, iqn2)
        self.assertTrue(iqn1.startswith('iqn.'))
        other = self.useFixture(pvm_fx.SimulatorFixture(
            port=12083, inventory=inventory.Inventory(
                system_name='host2', mtms='9009-42A*0000002')))
        self.assertNotEqual(iqn1, hdisk.discover_iscsi_initiator(
            other.adapter, [v['uuid'] for v in other.state()['vioses']
                            if v['name'] == 'vios1'][0]))

    def test_login_chap_logout(self):
        doc = self.san.create_lun('vol-1', 3)
        self.san.export('vol-1', [self.initiator()],
                        chap={'username': 'u1', 'secret': 'pw'})
        self.assertRaises(pvm_exc.ISCSIDiscoveryFailed, self.login, doc,
                          user='u1', password='wrong')
        self.assertRaises(pvm_exc.ISCSIDiscoveryFailed, self.login, doc)
        self.assertRaises(pvm_exc.ISCSIDiscoveryFailed, self.login, doc,
                          vios='vios2', user='u1', password='pw')
        self.assertEqual([], self.sessions())
        self.assertEqual([], self.pvs(doc['udid']))
        name, udid = self.login(doc, user='u1', password='pw',
                                multipath=True)
        self.assertEqual(doc['udid'], udid)
        self.assertEqual([('vios1', name, 3072)], self.pvs(udid))
        self.assertEqual([('vios1', '127.0.0.1:3260'),
                          ('vios1', '127.0.0.2:3260')], self.sessions())
        # Again: the session exists, same disk.
        self.assertEqual((name, udid), self.login(
            doc, user='u1', password='pw', multipath=True))
        lpar = self.make_lpar()
        tsk_map.add_vscsi_mapping(self.host().uuid, self.vios(), lpar.uuid,
                                  pvm_stg.PV.bld(self.adpt, name, udid))
        self.assertRaises(pvm_exc.JobRequestFailed, hdisk.remove_iscsi,
                          self.adpt, doc['target_iqn'], self.vios())
        tsk_map.remove_pv_mapping(self.adpt, self.vios(), lpar.id, name)
        hdisk.remove_iscsi(self.adpt, [doc['target_iqn']] * 2, self.vios(),
                           lun=[1, 1], portal=doc['target_portals'],
                           multipath=True)
        self.assertEqual([], self.sessions())
        self.assertEqual([], self.pvs(udid))
        # Nothing left to remove is fine (RETURN_CODE 21).
        hdisk.remove_iscsi(self.adpt, doc['target_iqn'], self.vios())

    def test_bad_portal_or_target(self):
        doc = self.san.create_lun('vol-1', 1)
        self.san.export('vol-1', [self.initiator()])
        self.assertRaises(pvm_exc.ISCSIDiscoveryFailed, self.login, doc,
                          portals='10.9.9.9:3260')
        bad = dict(doc, target_iqn=doc['target_iqn'] + 'x')
        self.assertRaises(pvm_exc.ISCSIDiscoveryFailed, self.login, bad)
        name, _udid = self.login(doc)
        self.assertEqual([('vios1', '127.0.0.1:3260')], self.sessions())
        self.assertTrue(name.startswith('hdisk'))

    def test_connection_info_iscsi(self):
        doc = self.san.create_lun('vol-1', 1)
        doc = self.san.export('vol-1', ['iqn.a:b'],
                              chap={'username': 'u', 'secret': 'p'})
        info = sim_san.connection_info(doc, {'initiator': 'iqn.a:b'},
                                       'iscsi', chap_secret='p')
        self.assertEqual('iscsi', info['driver_volume_type'])
        data = info['data']
        self.assertEqual(doc['target_iqn'], data['target_iqn'])
        self.assertEqual('127.0.0.1:3260', data['target_portal'])
        self.assertEqual(doc['target_portals'], data['target_portals'])
        self.assertEqual([doc['target_iqn']] * 2, data['target_iqns'])
        self.assertEqual([1, 1], data['target_luns'])
        self.assertEqual(('CHAP', 'u', 'p'),
                         (data['auth_method'], data['auth_username'],
                          data['auth_password']))
        self.assertEqual('vol-1', data['volume_id'])


class TestSharedSAN(tests_base.TestCase):
    """Two hosts on one SAN directory see the same LUNs."""

    def test_two_hosts(self):
        san_dir = self.useFixture(fixtures.TempDir()).path
        fx1 = self.useFixture(pvm_fx.SimulatorFixture(
            port=12081, san_dir=san_dir, inventory=inventory.Inventory(
                system_name='host1', mtms='9009-42A*0000001')))
        fx2 = self.useFixture(pvm_fx.SimulatorFixture(
            port=12082, san_dir=san_dir, inventory=inventory.Inventory(
                system_name='host2', mtms='9009-42A*0000002')))
        doc = fx1.san_client().create_lun('vol-1', 1)
        self.assertEqual(doc, fx2.san_client().lun('vol-1'))
        found = []
        for fx in (fx1, fx2):
            v1 = pvm_vios.VIOS.get(fx.adapter, xag=['ViosStorage'])[0]
            wwpns = [p.wwpn for p in v1.pfc_ports]
            found.append(wwpns)
        self.assertEqual([], sorted(set(found[0]) & set(found[1])))
        # Only host2's first VIOS is in the masking.
        fx1.san_client().export('vol-1', found[1])
        for fx, wwpns in zip((fx1, fx2), found):
            v1 = pvm_vios.VIOS.get(fx.adapter, xag=['ViosStorage'])[0]
            itls = hdisk.build_itls(wwpns, doc['target_wwpns'],
                                    doc['target_lun'])
            if fx is fx1:
                self.assertRaises(pvm_exc.JobRequestFailed,
                                  hdisk.lua_recovery, fx.adapter, v1.uuid,
                                  itls)
            else:
                hdisk.discover_hdisk(fx.adapter, v1.uuid, itls)
        self.assertEqual(['host2/vios1'],
                         fx1.san_client().lun('vol-1')['visible_on'])
