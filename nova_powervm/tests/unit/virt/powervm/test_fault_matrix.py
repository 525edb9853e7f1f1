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
"""The fault matrix: every flow, a fault at every REST step.

For each flow (spawn, destroy, snapshot, same-host resize, interface
attach and detach, rescue and unrescue) a clean run is recorded from the
simulator's request log; then, for every step of that log and every fault
kind, the flow runs again with that one request faulted.  Each cell must
end in one of:

``completes``
    the operation succeeded (by the retries of pypowervm or the driver)
    and the server is as a clean run leaves it;
``fails``
    the operation raised a nova exception with a readable message and
    the host holds exactly what it held before (nothing half-made; the
    server, if it existed, is still running);
``fails, retry completes``
    (destroy) the operation raised a readable nova exception, and running
    it again without faults finishes it.

After every cell the server is removed and the simulator's whole state
must equal the state before the cell: no leaked LPAR, disk, mapping,
media, adapter, file or session.  ``n/a`` cells are fault kinds that do
not apply to a step (a 412 needs a conditional update, a failed job a
job).  Outcomes are kept in ``RESULTS``;
``python -m nova_powervm.tests.fault_matrix_report`` runs this module
and writes ``doc/source/devref/reliability.rst`` from them.

Fault kinds (see ``KINDS``): an HTTP 500; a 503 (VIOS busy) twice; a
412 storm (``STORM`` refusals in a row); a failed job; a request hung
past the client's timeout (a short session timeout, simulator in server
mode); the REST server restarting (sessions dropped, state kept, the
request in flight answered 503).
"""

import collections
import copy
import os
import re

import fixtures
from nova import exception as nova_exc
from nova import objects
from pypowervm import adapter as pvm_adpt
from pypowervm import exceptions as pvm_exc
import testscenarios

from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.tests.unit.virt.powervm import simbase
from nova_powervm.tests.unit.virt.powervm import test_snapshot
from nova_powervm.tests.unit.virt.powervm import test_volumes
from nova_powervm.virt.powervm import flows
from nova_powervm.virt.powervm import move
from nova_powervm.virt.powervm import power
from nova_powervm.virt.powervm import session as pvm_session
from nova_powervm.virt.powervm import snapshot
from nova_powervm.virt.powervm import vm

#: 412 refusals in a row of a storm.
STORM = 5
#: Client timeout (seconds) of the hung-request cells.
HANG_TIMEOUT = 0.5
#: How long the simulator holds a hung request before its 504 (requests
#: with a longer timeout of their own, like pypowervm's updates, see it).
HANG_SECONDS = 1.0

#: Fault kind -> (label, simulator fault spec).
KINDS = collections.OrderedDict([
    ('http500', ('HTTP 500', dict(kind='http', status=500, count=1))),
    ('busy503', ('503 VIOS busy (x2)',
                 dict(kind='http', status=503, count=2))),
    ('storm412', ('412 storm (x%d)' % STORM,
                  dict(kind='etag_conflict', count=STORM))),
    ('job', ('failed job', dict(kind='job_fail', count=1))),
    ('hang', ('hung past timeout', dict(kind='hang', seconds=HANG_SECONDS,
                                        count=1))),
    ('restart', ('simulator restart', dict(kind='restart', count=1))),
])

#: (flow, kind) -> [(step, occurrence, outcome)] of the cells run.
RESULTS = collections.OrderedDict()

#: (flow name, kind, step) -> why: cells that do not meet the bar yet.
#: Such a cell must still fail the same way (a fix shows here first).
KNOWN = {}

_JOB = re.compile(r'^PUT .*/do/([A-Za-z]+)$')


def regex(pattern):
    """Path regex of a ``<METHOD> <pattern>`` request key."""
    path = re.escape(pattern.split(' ', 1)[1])
    for key in ('uuid', 'id', 'file', 'prop', 'query'):
        path = path.replace(re.escape('{%s}' % key), '[^/]+')
    return path + '$'


def applies(kind, step):
    """Whether a fault kind applies to a request key; its extra spec.

    :returns: None (n/a) or a dict added to the fault spec.
    """
    method = step.split(' ', 1)[0]
    if kind == 'job':
        match = _JOB.match(step)
        return {'job': match.group(1)} if match else None
    if kind == 'storm412':
        # A conditional update: a POST to an existing object.
        if method == 'POST' and step.endswith('{uuid}'):
            return {}
        return None
    return {}


class Flow(object):
    """One operation of the matrix on a FlowTestCase.

    ``prepare`` makes what the operation needs (kept across its cells
    when ``keep`` says the operation leaves it as it was), ``run`` the
    operation, ``check_done`` its result, ``undo`` brings the host back
    to the state before ``run`` after a success, ``remove`` removes what
    ``prepare`` made.
    """

    name = None
    #: The operation may be run again after a failure and must finish.
    retry = False

    def __init__(self, tc):
        self.tc = tc

    def prepare(self):
        pass

    def run(self):
        raise NotImplementedError()

    def check_done(self):
        pass

    def check_failed(self):
        pass

    def recover(self):
        """What nova does after a failure (before the state check)."""

    def undo(self):
        pass

    def remove(self):
        pass


class ServerFlow(Flow):
    """An operation on a running server (spawned in ``prepare``)."""

    def prepare(self):
        self.inst = self.tc.instance()
        self.tc.spawn(self.inst, self.tc.nwi())

    def remove(self):
        flows.destroy(self.tc.hctx, self.tc.ctx, self.inst, [], None, True)

    def check_failed(self):
        self.tc.assert_running(self.inst)


class Spawn(Flow):
    name = 'spawn'

    def run(self):
        self.inst = self.tc.instance()
        self.tc.spawn(self.inst, self.tc.nwi())

    def check_done(self):
        self.tc.assert_running(self.inst)

    def check_failed(self):
        self.tc.assertIsNone(self.tc.lpar(self.inst))

    def undo(self):
        flows.destroy(self.tc.hctx, self.tc.ctx, self.inst, [], None, True)


class Destroy(Flow):
    name = 'destroy'
    retry = True

    def prepare(self):
        self.inst = self.tc.instance()
        self.tc.spawn(self.inst, self.tc.nwi())

    def run(self):
        flows.destroy(self.tc.hctx, self.tc.ctx, self.inst, [], None, True)

    def check_done(self):
        self.tc.assertIsNone(self.tc.lpar(self.inst))


class Snapshot(ServerFlow):
    name = 'snapshot'

    def prepare(self):
        super().prepare()
        self.api = test_snapshot.RecordingImageAPI()

    def run(self):
        snapshot.snapshot(self.tc.hctx, self.tc.ctx, self.inst, 'snap',
                          lambda *a, **k: None, image_api=self.api)

    def check_done(self):
        self.tc.assertIn('snap', self.api.uploads)
        self.tc.assert_running(self.inst)

    def check_failed(self):
        super().check_failed()
        # No disk left mapped to the management partition.
        self.tc.assertEqual([], [
            m for v in self.tc.sim.state()['vioses']
            for m in v['scsi_mappings'] if m['lpar_id'] == 1])


class AttachInterface(ServerFlow):
    name = 'interface attach'

    def prepare(self):
        super().prepare()
        # The spawn made the VIF's and the RMC management adapters.
        self.had = len(self.tc.cnas(self.inst))

    def run(self):
        flows.attach_interface(self.tc.hctx, self.tc.ctx, self.inst,
                               self.tc.nwi(mac='fa:16:3e:00:0a:0b')[0])

    def check_done(self):
        self.tc.assertEqual(self.had + 1, len(self.tc.cnas(self.inst)))

    def check_failed(self):
        super().check_failed()
        self.tc.assertEqual(self.had, len(self.tc.cnas(self.inst)))


class DetachInterface(ServerFlow):
    name = 'interface detach'
    retry = True

    def prepare(self):
        super().prepare()
        self.vif = self.tc.nwi(mac='fa:16:3e:00:0a:0c')[0]
        flows.attach_interface(self.tc.hctx, self.tc.ctx, self.inst,
                               self.vif)
        self.had = len(self.tc.cnas(self.inst))

    def run(self):
        flows.detach_interface(self.tc.hctx, self.tc.ctx, self.inst,
                               self.vif)

    def check_done(self):
        self.tc.assertEqual(self.had - 1, len(self.tc.cnas(self.inst)))


class Rescue(ServerFlow):
    name = 'rescue'

    def prepare(self):
        super().prepare()
        # nova stops the server before it calls rescue.
        power.power_off(self.tc.hctx, self.inst, force_immediate=True)

    def run(self):
        flows.rescue(self.tc.hctx, self.tc.ctx, self.inst,
                     self.tc.image_meta)

    def check_done(self):
        self.tc.assertEqual('running', self.tc.lpar(self.inst)['state'])

    def check_failed(self):
        # Stopped as nova left it: nova's unrescue (or a new rescue)
        # starts from here.
        self.tc.assertIsNotNone(self.tc.lpar(self.inst))

    def undo(self):
        flows.unrescue(self.tc.hctx, self.inst)
        power.power_off(self.tc.hctx, self.inst, force_immediate=True)


class Unrescue(Rescue):
    name = 'unrescue'
    retry = True

    def prepare(self):
        super().prepare()
        flows.rescue(self.tc.hctx, self.tc.ctx, self.inst,
                     self.tc.image_meta)

    def run(self):
        flows.unrescue(self.tc.hctx, self.inst)

    def check_done(self):
        self.tc.assertEqual('running', self.tc.lpar(self.inst)['state'])

    def undo(self):
        pass


class Resize(ServerFlow):
    """Same-host resize: power off, finish (bigger), confirm."""

    name = 'resize'

    def prepare(self):
        super().prepare()
        self.old = copy.deepcopy(self.inst.flavor)
        self.new = copy.deepcopy(self.inst.flavor)
        self.new.memory_mb = self.old.memory_mb * 2
        self.new.vcpus = self.old.vcpus + 1
        self.inst.old_flavor = self.old
        self.inst.new_flavor = self.new
        self.migration = objects.Migration(source_compute='host1',
                                           dest_compute='host1')

    def run(self):
        hctx, ctx = self.tc.hctx, self.tc.ctx
        self.finishing = False
        info = move.migrate_disk_and_power_off(
            hctx, ctx, self.inst, 'host1', self.new, timeout=0)
        self.inst.flavor = self.new
        self.finishing = True
        move.finish_migration(hctx, ctx, self.migration, self.inst, info,
                              None, self.tc.image_meta, power_on=True)

    def recover(self):
        self.inst.flavor = self.old
        if self.finishing:
            # A failed finish: the user reverts the resize.
            move.finish_revert_migration(
                self.tc.hctx, self.tc.ctx, self.inst, None, self.migration,
                power_on=True)

    def check_done(self):
        lpar = self.tc.lpar(self.inst)
        self.tc.assertEqual((self.new.memory_mb, self.new.vcpus, 'running'),
                            (lpar['memory_mb'], lpar['vcpus'],
                             lpar['state']))

    def undo(self):
        self.inst.flavor = self.old


FLOWS = [Spawn, Destroy, Snapshot, Resize, AttachInterface,
         DetachInterface, Rescue, Unrescue]


class MatrixMixin(object):
    """The cell runner (before a SimTestCase in the bases)."""

    def setUp(self):
        if self.kind == 'hang':
            # Server mode: a hung request times out on the client's
            # socket (in-process, the request would only block).
            self.sim_kwargs = dict(self.sim_kwargs, mode='server')
        # pypowervm's VIOS-busy helper sleeps between retries.
        self.useFixture(fixtures.MonkeyPatch(
            'pypowervm.helpers.vios_busy.SLEEP', lambda s: None))
        super().setUp()

    def client_session(self):
        """The pypowervm Session of the code under test."""
        return self.sim.adapter.session

    def state(self):
        return flowbase.normalise(self.sim.state())

    def steps(self, flow):
        """The distinct REST steps of a clean run: ``[(key, 0)]``."""
        flow.prepare()
        self.sim.reset_stats()
        flow.run()
        log = [k for k in self.sim.request_log()
               if k != simbase.EVENT_POLL]
        flow.check_done()
        flow.undo()
        flow.remove()
        # Each distinct step, faulted at its first occurrence (a budget:
        # the matrix runs in the README's test command).
        out = []
        for key in log:
            if (key, 0) not in out:
                out.append((key, 0))
        return out

    def run_matrix(self):
        """Every distinct step of ``self.flow`` with ``self.kind``."""
        steps = self.steps(self.flow(self))
        self.assertTrue(steps)
        cells = []
        RESULTS[(self.flow.name, self.kind)] = cells
        bad = []
        for step, occurrence in steps:
            flow = self.flow(self)
            try:
                outcome = self.cell(flow, self.kind, step, occurrence)
            except Exception as exc:
                outcome = 'BROKEN: %s: %s' % (type(exc).__name__,
                                              str(exc)[:300])
                if (self.flow.name, self.kind, step) in KNOWN:
                    outcome = 'known: %s' % KNOWN[
                        (self.flow.name, self.kind, step)]
                else:
                    bad.append((step, occurrence, outcome))
                self.sim.clear_faults()
                for undo in (flow.undo, flow.remove):
                    try:
                        undo()
                    except Exception:
                        pass
            cells.append((step, occurrence, outcome))
        self.assertEqual([], bad)

    def cell(self, flow, kind, step, occurrence):
        """Run one cell; its outcome."""
        extra = applies(kind, step)
        if extra is None:
            return 'n/a'
        empty = self.state()
        flow.prepare()
        before = self.state()
        spec = dict(KINDS[kind][1], method=step.split(' ', 1)[0],
                    path=regex(step), skip=occurrence, **extra)
        if kind == 'job':
            del spec['method'], spec['path']
        self.sim.add_fault(**spec)
        session = self.client_session()
        timeout = session.timeout
        if kind == 'hang':
            session.timeout = HANG_TIMEOUT
        try:
            flow.run()
        except nova_exc.NovaException as exc:
            outcome = 'fails'
            self.assertTrue(str(exc).strip())
            self.assertNotIn('Traceback', str(exc))
        else:
            outcome = 'completes'
        finally:
            session.timeout = timeout
            left = self.sim.sim.faults.list()
            self.sim.clear_faults()
        reached = not left or (left[0]['skip'] == 0 and
                               left[0]['count'] < spec['count'])
        if outcome == 'completes':
            flow.check_done()
            outcome += getattr(flow, 'note', '')
            flow.undo()
        elif flow.retry:
            flow.run()
            flow.check_done()
            outcome = 'fails, retry completes'
        else:
            flow.recover()
            flow.check_failed()
            self.assertEqual(before, self.state())
        if not reached:
            # Retries of other requests changed the order: not reached.
            outcome += ' (not reached)'
        flow.remove()
        self.assertEqual(empty, self.state())
        return outcome


class FaultMatrixTestCase(MatrixMixin, flowbase.FlowTestCase):
    """The flows on a HostContext with the driver's adapter helpers."""

    def setUp(self):
        super().setUp()
        self.stub_out(
            'nova.objects.Migration.get_by_instance_and_status',
            self._no_migration)
        self.macs = 0

    @staticmethod
    def _no_migration(cls, context, instance_uuid, status):
        raise nova_exc.MigrationNotFoundByStatus(instance_id=instance_uuid,
                                                 status=status)

    def host_context(self):
        # The adapter the driver builds: with its retry helpers.
        self.adapter = pvm_adpt.Adapter(
            self.sim.adapter.session,
            helpers=pvm_session._ADAPTER_HELPERS)
        return super().host_context()

    def spawn(self, inst, network_info=None):
        flows.spawn(self.hctx, self.ctx, inst, self.image_meta,
                    [('/etc/motd', b'hello')], 'secret-pass',
                    network_info, None, True)

    def nwi(self, mac=None):
        if mac is None:
            self.macs += 1
            mac = 'fa:16:3e:01:%02x:%02x' % divmod(self.macs, 256)
        return flowbase.sea_network_info(mac=mac)

    def cnas(self, inst):
        lpar_uuid = vm.get_pvm_uuid(inst)
        return [c['mac'] for c in self.sim.state()['cnas']
                if c['lpar_uuid'].upper() == lpar_uuid]

    def assert_running(self, inst):
        lpar = self.lpar(inst)
        self.assertIsNotNone(lpar)
        self.assertEqual('running', lpar['state'])


class TestFaultMatrix(testscenarios.WithScenarios, FaultMatrixTestCase):
    """One test per (flow, fault kind), a cell per REST step."""

    scenarios = [('%s-%s' % (f.__name__, k), dict(flow=f, kind=k))
                 for f in FLOWS for k in KINDS]

    def test_cells(self):
        self.empty = self.state()
        # The image is cached first: the cache is not what is tested.
        warm = self.instance(config_drive=False)
        self.spawn(warm)
        flows.destroy(self.hctx, self.ctx, warm, [], None, True)
        self.run_matrix()
        # Nothing but the image cache was left: it goes too.
        flows.manage_image_cache(self.hctx, self.ctx, [])
        self.assertEqual(self.empty, self.state())


class VolumeAttach(Flow):
    """Attach a volume (``protocol``) to a running partition."""

    name = 'volume attach (FC)'
    protocol = 'fibre_channel'

    def prepare(self):
        tc = self.tc
        tc.volumes += 1
        self.inst = tc.lpar_instance(running=True)
        self.info = tc.volume(name='vol-%d' % tc.volumes,
                              protocol=self.protocol)

    def run(self):
        self.tc.attach(self.info, self.inst)

    def check_done(self):
        # Discovery failed on one VIOS: the volume is attached through
        # the other one (the driver needs at least one path).
        paths = len(self.tc.volume_maps(self.inst))
        self.tc.assertIn(paths, (1, 2))
        if paths == 1:
            self.note = ' (through 1 of 2 VIOSes)'

    def check_failed(self):
        self.tc.assertEqual([], self.tc.volume_maps(self.inst))
        self.tc.assertEqual([], self.tc.hdisks(self.info))
        self.tc.assertEqual([], self.tc.sessions())

    def undo(self):
        self.tc.detach(self.info, self.inst)

    def remove(self):
        self.tc.set_state(self.inst, 'not activated')
        vm.delete_lpar(self.tc.adapter, self.inst)


class VolumeAttachISCSI(VolumeAttach):
    name = 'volume attach (iSCSI)'
    protocol = 'iscsi'


class VolumeDetach(VolumeAttach):
    name = 'volume detach (FC)'
    retry = True

    def prepare(self):
        super().prepare()
        self.tc.attach(self.info, self.inst)

    def run(self):
        self.tc.detach(self.info, self.inst)

    def check_done(self):
        VolumeAttach.check_failed(self)

    def undo(self):
        pass


class VolumeDetachISCSI(VolumeDetach):
    name = 'volume detach (iSCSI)'
    protocol = 'iscsi'


VOLUME_FLOWS = [VolumeAttach, VolumeDetach, VolumeAttachISCSI,
                VolumeDetachISCSI]
#: The flows of the README's test command (a time budget): iSCSI volumes
#: share the FC connector's code but for discovery and logout; they run
#: with ``PVM_FAULT_MATRIX=full`` (``fault_matrix_report`` sets it).
if os.environ.get('PVM_FAULT_MATRIX') != 'full':
    VOLUME_FLOWS = VOLUME_FLOWS[:2]


class TestVolumeFaultMatrix(testscenarios.WithScenarios, MatrixMixin,
                            test_volumes.VolumeTestCase):
    """Volume attach/detach through the driver, a cell per REST step."""

    scenarios = [('%s-%s' % (f.__name__, k), dict(flow=f, kind=k))
                 for f in VOLUME_FLOWS for k in KINDS]

    def setUp(self):
        super().setUp()
        self.volumes = 0

    def client_session(self):
        return self.drv._ctx.adapter.session

    def test_cells(self):
        self.run_matrix()


class TestSampleHelper(simbase.SimTestCase):
    """The driver's adapter helpers keep an error without a response."""

    sim_kwargs = dict(simbase.SimTestCase.sim_kwargs, mode='server')

    def test_timeout_stays_a_timeout(self):
        adapter = pvm_adpt.Adapter(self.sim.adapter.session,
                                   helpers=pvm_session._ADAPTER_HELPERS)
        self.sim.add_fault(method='GET', path='LogicalPartition$',
                           kind='hang', seconds=30)
        session = self.sim.adapter.session
        session.timeout = HANG_TIMEOUT
        self.addCleanup(setattr, session, 'timeout', 1200)
        self.addCleanup(self.sim.clear_faults)
        # pypowervm's own helper turned it into an AttributeError.
        self.assertRaises(pvm_exc.TimeoutError, adapter.read,
                          'LogicalPartition')
