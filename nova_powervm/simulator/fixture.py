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
"""A NovaLink simulator as a ``fixtures.Fixture`` (in-process or served).

Used by the tests, the sandbox and the benchmark: the simulator plus a
logged-on pypowervm Adapter, the admin API as methods, and the driver
options that point a PowerVM driver at it.
"""

import threading

import fixtures
from pypowervm import adapter as pvm_adpt

from nova_powervm.simulator import core
from nova_powervm.simulator import model
from nova_powervm.simulator.resources import lpar as sim_lpar
from nova_powervm.simulator import san as sim_san
from nova_powervm.simulator import server as sim_server
from nova_powervm.simulator import xmlutil as xu

_INTERCEPT_LOCK = threading.Lock()
_INTERCEPT_USERS = [0]


def _install_intercept(host, port, app):
    # wsgi-intercept is a test requirement: only this mode needs it.
    import wsgi_intercept
    from wsgi_intercept import requests_intercept
    with _INTERCEPT_LOCK:
        if not _INTERCEPT_USERS[0]:
            requests_intercept.install()
        _INTERCEPT_USERS[0] += 1
        wsgi_intercept.add_wsgi_intercept(host, port, lambda: app)


def _remove_intercept(host, port):
    import wsgi_intercept
    from wsgi_intercept import requests_intercept
    with _INTERCEPT_LOCK:
        wsgi_intercept.remove_wsgi_intercept(host, port)
        _INTERCEPT_USERS[0] -= 1
        if not _INTERCEPT_USERS[0]:
            requests_intercept.uninstall()


class SimulatorFixture(fixtures.Fixture):
    """A NovaLink REST simulator plus a logged-on pypowervm Adapter.

    :param host: host name clients use (intercept mode).
    :param port: port clients use (intercept mode; server mode binds an
        ephemeral port on 127.0.0.1 and sets ``self.port``).
    :param inventory: a :class:`nova_powervm.simulator.Inventory`.
    :param mode: ``intercept`` (wsgi-intercept for ``requests``) or
        ``server`` (a real threaded HTTP server).
    :param state_dir: state directory (private temporary one if None).
    :param event_timeout: seconds an event long poll blocks.
    :param registry: the resource types, jobs and hooks served (default:
        all, see :mod:`nova_powervm.simulator.resources`).
    :param pool_dir: directory of a Shared Storage Pool shared with the
        other simulators given the same one (see
        :mod:`nova_powervm.simulator.pool`), or None.
    :param san_dir: directory of the simulated SAN shared with the other
        simulators given the same one (see
        :mod:`nova_powervm.simulator.san`); None: a private SAN.
    :param user: password-logon user of the simulator (None: any).
    :param password: password-logon password.
    :param admin_token: token the ``/sim/`` API requires (None: none).
    :param token_prefix: text every session token starts with.
    """

    def __init__(self, host='localhost', port=12080, inventory=None,
                 mode='intercept', state_dir=None, event_timeout=1.0,
                 registry=None, pool_dir=None, san_dir=None, user=None,
                 password=None, admin_token=None, token_prefix=''):
        super(SimulatorFixture, self).__init__()
        if mode not in ('intercept', 'server'):
            raise ValueError('mode must be intercept or server')
        self.host = host
        self.port = port
        self.inventory = inventory
        self.mode = mode
        self.state_dir = state_dir
        self.event_timeout = event_timeout
        self.registry = registry
        self.pool_dir = pool_dir
        self.san_dir = san_dir
        self.user = user
        self.password = password
        self.admin_token = admin_token
        self.token_prefix = token_prefix
        self.server = None

    def _setUp(self):
        self.sim = core.Simulator(
            inventory=self.inventory, state_dir=self.state_dir,
            event_timeout=self.event_timeout,
            base_url='http://%s:%d' % (self.host, self.port),
            registry=self.registry, pool_dir=self.pool_dir,
            san_dir=self.san_dir, user=self.user,
            password=self.password, admin_token=self.admin_token,
            token_prefix=self.token_prefix)
        self.addCleanup(self.sim.close)
        if self.mode == 'server':
            self.server = sim_server.SimServer(self.sim, '127.0.0.1', 0)
            self.host, self.port = '127.0.0.1', self.server.port
            self.server.start()
            self.addCleanup(self.server.stop)
        else:
            _install_intercept(self.host, self.port, self.sim)
            self.addCleanup(_remove_intercept, self.host, self.port)
        session = pvm_adpt.Session(host=self.host, port=self.port,
                                   protocol='http', conn_tries=1)
        self.addCleanup(self._logoff, session)
        self.adapter = pvm_adpt.Adapter(session)

    @staticmethod
    def _logoff(session):
        if session.has_event_listener:
            session._eventlistener.shutdown()
        session._logoff()

    # Admin API (same JSON as /sim/...) -------------------------------
    def state(self):
        """The ``GET /sim/state`` dict."""
        return self.sim.state()

    def stats(self):
        """The ``GET /sim/stats`` dict."""
        return self.sim.stats.as_dict()

    def reset_stats(self):
        """``POST /sim/stats/reset``."""
        self.sim.reset_stats()

    def add_fault(self, **spec):
        """``POST /sim/faults`` with ``spec``.

        :param spec: the fault spec (see the admin API).
        """
        return self.sim.faults.add(**spec)

    def clear_faults(self):
        """``DELETE /sim/faults``."""
        self.sim.faults.clear()

    def request_log(self):
        """The latest requests' ``<METHOD> <pattern>``, in order."""
        return self.sim.stats.requests()

    def restart(self):
        """Drop every session, as a restarted REST server does."""
        self.sim.drop_sessions()

    def driver_flags(self):
        """``[powervm]`` options pointing a driver at this simulator."""
        return {'pvm_host': self.host, 'pvm_port': self.port,
                'host_shim': 'simulator', 'volume_group_name': 'datavg'}

    def san_client(self):
        """A :class:`~nova_powervm.simulator.san.SANClient` of this host."""
        return sim_san.SANClient('http://%s:%d' % (self.host, self.port),
                                 admin_token=self.admin_token)

    def add_lpars(self, specs):
        """Create client partitions directly in the store (no REST).

        As if another management tool had made them: no event is sent.
        They get the captured partition's processor and memory settings.

        :param specs: ``(name, uuid, state)`` triples; ``uuid`` as the
            driver computes it, ``state`` a PartitionState.
        :returns: the partitions' UUIDs as stored (upper case).
        """
        sim = self.sim
        uuids = []
        with sim.store.lock:
            used = {int(xu.text(p.elem, 'PartitionID'))
                    for p in sim_lpar.partitions(sim)}
            pid = sim_lpar.next_partition_id(sim)
            for name, uuid, state in specs:
                while pid in used:
                    pid += 1
                used.add(pid)
                uuid = uuid.upper()
                elem = sim_lpar.build_partition(
                    sim, sim_lpar.lpar_template(), name, pid, uuid,
                    'AIX/Linux', state)
                obj = model.Obj('LogicalPartition', uuid, elem,
                                ('ManagedSystem', sim.sys_uuid))
                sim_lpar.sync_partition(obj)
                sim.store.add(obj)
                uuids.append(uuid)
        return uuids
