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
"""The all-in-one cloud: nova's services outside a test runner.

``Cloud`` is a fixture: ``setUp`` starts everything, ``cleanUp`` stops it.
By default keystone, placement, Glance and Neutron run as processes of
their own (``services``) and nova's API, conductor, scheduler and computes
run here, checking tokens with keystonemiddleware and reaching the other
services through keystone's catalog with the ``nova`` service user, as in
a real deployment.  ``lite=True`` keeps the quick-start shape instead:
nova's in-process test fixtures for placement, image and network, behind
a token filter that trusts any ``user:project`` token.

The process must select native threading before this module is imported
(``nova_powervm.sandbox.cli`` does).
"""

import os
import sys

import fixtures
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from nova.api.openstack import wsgi_app
from nova.api import wsgi as nova_wsgi
from nova.compute import rpcapi as compute_rpcapi
from nova import context
from nova import exception as nova_exc
from nova import objects
from nova.tests import fixtures as nova_fixtures
from nova.tests.functional import fixtures as func_fixtures
from oslo_config import cfg

from nova_powervm import conf as pvm_conf
from nova_powervm.sandbox import auth
from nova_powervm.sandbox import catalog
from nova_powervm.sandbox import console
from nova_powervm.sandbox import hosts
from nova_powervm.sandbox import images
from nova_powervm.sandbox import network
from nova_powervm.sandbox import services as sandbox_services
from nova_powervm.sandbox import wsgi_server

CONF = cfg.CONF
DRIVERS = {'powervm': 'powervm_ext.driver.PowerVMDriver',
           'fake': 'fake.MediumFakeDriver'}
# What the default image asks of a host: Power for the PowerVM driver,
# nothing for nova's fake driver (which reports x86_64).
# [powervm] disk_driver values the sandbox can run.
DISK_DRIVERS = ('localdisk', 'ssp')
IMAGE_PROPERTIES = {'powervm': {'architecture': 'ppc64le',
                                'hypervisor_type': 'phyp'},
                    'fake': {}}
# How Neutron binds ports, per driver: the PowerVM driver plugs
# ``pvm_sea`` VIFs, nova's fake driver takes anything.
VIF_TYPES = {'powervm': 'pvm_sea', 'fake': 'ovs'}
# Groups of the services nova calls with its own (service) credentials
# (cinder stays nova's in-process fixture until the volumes issue).
SERVICE_GROUPS = ('placement', 'neutron')
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
    :param lite: nova's in-process fixtures for placement, image and
                 network and a trust-anything token filter, instead of
                 keystone, placement, Glance and Neutron processes.
    :param out: stream for progress lines (stopping services), or None.
    :param vif_type: how Neutron binds ports for the PowerVM driver:
        ``pvm_sea`` (default), ``ovs`` or ``pvm_sriov``.
    :param fc_attach_strategy: ``[powervm] fc_attach_strategy`` of the
        computes (``vscsi`` or ``npiv``), or None for the default.
    """

    def __init__(self, computes=2, driver='powervm', api_port=0,
                 state_dir=None, image_size=4 * 1024 * 1024,
                 disk_driver='localdisk', lite=False, out=None,
                 vif_type=None, fc_attach_strategy=None):
        super().__init__()
        if vif_type and driver == 'powervm' and (
                vif_type not in network.VIF_TYPE_BINDING):
            raise ValueError('vif_type must be one of %s'
                             % ', '.join(sorted(network.VIF_TYPE_BINDING)))
        self.vif_type = vif_type if driver == 'powervm' else None
        self.fc_attach_strategy = fc_attach_strategy
        self.lite = lite
        self.out = out
        self.services = None
        self.console_proxy = None
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
        if not self.lite:
            self.services = self.useFixture(sandbox_services.Services(
                self.state_dir, self.host_names(),
                vif_type=self.vif_type or VIF_TYPES[self.driver],
                image_properties=IMAGE_PROPERTIES[self.driver],
                image_data=images.make_image_bytes(self.image_size),
                out=self.out, cinder=True))
        self._configure()
        if self.lite:
            self._databases()
        else:
            self._file_databases()
        if self.lite:
            self.placement = self.useFixture(
                func_fixtures.PlacementFixture())
            self._placement_auth()
            self.glance = self.useFixture(images.ImageServiceFixture(
                self, image_size=self.image_size,
                properties=IMAGE_PROPERTIES[self.driver]))
            self.neutron = self.useFixture(network.SandboxNeutronFixture(
                self, **network.VIF_BINDING[self.driver]))
            if self.vif_type:
                self.neutron.rebind(**network.VIF_TYPE_BINDING[self.vif_type])
        else:
            self._service_auth()
            self.placement = PlacementReader(self._nova_session())
        if self.lite:
            self.cinder = self.useFixture(nova_fixtures.CinderFixture(self))
        else:
            self.cinder = None
            self._cinder_auth()
        self._local_volume_detach()
        self.policy = self.useFixture(nova_fixtures.RealPolicyFixture())
        self.flags(host=CONTROLLER_HOST)
        self.conductor = self._service('conductor')
        self.scheduler = self._service('scheduler')
        for host in self.host_names():
            self.start_compute(host)
        self._serve_api()

    def host_names(self):
        """The compute host names, ``pvm-host1`` ... ``pvm-hostN``."""
        return ['pvm-host%d' % (i + 1) for i in range(self.n_computes)]

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

    def _register_auth(self, group, plugin='password'):
        """Register a keystoneauth plugin's options in ``group``."""
        opts = ks_loading.get_auth_plugin_conf_options(plugin)
        CONF.register_opts([o for o in opts
                            if o.dest not in CONF[group]], group=group)

    def _service_auth(self):
        # Nova calls placement, Neutron (admin calls) and Cinder as the
        # 'nova' service user; user requests carry the user's token and
        # find Glance and Neutron in its catalog.
        auth = self.services.service_auth('nova')
        for group in SERVICE_GROUPS:
            self._register_auth(group)
            self.flags(group=group, region_name=sandbox_services.REGION,
                       **auth)
        # With the user's token nova sends its own as a service token:
        # Neutron lets only that pair delete a server's ports.
        self._register_auth('service_user')
        self.flags(group='service_user', send_service_user_token=True,
                   **auth)
        # Nova's API checks tokens with keystonemiddleware (its options
        # register on import).
        from keystonemiddleware import auth_token  # noqa: F401

        group = 'keystone_authtoken'
        self._register_auth(group)
        self.flags(group=group, **self.services.authtoken('nova'))

    def _nova_session(self):
        """A keystoneauth session of the ``nova`` service user."""
        loader = ks_loading.get_plugin_loader('password')
        auth = dict(self.services.service_auth('nova'))
        auth.pop('auth_type')
        return ks_session.Session(auth=loader.load_from_options(**auth))

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

    def _file_databases(self):
        """Nova's API, cell0 and cell1 databases as sqlite files.

        They live in ``<state_dir>/nova/`` so that a sandbox started again
        on the same state directory serves the servers it had; the schema
        is migrated (a no-op when current) and the cells, flavors and
        mappings are created only when missing.
        """
        import sqlite3

        from nova.db.api import api as api_db_api
        from nova.db.main import api as main_db_api
        from nova.db import migration

        d = os.path.join(self.state_dir, 'nova')
        os.makedirs(d, exist_ok=True)
        urls = {}
        for name in ('api', 'cell0', CELL1):
            path = os.path.join(d, 'nova_%s.sqlite' % name)
            if not os.path.exists(path):
                with sqlite3.connect(path) as conn:
                    conn.execute('PRAGMA journal_mode=WAL')
            urls[name] = 'sqlite:///%s' % path
        self.flags(connection=urls['api'], group='api_database')
        self.flags(connection=urls[CELL1], group='database')
        api_db_api.configure(CONF)
        main_db_api.configure(CONF)
        # sqlite takes one writer at a time: serialize nova's writers.
        self.useFixture(nova_fixtures.DatabaseWriteLock())
        migration.db_sync(database='api')
        ctxt = context.get_admin_context()
        for name, cell_uuid in (
                ('cell0', objects.CellMapping.CELL0_UUID),
                (CELL1, CELL1_UUID)):
            try:
                cell = objects.CellMapping.get_by_uuid(ctxt, cell_uuid)
            except nova_exc.CellMappingNotFound:
                cell = objects.CellMapping(
                    context=ctxt, uuid=cell_uuid, name=name,
                    transport_url='fake://nowhere/',
                    database_connection=urls[name])
                cell.create()
            self.cell_mappings[name] = cell
            with context.target_cell(ctxt, cell) as cctxt:
                migration.db_sync(database='main', context=cctxt)
        if not objects.FlavorList.get_all(ctxt):
            self.useFixture(nova_fixtures.DefaultFlavorsFixture())
        self.console_proxy = self.useFixture(console.ConsoleProxy(
            os.path.join(self.state_dir, 'nova')))
        self.flags(group='vnc', enabled=True, server_listen='127.0.0.1',
                   server_proxyclient_address='127.0.0.1',
                   novncproxy_base_url=self.console_proxy.base_url)
        # nova's service fixture deletes the service record when it stops
        # a service (Service.kill); a sandbox that keeps its databases
        # stops its services the way nova does, keeping their records.
        from nova import service as nova_service

        self.useFixture(fixtures.MonkeyPatch(
            'nova.service.Service.kill', nova_service.Service.stop))

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
            self._volume_flags(sim)
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
        inventory = hosts.host_inventory(len(self.simulators) + 1)
        # SR-IOV ports carry the label of the physical network the ports
        # are bound on (pvm_sriov VIFs pick ports by it).
        inventory.sriov_label = (
            network.VIF_TYPE_BINDING['pvm_sriov']['vif_details'][
                'physical_network'] if self.lite
            else sandbox_services.PHYSNET)
        return self.useFixture(pvm_fixtures.SimulatorFixture(
            host='127.0.0.1', port=0, mode='server', state_dir=sim_dir,
            inventory=inventory, pool_dir=pool_dir,
            san_dir=os.path.join(self.state_dir, 'san')))

    # -- volumes (Cinder on the simulated SAN) --------------------------
    def _cinder_auth(self):
        """Nova finds Cinder in the catalog, and detaches as a service.

        Admin calls go as the ``nova`` user; user requests carry the
        user's token plus nova's service token (``[service_user]``), which
        lets Cinder delete an attachment without asking nova back.
        """
        group = 'cinder'
        self._register_auth(group)
        self.flags(group=group, os_region_name=sandbox_services.REGION,
                   catalog_info='block-storage:cinder:publicURL',
                   **self.services.service_auth('nova'))

    def _local_volume_detach(self):
        """Let each compute detach volumes from its own servers.

        nova detaches a volume in the driver only when ``CONF.host`` is
        the server's host, and ``CONF.host`` is one value for the
        sandbox's several computes.  While a compute's driver detaches,
        the block device module sees that compute's host instead.
        """
        import threading

        from nova.virt import block_device

        local = threading.local()
        computes = self.computes

        class HostConf(object):
            def __getattr__(self, name):
                if name == 'host' and getattr(local, 'host', None):
                    return local.host
                return getattr(CONF, name)

        orig = block_device.DriverVolumeBlockDevice._do_detach

        def _do_detach(bdm, context, instance, volume_api, virt_driver,
                       *args, **kwargs):
            local.host = next((h for h, svc in computes.items()
                               if svc.manager.driver is virt_driver), None)
            try:
                return orig(bdm, context, instance, volume_api, virt_driver,
                            *args, **kwargs)
            finally:
                local.host = None

        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.block_device.CONF', HostConf()))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.block_device.DriverVolumeBlockDevice._do_detach',
            _do_detach))

    def _volume_flags(self, sim):
        """Point Cinder's driver at the SAN; set the FC attach strategy."""
        if self.services is not None and self.services.cinder and \
                len(self.simulators) == 1:
            flags = sim.driver_flags()
            self.services.set_san('http://%s:%s' % (flags['pvm_host'],
                                                    flags['pvm_port']))
        if self.fc_attach_strategy is None:
            return
        if 'fc_attach_strategy' not in CONF.powervm:
            raise ValueError('--fc-attach-strategy is not available: the '
                             'driver has no [powervm] fc_attach_strategy '
                             'option yet')
        self.flags(group='powervm',
                   fc_attach_strategy=self.fc_attach_strategy)
        if self.fc_attach_strategy == 'npiv':
            self._npiv_fabric(sim)

    def _npiv_fabric(self, sim):
        """One NPIV fabric ``A`` holding every simulated VIOS FC port.

        The ports of each host's VIOSes are added as its simulator starts
        (``fabric_A_port_wwpns`` is one option for the whole process).
        """
        from pypowervm.wrappers import virtual_io_server as pvm_vios

        ports = getattr(self, '_fabric_ports', [])
        for vios in pvm_vios.VIOS.get(sim.adapter):
            ports.extend(p.wwpn.lower() for p in vios.pfc_ports
                         if p.wwpn and p.wwpn.lower() not in ports)
        self._fabric_ports = ports
        self.flags(group='powervm', fabrics=['A'])
        pvm_conf.register_fabric_opts(CONF)
        self.flags(group='powervm', fabric_A_port_wwpns=list(ports))

    @property
    def volume_url(self):
        """Cinder's v3 endpoint, or None (``--lite``)."""
        if self.services is None or not self.services.cinder:
            return None
        return self.services.url('cinder') + '/v3'

    @staticmethod
    def _map_host(host, cell, svc):
        ctxt = context.get_admin_context()
        try:
            objects.HostMapping.get_by_host(ctxt, host)
        except nova_exc.HostMappingNotFound:
            objects.HostMapping(context=ctxt, host=host,
                                cell_mapping=cell).create()
        with context.target_cell(ctxt, cell) as cctxt:
            for node in objects.ComputeNodeList.get_all_by_host(cctxt, host):
                node.mapped = 1
                node.save()

    def _serve_api(self):
        if self.lite:
            # nova's api-paste.ini, with keystonemiddleware's authtoken
            # replaced by the loopback-only token filter.
            self.useFixture(fixtures.MonkeyPatch(
                'keystonemiddleware.auth_token.filter_factory',
                auth.filter_factory))
        app = nova_wsgi.Loader().load_app('osapi_compute')
        wsgi_app._setup_service(CONTROLLER_HOST, 'osapi_compute')
        if self.lite:
            # /image and /network: read-only views for the openstack CLI.
            app = catalog.CatalogApp(app, self.glance, self.neutron)
        self.api_server = self.useFixture(wsgi_server.WSGIServerFixture(
            app, port=self.api_port, name='osapi_compute'))
        if self.services is not None:
            self.services.register_compute(self.api_server.url)

    @property
    def compute_url(self):
        """The compute API's v2.1 endpoint."""
        return self.api_server.url + '/v2.1'

    @property
    def image_url(self):
        """Base URL of the image API (Glance, or the lite view)."""
        if self.services is not None:
            return self.services.url('glance')
        return self.api_server.url + catalog.IMAGE_PREFIX

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


class PlacementReader(object):
    """Reads of the placement API over HTTP, as the ``nova`` user.

    Offers the ``get(path, version)`` of the placement fixture's client.

    :param session: keystoneauth session finding placement in the catalog.
    """

    class Response(object):
        def __init__(self, body):
            self.body = body

    def __init__(self, session):
        self.session = session

    @property
    def api(self):
        """The client (itself), as ``PlacementFixture.api`` is."""
        return self

    def get(self, path, version=None):
        headers = ({'OpenStack-API-Version': 'placement %s' % version}
                   if version else {})
        resp = self.session.get(path, headers=headers, endpoint_filter={
            'service_type': 'placement', 'interface': 'public',
            'region_name': sandbox_services.REGION})
        return self.Response(resp.json())
