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
"""get_info(use_cache=True): the partition state snapshot on the simulator.

The snapshot's clock is frozen so that only the event feed (not the
snapshot's expiry) can bring a change in.  Tests that power partitions on
first connect again afterwards (``reconnect``), so that the events of
those power-ons cannot arrive in the middle of a count.
"""

import threading
import time

from nova.compute import power_state
from nova import exception as nova_exc
from nova.virt import event as virtevent

from nova_powervm.tests.unit.virt.powervm import simbase
from nova_powervm.tests.unit.virt.powervm import test_driver
from nova_powervm.tests.unit.virt.powervm import test_event
from nova_powervm.virt.powervm import cache as pvm_cache
from nova_powervm.virt.powervm import vm

LPAR_FEED = 'GET /rest/api/uom/LogicalPartition'
QUICK = 'GET /rest/api/uom/LogicalPartition/{uuid}/quick/{prop}'


class TestCachedGetInfo(test_driver.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.now = [1000.0]
        self.freeze()

    def freeze(self):
        self.states = self.drv._ctx.cache.lpar_states
        self.states.clock = lambda: self.now[0]

    def reconnect(self):
        """A new init_host; lifecycle checks (and their GETs) held off."""
        self.drv.event_delay = 30.0
        self.drv.init_host('compute1')
        self.freeze()

    def wait_stale(self, inst, timeout=10.0):
        """Wait until an event marked the instance's partition stale."""
        deadline = time.monotonic() + timeout
        lpar_uuid = vm.get_pvm_uuid(inst)
        while time.monotonic() < deadline:
            if self.states.lookup(lpar_uuid)[0] == pvm_cache.MISS:
                return
            time.sleep(0.02)
        self.fail('no event for %s' % lpar_uuid)

    def patterns(self):
        """REST calls by pattern since the last count, event polls aside."""
        found = dict(self.sim.stats()['by_pattern'])
        found.pop(simbase.EVENT_POLL, None)
        return found

    def pass_over(self, insts):
        """What nova's _sync_power_states asks: count, then each state."""
        self.assertEqual(len(insts), self.drv.get_num_instances())
        return [self.drv.get_info(inst).state for inst in insts]

    def test_periodic_pass_of_50_costs_at_most_2(self):
        insts = [self.lpar_instance() for _i in range(50)]
        self.set_state(insts[0], 'running')
        self.reconnect()
        states, calls = self.count_rest(self.pass_over, insts)
        self.assertLessEqual(calls, 2, self.patterns())
        self.assertEqual([power_state.RUNNING] + [power_state.SHUTDOWN] * 49,
                         states)
        # A later pass, once the snapshot expired: one feed GET in all.
        self.now[0] += pvm_cache.LPAR_STATE_TTL
        states2, calls = self.count_rest(
            lambda: [self.drv.get_info(i).state for i in insts])
        self.assertEqual((states, 1), (states2, calls))
        self.assertEqual({LPAR_FEED: 1}, self.patterns())

    def test_concurrent_calls_share_one_read(self):
        insts = [self.lpar_instance() for _i in range(20)]
        got = {}

        def one(inst):
            got[inst.uuid] = self.drv.get_info(inst).state

        def run_all():
            threads = [threading.Thread(target=one, args=(inst,))
                       for inst in insts]
            for thr in threads:
                thr.start()
            for thr in threads:
                thr.join(10)
        _r, calls = self.count_rest(run_all)
        self.assertEqual(1, calls, self.patterns())
        self.assertEqual({power_state.SHUTDOWN},
                         {got[inst.uuid] for inst in insts})

    def test_out_of_band_power_off_seen_after_its_event(self):
        insts = [self.lpar_instance(running=True) for _i in range(3)]
        self.reconnect()
        self.assertEqual([power_state.RUNNING] * 3, self.pass_over(insts))
        self.set_state(insts[0], 'not activated')
        self.wait_stale(insts[0])
        # Same snapshot (the clock did not move): the event marked only
        # the changed partition stale, which is read alone.
        states, calls = self.count_rest(
            lambda: [self.drv.get_info(i).state for i in insts])
        self.assertEqual([power_state.SHUTDOWN, power_state.RUNNING,
                          power_state.RUNNING], states)
        self.assertEqual({QUICK: 1}, self.patterns())

    def test_out_of_band_stop_reaches_nova_and_the_snapshot(self):
        inst = self.lpar_instance(running=True)
        got = test_event.Collector()
        self.drv.register_event_listener(got)
        self.assertEqual(power_state.RUNNING, self.drv.get_info(inst).state)
        self.set_state(inst, 'not activated')
        self.assertIsNotNone(got.wait_for(inst.uuid,
                                          virtevent.EVENT_LIFECYCLE_STOPPED))
        # nova re-reads the state on the event: the snapshot agrees.
        self.assertEqual(power_state.SHUTDOWN, self.drv.get_info(inst).state)

    def test_driver_power_ops_need_no_event(self):
        inst = self.lpar_instance(running=True)
        self.assertEqual(power_state.RUNNING, self.drv.get_info(inst).state)
        self.drv.power_off(inst)
        self.assertEqual(power_state.SHUTDOWN, self.drv.get_info(inst).state)
        self.drv.power_on(self.ctx, inst, [])
        self.assertEqual(power_state.RUNNING, self.drv.get_info(inst).state)

    def test_missing_partition_raises(self):
        inst = self.lpar_instance()
        self.drv.get_info(inst)
        self.assertRaises(nova_exc.InstanceNotFound, self.drv.get_info,
                          self.instance())
        vm.delete_lpar(self.adapter, inst)
        # The DELETE event marks it stale; the driver's own destroy too.
        self.drv._ctx.cache.lpar_states.invalidate(vm.get_pvm_uuid(inst))
        self.assertRaises(nova_exc.InstanceNotFound, self.drv.get_info,
                          inst)

    def test_partition_created_after_the_snapshot(self):
        # Partitions left off: no state change event can interfere.
        first = self.lpar_instance()
        self.drv.get_info(first)
        later = self.lpar_instance()
        info, calls = self.count_rest(self.drv.get_info, later)
        self.assertEqual((power_state.SHUTDOWN, 1), (info.state, calls))
        self.assertEqual({QUICK: 1}, self.patterns())
        _i, calls = self.count_rest(self.drv.get_info, later)
        self.assertEqual(0, calls)

    def test_uncached_stays_one_quick_get(self):
        inst = self.lpar_instance()
        self.drv.get_info(inst)
        info, calls = self.count_rest(self.drv.get_info, inst,
                                      use_cache=False)
        self.assertEqual((power_state.SHUTDOWN, 1), (info.state, calls))
        self.assertEqual({QUICK: 1}, self.patterns())

    def test_cleanup_host_drops_the_cache(self):
        cache = self.drv._ctx.cache
        inst = self.lpar_instance()
        self.drv.get_info(inst)
        self.assertIsNotNone(cache.media_repo())
        self.drv.cleanup_host('compute1')
        self.assertIsNone(cache.media_repo())
        self.assertEqual(pvm_cache.MISS, cache.lpar_states.lookup(
            vm.get_pvm_uuid(inst))[0])
