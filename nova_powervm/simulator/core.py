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
"""The Simulator: state, WSGI application and admin operations."""

import json
import os
import shutil
import tempfile
import threading
import uuid as uuidlib

from nova_powervm.simulator import app as sim_app
from nova_powervm.simulator import events
from nova_powervm.simulator import faults
from nova_powervm.simulator import files
from nova_powervm.simulator import hostshim
from nova_powervm.simulator import inventory as sim_inv
from nova_powervm.simulator import jobs
from nova_powervm.simulator import model
from nova_powervm.simulator import pool as sim_pool
from nova_powervm.simulator import resources
from nova_powervm.simulator import san as sim_san
from nova_powervm.simulator import state as sim_state
from nova_powervm.simulator import stats

STATE_FILE = 'state.xml'
META_FILE = 'meta.json'


class Simulator(object):
    """One simulated NovaLink host; a WSGI application.

    :param inventory: an :class:`Inventory` (used when no saved state).
    :param state_dir: where state, tokens and disk files live; a private
        temporary directory (removed by :meth:`close`) when None.
    :param event_timeout: seconds an event poll blocks.
    :param job_seconds: how long jobs run before completing.
    :param latency: seconds added to every ``/rest/api`` request.
    :param user: password-logon user (None: any user/password).
    :param password: password-logon password.
    :param base_url: scheme://host:port used in hrefs.
    :param registry: the :class:`~nova_powervm.simulator.registry.Registry`
        of resource types, jobs and hooks served (default: every resource
        module's, see :mod:`nova_powervm.simulator.resources`).
    :param pool_dir: directory of a Shared Storage Pool this host shares
        with the other Simulators given the same directory in this process
        (see :mod:`nova_powervm.simulator.pool`); implies an SSP.  None: a
        private pool in ``<state_dir>/ssp`` when the inventory has one.
    :param san_dir: directory of the simulated SAN this host shares with
        the other Simulators given the same directory in this process
        (see :mod:`nova_powervm.simulator.san`).  None: a private SAN in
        ``<state_dir>/san``.
    :param admin_token: when set, every ``/sim/`` request must carry it in
        an ``X-Sim-Admin-Token`` header (401 otherwise).
    :param token_prefix: text every session token starts with (lets a
        test find a leaked token by grepping for it).
    """

    def __init__(self, inventory=None, state_dir=None, event_timeout=10.0,
                 job_seconds=0.0, latency=0.0, user=None, password=None,
                 base_url='http://localhost:12080', registry=None,
                 pool_dir=None, san_dir=None, admin_token=None,
                 token_prefix=''):
        self.registry = registry or resources.registry()
        self._own_dir = state_dir is None
        self.state_dir = state_dir or tempfile.mkdtemp(prefix='pvm-sim-')
        os.makedirs(self.state_dir, exist_ok=True)
        self.base_url = base_url
        self.store = model.Store()
        loaded = self._load()
        if not loaded:
            self.inventory = inventory or sim_inv.Inventory()
        self.pool = None
        if pool_dir or self.inventory.ssp:
            self.inventory.ssp = True
            self.pool = sim_pool.join(
                pool_dir or os.path.join(self.state_dir, 'ssp'), self)
            self.store.share(self.pool.store, sim_pool.SHARED_KINDS)
        self.san = sim_san.join(
            san_dir or os.path.join(self.state_dir, 'san'), self)
        self.events = events.EventBus(event_timeout)
        self.jobs = jobs.JobManager(self)
        self.faults = faults.Faults()
        self.stats = stats.Stats()
        self.vterms = hostshim.Vterms()
        self.files = files.FileStore(
            self.state_dir, shared=self.pool.files if self.pool else None)
        self.latency = latency
        self.job_seconds = job_seconds
        self.user = user
        self.password = password
        self.admin_token = admin_token
        self.token_prefix = token_prefix
        self.sessions = {}
        self.render_cache = {}
        shutil.rmtree(os.path.join(self.state_dir, 'tokens'),
                      ignore_errors=True)
        self.closed = threading.Event()
        self._save_lock = threading.Lock()
        if not loaded:
            resources.seed(self, self.inventory)
        self.peer_port = 12080
        self.app = sim_app.SimApp(self)
        self.registry.run_hooks('started', self)

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)

    # Identity and hrefs ---------------------------------------------
    @property
    def sys_uuid(self):
        return self.inventory.sys_uuid

    def ms_href(self):
        """Href of the ManagedSystem."""
        return '%s/rest/api/uom/ManagedSystem/%s' % (self.base_url,
                                                     self.sys_uuid)

    def href(self, obj):
        """Absolute href of an object (CHILD form when it has a parent).

        :param obj: the :class:`Obj`.
        """
        path = '%s/%s' % (obj.kind, obj.uuid)
        if obj.parent:
            path = '%s/%s/%s' % (obj.parent[0], obj.parent[1], path)
        return '%s/rest/api/%s/%s' % (self.base_url, obj.service, path)

    @staticmethod
    def new_uuid():
        """A random lower-case UUID."""
        return str(uuidlib.uuid4())

    def uuid_for(self, *parts):
        """A stable UUID derived from names.

        :param parts: strings.
        """
        return str(uuidlib.uuid5(uuidlib.UUID(self.sys_uuid),
                                 '/'.join(parts)))

    @staticmethod
    def hexid(size):
        """Random hex digits.

        :param size: number of digits.
        """
        return uuidlib.uuid4().hex[:size]

    def emit(self, etype, obj, detail=''):
        """Queue an event about an object.

        :param etype: EventType.
        :param obj: the :class:`Obj` (or an href string).
        :param detail: EventDetail.
        """
        data = obj if isinstance(obj, str) else self.href(obj)
        self.events.emit(etype, data, detail)

    # Admin -----------------------------------------------------------
    def state(self):
        """The ``/sim/state`` summary (see the fixture contract)."""
        with self.store.lock:
            return sim_state.summary(self)

    def reset_stats(self):
        self.stats.reset()

    def drop_sessions(self):
        """Forget every logon session, as a restarted REST server does.

        The state is kept; token files of file logons are removed.
        """
        sessions, self.sessions = self.sessions, {}
        for path in sessions.values():
            if path:
                try:
                    os.unlink(path)
                except OSError:
                    pass

    # Persistence -----------------------------------------------------
    def save(self):
        """Write the state to the state directory.

        Saves are serialized (a periodic saver and shutdown may race) and
        each file is replaced atomically; a failed save leaves the store
        dirty so that the next one retries.
        """
        with self._save_lock:
            with self.store.lock:
                data = self.store.dump()
                meta = json.dumps({'inventory': self.inventory.to_dict()})
                self.store.dirty.clear()
            try:
                _write_atomic(os.path.join(self.state_dir, META_FILE),
                              meta.encode('utf-8'))
                _write_atomic(os.path.join(self.state_dir, STATE_FILE),
                              data)
                if self.pool is not None:
                    self.pool.save()
            except OSError:
                self.store.dirty.set()
                raise

    def _load(self):
        path = os.path.join(self.state_dir, STATE_FILE)
        if not os.path.exists(path):
            return False
        with open(os.path.join(self.state_dir, META_FILE)) as fil:
            meta = json.load(fil)
        self.inventory = sim_inv.Inventory.from_dict(meta['inventory'])
        with open(path, 'rb') as fil:
            self.store.load(fil.read())
        return True

    def close(self, save=None):
        """Release threads, listeners and (private) files.

        :param save: save state first (default: when the dir is not
            private).
        """
        if self.closed.is_set():
            return
        if save if save is not None else not self._own_dir:
            self.save()
        self.closed.set()
        self.registry.run_hooks('closed', self)
        if self.pool is not None:
            sim_pool.leave(self.pool, self, save=False)
        sim_san.leave(self.san, self)
        self.faults.clear()
        self.events.close()
        self.vterms.close_all()
        if self._own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)


def _write_atomic(path, data):
    """Replace a file's content in one step (write aside, then rename).

    :param path: the file.
    :param data: bytes.
    """
    tmp = path + '.tmp'
    with open(tmp, 'wb') as fil:
        fil.write(data)
    os.replace(tmp, path)
