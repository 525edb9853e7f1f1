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
"""Keystone, placement, Glance and Neutron, each in a process of its own.

``Services`` is a fixture: ``setUp`` writes each service's configuration
under ``<state_dir>/<service>/``, prepares its sqlite database (once: a
second start on the same state directory keeps the data), starts the
four servers (``nova_powervm.sandbox.serve``), and makes sure keystone
knows the users, projects and endpoints, Glance holds the sandbox's
images and Neutron its shared network.  ``cleanUp`` stops every process
it started.  Logs stay under ``<state_dir>/<service>/``.
"""

import getpass
import json
import logging
import os
import secrets
import socket
import subprocess
import sys
import threading
import time

import fixtures
import requests

LOG = logging.getLogger(__name__)
REGION = 'RegionOne'
# Every service answers on one loopback URL, whichever interface asks.
INTERFACES = ('public', 'internal', 'admin')
SERVICE_PROJECT = 'service'
# Users the sandbox creates: (name, project, roles).
ADMIN = 'admin'
DEMO = 'demo'
SERVICE_USERS = ('nova', 'placement', 'glance', 'neutron')
# Cinder's service user (added later: a sandbox state directory made
# before it gets its password on the next start).
CINDER_USERS = ('cinder',)
READY_TIMEOUT = 120.0
STOP_TIMEOUT = 10.0
# (service type, name, service name in the catalog, path after the port)
CATALOG = (
    ('identity', 'keystone', 'keystone', '/v3'),
    ('placement', 'placement', 'placement', ''),
    ('image', 'glance', 'glance', ''),
    ('network', 'neutron', 'neutron', ''),
    ('compute', 'nova', 'nova', '/v2.1'),
    # No project id in the URL: Cinder 29 takes it from the token.
    ('block-storage', 'cinder', 'cinder', '/v3'),
)
# The shared network every project's servers can use.
NETWORK_NAME = 'private'
SUBNET_NAME = 'private-subnet'
SUBNET_CIDR = '192.168.1.0/24'
PHYSNET = 'physnet1'
# The external network floating IPs come from.
PUBLIC_NAME = 'public'
PUBLIC_CIDR = '172.24.4.0/24'
PUBLIC_PHYSNET = 'public'
ROUTER_NAME = 'router1'
VLAN_RANGE = (100, 199)
# Cinder's backends: (backend and volume type name, volume_backend_name,
# protocol of its connection info).  The default volume type goes to
# the first.
CINDER_BACKENDS = (('fc', 'pvm-fc', 'fibre_channel'),
                   ('iscsi', 'pvm-iscsi', 'iscsi'))
CINDER_DRIVER = 'nova_powervm.sandbox.cinder_driver.SimulatedSANDriver'
# A volume type whose volumes several servers may attach (on fc).
MULTIATTACH_TYPE = 'multiattach'
# Where the sandbox tells Cinder's driver which simulator serves the SAN.
SAN_ENDPOINT_FILE = 'san.json'


class ServiceFailed(Exception):
    """A service did not start; the message says which and where to look."""


def _bin(name):
    """A console script installed next to this Python."""
    return os.path.join(os.path.dirname(sys.executable), name)


def _free_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('127.0.0.1', 0))
    sock.listen(64)
    return sock


def _ini(sections):
    """INI text from ``{section: {key: value}}`` (insertion order kept)."""
    out = []
    for section, items in sections.items():
        out.append('[%s]' % section)
        out.extend('%s = %s' % (k, v) for k, v in items.items())
        out.append('')
    return '\n'.join(out)


class Secrets(object):
    """Passwords of the sandbox's users, kept in ``<state>/secrets.json``.

    Generated on the first start (mode 0600) and reused afterwards, so a
    restarted sandbox keeps its users.
    """

    def __init__(self, state_dir):
        path = os.path.join(state_dir, 'secrets.json')
        if os.path.exists(path):
            with open(path) as f:
                self.passwords = json.load(f)
            missing = [u for u in CINDER_USERS if u not in self.passwords]
            if missing:
                self.passwords.update(
                    (u, secrets.token_urlsafe(12)) for u in missing)
                with open(path, 'w') as f:
                    json.dump(self.passwords, f)
        else:
            self.passwords = {u: secrets.token_urlsafe(12)
                              for u in ((ADMIN, DEMO) + SERVICE_USERS
                                        + CINDER_USERS)}
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, 'w') as f:
                json.dump(self.passwords, f)

    def __getitem__(self, user):
        return self.passwords[user]


class ServiceProcess(object):
    """One service's server process on a socket opened here.

    :param name: ``keystone``, ``placement``, ``glance`` or ``neutron``.
    :param conf_dir: its configuration and log directory.
    """

    def __init__(self, name, conf_dir, module='nova_powervm.sandbox.serve'):
        self.name = name
        self.conf_dir = conf_dir
        self.module = module
        self.sock = _free_socket()
        self.port = self.sock.getsockname()[1]
        self.proc = None
        self.out_path = os.path.join(conf_dir, '%s.out' % name)

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.port

    def start(self):
        """Start the server process on the socket (returns at once)."""
        out = open(self.out_path, 'ab')
        try:
            self.proc = subprocess.Popen(
                [sys.executable, '-m', self.module]
                + ([self.name] if self.module.endswith('.serve') else [])
                + ['--config-dir', self.conf_dir,
                   '--fd', str(self.sock.fileno())],
                pass_fds=[self.sock.fileno()], stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        finally:
            out.close()
        # The child has its copy; the listening socket stays open there.
        self.sock.close()

    def wait_ready(self, path='/', timeout=READY_TIMEOUT):
        """Wait until the server answers ``GET path`` (any HTTP status).

        :raises ServiceFailed: when the process ended or time ran out.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServiceFailed('%s exited with status %s; see %s'
                                    % (self.name, self.proc.returncode,
                                       self.out_path))
            try:
                requests.get(self.url + path, timeout=5)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise ServiceFailed('%s did not answer within %d s; see %s'
                            % (self.name, timeout, self.out_path))

    def stop(self):
        """SIGTERM, then SIGKILL after ``STOP_TIMEOUT`` seconds."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            LOG.warning('%s ignored SIGTERM; killing it', self.name)
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)


def _run(cmd, log_path, env=None, name=None):
    """Run a setup command, its output appended to ``log_path``.

    :raises ServiceFailed: when it fails.
    """
    with open(log_path, 'ab') as log:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=log,
                              stderr=subprocess.STDOUT, env=env,
                              check=False)
    if proc.returncode:
        raise ServiceFailed('%s failed (status %d); see %s' % (
            name or os.path.basename(cmd[0]), proc.returncode, log_path))


class Services(fixtures.Fixture):
    """The real services the sandbox's nova talks to.

    :param state_dir: the sandbox's state directory.
    :param hosts: the compute host names (ports bind there).
    :param vif_type: ``binding:vif_type`` Neutron binds ports with.
    :param image_properties: properties of the sandbox's images.
    :param image_data: bytes of the default image (uploaded once).
    :param out: stream for progress lines, or None.
    :param cinder: also start Cinder (API, scheduler and volume services
        in one process, volumes on the simulated SAN).
    """

    def __init__(self, state_dir, hosts, vif_type='pvm_sea',
                 image_properties=None, image_data=b'', out=None,
                 cinder=True):
        super().__init__()
        self.cinder = cinder
        self.state_dir = state_dir
        self.hosts = list(hosts)
        self.vif_type = vif_type
        self.image_properties = dict(image_properties or {})
        self.image_data = image_data
        self.out = out
        self.procs = {}
        self.timings = {}

    # -- paths and common configuration --------------------------------
    def conf_dir(self, name):
        path = os.path.join(self.state_dir, name)
        os.makedirs(path, exist_ok=True)
        return path

    @property
    def auth_url(self):
        return self.procs['keystone'].url + '/v3'

    def url(self, name):
        """Base URL of a started service."""
        return self.procs[name].url

    def service_auth(self, user):
        """keystoneauth password options of a service user."""
        return {'auth_url': self.auth_url, 'auth_type': 'password',
                'username': user, 'password': self.secrets[user],
                'project_name': SERVICE_PROJECT,
                'user_domain_name': 'Default',
                'project_domain_name': 'Default'}

    def authtoken(self, user):
        """The ``[keystone_authtoken]`` section of a service."""
        section = {'www_authenticate_uri': self.auth_url}
        section.update(self.service_auth(user))
        return section

    def _common(self, name, extra=None):
        d = self.conf_dir(name)
        section = {'log_file': os.path.join(d, '%s.log' % name),
                   'debug': 'False', 'use_stderr': 'False'}
        section.update(extra or {})
        return d, section

    def _write(self, name, filename, sections):
        path = os.path.join(self.conf_dir(name), filename)
        with open(path, 'w') as f:
            f.write(_ini(sections))
        os.chmod(path, 0o600)
        return path

    # -- fixture --------------------------------------------------------
    def _setUp(self):
        t0 = time.monotonic()
        self.secrets = Secrets(self.state_dir)
        for name in ('keystone', 'placement', 'glance', 'neutron'):
            self.procs[name] = ServiceProcess(name, self.conf_dir(name))
        if self.cinder:
            self.procs['cinder'] = ServiceProcess(
                'cinder', self.conf_dir('cinder'),
                module='nova_powervm.sandbox.serve_cinder')
        self.addCleanup(self.stop)
        self._write_keystone()
        self._write_placement()
        self._write_glance()
        self._write_neutron()
        if self.cinder:
            self._write_cinder()
        # Database steps in parallel (each is a Python start-up).
        errors = []
        steps = [threading.Thread(target=self._guard(step, errors),
                                  name='setup-%s' % step.__name__)
                 for step in (self._setup_keystone, self._setup_glance)
                 + ((self._setup_cinder,) if self.cinder else ())]
        for step in steps:
            step.start()
        for step in steps:
            step.join()
        if errors:
            raise errors[0]
        self.timings['databases'] = time.monotonic() - t0
        for proc in self.procs.values():
            proc.start()
        self.procs['keystone'].wait_ready('/v3')
        self.timings['keystone'] = time.monotonic() - t0
        self._identity()
        for name, path in (('placement', '/'), ('glance', '/versions'),
                           ('neutron', '/')):
            self.procs[name].wait_ready(path)
        if self.cinder:
            self.procs['cinder'].wait_ready('/')
            self.timings['cinder'] = time.monotonic() - t0
        self.timings['services'] = time.monotonic() - t0
        self._images()
        self._network()
        if self.cinder:
            self._volume_types()
        self.timings['ready'] = time.monotonic() - t0
        LOG.info('Services ready: %s', ', '.join(
            '%s %.1f s' % kv for kv in self.timings.items()))

    @staticmethod
    def _guard(func, errors):
        def run():
            try:
                func()
            except Exception as exc:
                LOG.exception('%s failed', func.__name__)
                errors.append(exc)
        return run

    def stop(self):
        """Stop every service process (in reverse start order)."""
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            if proc.proc is not None and proc.proc.poll() is None:
                LOG.info('Stopping %s (pid %d)', name, proc.proc.pid)
                if self.out is not None:
                    print('Stopping %s (pid %d)' % (name, proc.proc.pid),
                          file=self.out, flush=True)
            proc.stop()

    # -- keystone -------------------------------------------------------
    def _write_keystone(self):
        d, default = self._common('keystone')
        self._write('keystone', 'keystone.conf', {
            'DEFAULT': default,
            'database': {'connection': 'sqlite:///%s' % os.path.join(
                d, 'keystone.db')},
            'token': {'provider': 'fernet'},
            'fernet_tokens': {'key_repository': os.path.join(d, 'fernet')},
            'fernet_receipts': {'key_repository': os.path.join(
                d, 'fernet-receipts')},
            'credential': {'key_repository': os.path.join(d, 'credential')},
            # bcrypt's minimum cost: every token request checks a password.
            'identity': {'password_hash_rounds': '4'},
        })

    def _setup_keystone(self):
        d = self.conf_dir('keystone')
        marker = os.path.join(d, 'bootstrapped')
        if os.path.exists(marker):
            return
        conf = ['--config-file', os.path.join(d, 'keystone.conf')]
        log = os.path.join(d, 'keystone-manage.log')
        user = getpass.getuser()
        manage = _bin('keystone-manage')
        owner = ['--keystone-user', user, '--keystone-group', user]
        _run([manage] + conf + ['db_sync'], log)
        _run([manage] + conf + ['fernet_setup'] + owner, log)
        _run([manage] + conf + ['credential_setup'] + owner, log)
        env = dict(os.environ, OS_BOOTSTRAP_PASSWORD=self.secrets[ADMIN])
        url = self.procs['keystone'].url + '/v3'
        _run([manage] + conf + [
            'bootstrap', '--bootstrap-username', ADMIN,
            '--bootstrap-project-name', ADMIN,
            '--bootstrap-role-name', 'admin',
            '--bootstrap-service-name', 'keystone',
            '--bootstrap-region-id', REGION,
            '--bootstrap-admin-url', url, '--bootstrap-public-url', url,
            '--bootstrap-internal-url', url], log, env=env)
        with open(marker, 'w') as f:
            f.write('ok\n')

    def _identity(self):
        ks = Keystone(self.auth_url, ADMIN, self.secrets[ADMIN], ADMIN)
        roles = {r: ks.ensure('roles', r) for r in
                 ('admin', 'member', 'reader', 'service')}
        service_project = ks.ensure('projects', SERVICE_PROJECT,
                                    domain_id='default')
        demo_project = ks.ensure('projects', DEMO, domain_id='default')
        demo = ks.ensure('users', DEMO, domain_id='default',
                         password=self.secrets[DEMO],
                         default_project_id=demo_project)
        for role in ('member', 'reader'):
            ks.grant(demo_project, demo, roles[role])
        for name in SERVICE_USERS + (CINDER_USERS if self.cinder else ()):
            user = ks.ensure('users', name, domain_id='default',
                             password=self.secrets[name],
                             default_project_id=service_project)
            for role in ('admin', 'service'):
                ks.grant(service_project, user, roles[role])
        # The admin may act in the demo project too (as devstack's does).
        admin = ks.find('users', ADMIN)
        ks.grant(demo_project, admin, roles['admin'])
        for stype, name, sname, path in CATALOG:
            base = (self.nova_url if name == 'nova'
                    else self.procs[name].url)
            if name not in self.procs and name != 'nova':
                continue
            if base is not None:
                ks.ensure_endpoint(stype, sname, base + path)
        self.keystone = ks

    nova_url = None

    def user_tokens(self):
        """Project-scoped tokens ``(demo, admin)``."""
        return (self.keystone.token(DEMO, self.secrets[DEMO], DEMO),
                self.keystone.token(ADMIN, self.secrets[ADMIN], ADMIN))

    def register_compute(self, url):
        """Put the compute API (started after the services) in the catalog.

        :param url: its base URL (``http://127.0.0.1:PORT``).
        """
        self.nova_url = url
        self.keystone.ensure_endpoint('compute', 'nova', url + '/v2.1')

    # -- placement ------------------------------------------------------
    def _write_placement(self):
        d, default = self._common('placement')
        self._write('placement', 'placement.conf', {
            'DEFAULT': default,
            'api': {'auth_strategy': 'keystone'},
            'placement_database': {
                'connection': 'sqlite:///%s' % os.path.join(
                    d, 'placement.db'),
                'sync_on_startup': 'True'},
            'keystone_authtoken': self.authtoken('placement'),
        })

    # -- glance ---------------------------------------------------------
    def _write_glance(self):
        d, default = self._common('glance', {'enabled_backends': 'fs:file'})
        self._write('glance', 'glance-api.conf', {
            'DEFAULT': default,
            'glance_store': {'default_backend': 'fs'},
            'fs': {'filesystem_store_datadir': os.path.join(d, 'images')},
            'os_glance_staging_store': {
                'filesystem_store_datadir': os.path.join(d, 'staging')},
            'os_glance_tasks_store': {
                'filesystem_store_datadir': os.path.join(d, 'tasks')},
            'database': {'connection': 'sqlite:///%s' % os.path.join(
                d, 'glance.db')},
            'oslo_concurrency': {'lock_path': os.path.join(d, 'locks')},
            'paste_deploy': {
                'flavor': 'keystone',
                'config_file': os.path.join(
                    sys.prefix, 'etc', 'glance', 'glance-api-paste.ini')},
            'keystone_authtoken': self.authtoken('glance'),
        })

    def _setup_glance(self):
        d = self.conf_dir('glance')
        marker = os.path.join(d, 'db-synced')
        if os.path.exists(marker):
            return
        _run([_bin('glance-manage'), '--config-file',
              os.path.join(d, 'glance-api.conf'), 'db_sync'],
             os.path.join(d, 'glance-manage.log'))
        with open(marker, 'w') as f:
            f.write('ok\n')

    def _images(self):
        from nova_powervm.sandbox import images

        session = self.keystone.session_for(ADMIN, self.secrets[ADMIN],
                                            ADMIN)
        glance = self.procs['glance'].url
        for image_id, name, data in (
                (images.DEFAULT_IMAGE_ID, images.DEFAULT_IMAGE_NAME,
                 self.image_data),
                (images.ALT_IMAGE_ID, images.ALT_IMAGE_NAME,
                 self.image_data)):
            resp = session.get('%s/v2/images/%s' % (glance, image_id),
                               timeout=30)
            if resp.status_code == 200 and resp.json()['status'] == 'active':
                continue
            if resp.status_code == 200:
                session.delete('%s/v2/images/%s' % (glance, image_id),
                               timeout=30)
            body = {'id': image_id, 'name': name, 'disk_format': 'raw',
                    'container_format': 'bare', 'visibility': 'public'}
            body.update(self.image_properties)
            _check(session.post(glance + '/v2/images', json=body,
                                timeout=30), 'create image %s' % name)
            _check(session.put(
                '%s/v2/images/%s/file' % (glance, image_id), data=data,
                headers={'Content-Type': 'application/octet-stream'},
                timeout=120), 'upload image %s' % name)

    # -- neutron --------------------------------------------------------
    def _write_neutron(self):
        d = self.conf_dir('neutron')
        d, default = self._common('neutron', {
            'core_plugin': 'ml2', 'service_plugins': 'router',
            'auth_strategy': 'keystone', 'transport_url': 'fake://',
            'api_paste_config': os.path.join(
                sys.prefix, 'etc', 'neutron', 'api-paste.ini'),
            'state_path': d,
            'notify_nova_on_port_status_changes': 'True',
            'notify_nova_on_port_data_changes': 'True',
            'dhcp_agent_notification': 'False'})
        nova = self.service_auth('nova')
        nova.update(region_name=REGION, endpoint_type='public')
        self._write('neutron', 'neutron.conf', {
            'DEFAULT': default,
            'database': {'connection': 'sqlite:///%s' % os.path.join(
                d, 'neutron.db')},
            'oslo_concurrency': {'lock_path': os.path.join(d, 'locks')},
            'keystone_authtoken': self.authtoken('neutron'),
            'nova': nova,
            'ml2': {'type_drivers': 'flat,vlan',
                    'tenant_network_types': 'vlan',
                    'mechanism_drivers': 'pvm_sim',
                    'extension_drivers': 'port_security'},
            'ml2_type_vlan': {'network_vlan_ranges': '%s:%d:%d' % (
                (PHYSNET,) + VLAN_RANGE)},
            'ml2_type_flat': {'flat_networks': '*'},
            'ml2_pvm_sim': {'hosts': ','.join(self.hosts),
                            'vif_type': self.vif_type},
        })

    def _network(self):
        session = self.keystone.session_for(ADMIN, self.secrets[ADMIN],
                                            ADMIN)
        self._neutron = NeutronAdmin(session, self.procs['neutron'].url)
        neutron = self._neutron
        net = neutron.ensure('networks', NETWORK_NAME, shared=True, **{
            'provider:network_type': 'vlan',
            'provider:physical_network': PHYSNET})
        subnet = neutron.ensure('subnets', SUBNET_NAME,
                                network_id=net['id'], ip_version=4,
                                cidr=SUBNET_CIDR, enable_dhcp=False)
        # An external network and a router to it, for floating IPs (no L3
        # agent: Neutron keeps the addresses and associations only).
        public = neutron.ensure('networks', PUBLIC_NAME, **{
            'router:external': True, 'provider:network_type': 'flat',
            'provider:physical_network': PUBLIC_PHYSNET})
        neutron.ensure('subnets', PUBLIC_NAME + '-subnet',
                       network_id=public['id'], ip_version=4,
                       cidr=PUBLIC_CIDR, enable_dhcp=False)
        router = neutron.ensure('routers', ROUTER_NAME,
                                external_gateway_info={
                                    'network_id': public['id']})
        ports = neutron.list('ports', device_id=router['id'],
                             network_id=net['id'])
        if not ports:
            url = '%s/routers/%s/add_router_interface' % (neutron.base,
                                                          router['id'])
            _check(neutron.session.put(url, json={'subnet_id': subnet['id']},
                                       timeout=30), 'add router interface')
        self.network_id = net['id']
        self.public_network_id = public['id']

    # -- cinder ---------------------------------------------------------
    @property
    def san_endpoint_file(self):
        """Where the SAN's URL goes for Cinder's driver (``set_san``)."""
        return os.path.join(self.conf_dir('cinder'), SAN_ENDPOINT_FILE)

    def set_san(self, url, token=None):
        """Tell Cinder's driver which simulator's admin API serves the SAN.

        :param url: the simulator's base URL.
        :param token: its admin token, if it has one.
        """
        path = self.san_endpoint_file
        fd = os.open(path + '.tmp', os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                     0o600)
        with os.fdopen(fd, 'w') as f:
            json.dump({'url': url, 'token': token}, f)
        os.replace(path + '.tmp', path)

    def _write_cinder(self):
        d = self.conf_dir('cinder')
        d, default = self._common('cinder', {
            'transport_url': 'fake://', 'auth_strategy': 'keystone',
            'enabled_backends': ','.join(b[0] for b in CINDER_BACKENDS),
            'state_path': d,
            'api_paste_config': os.path.join(
                sys.prefix, 'etc', 'cinder', 'api-paste.ini'),
            'resource_query_filters_file': os.path.join(
                sys.prefix, 'etc', 'cinder', 'resource_filters.json'),
            'my_ip': '127.0.0.1', 'host': 'sandbox',
            # One API worker: the whole of Cinder is one process.
            'osapi_volume_workers': '1'})
        authtoken = self.authtoken('cinder')
        # Nova's requests carry its service token: Cinder then trusts a
        # detach without asking nova back (attachment delete).
        authtoken['service_token_roles_required'] = 'True'
        nova = self.service_auth('nova')
        nova.update(region_name=REGION, interface='public')
        sections = {
            'DEFAULT': default,
            'database': {'connection': 'sqlite:///%s' % os.path.join(
                d, 'cinder.db')},
            'oslo_concurrency': {'lock_path': os.path.join(d, 'locks')},
            'keystone_authtoken': authtoken,
            'nova': nova,
        }
        for name, backend_name, protocol in CINDER_BACKENDS:
            sections[name] = {
                'volume_driver': CINDER_DRIVER,
                'volume_backend_name': backend_name,
                'pvm_san_protocol': protocol,
                'pvm_san_endpoint_file': self.san_endpoint_file,
                'pvm_san_data_dir': os.path.join(d, 'san-data')}
        self._write('cinder', 'cinder.conf', sections)

    def _setup_cinder(self):
        d = self.conf_dir('cinder')
        marker = os.path.join(d, 'db-synced')
        if os.path.exists(marker):
            return
        _run([_bin('cinder-manage'), '--config-file',
              os.path.join(d, 'cinder.conf'), 'db', 'sync'],
             os.path.join(d, 'cinder-manage.log'))
        with open(marker, 'w') as f:
            f.write('ok\n')

    def _volume_types(self):
        """Volume types ``fc`` and ``iscsi``, one per backend.

        The default type (``__DEFAULT__``) goes to the first backend.
        """
        session = self.keystone.session_for(ADMIN, self.secrets[ADMIN],
                                            ADMIN)
        base = self.procs['cinder'].url + '/v3'
        types = {t['name']: t for t in _check(session.get(
            base + '/types', params={'is_public': 'None'}, timeout=30),
            'list volume types')['volume_types']}
        wanted = [(name, backend) for name, backend, _p in CINDER_BACKENDS]
        wanted.append(('__DEFAULT__', CINDER_BACKENDS[0][1]))
        wanted.append((MULTIATTACH_TYPE, CINDER_BACKENDS[0][1]))
        for name, backend in wanted:
            vtype = types.get(name)
            if vtype is None:
                vtype = _check(session.post(base + '/types', json={
                    'volume_type': {'name': name, 'description': (
                        'Volumes on the simulated SAN (%s)' % backend)}},
                    timeout=30), 'create volume type %s' % name)[
                    'volume_type']
            specs = {'volume_backend_name': backend}
            if name == MULTIATTACH_TYPE:
                specs['multiattach'] = '<is> True'
            have = vtype.get('extra_specs') or {}
            if any(have.get(k) != v for k, v in specs.items()):
                _check(session.post(
                    '%s/types/%s/extra_specs' % (base, vtype['id']),
                    json={'extra_specs': specs},
                    timeout=30), 'set volume type %s' % name)


def _check(resp, what):
    """The decoded body of a successful response.

    :raises ServiceFailed: on an error status (the body says why).
    """
    if resp.status_code >= 300:
        raise ServiceFailed('%s: HTTP %d %s' % (what, resp.status_code,
                                                resp.text[:300]))
    return resp.json() if resp.content else None


class NeutronAdmin(object):
    """Find-or-create of Neutron resources by name, as the admin.

    :param session: ``requests`` session with an admin token.
    :param url: Neutron's base URL.
    """

    def __init__(self, session, url):
        self.session = session
        self.base = url + '/v2.0'

    def list(self, kind, **query):
        return _check(self.session.get('%s/%s' % (self.base, kind),
                                       params=query, timeout=30),
                      'list %s' % kind)[kind]

    def ensure(self, kind, name, **attrs):
        """The named resource, created with ``attrs`` when missing."""
        found = self.list(kind, name=name)
        if found:
            return found[0]
        body = {kind[:-1]: dict(attrs, name=name)}
        return _check(self.session.post('%s/%s' % (self.base, kind),
                                        json=body, timeout=30),
                      'create %s %s' % (kind[:-1], name))[kind[:-1]]


class Keystone(object):
    """The few identity calls the sandbox makes, as the admin.

    :param auth_url: keystone's ``/v3`` URL.
    """

    def __init__(self, auth_url, user, password, project):
        self.auth_url = auth_url
        self.session = self.session_for(user, password, project)

    def session_for(self, user, password, project):
        """A ``requests`` session carrying a token of ``user``."""
        session = requests.Session()
        session.headers['X-Auth-Token'] = self.token(user, password,
                                                     project)
        return session

    def token(self, user, password, project):
        """A project-scoped token (password auth)."""
        body = {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': user, 'domain': {'id': 'default'},
                'password': password}}},
            'scope': {'project': {'name': project,
                                  'domain': {'id': 'default'}}}}}
        resp = requests.post(self.auth_url + '/auth/tokens', json=body,
                             timeout=30)
        if resp.status_code != 201:
            raise ServiceFailed('keystone refused the %s token: HTTP %d'
                                % (user, resp.status_code))
        return resp.headers['X-Subject-Token']

    def _url(self, path):
        return '%s/%s' % (self.auth_url, path)

    def find(self, kind, name, **query):
        """The id of a named resource, or None."""
        query['name'] = name
        found = _check(self.session.get(self._url(kind), params=query,
                                        timeout=30), 'list %s' % kind)[kind]
        return found[0]['id'] if found else None

    def ensure(self, kind, name, **attrs):
        """The id of a named resource, created when missing."""
        found = self.find(kind, name)
        if found:
            return found
        body = {kind[:-1]: dict(attrs, name=name)}
        return _check(self.session.post(self._url(kind), json=body,
                                        timeout=30),
                      'create %s %s' % (kind[:-1], name))[kind[:-1]]['id']

    def grant(self, project, user, role):
        """Give ``user`` ``role`` on ``project`` (idempotent)."""
        _check(self.session.put(self._url(
            'projects/%s/users/%s/roles/%s' % (project, user, role)),
            timeout=30), 'grant role')

    def ensure_endpoint(self, stype, name, url):
        """A service's endpoints (every interface) pointing at ``url``."""
        services = _check(self.session.get(
            self._url('services'), params={'type': stype}, timeout=30),
            'list services')['services']
        if services:
            service_id = services[0]['id']
        else:
            service_id = _check(self.session.post(
                self._url('services'),
                json={'service': {'type': stype, 'name': name}},
                timeout=30), 'create service')['service']['id']
        endpoints = _check(self.session.get(
            self._url('endpoints'), params={'service_id': service_id},
            timeout=30), 'list endpoints')['endpoints']
        have = set()
        for ep in endpoints:
            have.add(ep['interface'])
            if ep['url'] != url:
                _check(self.session.patch(
                    self._url('endpoints/%s' % ep['id']),
                    json={'endpoint': {'url': url}}, timeout=30),
                    'update endpoint')
        for interface in INTERFACES:
            if interface not in have:
                _check(self.session.post(self._url('endpoints'), json={
                    'endpoint': {'service_id': service_id,
                                 'interface': interface,
                                 'region_id': REGION, 'url': url}},
                    timeout=30), 'create endpoint')
