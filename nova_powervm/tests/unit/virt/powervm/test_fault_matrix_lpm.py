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
"""The fault matrix of live migration: two simulated hosts on one SSP.

A running SSP server on host1 is live migrated to host2 the way nova's
compute managers call the driver: the destination's check, the source's
check, the migrate job on the source (``LiveMigrations.run``, nova's post
or recover method), and after a failure nova's rollback on the
destination.  The clean run's REST steps are recorded from both
simulators' request logs; every distinct step of each side is then
faulted with each kind of ``test_fault_matrix.KINDS``.  Each cell must end
as ``completes`` (the server runs on host2, nothing of it on host1) or
``fails`` (a readable reason, the server running on host1 with its logical
unit mapped, both hosts exactly as before).  After each cell the server
is removed and both simulators must hold what they held before it.

Steps are named ``source: <request>`` and ``destination: <request>``; the
outcomes go to ``test_fault_matrix.RESULTS`` (flow ``live migration``)
for ``fault_matrix_report``.
"""

import logging

import fixtures
from nova import exception as nova_exc
from nova import objects
from pypowervm import adapter as pvm_adpt
from pypowervm.tasks import partition as pvm_par
from pypowervm.wrappers import managed_system as pvm_ms
import testscenarios

from nova_powervm.sandbox import hosts
from nova_powervm.simulator import fixture as sim_fixture
from nova_powervm.simulator import inventory
from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.tests.unit.virt.powervm import simbase
from nova_powervm.tests.unit.virt.powervm import test_fault_matrix as fm
from nova_powervm.virt.powervm import context as pvm_context
from nova_powervm.virt.powervm import disk
from nova_powervm.virt.powervm import flows
from nova_powervm.virt.powervm import host
from nova_powervm.virt.powervm import host_shim
from nova_powervm.virt.powervm import live_migration
from nova_powervm.virt.powervm import power
from nova_powervm.virt.powervm import session as pvm_session
from nova_powervm.virt.powervm import vm

FLOW = 'live migration'
SIDES = ('source', 'destination')


class _ErrorLog(logging.Handler):
    """The live migration module's error lines.

    What the user reads in the compute log; nova shows the migration as
    failed.
    """

    def __init__(self):
        super().__init__(logging.ERROR)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


class LiveMigrationFlow(object):
    """The live migration of a running SSP server from host1 to host2."""

    name = FLOW
    retry = False

    def __init__(self, tc):
        self.tc = tc

    def prepare(self):
        tc = self.tc
        self.inst = tc.instance(config_drive=False)
        self.inst.host = 'host1'
        tc.spawn(self.inst)
        self.mapped = tc.lu_maps(tc.sim1, self.inst)
        tc.assertTrue(self.mapped)

    def run(self):
        tc, inst = self.tc, self.inst
        self.outcome = None
        data = live_migration.check_destination(tc.dest_ctx, inst, False)
        live_migration.check_source(tc.hctx, inst, None)
        data.migration = objects.Migration(
            source_compute='host1', dest_compute='host2',
            dest_node='host2', migration_type='live-migration')
        tc.errors.lines = []
        tc.lpm.run(tc.ctx, inst, 'host2', self._post, self._recover,
                   False, data)
        if self.outcome != 'post':
            # nova's rollback on the destination, then the user sees the
            # migration failed: the reason is in the compute's log.
            live_migration.cleanup_source(tc.dest_ctx, tc.ctx, inst, [],
                                          None)
            raise nova_exc.MigrationError(
                reason=(tc.errors.lines or ['no reason logged'])[-1])
        inst.host = 'host2'

    def _post(self, context, instance, dest, block_migration, data):
        self.outcome = 'post'

    def _recover(self, context, instance, dest, data,
                 migration_status='error'):
        self.outcome = migration_status

    def check_done(self):
        tc = self.tc
        tc.assertIsNone(tc.lpar_on(tc.sim1, self.inst))
        lpar = tc.lpar_on(tc.sim2, self.inst)
        tc.assertEqual('running', lpar['state'])
        tc.assertEqual(self.mapped, tc.lu_maps(tc.sim2, self.inst))

    def check_failed(self):
        tc = self.tc
        lpar = tc.lpar_on(tc.sim1, self.inst)
        tc.assertIsNotNone(lpar)
        tc.assertEqual('running', lpar['state'])
        tc.assertEqual(self.mapped, tc.lu_maps(tc.sim1, self.inst))
        tc.assertIsNone(tc.lpar_on(tc.sim2, self.inst))
        lpar_w = vm.get_instance_wrapper(tc.adapter, self.inst)
        tc.assertEqual('Not_Migrating', lpar_w.migration_state)

    def recover(self):
        pass

    def undo(self):
        pass

    def remove(self):
        tc = self.tc
        on_dest = tc.lpar_on(tc.sim2, self.inst) is not None
        ctx = tc.dest_ctx if on_dest else tc.hctx
        self.inst.host = ctx.host
        flows.destroy(ctx, tc.ctx, self.inst, [], None, True)


class TestLiveMigrationFaultMatrix(testscenarios.WithScenarios,
                                   fm.MatrixMixin, flowbase.SSPMixin,
                                   flowbase.FlowTestCase):
    """One test per fault kind, a cell per REST step of either side."""

    scenarios = [('LiveMigration-%s' % k,
                  dict(flow=LiveMigrationFlow, kind=k))
                 for k in fm.KINDS]

    def setUp(self):
        self.pool_dir = self.useFixture(fixtures.TempDir()).path
        self.sim_kwargs = dict(event_timeout=0.2, pool_dir=self.pool_dir,
                               inventory=self._inventory(1))
        super().setUp()
        self.sim1 = self.sim
        self.flags(lpm_progress_interval=30, group='powervm')
        dest_kwargs = dict(self.sim_kwargs, inventory=self._inventory(2),
                           port=12081)
        self.sim2 = self.useFixture(
            sim_fixture.SimulatorFixture(**dest_kwargs))
        self.dest_ctx = self.other_context(self.sim2)
        self.stub_out(
            'nova.objects.Migration.get_by_instance_and_status',
            fm.FaultMatrixTestCase._no_migration)
        dest_facts = live_migration.host_facts(
            self.dest_ctx.host_wrapper(),
            '%s:%s' % (self.sim2.host, self.sim2.port))
        self.stub_out(
            'nova.objects.ComputeNode.get_by_host_and_nodename',
            lambda *a, **k: objects.ComputeNode(stats=dest_facts))
        # nova's migration record without a database.
        self.stub_out('nova.objects.Migration.save', lambda *a: None)
        self.lpm = live_migration.LiveMigrations(lambda: self.hctx)
        self.errors = _ErrorLog()
        logging.getLogger(live_migration.__name__).addHandler(self.errors)
        self.addCleanup(logging.getLogger(
            live_migration.__name__).removeHandler, self.errors)

    @staticmethod
    def _inventory(index):
        inv = hosts.host_inventory(index)
        return inventory.Inventory(ssp=True, system_name=inv.system_name,
                                   mtms=inv.mtms)

    def host_context(self):
        self.adapter = pvm_adpt.Adapter(
            self.sim.adapter.session,
            helpers=pvm_session._ADAPTER_HELPERS)
        return super().host_context()

    def other_context(self, sim):
        """host2's HostContext: its own adapter, the driver's helpers."""
        adapter = pvm_adpt.Adapter(sim.adapter.session,
                                   helpers=pvm_session._ADAPTER_HELPERS)
        host_w = pvm_ms.System.get(adapter)[0]
        mgmt_w = pvm_par.get_mgmt_partition(adapter)
        flags = sim.driver_flags()
        ctx = pvm_context.HostContext(
            host='host2', adapter=adapter, host_uuid=host_w.uuid,
            mgmt_uuid=mgmt_w.uuid,
            disk_dvr=disk.get_disk_adapter(adapter, host_w.uuid,
                                           mgmt_w.uuid),
            shim=host_shim.SimulatorShim(
                'http://%s:%s' % (flags['pvm_host'], flags['pvm_port'])),
            virtapi=self.virtapi,
            host_wrapper=host.host_wrapper_getter(adapter))
        power.prime_templates(ctx, mgmt_w)
        return ctx

    def spawn(self, inst):
        flows.spawn(self.hctx, self.ctx, inst, self.image_meta, [], None,
                    flowbase.sea_network_info(), None, True)

    @staticmethod
    def lpar_on(sim, inst):
        uuid = vm.get_pvm_uuid(inst).lower()
        for lpar in sim.state()['lpars']:
            if lpar['uuid'].lower() == uuid:
                return lpar
        return None

    def lu_maps(self, sim, inst):
        lpar = self.lpar_on(sim, inst)
        return sorted((v['name'], m['storage_name'])
                      for v in sim.state()['vioses']
                      for m in v['scsi_mappings']
                      if lpar and m['lpar_uuid'] == lpar['uuid'] and
                      m['storage_type'] == 'LogicalUnit')

    # The matrix on two simulators -----------------------------------
    def side(self, name):
        """(simulator, client session) of a side."""
        if name == 'source':
            return self.sim1, self.adapter.session
        return self.sim2, self.dest_ctx.adapter.session

    def state(self):
        return tuple(flowbase.normalise(self.side(s)[0].state())
                     for s in SIDES)

    def steps(self, flow):
        """The distinct steps of a clean run: ``[('side: key', 0)]``."""
        flow.prepare()
        for name in SIDES:
            self.side(name)[0].reset_stats()
        flow.run()
        logs = {name: [k for k in self.side(name)[0].request_log()
                       if k != simbase.EVENT_POLL] for name in SIDES}
        flow.check_done()
        flow.remove()
        # Every occurrence of a step (the partition is read by the check,
        # the job and the recovery), but the job's polls: the first.
        out = []
        for name in SIDES:
            seen = {}
            for key in logs[name]:
                occurrence = seen.get(key, -1) + 1
                seen[key] = occurrence
                if occurrence and key.endswith('/jobs/{id}'):
                    continue
                out.append(('%s: %s' % (name, key), occurrence))
        return out

    def cell(self, flow, kind, step, occurrence):
        name, key = step.split(': ', 1)
        sim, session = self.side(name)
        self.sim, real = sim, self.sim
        try:
            return self._cell(flow, kind, key, occurrence, session)
        finally:
            self.sim = real
            for name in SIDES:
                self.side(name)[0].clear_faults()

    def _cell(self, flow, kind, key, occurrence, session):
        # MatrixMixin.cell with the faulted side's simulator and session.
        self.client_session = lambda: session
        return super().cell(flow, kind, key, occurrence)

    def test_cells(self):
        # The image is in the pool first: the cache is not what is tested.
        warm = self.instance(config_drive=False)
        self.spawn(warm)
        flows.destroy(self.hctx, self.ctx, warm, [], None, True)
        self.run_matrix()
