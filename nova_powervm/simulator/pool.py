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
"""Storage shared by several simulated hosts (a Shared Storage Pool).

A real SSP cluster spans the VIOSes of several managed systems, and each
NovaLink serves the same cluster, pool, tier and logical units.  Here the
objects of those kinds live in one :class:`SharedPool`: a store and a
disk FileStore in a directory (``pool_dir``), which every Simulator
started with the same directory in one process joins.  The member
simulators' stores route the shared kinds to the pool's store, and all of
them (and the pool) use the pool's one lock, so a change made through one
host is seen by the others at once and nothing can deadlock.

A Simulator without a ``pool_dir`` that has an SSP gets a private pool in
``<state_dir>/ssp``.  The pool's state is saved in its directory when a
member saves; the last member to close it closes it.
"""

import os
import threading
import weakref

from nova_powervm.simulator import files
from nova_powervm.simulator import model

#: The REST kinds that live in the shared pool.
SHARED_KINDS = frozenset(('Cluster', 'SharedStoragePool', 'Tier',
                          'LogicalUnit'))
STATE_FILE = 'pool.xml'

_POOLS = {}
_POOLS_LOCK = threading.Lock()


class SharedPool(object):
    """The objects and disks of one SSP cluster, shared by its hosts.

    :param root: the pool directory.
    """

    def __init__(self, root):
        self.root = root
        os.makedirs(root, exist_ok=True)
        self.lock = threading.RLock()
        self.store = model.Store(lock=self.lock)
        self.files = files.FileStore(root)
        self._members = weakref.WeakSet()
        self.users = 0
        path = os.path.join(root, STATE_FILE)
        if os.path.exists(path):
            with open(path, 'rb') as fil:
                self.store.load(fil.read())

    @property
    def members(self):
        """The member Simulators (creation order is not kept)."""
        return list(self._members)

    def add_member(self, sim):
        """Let a Simulator serve the pool.

        :param sim: the Simulator.
        """
        with self.lock:
            self._members.add(sim)

    def save(self):
        """Write the pool's objects to its directory."""
        with self.lock:
            data = self.store.dump()
            self.store.dirty.clear()
        tmp = os.path.join(self.root, STATE_FILE + '.tmp')
        with open(tmp, 'wb') as fil:
            fil.write(data)
        os.replace(tmp, os.path.join(self.root, STATE_FILE))


def join(root, sim):
    """The pool of a directory (created or loaded), with ``sim`` a member.

    :param root: the pool directory.
    :param sim: the Simulator joining it.
    """
    key = os.path.realpath(root)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            pool = _POOLS[key] = SharedPool(key)
        pool.users += 1
    pool.add_member(sim)
    return pool


def leave(pool, sim, save):
    """A member Simulator closes; the last one out forgets the pool.

    :param pool: the :class:`SharedPool`.
    :param sim: the Simulator.
    :param save: save the pool's state first.
    """
    if save:
        pool.save()
    with _POOLS_LOCK:
        pool.users -= 1
        with pool.lock:
            pool._members.discard(sim)
        if pool.users <= 0 and _POOLS.get(pool.root) is pool:
            del _POOLS[pool.root]
