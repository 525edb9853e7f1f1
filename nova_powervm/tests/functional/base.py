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
"""Base for functional tests: nova's services with our driver.

Built like nova's ``ProviderUsageBaseTestCase``: real placement, API,
conductor, scheduler and compute services in one process on nova's test
fixtures, with the sandbox's image and network fixtures (a real raw Power
image, ports bound as ``pvm_sea``) and one ``SimulatorFixture`` per compute.
"""

import logging
import os
import time

import fixtures
from nova import test
from nova.tests import fixtures as nova_fixtures
from nova.tests.functional.api import client as api_client
from nova.tests.functional import fixtures as func_fixtures
from nova.tests.functional import integrated_helpers
import requests

from nova_powervm import conf as pvm_conf
from nova_powervm.sandbox import cloud
from nova_powervm.sandbox import hosts
from nova_powervm.sandbox import images
from nova_powervm.sandbox import network
from nova_powervm.tests import base as tests_base
from nova_powervm.tests import known_secrets

# wsgi-intercept ports of the simulators: compute N gets BASE_PORT + N.
BASE_PORT = 12080
WAIT = 30.0
IMAGE_CACHE_PREFIX = 'i_'


class PowerVMFunctionalTestCase(
        test.TestCase, integrated_helpers.PlacementInstanceHelperMixin):
    """Controller services up; computes started by ``start_compute``.

    ``DRIVER`` selects the PowerVM driver (default) or nova's fake driver
    (``'fake'``, to check the harness itself).
    """

    DRIVER = 'powervm'
    #: ``{host: weight}`` to make the scheduler's choice deterministic.
    HOST_WEIGHTS = None
    #: Seconds the driver lets a partition state settle before it emits a
    #: lifecycle event (15 s in production; time is all it changes).
    EVENT_DELAY = 0.5
    REQUIRES_LOCKING = False
    microversion = 'latest'
    IMAGE_SIZE = 1024 * 1024

    def setUp(self):
        # Outlives nova's own capture: services log while cleaning up.
        tests_base.capture_logging(self)
        self.flags(compute_driver=cloud.DRIVERS[self.DRIVER])
        self.flags(api_paste_config=cloud.api_paste_config(), group='wsgi')
        super().setUp()
        # Computes finish cleanup_host (log off NovaLink) when stopped,
        # before their simulator goes away.
        self.flags(manager_shutdown_timeout=cloud.SHUTDOWN_TIMEOUT)
        if self.DRIVER == 'powervm':
            from nova_powervm.virt.powervm import driver as pvm_driver

            self.useFixture(fixtures.MonkeyPatch(
                'nova_powervm.virt.powervm.driver.PowerVMDriver.event_delay',
                self.EVENT_DELAY))
            self.assertTrue(hasattr(pvm_driver.PowerVMDriver, 'event_delay'))
            pvm_conf.register_opts()
            self.flags(host_shim='simulator', volume_group_name='datavg',
                       group='powervm')
        self.policy = self.useFixture(nova_fixtures.RealPolicyFixture())
        self.neutron = self.useFixture(network.SandboxNeutronFixture(
            self, **network.VIF_BINDING[self.DRIVER]))
        self.glance = self.useFixture(images.ImageServiceFixture(
            self, image_size=self.IMAGE_SIZE,
            properties=cloud.IMAGE_PROPERTIES[self.DRIVER]))
        self.cinder = self.useFixture(nova_fixtures.CinderFixture(self))
        self.placement = self.useFixture(func_fixtures.PlacementFixture()).api
        self.notifier = self.useFixture(
            nova_fixtures.NotificationFixture(self))
        self.api_fixture = self.useFixture(nova_fixtures.OSAPIFixture(
            api_version='v2.1'))
        self.admin_api = self.api_fixture.admin_api
        self.admin_api.microversion = self.microversion
        self.api = self.admin_api
        if self.HOST_WEIGHTS:
            self.useFixture(nova_fixtures.HostNameWeigherFixture(
                self.HOST_WEIGHTS))
        self._debug_log_to_file()
        self.start_service('conductor')
        self.scheduler_service = self.start_service('scheduler')
        self.simulators = {}
        self.baselines = {}

    def start_compute(self, host, **sim_kwargs):
        """Start a compute with its own simulated NovaLink host.

        :param host: nova host name.
        :param sim_kwargs: extra ``SimulatorFixture`` arguments.
        :returns: the compute service.
        """
        if self.DRIVER == 'powervm':
            from nova_powervm.simulator import fixture as pvm_fixtures

            index = len(self.simulators) + 1
            sim_kwargs.setdefault('inventory', hosts.host_inventory(index))
            # Known secrets (tools/run_tests.py greps the logs for them).
            sim_kwargs.setdefault('user', known_secrets.USER)
            sim_kwargs.setdefault('password', known_secrets.PASSWORD)
            sim_kwargs.setdefault('admin_token', known_secrets.ADMIN_TOKEN)
            sim_kwargs.setdefault('token_prefix',
                                  known_secrets.SESSION_PREFIX)
            sim = self.useFixture(pvm_fixtures.SimulatorFixture(
                host='localhost', port=BASE_PORT + index, **sim_kwargs))
            self.simulators[host] = sim
            self.baselines[host] = sim.state()
            self.flags(group='powervm', **sim.driver_flags())
            self.flags(group='powervm', pvm_user=sim.user,
                       pvm_password=sim.password, pvm_protocol='http')
        with hosts.node_identity(host):
            svc = self._start_compute(host)
        hosts.pin_node_identity(svc, host)
        return svc

    # --- actions through the API ---------------------------------------

    def boot(self, flavor_id='1', networks='none', expected='ACTIVE',
             **kwargs):
        """Boot a server from the default image and wait for ``expected``.

        :returns: the server as the API shows it.
        """
        body = self._build_server(image_uuid=images.DEFAULT_IMAGE_ID,
                                  flavor_id=flavor_id, networks=networks,
                                  **kwargs)
        server = self.api.post_server({'server': body})
        return self.wait_for(server, expected)

    def wait_for(self, server, status, timeout=WAIT):
        """Wait until the server has ``status`` and no task in progress.

        :returns: the server.
        """
        deadline = time.monotonic() + timeout
        while True:
            server = self.api.get_server(server['id'])
            if (server['status'] == status
                    and server['OS-EXT-STS:task_state'] is None):
                return server
            if time.monotonic() > deadline:
                self.fail('server %s is %s/%s, not %s: %s' % (
                    server['id'], server['status'],
                    server['OS-EXT-STS:task_state'], status,
                    server.get('fault')))
            time.sleep(0.05)

    def action(self, server, body, status):
        """POST a server action and wait for ``status``."""
        self.api.post_server_action(server['id'], body)
        return self.wait_for(server, status)

    def delete(self, server):
        """Delete a server and wait until the API no longer shows it."""
        self.api.delete_server(server['id'])
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                self.api.get_server(server['id'])
            except api_client.OpenStackApiNotFoundException:
                return
            time.sleep(0.05)
        self.fail('server %s not deleted' % server['id'])

    # --- what placement and the simulators hold ------------------------

    def usage(self, host):
        """Placement usages of the host's compute node provider."""
        return self._get_provider_usages(
            self._get_provider_uuid_by_host(host))

    def assert_no_usage(self, host):
        self.assertEqual({'VCPU': 0, 'MEMORY_MB': 0, 'DISK_GB': 0},
                         {k: v for k, v in self.usage(host).items()
                          if k in ('VCPU', 'MEMORY_MB', 'DISK_GB')})

    def lpars(self, host):
        """Client LPARs (not the management partition) on a host."""
        return [lp for lp in self.simulators[host].state()['lpars']
                if not hosts.is_mgmt_lpar(lp)]

    def lpar_of(self, host, server):
        """The LPAR of a server on a host's simulator, or None."""
        name = server['OS-EXT-SRV-ATTR:instance_name']
        for lpar in self.lpars(host):
            if lpar['name'] == name or self._same_uuid(lpar, server):
                return lpar
        return None

    @staticmethod
    def _same_uuid(lpar, server):
        # A PowerVM UUID is the instance UUID with the top bit cleared.
        ours, theirs = lpar['uuid'].lower(), server['id'].lower()
        return ours[1:] == theirs[1:]

    def image_cache_pass(self, host):
        """Run the host's image cache pass (nova's periodic is off)."""
        hosts.image_cache_pass(self.computes[host], host,
                               self.cell_mappings['cell1'])

    def boot_disks(self, host):
        """Virtual disks of instances (not image cache ``i_`` disks)."""
        return [d for d in self.simulators[host].state()['virtual_disks']
                if not d['name'].startswith(IMAGE_CACHE_PREFIX)]

    def sim_admin(self, host, method, path, body=None):
        """Call the simulator's admin API (``/sim/...``) over HTTP.

        :param host: nova host whose simulator to call.
        :param method: HTTP method.
        :param path: path after ``/sim/``.
        :param body: JSON body.
        :returns: the decoded JSON answer.
        """
        flags = self.simulators[host].driver_flags()
        resp = requests.request(
            method, 'http://%s:%s/sim/%s' % (flags['pvm_host'],
                                             flags['pvm_port'], path),
            json=body, timeout=30, headers={
                'X-Sim-Admin-Token': self.simulators[host].admin_token or ''})
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()

    def assert_sim_empty(self, host):
        """The host's simulator holds nothing of any server.

        The image cache pass runs first: a cached image outlives the
        servers until that pass finds it unused.
        """
        # A pass that ran while nova was still writing down the last
        # operation (the instance's host cleared, on a loaded machine) may
        # keep an image one pass longer: give it a few passes.
        deadline = time.monotonic() + 10
        while True:
            self.image_cache_pass(host)
            left = hosts.leftovers_of(self.simulators[host].state(),
                                      self.baselines[host])
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.assertEqual({}, left, 'leftovers on %s' % host)

    def _debug_log_to_file(self):
        """Also write every DEBUG record to the run's log directory.

        Only when ``tools/run_tests.py`` names one (``PVM_TEST_LOG_DIR``):
        it greps these files for the known secrets at the end of the run.
        """
        folder = known_secrets.log_dir()
        if not folder:
            return
        path = os.path.join(folder, 'functional-%d.log' % os.getpid())
        handler = logging.FileHandler(path, encoding='utf-8')
        handler.setLevel(logging.DEBUG)
        handler.setFormatter(logging.Formatter(
            '%(name)s %(levelname)s %(message)s'))
        handler.stream.write('=== %s\n' % self.id())
        root = logging.getLogger()
        root.addHandler(handler)
        self.addCleanup(handler.close)
        self.addCleanup(root.removeHandler, handler)


class SharedStoragePool(object):
    """Mixin: the computes share one Shared Storage Pool.

    Put it first among the bases of a test case whose computes start
    with ``self.sim_kwargs()`` (``[powervm] disk_driver = ssp``, the
    pool's directory in ``self.pool_dir``).
    """

    def setUp(self):
        super().setUp()
        self.flags(disk_driver='ssp', group='powervm')
        self.pool_dir = self.useFixture(fixtures.TempDir()).path

    def sim_kwargs(self):
        return {'pool_dir': self.pool_dir}
