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
"""event.py: the simulator's event feed becomes nova lifecycle events."""

import threading
import time

from nova.compute import power_state
from nova import context as nova_context
from nova import objects
from nova import test
from nova.virt import event as virtevent
from oslo_utils import uuidutils
from pypowervm.wrappers import event as pvm_evt

from nova_powervm.tests.unit.virt.powervm import simbase
from nova_powervm.virt.powervm import event
from nova_powervm.virt.powervm import vm

# Stats pattern of a lifecycle check's state read.
QP_READ = 'GET /rest/api/uom/LogicalPartition/{uuid}/quick/{prop}'


class Collector:
    """Collects emitted events; ``wait_for`` blocks until a match."""

    def __init__(self):
        self.events = []
        self.cond = threading.Condition()

    def __call__(self, evt):
        with self.cond:
            self.events.append(evt)
            self.cond.notify_all()

    def wait_for(self, uuid, transition, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for evt in self.events:
                    if (evt.get_instance_uuid() == uuid
                            and evt.get_transition() == transition):
                        return evt
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)


class TestParsing(simbase.base.NoDBTestCase):

    def test_lpar_uuid_of(self):
        uri = ('http://localhost:12080/rest/api/uom/ManagedSystem/'
               'c5d782c7-44e4-3086-ad15-b16fb039d63b/LogicalPartition/'
               '3ab5ec70-2bcb-4fa5-8b2a-3f2c0a6e9f00')
        self.assertEqual('3AB5EC70-2BCB-4FA5-8B2A-3F2C0A6E9F00',
                         event.lpar_uuid_of(uri))
        self.assertIsNone(event.lpar_uuid_of(uri + '/ClientNetworkAdapter/'
                                             'x'))
        self.assertIsNone(event.lpar_uuid_of(None))


class TestTransitions(simbase.base.NoDBTestCase):

    # What nova's handle_lifecycle_event expects get_info to say.
    EXPECTED = {
        virtevent.EVENT_LIFECYCLE_STARTED: power_state.RUNNING,
        virtevent.EVENT_LIFECYCLE_STOPPED: power_state.SHUTDOWN,
        virtevent.EVENT_LIFECYCLE_SUSPENDED: power_state.SUSPENDED,
    }

    def test_events_agree_with_get_info(self):
        for state, transition in event.TRANSITIONS.items():
            self.assertEqual(self.EXPECTED[transition],
                             vm.to_nova_state(state), state)

    def test_every_stable_state_has_an_event(self):
        for state in ('running', 'not activated', 'suspended'):
            self.assertIn(state, event.TRANSITIONS)


class TestResolver(test.TestCase):
    """The PowerVM UUID of an instance maps back through the database."""

    def test_top_bit_set_instance_is_found(self):
        ctx = nova_context.get_admin_context()
        inst = objects.Instance(ctx, user_id='u', project_id='p',
                                uuid='f1c2d3e4-0000-4000-8000-0000000000aa')
        inst.create()
        resolver = event.UUIDResolver()
        pvm_uuid = vm.get_pvm_uuid(inst)
        self.assertTrue(pvm_uuid.startswith('7'))
        self.assertEqual(inst.uuid, resolver.resolve(pvm_uuid))
        other = '7' + pvm_uuid[1:-2] + 'BB'
        self.assertIsNone(resolver.resolve(other))
        resolver.clear()
        self.assertEqual(inst.uuid, resolver.resolve(pvm_uuid.lower()))


class TestLifecycle(simbase.SimTestCase):

    def setUp(self):
        super().setUp()
        self.inst = self.instance()
        vm.create_lpar(self.adapter, self.host_wrapper(), self.inst)
        self.set_state(self.inst, 'running')
        self.got = Collector()
        self.resolver = event.UUIDResolver()
        self.resolver.remember(self.inst)
        self.handler = event.LifecycleHandler(self.adapter, self.got,
                                              self.resolver, delay=0.05)
        self.monitor = event.EventMonitor(self.adapter, self.handler)
        self.monitor.start()
        self.addCleanup(self.monitor.stop)

    def test_out_of_band_power_off_is_stopped(self):
        self.set_state(self.inst, 'not activated')
        self.assertIsNotNone(self.got.wait_for(
            self.inst.uuid, virtevent.EVENT_LIFECYCLE_STOPPED))

    def test_out_of_band_start_is_started(self):
        self.set_state(self.inst, 'not activated')
        self.assertIsNotNone(self.got.wait_for(
            self.inst.uuid, virtevent.EVENT_LIFECYCLE_STOPPED))
        self.set_state(self.inst, 'running')
        self.assertIsNotNone(self.got.wait_for(
            self.inst.uuid, virtevent.EVENT_LIFECYCLE_STARTED))

    def test_unknown_partition_emits_nothing(self):
        other = self.instance()
        self.assertIsNone(self.handler.check_now(vm.get_pvm_uuid(other)))
        self.assertEqual([], self.got.events)

    def test_stop_is_clean(self):
        thread = self.monitor._listener._pthread
        self.assertTrue(thread.is_alive())
        self.assertTrue(self.monitor.stop(timeout=10))
        self.assertFalse(thread.is_alive())
        # Changes after the stop produce nothing.
        self.set_state(self.inst, 'not activated')
        time.sleep(0.2)
        self.assertEqual([], [e for e in self.got.events
                              if e.get_transition() ==
                              virtevent.EVENT_LIFECYCLE_STOPPED])


class TestScheduler(simbase.SimTestCase):
    """Delayed checks share one scheduler thread and stop promptly."""

    def handler(self, delay):
        handler = event.LifecycleHandler(self.adapter, lambda evt: None,
                                         event.UUIDResolver(), delay=delay)
        self.addCleanup(handler.stop)
        return handler

    def state_event(self, lpar_uuid):
        """A MODIFY_URI event of a partition's PartitionState."""
        uri = ('https://localhost:12443/rest/api/uom/LogicalPartition/'
               + lpar_uuid)
        evt = pvm_evt.Event.bld(self.adapter, uri, 'PartitionState')
        evt.set_parm_value('EventType', pvm_evt.EventType.MODIFY_URI)
        return evt

    def wait_for_reads(self, count, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reads = self.sim.stats()['by_pattern'].get(QP_READ, 0)
            if reads >= count:
                return reads
            time.sleep(0.05)
        return self.sim.stats()['by_pattern'].get(QP_READ, 0)

    def test_burst_uses_one_thread_and_coalesces(self):
        handler = self.handler(delay=0.5)
        uuids = [uuidutils.generate_uuid().upper() for _ in range(100)]
        self.sim.reset_stats()
        before = threading.active_count()
        # 200 state changes: two per partition.
        handler.process([self.state_event(u) for u in uuids + uuids])
        self.assertLessEqual(threading.active_count(), before + 1)
        self.assertEqual(100, self.wait_for_reads(100))
        time.sleep(0.2)
        # The second change of each partition replaced the first.
        self.assertEqual(
            100, self.sim.stats()['by_pattern'].get(QP_READ, 0))
        self.assertLessEqual(threading.active_count(), before + 1)
        self.assertTrue(handler.stop(timeout=5))
        self.assertLessEqual(threading.active_count(), before)

    def test_stop_is_prompt(self):
        handler = self.handler(delay=event.DEFAULT_DELAY)
        self.sim.reset_stats()
        handler.process([self.state_event(uuidutils.generate_uuid())])
        thread = handler._thread
        self.assertTrue(thread.is_alive())
        start = time.monotonic()
        self.assertTrue(handler.stop(timeout=10))
        self.assertLess(time.monotonic() - start, 1.0)
        self.assertFalse(thread.is_alive())
        # The pending check was dropped, and later changes are ignored.
        handler.process([self.state_event(uuidutils.generate_uuid())])
        self.assertEqual(0, self.sim.stats()['by_pattern'].get(QP_READ, 0))
