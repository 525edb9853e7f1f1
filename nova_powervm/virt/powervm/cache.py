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
"""What one driver remembers about its NovaLink host between operations.

One ``HostCache`` per ``HostContext``: built by ``init_host`` (seeded with
what it read), dropped by ``cleanup_host``.  Nothing here is module state,
so several drivers in one process never share an entry.  Every method is
thread-safe.

``LparStates`` is the short-lived snapshot of partition states that serves
``get_info(use_cache=True)``: one LogicalPartition feed read shared by the
calls of a periodic pass, kept current by the event feed.
"""

import threading
import time

# Seconds a ManagedSystem wrapper is reused for partition creation: what
# creation reads from it (capabilities, compatibility modes, memory region
# size) only changes with a firmware update.
HOST_WRAPPER_TTL = 600

# Seconds a partition state snapshot (one LPAR feed read) serves
# get_info(use_cache=True).  Events invalidate entries sooner.
LPAR_STATE_TTL = 5.0

# Answers of LparStates.lookup.
HIT, ABSENT, MISS = 'hit', 'absent', 'miss'


class HostCache:
    """Per-host values that rarely change, with their reload rules.

    :param host_uuid: ManagedSystem UUID.
    :param clock: time source (tests).
    """

    def __init__(self, host_uuid, clock=time.monotonic):
        self.host_uuid = host_uuid
        self.clock = clock
        self.lpar_states = LparStates(clock=clock)
        self._lock = threading.Lock()
        self._vsw_lock = threading.Lock()
        self._host = None
        self._vswitches = None
        self._repo = None
        self._jobs = {}
        self._learned = {}

    # -- ManagedSystem wrapper (static properties only) -------------------
    def host_wrapper(self, fetch):
        """The ManagedSystem wrapper, re-read every ``HOST_WRAPPER_TTL`` s.

        :param fetch: callable returning a fresh wrapper (1 GET).
        """
        now = self.clock()
        with self._lock:
            found = self._host
        if found and now - found[0] < HOST_WRAPPER_TTL:
            return found[1]
        host_w = fetch()
        with self._lock:
            self._host = (now, host_w)
        return host_w

    def remember_host(self, host_w):
        """Seed the wrapper with one just read (``init_host``).

        :param host_w: ``System`` wrapper.
        """
        with self._lock:
            self._host = (self.clock(), host_w)

    def forget_host(self):
        """Drop the wrapper: the next use reads it again."""
        with self._lock:
            self._host = None

    # -- Virtual switches ---------------------------------------------------
    def vswitches(self, load, refresh=False):
        """``{name: href}`` of the host's switches, loaded once.

        Concurrent first callers share one load.

        :param load: callable returning the dict (1 GET).
        :param refresh: load again even when known.
        :returns: a copy of the dict.
        """
        with self._vsw_lock:
            if refresh or self._vswitches is None:
                self._vswitches = load()
            return dict(self._vswitches)

    # -- Media repository ---------------------------------------------------
    def media_repo(self):
        """``(vios_uuid, vg_uuid)`` of the media repository, or None."""
        with self._lock:
            return self._repo

    def remember_repo(self, vios_uuid, vg_uuid):
        """Record where the media repository is.

        :param vios_uuid: UUID of the VIOS owning its volume group.
        :param vg_uuid: UUID of that volume group.
        """
        with self._lock:
            self._repo = (vios_uuid, vg_uuid)

    def forget_repo(self):
        """Drop the media repository location."""
        with self._lock:
            self._repo = None

    # -- Job request templates ---------------------------------------------
    def job_template(self, key, load):
        """A job request template (an XML entry), read once per key.

        :param key: hashable, e.g. ``(schema type, job name)``.
        :param load: callable returning the entry (1 GET).
        :returns: the shared entry (callers copy it before use).
        """
        with self._lock:
            entry = self._jobs.get(key)
        if entry is None:
            entry = load()
            with self._lock:
                entry = self._jobs.setdefault(key, entry)
        return entry

    # -- Facts learned once (the VIOSes' FC ports, iSCSI initiators...) ----
    def learned(self, key, load, refresh=False):
        """A value learned from the host once, then reused.

        :param key: hashable, e.g. ``('volume', 'vioses')``.
        :param load: callable returning the value.
        :param refresh: load again even when known.
        """
        with self._lock:
            found = None if refresh else self._learned.get(key)
        if found is None:
            found = load()
            with self._lock:
                self._learned[key] = found
        return found

    def forget(self, key):
        """Drop a learned value: the next use loads it again."""
        with self._lock:
            self._learned.pop(key, None)

    def clear(self):
        """Forget everything (``cleanup_host``)."""
        with self._lock:
            self._host = self._repo = None
            self._jobs.clear()
            self._learned.clear()
        with self._vsw_lock:
            self._vswitches = None
        self.lpar_states.invalidate_all()


class LparStates:
    """Snapshot of partition states: ``{PowerVM UUID: PartitionState}``.

    Filled from a LogicalPartition feed read (``refresh``), valid for
    ``LPAR_STATE_TTL`` seconds.  Events mark single partitions stale
    (``invalidate``) or the whole snapshot (``invalidate_all``); a stale
    or unknown partition is read on its own.  An invalidation that arrives
    while a read is under way wins over what the read brings back.

    :param clock: time source (tests).
    """

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._states = {}
        self._stamp = None
        self._seq = 0
        self._stale = {}
        self._all_stale = 0

    def lookup(self, lpar_uuid):
        """What the snapshot says about a partition.

        :param lpar_uuid: PowerVM UUID.
        :returns: ``(HIT, state)`` when the snapshot is fresh and holds the
                  partition, not stale; ``(ABSENT, None)`` when it is fresh
                  and lacks it; ``(MISS, None)`` when it cannot tell.
        """
        key = lpar_uuid.upper()
        with self._lock:
            if not self._fresh() or key in self._stale:
                return MISS, None
            if key not in self._states:
                return ABSENT, None
            return HIT, self._states[key]

    def is_fresh(self):
        """Whether the snapshot can serve lookups."""
        with self._lock:
            return self._fresh()

    def _fresh(self):
        return (self._stamp is not None and
                self.clock() - self._stamp < LPAR_STATE_TTL)

    def refresh(self, read):
        """Fill the snapshot from ``read()`` unless fresh (one reader).

        Callers arriving while another reads wait for that read.

        :param read: callable returning ``{uuid: state}`` for every
                     partition (1 GET of the feed).
        :returns: ``{UUID: state}`` as read (upper-case UUIDs; it serves
                  the caller even where an event arrived during the read),
                  or None when another caller's read is used.
        """
        with self._refresh_lock:
            if self.is_fresh():
                return None
            return self.store(read)

    def store(self, read):
        """Replace the snapshot with ``read()`` (a feed just read).

        :param read: callable returning ``{uuid: state}``, or the dict.
        :returns: ``{UUID: state}`` as read (upper-case UUIDs).
        """
        start_seq, stamp = self._mark()
        states = read() if callable(read) else read
        states = {k.upper(): v for k, v in states.items()}
        with self._lock:
            if self._all_stale > start_seq:
                return states
            self._states = dict(states)
            self._stale = {k: s for k, s in self._stale.items()
                           if s > start_seq}
            self._stamp = stamp
        return states

    def store_one(self, lpar_uuid, read):
        """Read one partition's state and keep it (unless invalidated).

        :param lpar_uuid: PowerVM UUID.
        :param read: callable returning the state (1 GET); its exceptions
                     propagate after the entry is dropped.
        :returns: the state read.
        """
        key = lpar_uuid.upper()
        start_seq, _stamp = self._mark()
        try:
            state = read()
        except Exception:
            with self._lock:
                self._states.pop(key, None)
            raise
        with self._lock:
            if (self._stale.get(key, 0) <= start_seq and
                    self._all_stale <= start_seq):
                self._stale.pop(key, None)
                self._states[key] = state
        return state

    def _mark(self):
        with self._lock:
            self._seq += 1
            return self._seq, self.clock()

    def invalidate(self, lpar_uuid):
        """A partition changed (event): its next lookup reads it again.

        :param lpar_uuid: PowerVM UUID.
        """
        with self._lock:
            self._seq += 1
            self._stale[lpar_uuid.upper()] = self._seq

    def invalidate_all(self):
        """Events were missed: the next lookup reads the feed again."""
        with self._lock:
            self._seq += 1
            self._all_stale = self._seq
            self._stamp = None
            self._states = {}
            self._stale = {}
