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
"""The sandbox command and its local-only token filter."""

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

from nova import test
import openstack
import webob

from nova_powervm.sandbox import auth
from nova_powervm.sandbox import catalog
from nova_powervm.sandbox import demo
from nova_powervm.sandbox import images
from nova_powervm.sandbox import network
from nova_powervm.sandbox import wsgi_server
from nova_powervm.tests import base as tests_base


class TestTokenFilter(tests_base.TestCase):

    def call(self, headers):
        seen = {}

        def app(environ, start_response):
            seen.update(environ)
            start_response('200 OK', [])
            return [b'ok']

        status = []
        environ = {'HTTP_' + k.upper().replace('-', '_'): v
                   for k, v in headers.items()}
        body = auth.TokenAuthFilter(app)(
            environ, lambda s, h: status.append(s))
        return status[0], b''.join(body), seen

    def test_member_token(self):
        status, _body, env = self.call({'X-Auth-Token': 'alice:proj1'})
        self.assertEqual('200 OK', status)
        self.assertEqual('alice', env['HTTP_X_USER_ID'])
        self.assertEqual('proj1', env['HTTP_X_PROJECT_ID'])
        self.assertEqual('reader,member', env['HTTP_X_ROLES'])

    def test_admin_token_gets_admin_role(self):
        _status, _body, env = self.call({'X-Auth-Token': 'admin:proj1'})
        self.assertIn('admin', env['HTTP_X_ROLES'].split(','))

    def test_spoofed_identity_headers_are_replaced(self):
        _status, _body, env = self.call({'X-Auth-Token': 'bob:p',
                                         'X-Roles': 'admin',
                                         'X-User-Id': 'admin'})
        self.assertEqual('bob', env['HTTP_X_USER_ID'])
        self.assertNotIn('admin', env['HTTP_X_ROLES'])

    def test_missing_or_malformed_token_is_401(self):
        for headers in ({}, {'X-Auth-Token': 'nocolon'},
                        {'X-Auth-Token': ':p'}, {'X-Auth-Token': 'a:b:c'}):
            status, body, env = self.call(headers)
            self.assertEqual('401 Unauthorized', status)
            self.assertEqual({}, env)
            self.assertIn(b'user:project', body)


class TestCatalog(test.NoDBTestCase):
    """The read-only image/network views the openstack CLI resolves."""

    def setUp(self):
        super().setUp()
        self.glance = self.useFixture(images.ImageServiceFixture(
            self, image_size=1000))
        self.neutron = self.useFixture(network.SandboxNeutronFixture(self))
        self.compute_calls = []

        def compute(environ, start_response):
            self.compute_calls.append(environ['PATH_INFO'])
            start_response('200 OK', [])
            return [b'compute']

        self.app = catalog.CatalogApp(compute, self.glance, self.neutron)

    def get(self, path, token='demo:demo', method='GET'):
        req = webob.Request.blank(path, method=method)
        if token:
            req.headers['X-Auth-Token'] = token
        return req.get_response(self.app)

    def test_image_by_name_and_id(self):
        resp = self.get('/image/v2/images?name=%s' % images.DEFAULT_IMAGE_NAME)
        self.assertEqual(200, resp.status_int)
        [image] = resp.json['images']
        self.assertEqual(images.DEFAULT_IMAGE_ID, image['id'])
        self.assertEqual(1000, image['size'])
        self.assertEqual('raw', image['disk_format'])
        self.assertEqual([], self.get('/image/v2/images?name=nope')
                         .json['images'])
        resp = self.get('/image/v2/images?id=in:%s,x' % image['id'])
        self.assertEqual([image['id']], [i['id'] for i in resp.json['images']])
        self.assertEqual(image, self.get('/image/v2/images/%s' % image['id'])
                         .json)
        self.assertEqual(404, self.get('/image/v2/images/nope').status_int)

    def test_network_lookup_and_discovery(self):
        nets = self.get('/network/v2.0/networks?name=private').json
        [net] = nets['networks']
        self.assertTrue(net['shared'])
        self.assertEqual(net, self.get('/network/v2.0/networks/%s'
                                       % net['id']).json['network'])
        versions = self.get('/network').json['versions']
        self.assertEqual('v2.0', versions[0]['id'])
        ident = self.get('/identity').json['versions']['values']
        self.assertTrue(ident[0]['id'].startswith('v3'))

    def test_token_required_and_read_only(self):
        self.assertEqual(401, self.get('/image/v2/images',
                                       token=None).status_int)
        self.assertEqual(405, self.get('/image/v2/images',
                                       method='POST').status_int)

    def test_other_paths_go_to_compute(self):
        self.assertEqual(b'compute', self.get('/v2.1/servers').body)
        self.assertEqual(b'compute', self.get('/images').body)
        self.assertEqual(['/v2.1/servers', '/images'], self.compute_calls)


class TestDemoClient(tests_base.TestCase):
    """The demo's waits end as soon as the outcome is known."""

    def setUp(self):
        super().setUp()

        def api(environ, start_response):
            # No server exists: every GET /servers/{id} is a 404.
            start_response('404 Not Found',
                           [('Content-Type', 'application/json')])
            return [b'{"itemNotFound": {"code": 404}}']

        srv = self.useFixture(wsgi_server.WSGIServerFixture(api))
        self.client = demo.ComputeClient(srv.url + '/v2.1', 'demo:demo')

    def test_vanished_server_fails_at_once(self):
        start = time.monotonic()
        exc = self.assertRaises(demo.StepFailed, self.client.wait, 'x',
                                'ACTIVE', timeout=20)
        self.assertIn('gone', str(exc))
        self.assertLess(time.monotonic() - start, 10)

    def test_deleted_server_is_the_awaited_outcome(self):
        self.assertIsNone(self.client.wait('x', None, timeout=20))


class TestSandboxDemo(tests_base.TestCase):
    """The README's main-job command, end to end, in a subprocess."""

    def _demo(self, *args):
        state_dir = tempfile.mkdtemp(prefix='pvm-sbx-test-')
        self.addCleanup(subprocess.call, ['rm', '-rf', state_dir])
        env = dict(os.environ, OS_NOVA_DISABLE_EVENTLET_PATCHING='1')
        proc = subprocess.run(
            [sys.executable, '-m', 'nova_powervm.sandbox.cli', '--demo',
             '--api-port', '0', '--state-dir', state_dir] + list(args),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=300, check=False)
        out = proc.stdout.decode('utf8', 'replace')
        self.assertEqual(0, proc.returncode, out)
        self.assertIn('Demo PASSED', out)
        for step in ('boot', 'stop', 'start', 'soft reboot', 'hard reboot',
                     'rescue', 'unrescue', 'rebuild', 'snapshot',
                     'boot from snapshot', 'shelve', 'unshelve', 'delete'):
            self.assertRegex(out, r'(?m)^%s\s' % step)
        self.assertNotIn('FAILED', out)
        self.assertTrue(os.path.exists(os.path.join(state_dir,
                                                    'clouds.yaml')))
        return state_dir, out

    def test_demo_passes_and_leaves_nothing(self):
        self._demo()

    def test_demo_passes_on_a_shared_storage_pool(self):
        state_dir, out = self._demo('--disk-driver', 'ssp')
        self.assertIn('disk driver ssp', out)
        # Both simulated hosts served one pool, kept in the state dir.
        self.assertTrue(os.path.exists(os.path.join(state_dir, 'ssp',
                                                    'pool.xml')))


class TestServedSandbox(tests_base.TestCase):
    """The served sandbox through its clouds.yaml and openstacksdk."""

    def start_sandbox(self, state_dir):
        env = dict(os.environ, OS_NOVA_DISABLE_EVENTLET_PATCHING='1')
        proc = subprocess.Popen(
            [sys.executable, '-u', '-m', 'nova_powervm.sandbox.cli',
             '--api-port', '0', '--computes', '1', '--state-dir', state_dir],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.addCleanup(self._stop, proc)
        lines = []
        for raw in proc.stdout:
            lines.append(raw.decode('utf8', 'replace'))
            if lines[-1].startswith('Serving;'):
                # Keep draining so that late output never blocks the pipe,
                # and keep it: assertions on the process show it.
                self._output = lines
                threading.Thread(target=self._drain, args=(proc, lines),
                                 daemon=True).start()
                return proc, ''.join(lines)
        self.fail('sandbox did not start:\n%s' % ''.join(lines))

    @staticmethod
    def _drain(proc, lines):
        for raw in proc.stdout:
            lines.append(raw.decode('utf8', 'replace'))

    def output(self):
        """What the sandbox printed so far (for assertion messages)."""
        return ''.join(getattr(self, '_output', []))

    @staticmethod
    def _stop(proc):
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)

    def test_sdk_create_list_delete_then_ctrl_c(self):
        state_dir = tempfile.mkdtemp(prefix='pvm-sbx-test-')
        self.addCleanup(subprocess.call, ['rm', '-rf', state_dir])
        proc, banner = self.start_sandbox(state_dir)
        self.assertRegex(banner,
                         r'Compute API: +http://127\.0\.0\.1:\d+/v2\.1')
        config = openstack.config.OpenStackConfig(
            config_files=[os.path.join(state_dir, 'clouds.yaml')])
        conn = openstack.connection.Connection(
            config=config.get_one('sandbox'))
        self.addCleanup(conn.close)

        image = conn.image.find_image('powervm-raw', ignore_missing=False)
        net = conn.network.find_network('private', ignore_missing=False)
        flavor = conn.compute.find_flavor('m1.tiny', ignore_missing=False)
        server = conn.compute.create_server(
            name='sdk1', image_id=image.id, flavor_id=flavor.id,
            networks=[{'uuid': net.id}])
        server = conn.compute.wait_for_server(server, wait=60, interval=0.2)
        self.assertEqual('ACTIVE', server.status)
        self.assertEqual(['sdk1'], [s.name for s in conn.compute.servers()])
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=60, interval=0.2)
        # The SDK counts status DELETED as gone; nova lists the server
        # until the compute has destroyed its record a moment later.
        deadline = time.monotonic() + 30
        while list(conn.compute.servers()) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual([], list(conn.compute.servers()))

        proc.send_signal(signal.SIGINT)
        self.assertEqual(0, proc.wait(60), self.output())

    def _openstack(self, state_dir, *args):
        """Run the stock ``openstack`` CLI against the sandbox."""
        cli = os.path.join(os.path.dirname(sys.executable), 'openstack')
        env = dict(os.environ, OS_CLIENT_CONFIG_FILE=os.path.join(
            state_dir, 'clouds.yaml'), OS_CLOUD='sandbox')
        proc = subprocess.run([cli] + list(args), env=env,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=120,
                              check=False)
        out = proc.stdout.decode('utf8', 'replace')
        self.assertEqual(0, proc.returncode, out)
        return out

    def test_openstack_cli_create_list_delete(self):
        state_dir = tempfile.mkdtemp(prefix='pvm-sbx-test-')
        self.addCleanup(subprocess.call, ['rm', '-rf', state_dir])
        proc, _banner = self.start_sandbox(state_dir)
        out = self._openstack(
            state_dir, 'server', 'create', '--image', 'powervm-raw',
            '--flavor', 'm1.tiny', '--network', 'private', '--wait',
            '-f', 'value', '-c', 'status', 'cli1')
        self.assertEqual('ACTIVE', out.strip().splitlines()[-1])
        out = self._openstack(state_dir, 'server', 'list', '-f', 'value',
                              '-c', 'Name', '-c', 'Status')
        self.assertEqual(['cli1 ACTIVE'], out.strip().splitlines())
        self._openstack(state_dir, 'server', 'delete', '--wait', 'cli1')
        out = self._openstack(state_dir, 'server', 'list', '-f', 'value')
        self.assertEqual('', out.strip())
        proc.send_signal(signal.SIGINT)
        self.assertEqual(0, proc.wait(60), self.output())
