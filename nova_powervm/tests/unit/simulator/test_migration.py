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
"""Live migration between two simulator instances."""

import threading

import fixtures
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import cna as tsk_cna
from pypowervm.tasks import hdisk
from pypowervm.tasks import migration as tsk_mig
from pypowervm.tasks import power
from pypowervm.tasks import scsi_mapper as tsk_map
from pypowervm.tasks import storage as tsk_stg
from pypowervm.tasks import vfc_mapper
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm.simulator import fixture as pvm_fx
from nova_powervm.simulator import inventory
from nova_powervm.simulator.resources import migration
from nova_powervm.tests.unit.simulator import base

DEST = 'Server-9009-42A-SN21F64DE'


class TestMigration(base.SimTestCase):

    def setUp(self):
        super(TestMigration, self).setUp()
        self.dest = self.useFixture(pvm_fx.SimulatorFixture(
            port=12081, inventory=inventory.Inventory(
                system_name=DEST, mtms='9009-42A*21F64DE')))

    def test_migrate_moves_lpar_and_cnas(self):
        lpar = self.make_lpar()
        tsk_cna.crt_cna(self.adpt, None, lpar.uuid, 100,
                        mac_addr='FA163E0000AA')
        power.power_on(lpar, None)
        lpar = lpar.refresh()
        tsk_mig.migrate_lpar(lpar, DEST, validate_only=True)
        self.assertIsNotNone(self.lpar_state(lpar.uuid))
        tsk_mig.migrate_lpar(lpar, DEST, tgt_mgmt_svr='127.0.0.1',
                             tgt_mgmt_usr='wlp')
        self.assertIsNone(self.lpar_state(lpar.uuid))
        self.assertEqual([], self.fx.state()['cnas'])
        moved = pvm_lpar.LPAR.get(self.dest.adapter, uuid=lpar.uuid)
        self.assertEqual('running', moved.state)
        self.assertEqual('inst-1', moved.name)
        cnas = self.dest.state()['cnas']
        self.assertEqual([('FA163E0000AA', 100, 'ETHERNET0')],
                         [(c['mac'], c['vlan'], c['vswitch']) for c in cnas])

    def test_stopped_lpar_cannot_migrate(self):
        lpar = self.make_lpar()
        self.assertRaises(pvm_exc.JobRequestFailed, tsk_mig.migrate_lpar,
                          lpar, DEST)
        self.assertRaises(pvm_exc.JobRequestFailed, tsk_mig.migrate_lpar,
                          lpar, 'nowhere', validate_only=True)

    def test_recover(self):
        lpar = self.make_lpar()
        self.fx.add_fault(kind='job_fail', job='Migrate')
        power.power_on(lpar, None)
        self.assertRaises(pvm_exc.JobRequestFailed, tsk_mig.migrate_lpar,
                          lpar.refresh(), DEST)
        tsk_mig.migrate_recover(lpar.refresh(), force=True)
        self.assertEqual('Not_Migrating', lpar.refresh().migration_state)


class TestMigrationStorage(base.SimTestCase):

    def setUp(self):
        super(TestMigrationStorage, self).setUp()
        self.dest = self.useFixture(pvm_fx.SimulatorFixture(
            port=12082, inventory=inventory.Inventory(
                system_name=DEST, mtms='9009-42A*21F64DE')))
        self.itls_t = ['500507680b215660']

    def _discover(self, fx, vios_name):
        vios_w = [v for v in pvm_vios.VIOS.get(fx.adapter,
                                               xag=['ViosStorage'])
                  if v.name == vios_name][0]
        itls = hdisk.build_itls([p.wwpn for p in vios_w.pfc_ports],
                                self.itls_t, 7)
        _st, name, udid = hdisk.discover_hdisk(fx.adapter, vios_w.uuid,
                                               itls)
        return vios_w, name, udid

    def test_pv_and_npiv_mappings_follow_the_lpar(self):
        lpar = self.make_lpar()
        vios_w, name, udid = self._discover(self.fx, 'vios1')
        tsk_map.add_vscsi_mapping(self.host().uuid, vios_w.uuid, lpar.uuid,
                                  pvm_stg.PV.bld(self.adpt, name, udid))
        host_uuid = self.host().uuid
        vioses = pvm_vios.VIOS.get(self.adpt,
                                   xag=['ViosFCMapping', 'ViosStorage'])
        pair = vfc_mapper.build_wwpn_pair(self.adpt, host_uuid)
        pmaps = vfc_mapper.derive_npiv_map(
            vioses, [p.wwpn for v in vioses for p in v.pfc_ports], pair)
        for vwrap in vioses:
            if vfc_mapper.add_map(vwrap, host_uuid, lpar.uuid, pmaps[0],
                                  error_if_invalid=False):
                vwrap.update()
        power.power_on(lpar, None)
        # Not visible from the destination yet: the migration is refused
        # and nothing moves.
        self.assertRaises(pvm_exc.JobRequestFailed, tsk_mig.migrate_lpar,
                          lpar.refresh(), DEST)
        self.assertIsNotNone(self.lpar_state(lpar.uuid))
        self._discover(self.dest, 'vios2')
        tsk_mig.migrate_lpar(lpar.refresh(), DEST)
        src = [m for v in self.fx.state()['vioses']
               for m in v['scsi_mappings'] + v['fc_mappings']]
        self.assertEqual([], src)
        dst = self.dest.state()['vioses']
        scsi = [(v['name'], m['storage_type'], m['lpar_uuid'])
                for v in dst for m in v['scsi_mappings']]
        self.assertEqual([('vios2', 'PhysicalVolume', lpar.uuid)], scsi)
        fcs = [m['wwpns'] for v in dst for m in v['fc_mappings']]
        self.assertEqual([[w.lower() for w in pair]], fcs)

    def test_local_disk_cannot_move(self):
        lpar = self.make_lpar()
        vg = self.vg()
        vdisk = tsk_stg.crt_vdisk(self.adpt, self.vios('vios1'), vg.uuid,
                                  'b_local', 1)
        tsk_map.add_vscsi_mapping(self.host().uuid, self.vios('vios1'),
                                  lpar.uuid, vdisk)
        power.power_on(lpar, None)
        self.assertRaises(pvm_exc.JobRequestFailed, tsk_mig.migrate_lpar,
                          lpar.refresh(), DEST)
        self.assertEqual('Not_Migrating', lpar.refresh().migration_state)

    def test_closed_destination_is_not_a_target(self):
        gone = 'Server-9009-42A-SN21F64GO'
        other = pvm_fx.SimulatorFixture(
            port=12082, inventory=inventory.Inventory(
                system_name=gone, mtms='9009-42A*21F64GO'))
        other.setUp()
        self.assertIn(gone, migration.PEERS)
        other.cleanUp()
        self.assertNotIn(gone, migration.PEERS)
        lpar = self.make_lpar()
        power.power_on(lpar, None)
        self.assertRaises(pvm_exc.JobRequestFailed, tsk_mig.migrate_lpar,
                          lpar.refresh(), gone, validate_only=True)
        self.assertEqual('running', self.lpar_state(lpar.uuid)['state'])


class TestMigrationOverHTTP(base.SimTestCase):

    def test_migrate_to_server_in_another_process(self):
        dest = self.useFixture(pvm_fx.SimulatorFixture(
            mode='server', inventory=inventory.Inventory(
                system_name=DEST, mtms='9009-42A*21F64DE')))
        # As if the destination ran in another process: only HTTP.
        migration.PEERS.pop(DEST)
        self.sim.peer_port = dest.port
        lpar = self.make_lpar()
        power.power_on(lpar, None)
        tsk_mig.migrate_lpar(lpar.refresh(), DEST, tgt_mgmt_svr='127.0.0.1')
        self.assertIsNone(self.lpar_state(lpar.uuid))
        self.assertEqual(['running'], [p['state'] for p in
                                       dest.state()['lpars']])

    def test_source_answers_while_the_transfer_runs(self):
        dest = self.useFixture(pvm_fx.SimulatorFixture(
            mode='server', inventory=inventory.Inventory(
                system_name=DEST, mtms='9009-42A*21F64DE')))
        migration.PEERS.pop(DEST)
        self.sim.peer_port = dest.port
        # A slow network: the destination takes the partition only when
        # the test lets it.
        arrived, release = threading.Event(), threading.Event()
        app = dest.sim.app

        def slow(environ, start_response):
            if environ['PATH_INFO'] == '/sim/migrate/in':
                arrived.set()
                release.wait(30)
            return app(environ, start_response)

        self.useFixture(fixtures.MonkeyPatch(
            'nova_powervm.simulator.core.Simulator.__call__',
            lambda sim, env, start: (slow if sim is dest.sim else
                                     sim.app)(env, start)))
        lpar = self.make_lpar()
        power.power_on(lpar, None)
        errors = []

        def run():
            try:
                tsk_mig.migrate_lpar(lpar.refresh(), DEST,
                                     tgt_mgmt_svr='127.0.0.1')
            except Exception as exc:
                errors.append(exc)
                raise

        thr = threading.Thread(target=run)
        thr.start()
        self.addCleanup(thr.join, 30)
        self.addCleanup(release.set)
        self.assertTrue(arrived.wait(30))
        # The source is not frozen by the transfer in flight.
        got = pvm_lpar.LPAR.get(self.adpt, uuid=lpar.uuid)
        self.assertEqual('Migration_Starting', got.migration_state)
        release.set()
        thr.join(30)
        self.assertEqual([], errors)
        self.assertIsNone(self.lpar_state(lpar.uuid))
        self.assertEqual(['running'], [p['state'] for p in
                                       dest.state()['lpars']])
