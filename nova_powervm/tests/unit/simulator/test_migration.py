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

import io
import threading
import time

import fixtures
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import cna as tsk_cna
from pypowervm.tasks import hdisk
from pypowervm.tasks import migration as tsk_mig
from pypowervm.tasks import power
from pypowervm.tasks import scsi_mapper as tsk_map
from pypowervm.tasks import storage as tsk_stg
from pypowervm.tasks import vfc_mapper
from pypowervm.wrappers import cluster as pvm_clust
from pypowervm.wrappers import event as pvm_evt
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm.simulator import fixture as pvm_fx
from nova_powervm.simulator import inventory
from nova_powervm.simulator.resources import migration
from nova_powervm.simulator import xmlutil as xu
from nova_powervm.tests import base as tests_base
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

    def test_stopped_lpar_migrates_inactive(self):
        lpar = self.make_lpar()
        self.assertRaises(pvm_exc.JobRequestFailed, tsk_mig.migrate_lpar,
                          lpar, 'nowhere', validate_only=True)
        tsk_mig.migrate_lpar(lpar, DEST, validate_only=True)
        tsk_mig.migrate_lpar(lpar, DEST)
        self.assertIsNone(self.lpar_state(lpar.uuid))
        moved = pvm_lpar.LPAR.get(self.dest.adapter, uuid=lpar.uuid)
        self.assertEqual('not activated', moved.state)

    def test_running_without_rmc_cannot_migrate(self):
        lpar = self.make_lpar()
        power.power_on(lpar, None)
        self.sim.store.get(lpar.uuid).elem.find(
            xu.qn('ResourceMonitoringControlState')).text = 'inactive'
        exc = self.assertRaises(pvm_exc.JobRequestFailed,
                                tsk_mig.migrate_lpar, lpar.refresh(), DEST)
        self.assertIn('HSCLA319', str(exc))
        self.assertEqual('running', self.lpar_state(lpar.uuid)['state'])

    def test_same_system_is_refused(self):
        lpar = self.make_lpar()
        exc = self.assertRaises(pvm_exc.JobRequestFailed,
                                tsk_mig.migrate_lpar, lpar,
                                self.sim.inventory.system_name)
        self.assertIn('HSCLA2A3', str(exc))

    def test_events_on_both_hosts(self):
        self._poll(self.adpt, 'lpm')
        self._poll(self.dest.adapter, 'lpm')
        lpar = self.make_lpar()
        self._poll(self.adpt, 'lpm')
        tsk_mig.migrate_lpar(lpar, DEST)
        src = self._poll(self.adpt, 'lpm')
        dst = self._poll(self.dest.adapter, 'lpm')
        self.assertIn(('DELETE_URI', lpar.uuid), src)
        self.assertNotIn(('DELETE_URI', lpar.uuid), dst)
        self.assertIn(('ADD_URI', lpar.uuid), dst)
        self.assertLess(src.index(('MODIFY_URI', lpar.uuid)),
                        src.index(('DELETE_URI', lpar.uuid)))

    @staticmethod
    def _poll(adpt, appid):
        resp = adpt.read(
            'Event?QUEUE_CLIENTKEY_METHOD=USE_APPLICATIONID&'
            'QUEUE_APPLICATIONID=%s' % appid)
        return [(e.etype, e.data.rsplit('/', 1)[-1])
                for e in pvm_evt.Event.wrap(resp)
                if 'LogicalPartition/' in (e.data or '')]

    def test_recover(self):
        lpar = self.make_lpar()
        self.fx.add_fault(kind='job_fail', job='Migrate')
        power.power_on(lpar, None)
        self.assertRaises(pvm_exc.JobRequestFailed, tsk_mig.migrate_lpar,
                          lpar.refresh(), DEST)
        tsk_mig.migrate_recover(lpar.refresh(), force=True)
        self.assertEqual('Not_Migrating', lpar.refresh().migration_state)
        # Nothing to recover without force.
        self.assertRaises(pvm_exc.JobRequestFailed, tsk_mig.migrate_recover,
                          lpar.refresh())

    def test_broken_transfer_needs_recover(self):
        migration.PEERS.pop(DEST)
        self.sim.peer_port = 1  # nothing listens there
        lpar = self.make_lpar()
        power.power_on(lpar, None)
        exc = self.assertRaises(pvm_exc.JobRequestFailed,
                                tsk_mig.migrate_lpar, lpar.refresh(), DEST,
                                tgt_mgmt_svr='127.0.0.1')
        self.assertIn('HSCLA2A2', str(exc))
        self.assertEqual('Migration_Failed', lpar.refresh().migration_state)
        tsk_mig.migrate_recover(lpar.refresh())
        self.assertEqual('Not_Migrating', lpar.refresh().migration_state)
        self.assertEqual('running', self.lpar_state(lpar.uuid)['state'])


class TestMigrationProgressAbort(base.SimTestCase):

    def setUp(self):
        super(TestMigrationProgressAbort, self).setUp()
        self.dest = self.useFixture(pvm_fx.SimulatorFixture(
            port=12081, inventory=inventory.Inventory(
                system_name=DEST, mtms='9009-42A*21F64DE')))
        self.sim.lpm_seconds = 30

    def _start(self):
        lpar = self.make_lpar(mem=4096)
        power.power_on(lpar, None)
        lpar = lpar.refresh()
        errors, done = [], threading.Event()

        def run():
            try:
                tsk_mig.migrate_lpar(lpar, DEST)
            except Exception as exc:
                errors.append(exc)
            finally:
                done.set()

        threading.Thread(target=run, daemon=True).start()
        return lpar, errors, done

    def _progress(self, uuid):
        wrap = pvm_lpar.LPAR.get(self.adpt, uuid=uuid)
        elem = wrap.element.element
        return (wrap.migration_state,
                int(elem.findtext(xu.qn('ProgressPartitionDataTotal'))),
                int(elem.findtext(xu.qn('ProgressPartitionDataRemaining'))))

    def _wait_progress(self, uuid):
        for _i in range(200):
            state, total, remaining = self._progress(uuid)
            if state == 'Migration_In_Progress' and remaining < total:
                return total, remaining
            time.sleep(0.05)
        self.fail('no progress')

    def test_progress_then_abort(self):
        lpar, errors, done = self._start()
        total, remaining = self._wait_progress(lpar.uuid)
        self.assertEqual(4096 * 1024 * 1024, total)
        self.assertFalse(done.is_set())
        tsk_mig.migrate_abort(lpar)
        self.assertTrue(done.wait(10))
        self.assertIn('HSCLA2D1', str(errors[0]))
        got = lpar.refresh()
        self.assertEqual(('running', 'Not_Migrating'),
                         (got.state, got.migration_state))
        self.assertEqual([], self.dest.state()['lpars'])
        # Nothing runs any more: a second abort is refused.
        self.assertRaises(pvm_exc.JobRequestFailed, tsk_mig.migrate_abort,
                          got)

    def test_recover_refused_while_running(self):
        lpar, errors, done = self._start()
        self._wait_progress(lpar.uuid)
        self.assertRaises(pvm_exc.JobRequestFailed,
                          tsk_mig.migrate_recover, lpar, force=True)
        self.sim.lpm_seconds = 0
        tsk_mig.migrate_abort(lpar)
        self.assertTrue(done.wait(10))

    def test_completes_with_progress_to_zero(self):
        self.sim.lpm_seconds = 0.5
        lpar, errors, done = self._start()
        self.assertTrue(done.wait(30))
        self.assertEqual([], errors)
        self.assertEqual(['running'],
                         [p['state'] for p in self.dest.state()['lpars']])
        self.assertIsNone(self.lpar_state(lpar.uuid))


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

    def test_mapping_parameters_choose_the_vios(self):
        lpar = self.make_lpar()
        vios_w, name, udid = self._discover(self.fx, 'vios1')
        tsk_map.add_vscsi_mapping(self.host().uuid, vios_w.uuid, lpar.uuid,
                                  pvm_stg.PV.bld(self.adpt, name, udid))
        power.power_on(lpar, None)
        self._discover(self.dest, 'vios1')
        self._discover(self.dest, 'vios2')
        slot = [m.client_adapter.lpar_slot_num
                for v in pvm_vios.VIOS.get(self.adpt,
                                           xag=['ViosSCSIMapping'])
                for m in v.scsi_mappings if m.client_adapter][0]
        # A VIOS the destination does not have: refused, nothing moves.
        exc = self.assertRaises(
            pvm_exc.JobRequestFailed, tsk_mig.migrate_lpar, lpar.refresh(),
            DEST, virtual_scsi_mappings=['%d/vios9//' % slot])
        self.assertIn('HSCLA2F9', str(exc))
        self.assertIsNotNone(self.lpar_state(lpar.uuid))
        exc = self.assertRaises(
            pvm_exc.JobRequestFailed, tsk_mig.migrate_lpar, lpar.refresh(),
            DEST, virtual_scsi_mappings=['garbage'])
        self.assertIn('HSCLA2F8', str(exc))
        tsk_mig.migrate_lpar(lpar.refresh(), DEST,
                             virtual_scsi_mappings=['%d/vios2//' % slot])
        scsi = [(v['name'], m['lpar_uuid'])
                for v in self.dest.state()['vioses']
                for m in v['scsi_mappings']]
        self.assertEqual([('vios2', lpar.uuid)], scsi)

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
        lpar = self.make_lpar()
        power.power_on(lpar, None)
        # The job names the destination's address and port.
        tsk_mig.migrate_lpar(lpar.refresh(), DEST,
                             tgt_mgmt_svr='127.0.0.1:%d' % dest.port)
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
        self.assertEqual('Migration_In_Progress', got.migration_state)
        release.set()
        thr.join(30)
        self.assertEqual([], errors)
        self.assertIsNone(self.lpar_state(lpar.uuid))
        self.assertEqual(['running'], [p['state'] for p in
                                       dest.state()['lpars']])


class TestMigrationSSP(base.SimTestCase):
    """An SSP-backed partition: the LU stays, its mapping moves."""

    def setUp(self):
        tests_base.TestCase.setUp(self)
        pool_dir = self.useFixture(fixtures.TempDir()).path
        self.fx = self.useFixture(pvm_fx.SimulatorFixture(
            port=12081, pool_dir=pool_dir,
            inventory=inventory.Inventory(system_name='host1',
                                          mtms='9009-42A*0000001')))
        self.sim, self.adpt = self.fx.sim, self.fx.adapter
        self.dest = self.useFixture(pvm_fx.SimulatorFixture(
            port=12082, pool_dir=pool_dir,
            inventory=inventory.Inventory(system_name='host2',
                                          mtms='9009-42A*0000002')))

    def _lu(self, name):
        clust = pvm_clust.Cluster.get(self.adpt)[0]
        ssp = pvm_stg.SSP.get_by_href(self.adpt, clust.ssp_uri)
        tier = tsk_stg.default_tier_for_ssp(ssp)
        _t, disk = tsk_stg.crt_lu(tier, name, 1, typ=pvm_stg.LUType.DISK)
        return disk

    def test_lu_mapping_moves_lu_stays(self):
        disk = self._lu('boot_inst')
        data = b'x' * 4096
        tsk_stg.upload_lu(self.vios('vios1'), disk, io.BytesIO(data),
                          len(data))
        lpar = self.make_lpar()
        tsk_map.add_vscsi_mapping(self.host().uuid, self.vios('vios1'),
                                  lpar.uuid, disk)
        power.power_on(lpar, None)
        tsk_mig.migrate_lpar(lpar.refresh(), 'host2')
        self.assertIsNone(self.lpar_state(lpar.uuid))
        self.assertEqual([], [m for v in self.fx.state()['vioses']
                              for m in v['scsi_mappings']])
        dst = [(m['storage_type'], m['lpar_uuid'])
               for v in self.dest.state()['vioses']
               for m in v['scsi_mappings']]
        self.assertEqual([('LogicalUnit', lpar.uuid)], dst)
        # The same LU (data and all), in use from the destination.
        lus = {lu.name: lu for lu in pvm_stg.LUEnt.get(
            self.dest.adapter, parent=tsk_stg.default_tier_for_ssp(
                pvm_stg.SSP.get(self.dest.adapter)[0]))}
        self.assertEqual(disk.udid, lus['boot_inst'].udid)
        self.assertTrue(lus['boot_inst'].in_use)
        self.assertEqual(data, b''.join(
            self.dest.sim.files.read_chunks(disk.udid, len(data))))
        moved = pvm_lpar.LPAR.get(self.dest.adapter, uuid=lpar.uuid)
        self.assertEqual('running', moved.state)
