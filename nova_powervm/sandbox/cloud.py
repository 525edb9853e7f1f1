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
"""The all-in-one cloud: nova's functional fixtures outside a test runner.

``Cloud`` is a fixture: ``setUp`` starts everything, ``cleanUp`` stops it.
The process must select native threading before this module is imported
(``nova_powervm.sandbox.cli`` does).
"""

import os
import sys

import fixtures
from keystoneauth1 import loading as ks_loading
from nova.api.openstack import wsgi_app
from nova.api import wsgi as nova_wsgi
from nova.compute import rpcapi as compute_rpcapi
from nova import context
from nova import objects
from nova.tests import fixtures as nova_fixtures
from nova.tests.functional import fixtures as func_fixtures
from oslo_config import cfg

from nova_powervm import conf as pvm_conf
from nova_powervm.sandbox import auth
from nova_powervm.sandbox import catalog
from nova_powervm.sandbox import hosts
from nova_powervm.sandbox import images
from nova_powervm.sandbox import network
from nova_powervm.sandbox import wsgi_server

CONF = cfg.CONF
DRIVERS = {'powervm': 'powervm_ext.driver.PowerVMDriver',
           'fake': 'fake.MediumFakeDriver'}
# What the default image asks of a host: Power for the PowerVM driver,
# nothing for nova's fake driver (which reports x86_64).
# [powervm] disk_driver values the sandbox can run.
DISK_DRIVERS = ('localdisk', 'ssp')
IMAGE_PROPERTIES = {'powervm': {'architecture': 'ppc64le'}, 'fake': {}}
SHUTDOWN_TIMEOUT = 10
CONTROLLER_HOST = 'sandbox-controller'
CELL1 = 'cell1'
CELL1_UUID = '5b0f6a3e-2c1d-4e8f-9a7b-3d2c1e0f9a8b'


def api_paste_config():
    """Path of nova's installed ``api-paste.ini``.

    The wheel installs it under ``<prefix>/etc/nova/``, while nova's test
    defaults look beside the ``nova`` package, where it is not.
    """
    return os.path.join(sys.prefix, 'etc', 'nova', 'api-paste.ini')


class Cloud(fixtures.Fixture):
    """Placement, API, conductor, scheduler and N computes in-process.

    :param computes: number of nova-compute services.
    :param driver: ``powervm`` or ``fake``.
    :param api_port: TCP port of the compute API (0: any free port).
    :param state_dir: directory for locks, logs and simulator state.
    :param image_size: bytes of the default raw image.
    :param disk_driver: ``[powervm] disk_driver``: ``localdisk`` (each
        host's volume group) or ``ssp`` (one Shared Storage Pool that
        every simulated host shares, in ``<state_dir>/ssp``).
    """

    def __init__(self, computes=2, driver='powervm', api_port=0,
                 state_dir=None, image_size=4 * 1024 * 1024,
                 disk_driver='localdisk'):
        super().__init__()
        if driver not in DRIVERS:
            raise ValueError('driver must be one of %s' % sorted(DRIVERS))
        self.n_computes = computes
        self.driver = driver
        self.api_port = api_port
        self.state_dir = state_dir
        self.image_size = image_size
        if disk_driver not in DISK_DRIVERS:
            raise ValueError('disk_driver must be one of %s'
                             % ', '.join(DISK_DRIVERS))
        self.disk_driver = disk_driver
        self.computes = {}
        self.simulators = {}
        self.baselines = {}
        self.cell_mappings = {}

    # The owner interface nova's service fixtures expect of a test case.
    def stub_out(self, old, new):
        """Replace ``old`` (dotted path) by ``new`` until cleanup."""
        self.useFixture(fixtures.MonkeyPatch(old, new))

    def flags(self, **kw):
        """Override options (``group=`` selects the group) until cleanup."""
        group = kw.pop('group', None)
        for key, value in kw.items():
            CONF.set_override(key, value, group)
            self.addCleanup(CONF.clear_override, key, group)

    def id(self):
        """Name nova's notification fixture would label threads with."""
        return 'nova-powervm-sandbox'

    def _setUp(self):
        if self.state_dir is None:
            self.state_dir = self.useFixture(fixtures.TempDir()).path
        os.makedirs(self.state_dir, exist_ok=True)
        self._configure()
        self._databases()
        self.placement = self.useFixture(func_fixtures.PlacementFixture())
        self._placement_auth()
        self.glance = self.useFixture(images.ImageServiceFixture(
            self, image_size=self.image_size,
            properties=IMAGE_PROPERTIES[self.driver]))
        self.neutron = self.useFixture(network.SandboxNeutronFixture(
            self, **network.VIF_BINDING[self.driver]))
        self.cinder = self.useFixture(nova_fixtures.CinderFixture(self))
        self.policy = self.useFixture(nova_fixtures.RealPolicyFixture())
        self.flags(host=CONTROLLER_HOST)
        self.conductor = self._service('conductor')
        self.scheduler = self._service('scheduler')
        for index in range(self.n_computes):
            self.start_compute('pvm-host%d' % (index + 1))
        self._serve_api()

    def _configure(self):
        self.useFixture(nova_fixtures.ConfFixture(CONF))
        self.useFixture(nova_fixtures.RPCFixture('nova.test'))
        CONF.set_default('driver', ['noop'],
                         group='oslo_messaging_notifications')
        locks = os.path.join(self.state_dir, 'locks')
        os.makedirs(locks, exist_ok=True)
        self.flags(lock_path=locks, group='oslo_concurrency')
        self.flags(compute_driver=DRIVERS[self.driver],
                   state_path=self.state_dir, my_ip='127.0.0.1',
                   instances_path=os.path.join(self.state_dir, 'instances'))
        self.flags(api_paste_config=api_paste_config(), group='wsgi')
        self.flags(response_validation='warn', group='api')
        self.flags(build_failure_weight_multiplier=0.0,
                   group='filter_scheduler')
        # Let a stopping compute finish cleanup_host (the driver logs off
        # NovaLink) before its simulator goes away; nova's test default
        # of 0 leaves that running in the background.
        self.flags(manager_shutdown_timeout=SHUTDOWN_TIMEOUT)
        if self.driver == 'powervm':
            pvm_conf.register_opts(CONF)
            self.flags(host_shim='simulator', volume_group_name='datavg',
                       pvm_host='127.0.0.1', group='powervm')

    def _placement_auth(self):
        # Nova reaches placement through keystoneauth; a static endpoint
        # and token (the admin_token plugin) replace keystone's catalog.
        group = 'placement'
        opts = ks_loading.get_auth_plugin_conf_options('admin_token')
        CONF.register_opts([o for o in opts
                            if o.dest not in CONF[group]], group=group)
        self.flags(auth_type='admin_token', endpoint=self.placement.endpoint,
                   token=self.placement.token, group=group)

    def _databases(self):
        self.useFixture(nova_fixtures.Database(database='api'))
        celldbs = nova_fixtures.CellDatabases()
        ctxt = context.get_context()
        for name, cell_uuid in (
                ('cell0', objects.CellMapping.CELL0_UUID),
                (CELL1, CELL1_UUID)):
            cell = objects.CellMapping(
                context=ctxt, uuid=cell_uuid, name=name,
                transport_url='fake://nowhere/',
                database_connection=cell_uuid)
            cell.create()
            self.cell_mappings[name] = cell
            celldbs.add_cell_database(cell_uuid, default=(name == CELL1))
        self.useFixture(celldbs)
        self.useFixture(nova_fixtures.DefaultFlavorsFixture())

    def _service(self, name, **kwargs):
        return self.useFixture(nova_fixtures.ServiceFixture(
            name, CONTROLLER_HOST, **kwargs)).service

    def start_compute(self, host):
        """Start one nova-compute (and its simulator for ``powervm``).

        :param host: the compute's host name.
        :returns: the started ``nova.service.Service``.
        """
        if self.driver == 'powervm':
            sim = self._start_simulator(host)
            self.simulators[host] = sim
            self.baselines[host] = sim.state()
            self.flags(group='powervm', disk_driver=self.disk_driver,
                       **sim.driver_flags())
        self.flags(host=host)
        cell = self.cell_mappings[CELL1]
        with hosts.node_identity(host):
            svc = self.useFixture(nova_fixtures.ServiceFixture(
                'compute', host, cell=cell,
                topic_alt=compute_rpcapi.RPC_TOPIC_ALT)).service
        hosts.pin_node_identity(svc, host)
        self._map_host(host, cell, svc)
        self.computes[host] = svc
        self.flags(host=CONTROLLER_HOST)
        return svc

    def _start_simulator(self, host):
        from nova_powervm.simulator import fixture as pvm_fixtures

        sim_dir = os.path.join(self.state_dir, 'sim-%s' % host)
        os.makedirs(sim_dir, exist_ok=True)
        pool_dir = None
        if self.disk_driver == 'ssp':
            pool_dir = os.path.join(self.state_dir, 'ssp')
        return self.useFixture(pvm_fixtures.SimulatorFixture(
            host='127.0.0.1', port=0, mode='server', state_dir=sim_dir,
            inventory=hosts.host_inventory(len(self.simulators) + 1),
            pool_dir=pool_dir))

    @staticmethod
    def _map_host(host, cell, svc):
        ctxt = context.get_admin_context()
        objects.HostMapping(context=ctxt, host=host,
                            cell_mapping=cell).create()
        with context.target_cell(ctxt, cell) as cctxt:
            for node in objects.ComputeNodeList.get_all_by_host(cctxt, host):
                node.mapped = 1
                node.save()

    def _serve_api(self):
        # nova's api-paste.ini, with keystonemiddleware's authtoken replaced
        # by the loopback-only token filter.
        self.useFixture(fixtures.MonkeyPatch(
            'keystonemiddleware.auth_token.filter_factory',
            auth.filter_factory))
        app = nova_wsgi.Loader().load_app('osapi_compute')
        wsgi_app._setup_service(CONTROLLER_HOST, 'osapi_compute')
        # /image and /network: read-only views for the openstack CLI.
        app = catalog.CatalogApp(app, self.glance, self.neutron)
        self.api_server = self.useFixture(wsgi_server.WSGIServerFixture(
            app, port=self.api_port, name='osapi_compute'))

    @property
    def compute_url(self):
        """The compute API's v2.1 endpoint."""
        return self.api_server.url + '/v2.1'

    def round_trips(self):
        """NovaLink REST requests so far, summed over every simulator.

        The event long polls (``GET .../Event``) run all the time in the
        background and are left out: they are not caused by an operation.
        """
        total = 0
        for sim in self.simulators.values():
            stats = sim.stats()
            polls = sum(n for pattern, n in stats['by_pattern'].items()
                        if pattern.startswith('GET ')
                        and pattern.rstrip('/').endswith('/Event'))
            total += stats['total'] - polls
        return total

    def leftovers(self):
        """What each simulator still holds, ``{host: {kind: [...]}}``."""
        found = {}
        for host, sim in self.simulators.items():
            held = hosts.leftovers_of(sim.state(), self.baselines[host])
            if held:
                found[host] = held
        return found

    def image_cache_pass(self):
        """Run each compute's image cache pass now, as the periodic would.

        :returns: number of computes whose driver keeps an image cache.
        """
        cell = self.cell_mappings[CELL1]
        return sum(hosts.image_cache_pass(svc, host, cell)
                   for host, svc in sorted(self.computes.items()))

    def total_usage(self):
        """Non-zero placement usages, ``{provider name: {rc: used}}``."""
        api = self.placement.api
        used = {}
        rps = api.get('/resource_providers', version='1.14').body
        for rp in rps['resource_providers']:
            usages = api.get('/resource_providers/%s/usages' % rp['uuid'],
                             version='1.14').body['usages']
            busy = {rc: n for rc, n in usages.items() if n}
            if busy:
                used[rp['name']] = busy
        return used
