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
"""PowerVM event feed -> nova lifecycle events, on native threads.

pypowervm's event listener long-polls NovaLink's ``Event`` feed on its own
thread and hands each batch to ``LifecycleHandler.process``.  A partition
state change schedules a check ``delay`` seconds later (a newer change of
the same partition replaces the pending check, so bursts such as
``shutting down`` -> ``not activated`` give one event); the check reads the
current ``PartitionState`` (1 GET) and emits the matching nova
``LifecycleEvent`` through the driver.  Every state change, deletion or
lost event also marks the partition (or all of them) stale at once in the
driver's partition state snapshot (``cache.LparStates``), which serves
``get_info(use_cache=True)``.  The delayed checks of one handler share a
single scheduler thread (a host-wide burst over hundreds of partitions
must not start a thread each).  ``EventMonitor.stop`` drops pending checks
and waits for the scheduler and poll threads to end.
"""

import re
import threading
import time

from nova import context as nova_context
from nova import exception as nova_exc
from nova import objects
from nova.virt import event as virtevent
from oslo_log import log as logging
from pypowervm import adapter as pvm_adpt
from pypowervm.wrappers import event as pvm_evt

from nova_powervm.virt.powervm import session
from nova_powervm.virt.powervm import vm

LOG = logging.getLogger(__name__)

# Seconds between a state change and the lifecycle check (as the libvirt
# driver delays STOPPED): lets transitional states settle.
DEFAULT_DELAY = 15.0

_LPAR_RE = re.compile(r'/LogicalPartition/([0-9A-Fa-f-]{36})$')

# PowerVM state -> nova lifecycle transition.  nova re-reads get_info and
# drops an event whose power state differs, so only states whose get_info
# value matches a transition emit one (see vm.POWERVM_TO_NOVA_STATE);
# transitional states followed by another event (shutting down, resuming)
# and states nova only reconciles periodically (error, unknown) emit none.
TRANSITIONS = {
    'running': virtevent.EVENT_LIFECYCLE_STARTED,
    'starting': virtevent.EVENT_LIFECYCLE_STARTED,
    'open firmware': virtevent.EVENT_LIFECYCLE_STARTED,
    'migrating running': virtevent.EVENT_LIFECYCLE_STARTED,
    'not activated': virtevent.EVENT_LIFECYCLE_STOPPED,
    'migrating not active': virtevent.EVENT_LIFECYCLE_STOPPED,
    'suspending': virtevent.EVENT_LIFECYCLE_SUSPENDED,
    'suspended': virtevent.EVENT_LIFECYCLE_SUSPENDED,
}


def lpar_uuid_of(uri):
    """The partition UUID at the end of an event's URI, upper case, or None.

    :param uri: ``EventData`` of an event.
    """
    match = _LPAR_RE.search((uri or '').split('?')[0])
    return match.group(1).upper() if match else None


class UUIDResolver:
    """PowerVM partition UUID -> nova instance UUID.

    PowerVM clears the top bit of the UUID, so the mapping back is
    ambiguous; the driver records the instances it handles, and unknown
    ones are looked up in nova's database (both candidates).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._map = {}

    def remember(self, instance):
        """Record the PowerVM UUID of an instance."""
        with self._lock:
            self._map[vm.get_pvm_uuid(instance)] = instance.uuid

    def forget(self, pvm_uuid):
        """Drop a partition (deleted)."""
        with self._lock:
            self._map.pop(pvm_uuid.upper(), None)

    def clear(self):
        """Drop everything (the event feed was reset)."""
        with self._lock:
            self._map.clear()

    def resolve(self, pvm_uuid):
        """The nova UUID of a partition, or None if it is no instance."""
        with self._lock:
            known = self._map.get(pvm_uuid.upper())
        if known:
            return known
        ctx = nova_context.get_admin_context()
        for candidate in vm.nova_uuid_candidates(pvm_uuid):
            try:
                objects.Instance.get_by_uuid(ctx, candidate,
                                             expected_attrs=[])
            except nova_exc.InstanceNotFound:
                continue
            with self._lock:
                self._map[pvm_uuid.upper()] = candidate
            return candidate
        return None


class LifecycleHandler(pvm_adpt.WrapperEventHandler):
    """Turns partition state events into nova lifecycle events.

    :param adapter: pypowervm ``Adapter`` for the state reads.
    :param emit: callable taking a nova ``LifecycleEvent`` (the driver's
                 ``emit_event``).
    :param resolver: ``UUIDResolver``.
    :param delay: seconds between a change and its check.
    :param states: the host's ``cache.LparStates`` to invalidate, or None.
    """

    def __init__(self, adapter, emit, resolver, delay=DEFAULT_DELAY,
                 states=None):
        self.adapter = adapter
        self.emit = emit
        self.resolver = resolver
        self.delay = delay
        self.states = states
        self._cond = threading.Condition()
        # Partition UUID -> monotonic due time.  The delay is constant and
        # a rescheduled partition is re-inserted at the end, so insertion
        # order is due order and the first entry is always the next due.
        self._due = {}
        self._thread = None
        self._stopped = False

    def process(self, events):
        """Handle one batch of pypowervm ``Event`` wrappers."""
        for evt in events:
            if evt.etype in (pvm_evt.EventType.NEW_CLIENT,
                             pvm_evt.EventType.CACHE_CLEARED,
                             pvm_evt.EventType.MISSING_EVENTS):
                self.resolver.clear()
                if self.states is not None:
                    self.states.invalidate_all()
                continue
            lpar_uuid = lpar_uuid_of(evt.data)
            if not lpar_uuid:
                continue
            if evt.etype == pvm_evt.EventType.DELETE_URI:
                self._invalidate(lpar_uuid)
                self._cancel(lpar_uuid)
                self.resolver.forget(lpar_uuid)
            elif 'PartitionState' in (evt.detail or ''):
                self._invalidate(lpar_uuid)
                self._schedule(lpar_uuid)

    def _invalidate(self, lpar_uuid):
        if self.states is not None:
            self.states.invalidate(lpar_uuid)

    def _schedule(self, lpar_uuid):
        """Due a check ``delay`` s from now, replacing a pending one."""
        with self._cond:
            if self._stopped:
                return
            self._due.pop(lpar_uuid, None)
            self._due[lpar_uuid] = time.monotonic() + self.delay
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name='powervm-lifecycle-checks',
                    daemon=True)
                self._thread.start()
            self._cond.notify()

    def _cancel(self, lpar_uuid):
        with self._cond:
            self._due.pop(lpar_uuid, None)

    def _next_due(self):
        """Wait for the earliest due partition (lock held).

        :returns: its UUID, or None once stopped.
        """
        while not self._stopped:
            if not self._due:
                self._cond.wait()
                continue
            lpar_uuid, due = next(iter(self._due.items()))
            left = due - time.monotonic()
            if left <= 0:
                del self._due[lpar_uuid]
                return lpar_uuid
            self._cond.wait(left)
        return None

    def _run(self):
        """The scheduler thread: run each check when it falls due."""
        while True:
            with self._cond:
                lpar_uuid = self._next_due()
            if lpar_uuid is None:
                return
            try:
                self.check_now(lpar_uuid)
            except Exception:
                LOG.exception('Lifecycle check of partition %s failed.',
                              lpar_uuid)

    def check_now(self, lpar_uuid):
        """Read a partition's state and emit its lifecycle event.

        :param lpar_uuid: PowerVM UUID.
        :returns: the emitted ``LifecycleEvent`` or None.
        """
        try:
            state = vm.get_vm_qp(self.adapter, lpar_uuid, 'PartitionState')
        except nova_exc.InstanceNotFound:
            return None
        transition = TRANSITIONS.get(str(state).lower())
        if transition is None:
            return None
        inst_uuid = self.resolver.resolve(lpar_uuid)
        if inst_uuid is None:
            return None
        event = virtevent.LifecycleEvent(inst_uuid, transition)
        LOG.debug('Partition %(lpar)s is %(state)s: %(event)s',
                  {'lpar': lpar_uuid, 'state': state,
                   'event': event.get_name()})
        self.emit(event)
        return event

    def stop(self, timeout=30.0):
        """Drop every pending check and end the scheduler thread.

        Later events are ignored.  A check already running finishes first.

        :param timeout: seconds to wait for the scheduler thread.
        :returns: True if the scheduler thread ended in time.
        """
        with self._cond:
            self._stopped = True
            self._due.clear()
            thread = self._thread
            self._cond.notify_all()
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout)
        return not thread.is_alive()


class EventMonitor:
    """Owns the event listener subscription of one driver.

    :param adapter: pypowervm ``Adapter`` whose session gets the listener.
    :param handler: the ``LifecycleHandler``.
    """

    def __init__(self, adapter, handler):
        self.adapter = adapter
        self.handler = handler
        self._listener = None

    def start(self):
        """Prime the listener (1 GET) and start the poll thread."""
        self._listener = self.adapter.session.get_event_listener()
        self._listener.subscribe(self.handler)

    def stop(self, timeout=30.0):
        """Stop handling events and wait up to ``timeout`` s for the poll.

        :returns: True if the poll thread ended in time.
        """
        deadline = time.monotonic() + timeout
        checks_ended = self.handler.stop(timeout)
        listener, self._listener = self._listener, None
        if listener is None:
            return checks_ended
        thread = session.event_poll_thread(listener)
        for handler in list(listener.handlers):
            listener.unsubscribe(handler)
        if thread is None:
            return checks_ended
        thread.join(max(0.0, deadline - time.monotonic()))
        return checks_ended and not thread.is_alive()
