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
"""The batching writers: concurrent edits share one GET and one POST.

Batches are made deterministic by holding the writer busy (as a batch in
flight does) while the callers queue, then letting it go.
"""

import concurrent.futures
import threading
import time

from nova import exception as nova_exc
from pypowervm.wrappers import storage as pvm_stg

from nova_powervm.tests import base as tests_base
from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.tests.unit.virt.powervm import test_flows
from nova_powervm.virt.powervm import batch
from nova_powervm.virt.powervm.disk import base as disk_base
from nova_powervm.virt.powervm import media
from nova_powervm.virt.powervm import vm


def _hold(coalescer):
    """Mark a writer busy: callers queue until :func:`_release`."""
    with coalescer._cond:
        coalescer._busy = True


def _release(coalescer, queued, timeout=120):
    """Wait until ``queued`` callers wait, then let the writer go.

    After ``timeout`` seconds the writer goes anyway (the test's batch
    size assertions then fail instead of the test hanging).
    """
    deadline = time.monotonic() + timeout
    while True:
        with coalescer._cond:
            if (len(coalescer._queue) >= queued or
                    time.monotonic() > deadline):
                coalescer._busy = False
                coalescer._cond.notify_all()
                return
        time.sleep(0.01)


def _at_once(func, items):
    """``func(item)`` for every item in its own thread: (results, errors)."""
    with concurrent.futures.ThreadPoolExecutor(len(items)) as pool:
        futs = [pool.submit(func, item) for item in items]
        results, errors = [], []
        for fut in futs:
            try:
                results.append(fut.result())
                errors.append(None)
            except Exception as err:
                results.append(None)
                errors.append(err)
    return results, errors


class TestCoalescer(tests_base.TestCase):
    """The queue: batches, results and errors per caller."""

    def setUp(self):
        super().setUp()
        self.batches = []

        def run(reqs):
            self.batches.append([req.edit for req in reqs])
            for req in reqs:
                if req.edit < 0:
                    req.fail(ValueError('bad edit %d' % req.edit))
                else:
                    req.succeed(req.edit * 10)
        self.coal = batch.Coalescer('test', run)

    def test_lone_caller_runs_its_own_batch(self):
        self.assertEqual(70, self.coal.submit(7))
        self.assertEqual([[7]], self.batches)

    def test_queued_callers_share_one_batch(self):
        _hold(self.coal)
        thr = threading.Thread(target=_release, args=(self.coal, 6))
        thr.start()
        results, errors = _at_once(self.coal.submit, [1, 2, 3, 4, 5, 6])
        thr.join()
        self.assertEqual([10, 20, 30, 40, 50, 60], results)
        self.assertEqual([None] * 6, errors)
        self.assertEqual(1, len(self.batches))
        self.assertEqual([1, 2, 3, 4, 5, 6], sorted(self.batches[0]))
        self.assertEqual(6, self.coal.largest)

    def test_an_edit_error_stays_with_its_caller(self):
        _hold(self.coal)
        thr = threading.Thread(target=_release, args=(self.coal, 3))
        thr.start()
        results, errors = _at_once(self.coal.submit, [1, -2, 3])
        thr.join()
        self.assertEqual([10, None, 30], results)
        self.assertIsNone(errors[0])
        self.assertIsInstance(errors[1], ValueError)
        self.assertIsNone(errors[2])

    def test_a_failed_batch_fails_its_callers_not_the_next(self):
        calls = []

        def run(reqs):
            calls.append(len(reqs))
            if len(calls) == 1:
                raise RuntimeError('REST down')
            for req in reqs:
                req.succeed('ok')
        coal = batch.Coalescer('test', run)
        self.assertRaises(RuntimeError, coal.submit, 1)
        self.assertEqual('ok', coal.submit(2))

    def test_unsettled_request_fails(self):
        coal = batch.Coalescer('test', lambda reqs: None)
        self.assertRaises(RuntimeError, coal.submit, 1)


class TestVGWriter(flowbase.FlowTestCase):
    """Concurrent volume group edits on the simulator."""

    def setUp(self):
        super().setUp()
        self.dvr = self.hctx.disk_dvr
        self.writer = batch.vg_writer(self.adapter, self.dvr.vios_uuid,
                                      self.dvr.vg_uuid)

    def blank(self, name_gb):
        name, size_gb = name_gb
        return self.dvr.create_blank_disks(
            None, [disk_base.LocalDisk('ephemeral', name, size_gb)])[0]

    def vg_requests(self):
        return {key: val for key, val in self.sim.stats()['by_pattern'].items()
                if key.endswith('VolumeGroup/{uuid}')}

    def test_concurrent_creates_one_get_one_post(self):
        disks = [('bt_%d' % idx, 1.0) for idx in range(8)]
        _hold(self.writer.coalescer)
        thr = threading.Thread(target=_release,
                               args=(self.writer.coalescer, 8))
        self.sim.reset_stats()
        thr.start()
        results, errors = _at_once(self.blank, disks)
        thr.join()
        self.assertEqual([None] * 8, errors)
        self.assertEqual([name for name, _gb in disks],
                         [vd.name.split('/')[-1] for vd in results])
        self.assertTrue(all(vd.udid for vd in results))
        for name, _gb in disks:
            self.assertIn(name, self.vdisk_names())
        self.assertEqual(
            {'GET /rest/api/uom/VirtualIOServer/{uuid}/VolumeGroup/{uuid}': 1,
             'POST /rest/api/uom/VirtualIOServer/{uuid}/VolumeGroup/{uuid}':
             1}, self.vg_requests())

    def test_one_bad_edit_fails_alone(self):
        # 1000 GB does not fit in the 500 GB volume group: the batch's
        # POST is refused (409), then each edit is applied alone.
        disks = [('ok_a', 1.0), ('too_big', 1000.0), ('ok_b', 1.0)]
        _hold(self.writer.coalescer)
        thr = threading.Thread(target=_release,
                               args=(self.writer.coalescer, 3))
        thr.start()
        _results, errors = _at_once(self.blank, disks)
        thr.join()
        self.assertIsNone(errors[0])
        self.assertIsNotNone(errors[1])
        self.assertIn('space', str(errors[1]))
        self.assertIsNone(errors[2])
        names = self.vdisk_names()
        self.assertIn('ok_a', names)
        self.assertIn('ok_b', names)
        self.assertNotIn('too_big', names)

    def test_an_outside_change_is_redone_on_412(self):
        # Another writer (another process would do the same) changes the
        # volume group between the batch's GET and its POST: the POST gets
        # 412, the batch re-reads it and redoes its edit.
        real = self.writer._get
        changed = []

        def get_then_change():
            vg_w = real()
            if not changed:
                changed.append(1)
                other = batch.VGWriter(self.adapter, self.dvr.vios_uuid,
                                       self.dvr.vg_uuid)
                other.submit(batch.VGEdit(
                    lambda vg_w: _add(vg_w, 'outside')))
            return vg_w
        self.writer._get = get_then_change
        self.addCleanup(delattr, self.writer, '_get')
        self.sim.reset_stats()
        self.blank(('inside', 1.0))
        self.assertIn('outside', self.vdisk_names())
        self.assertIn('inside', self.vdisk_names())
        # Ours: GET, POST (412), GET, POST; the other writer's GET, POST.
        self.assertEqual(
            {'GET /rest/api/uom/VirtualIOServer/{uuid}/VolumeGroup/{uuid}': 3,
             'POST /rest/api/uom/VirtualIOServer/{uuid}/VolumeGroup/{uuid}':
             3}, self.vg_requests())


def _add(vg_w, name):
    vg_w.virtual_disks.append(pvm_stg.VDisk.bld(vg_w.adapter, name, 1.0))
    return True


class TestConcurrentSpawns(test_flows.SpawnDestroyTestCase):
    """Spawns at once: all whole; a failure reverts only its own."""

    def setUp(self):
        super().setUp()
        # The image is cached and known: the copies go to the writer.
        self.spawn(self.instance(config_drive=False), power_on=False)
        self.before = flowbase.normalise(self.sim.state())
        self.vg_writer = batch.vg_writer(
            self.adapter, self.hctx.disk_dvr.vios_uuid,
            self.hctx.disk_dvr.vg_uuid)
        self.vios_writer = batch.vios_writer(self.adapter)

    def storm(self, insts):
        # Hold both writers so that the spawns' edits batch together.
        _hold(self.vg_writer.coalescer)
        _hold(self.vios_writer.coalescer)
        threads = [threading.Thread(target=_release, args=(
            self.vg_writer.coalescer, len(insts))), threading.Thread(
            target=_release, args=(self.vios_writer.coalescer, 1))]
        for thr in threads:
            thr.start()
        _results, errors = _at_once(
            lambda inst: self.spawn(inst, power_on=True), insts)
        for thr in threads:
            thr.join()
        return errors

    def assert_whole(self, inst):
        dvr = self.hctx.disk_dvr
        self.assertIsNotNone(self.lpar(inst))
        self.assertIn(dvr.boot_disk_name(inst), self.vdisk_names())
        self.assertEqual(
            sorted([('VirtualDisk', dvr.boot_disk_name(inst)),
                    ('VirtualOpticalMedia', media.vopt_name(inst))]),
            sorted((kind, name.split('/')[-1])
                   for kind, name in self.mappings(inst)))

    def assert_gone(self, inst):
        dvr = self.hctx.disk_dvr
        self.assertIsNone(self.lpar(inst))
        self.assertNotIn(dvr.boot_disk_name(inst), self.vdisk_names())
        self.assertEqual([], self.storage_mappings(inst))
        media_names = [m['name'] for m in self.sim.state()['optical_media']]
        self.assertNotIn(media.vopt_name(inst), media_names)

    def test_all_disks_and_mappings_present(self):
        insts = [self.instance() for _idx in range(5)]
        self.assertEqual([None] * 5, self.storm(insts))
        for inst in insts:
            self.assert_whole(inst)
        self.assertGreaterEqual(self.vg_writer.coalescer.largest, 5)
        for inst in insts:
            self.destroy(inst)
        self.assertEqual(self.before, flowbase.normalise(self.sim.state()))

    def test_one_failed_spawn_reverts_only_its_own(self):
        insts = [self.instance() for _idx in range(4)]
        victim = insts[2]
        # Its power on fails (after its disk and mappings were made in the
        # shared batches): it reverts; the others stay whole.
        self.sim.add_fault(method='PUT', count=1,
                           path='LogicalPartition/%s/do/PowerOn'
                           % vm.get_pvm_uuid(victim))
        errors = self.storm(insts)
        self.assertIsInstance(errors[2], nova_exc.NovaException)
        self.assertEqual([None, None, None], errors[:2] + errors[3:])
        self.assert_gone(victim)
        for inst in insts[:2] + insts[3:]:
            self.assert_whole(inst)
        for inst in insts[:2] + insts[3:]:
            self.destroy(inst)
        self.assertEqual(self.before, flowbase.normalise(self.sim.state()))
