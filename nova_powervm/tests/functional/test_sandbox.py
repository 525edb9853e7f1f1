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
"""The sandbox command, its services and its ``--lite`` token filter."""

import base64
import io
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import fixtures
from nova import test
import openstack
import requests
import webob

from nova_powervm.sandbox import auth
from nova_powervm.sandbox import catalog
from nova_powervm.sandbox import demo
from nova_powervm.sandbox import images
from nova_powervm.sandbox import network
from nova_powervm.sandbox import serve
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


class TestChunkedBodies(tests_base.TestCase):
    """The services' server de-chunks request bodies (image uploads)."""

    def test_chunked_body_spooled_whole(self):
        payload = os.urandom(300000)
        wire = b''
        for i in range(0, len(payload), 70000):
            part = payload[i:i + 70000]
            wire += b'%x;ext=1\r\n%s\r\n' % (len(part), part)
        wire += b'0\r\nTrailer: x\r\n\r\nNEXT'
        rfile = io.BufferedReader(io.BytesIO(wire))
        spool, size = serve.spool_chunked(rfile)
        self.assertEqual(len(payload), size)
        self.assertEqual(payload, spool.read())
        # The connection is left just after the body.
        self.assertEqual(b'NEXT', rfile.read())

    def test_truncated_chunk_is_an_error(self):
        rfile = io.BufferedReader(io.BytesIO(b'10\r\nshort'))
        self.assertRaises(IOError, serve.spool_chunked, rfile)


RACE = """
import sys, threading
import sqlalchemy as sa
from oslo_db.sqlalchemy import engines
from nova_powervm.sandbox import serve
if sys.argv[2] == 'fixed':
    serve.sqlite_waits_for_writers(busy_timeout_ms=10000)
engine = engines.create_engine('sqlite:///' + sys.argv[1])
with engine.begin() as conn:
    conn.execute(sa.text('CREATE TABLE t (n INTEGER)'))
both_read = threading.Barrier(2, timeout=2)
errors = []

def read_then_write():
    try:
        with engine.begin() as conn:
            conn.execute(sa.text('SELECT count(*) FROM t'))
            try:
                both_read.wait()
            except threading.BrokenBarrierError:
                pass    # the other one holds the write lock
            conn.execute(sa.text('INSERT INTO t VALUES (1)'))
    except sa.exc.OperationalError as e:
        errors.append(str(e).splitlines()[0])

threads = [threading.Thread(target=read_then_write) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join(30)
with engine.begin() as conn:
    rows = conn.execute(sa.text('SELECT count(*) FROM t')).scalar()
print(rows, errors)
"""


class TestSqliteWriters(tests_base.TestCase):
    """Glance's sqlite transactions wait for each other, threaded."""

    def _race(self, mode):
        # A process of its own: the fix applies to every engine there.
        path = os.path.join(self.useFixture(
            fixtures.TempDir()).path, 'race.db')
        out = subprocess.run(
            [sys.executable, '-c', RACE, path, mode], capture_output=True,
            text=True, timeout=60, check=True).stdout
        return out.strip()

    def test_deferred_begin_deadlocks(self):
        # What glance did under tempest: one writer told "locked" at once.
        out = self._race('plain')
        self.assertTrue(out.startswith('1 ['), out)
        self.assertIn('database is locked', out)

    def test_immediate_begin_waits(self):
        self.assertEqual('2 []', self._race('fixed'))


def run_sandbox(state_dir, *args, timeout=400):
    """Run the sandbox command to its end; ``(status, output)``."""
    env = dict(os.environ, OS_NOVA_DISABLE_EVENTLET_PATCHING='1')
    proc = subprocess.run(
        [sys.executable, '-m', 'nova_powervm.sandbox.cli',
         '--api-port', '0', '--state-dir', state_dir] + list(args),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        timeout=timeout, check=False)
    return proc.returncode, proc.stdout.decode('utf8', 'replace')


class WebSocket(object):
    """The client side of RFC 6455, as much as a console check needs.

    :param host: proxy host.
    :param port: proxy port.
    :param path: request path with its query (``/?token=...``).
    """

    def __init__(self, host, port, path):
        self.sock = socket.create_connection((host, port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((
            'GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n'
            'Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n'
            'Sec-WebSocket-Version: 13\r\n'
            'Sec-WebSocket-Protocol: binary\r\n\r\n'
            % (path, host, port, key)).encode())
        head = b''
        while b'\r\n\r\n' not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise AssertionError('proxy closed during the upgrade: %r'
                                     % head)
            head += chunk
        status = head.split(b'\r\n', 1)[0]
        if b' 101 ' not in status:
            raise AssertionError('no websocket upgrade: %r' % head)
        self.buf = b''

    def _exact(self, size):
        data = b''
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise AssertionError('proxy closed the console')
            data += chunk
        return data

    def send(self, payload):
        """One masked binary frame."""
        mask = os.urandom(4)
        head = struct.pack('!BB', 0x82, 0x80 | len(payload))
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + body)

    def recv(self, size):
        """Exactly ``size`` bytes of the binary stream."""
        while len(self.buf) < size:
            opcode, length = struct.unpack('!BB', self._exact(2))
            length &= 0x7f
            if length == 126:
                length = struct.unpack('!H', self._exact(2))[0]
            elif length == 127:
                length = struct.unpack('!Q', self._exact(8))[0]
            payload = self._exact(length)
            if opcode & 0x0f == 0x8:
                raise AssertionError('proxy closed the console: %r'
                                     % payload)
            self.buf += payload
        data, self.buf = self.buf[:size], self.buf[size:]
        return data

    def close(self):
        self.sock.close()


def rfb_handshake(console_url):
    """Open a console URL's websocket and complete the RFB handshake.

    :returns: the RFB version the server announced.
    """
    from urllib import parse

    parts = parse.urlsplit(console_url)
    query = dict(parse.parse_qsl(parts.query))
    # noVNC's page connects to ``path`` (``?token=...``) on the proxy.
    path = '/' + query['path'].lstrip('/')
    ws = WebSocket(parts.hostname, parts.port, path)
    try:
        version = ws.recv(12)
        ws.send(version)
        count = ws.recv(1)[0]
        types = ws.recv(count)
        assert 1 in types, 'no security type None in %r' % types
        ws.send(b'\x01')
        assert ws.recv(4) == b'\x00\x00\x00\x00', 'security result'
        ws.send(b'\x01')     # ClientInit, shared
        width, height = struct.unpack('!HH', ws.recv(4))
        assert (width, height) == (640, 480), (width, height)
    finally:
        ws.close()
    return version


class TestSandboxDemo(tests_base.TestCase):
    """The README's main-job command, end to end, in a subprocess."""

    def assertDemoPassed(self, status, out, rescue=True):
        self.assertEqual(0, status, out)
        self.assertIn('Demo PASSED', out)
        for step in (('boot', 'stop', 'start', 'soft reboot', 'hard reboot')
                     + (('rescue', 'unrescue') if rescue else ())
                     + ('rebuild', 'snapshot', 'boot from snapshot',
                        'shelve', 'unshelve', 'delete')):
            self.assertRegex(out, r'(?m)^%s\s' % step)
        self.assertNotIn('FAILED', out)

    def test_demo_passes_and_leaves_nothing(self):
        state_dir = tempfile.mkdtemp(prefix='pvm-sbx-test-')
        self.addCleanup(subprocess.call, ['rm', '-rf', state_dir])
        status, out = run_sandbox(state_dir, '--demo')
        self.assertDemoPassed(status, out)
        # localdisk: resize on the server's host; no move across hosts.
        self.assertRegex(out, r'(?m)^revert resize\s+ACTIVE on ')
        self.assertRegex(out, r'(?m)^cold migrate\s+skipped: localdisk')
        # Real services, each stopped on exit, their logs kept.
        for name in ('keystone', 'placement', 'glance', 'neutron'):
            self.assertRegex(out, r'(?m)^%s: +http://127\.0\.0\.1:\d+'
                             % name.capitalize())
            self.assertRegex(out, r'(?m)^Stopping %s \(pid \d+\)' % name)
            self.assertTrue(os.path.getsize(os.path.join(
                state_dir, name, name + '.log')))
        # The server's address came from the shared network's subnet.
        self.assertRegex(out, r"addresses \['192\.168\.1\.\d+'\]")
        with open(os.path.join(state_dir, 'clouds.yaml')) as f:
            clouds = f.read()
        self.assertIn('auth_url: http://127.0.0.1:', clouds)
        self.assertIn('username: demo', clouds)
        self.assertNotIn('token', clouds)
        # Cinder's volume rows ran (vSCSI over FC, iSCSI, boot from volume).
        self.assertRegex(out, r'(?m)^volume delete +3 volume\(s\) gone')
        # Neutron told nova the port was plugged.
        with open(os.path.join(state_dir, 'sandbox.log')) as f:
            self.assertIn('Creating event network-vif-plugged', f.read())

    def test_lite_demo_passes(self):
        state_dir = tempfile.mkdtemp(prefix='pvm-sbx-test-')
        self.addCleanup(subprocess.call, ['rm', '-rf', state_dir])
        status, out = run_sandbox(state_dir, '--demo', '--lite',
                                  '--computes', '1')
        self.assertDemoPassed(status, out)
        self.assertNotIn('Keystone:', out)
        self.assertFalse(os.path.exists(os.path.join(state_dir,
                                                     'keystone')))

    def test_demo_passes_on_a_shared_storage_pool(self):
        state_dir = tempfile.mkdtemp(prefix='pvm-sbx-test-')
        self.addCleanup(subprocess.call, ['rm', '-rf', state_dir])
        # The longest demo (every move row, live migrations included).
        status, out = run_sandbox(state_dir, '--demo', '--disk-driver',
                                  'ssp', timeout=600)
        # The disk driver cannot make rescue disks yet: no rescue step.
        self.assertDemoPassed(status, out, rescue=False)
        self.assertIn('disk driver ssp', out)
        # The move rows (sandbox/demo_move.py) all ran on the pool.
        for step in ('resize', 'revert resize', 'cold migrate',
                     'confirm migration', r'evacuate \(source stopped\)',
                     'old host starts again', 'live migrate',
                     'live migrate, abort', 'move bfv: boot', 'bfv resize',
                     'bfv revert resize', 'bfv cold migrate',
                     'bfv confirm migration',
                     r'bfv evacuate \(source stopped\)',
                     'bfv old host starts again', 'move bfv: delete'):
            self.assertRegex(out, r'(?m)^%s\s' % step)
        # Only the boot-from-volume live migration may be skipped: while
        # the driver's source check refuses servers with volumes.
        self.assertEqual([], [line for line in out.splitlines()
                              if 'skipped' in line and
                              not line.startswith('bfv live migrate')])
        # Both simulated hosts served one pool, kept in the state dir.
        self.assertTrue(os.path.exists(os.path.join(state_dir, 'ssp',
                                                    'pool.xml')))


class TestServedSandbox(tests_base.TestCase):
    """The served sandbox through its clouds.yaml and openstacksdk."""

    def start_sandbox(self, state_dir, *args):
        env = dict(os.environ, OS_NOVA_DISABLE_EVENTLET_PATCHING='1')
        proc = subprocess.Popen(
            [sys.executable, '-u', '-m', 'nova_powervm.sandbox.cli',
             '--api-port', '0', '--computes', '1', '--state-dir', state_dir]
            + list(args),
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

    def test_lite_sdk_create_list_delete_then_ctrl_c(self):
        state_dir = tempfile.mkdtemp(prefix='pvm-sbx-test-')
        self.addCleanup(subprocess.call, ['rm', '-rf', state_dir])
        proc, banner = self.start_sandbox(state_dir, '--lite')
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

    def _openstack(self, state_dir, *args, cloud='sandbox', status=0):
        """Run the stock ``openstack`` CLI against the sandbox."""
        cli = os.path.join(os.path.dirname(sys.executable), 'openstack')
        env = dict(os.environ, OS_CLIENT_CONFIG_FILE=os.path.join(
            state_dir, 'clouds.yaml'), OS_CLOUD=cloud)
        proc = subprocess.run([cli] + list(args), env=env,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=120,
                              check=False)
        out = proc.stdout.decode('utf8', 'replace')
        self.assertEqual(status, proc.returncode, out)
        return out

    def test_openstack_cli_create_list_delete(self):
        state_dir = tempfile.mkdtemp(prefix='pvm-sbx-test-')
        self.addCleanup(subprocess.call, ['rm', '-rf', state_dir])
        proc, _banner = self.start_sandbox(state_dir)
        # A new image from a file, as a user would upload one.
        path = os.path.join(state_dir, 'mine.raw')
        data = images.make_image_bytes(3 * 1024 * 1024 + 5)
        with open(path, 'wb') as f:
            f.write(data)
        out = self._openstack(
            state_dir, 'image', 'create', '--disk-format', 'raw',
            '--container-format', 'bare', '--property',
            'architecture=ppc64le', '--file', path, '-f', 'value', '-c',
            'status', 'mine')
        self.assertEqual('active', out.strip().splitlines()[-1])
        saved = os.path.join(state_dir, 'saved.raw')
        self._openstack(state_dir, 'image', 'save', '--file', saved, 'mine')
        with open(saved, 'rb') as f:
            self.assertEqual(data, f.read())
        out = self._openstack(state_dir, 'network', 'list', '-f', 'value',
                              '-c', 'Name')
        self.assertEqual(['private', 'public'], sorted(out.split()))
        out = self._openstack(
            state_dir, 'server', 'create', '--image', 'mine',
            '--flavor', 'm1.tiny', '--network', 'private', '--wait',
            '-f', 'value', '-c', 'status', 'cli1')
        self.assertEqual('ACTIVE', out.strip().splitlines()[-1])
        out = self._openstack(state_dir, 'server', 'list', '-f', 'value',
                              '-c', 'Name', '-c', 'Status')
        self.assertEqual(['cli1 ACTIVE'], out.strip().splitlines())
        out = self._openstack(state_dir, 'port', 'list', '--server', 'cli1',
                              '-f', 'value', '-c', 'Status')
        self.assertEqual(['ACTIVE'], out.split())
        # The console URL opens the simulated terminal through the proxy.
        url = self._openstack(state_dir, 'console', 'url', 'show', '-f',
                              'value', '-c', 'url', 'cli1').strip()
        self.assertRegex(url, r'^http://127\.0\.0\.1:\d+/vnc\w*\.html\?path=')
        page = requests.get(url, timeout=30)
        self.assertEqual(200, page.status_code)
        self.assertIn('<script', page.text)   # noVNC's client
        self.assertEqual(b'RFB 003.008\n', rfb_handshake(url))
        # Security groups are Neutron's: the project's default one exists.
        out = self._openstack(state_dir, 'security', 'group', 'list',
                              '-f', 'value', '-c', 'Name')
        self.assertIn('default', out.split())
        self._openstack(state_dir, 'server', 'delete', '--wait', 'cli1')
        out = self._openstack(state_dir, 'server', 'list', '-f', 'value')
        self.assertEqual('', out.strip())
        out = self._openstack(state_dir, 'port', 'list', '-f', 'value')
        self.assertEqual('', out.strip())
        # Admins set quotas (nova checks the project with keystone).
        self._openstack(state_dir, 'quota', 'set', '--instances', '7',
                        'demo', cloud='sandbox-admin')
        out = self._openstack(state_dir, 'quota', 'show', '-f', 'json',
                              'demo', cloud='sandbox-admin')
        limits = {row['Resource']: row['Limit'] for row in json.loads(out)}
        self.assertEqual(7, limits['instances'])
        proc.send_signal(signal.SIGINT)
        self.assertEqual(0, proc.wait(60), self.output())

    def test_restart_serves_the_servers_it_had(self):
        state_dir = tempfile.mkdtemp(prefix='pvm-sbx-test-')
        self.addCleanup(subprocess.call, ['rm', '-rf', state_dir])
        proc, _banner = self.start_sandbox(state_dir)
        out = self._openstack(
            state_dir, 'server', 'create', '--image', 'powervm-raw',
            '--flavor', 'm1.tiny', '--network', 'private', '--wait',
            '-f', 'value', '-c', 'status', 'kept')
        self.assertEqual('ACTIVE', out.strip().splitlines()[-1])
        # SIGTERM stops it as Ctrl-C does.
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(0, proc.wait(60), self.output())
        first = self.output()
        for name in ('keystone', 'placement', 'glance', 'neutron'):
            self.assertIn('Stopping %s (pid' % name, first)

        proc, _banner = self.start_sandbox(state_dir)
        out = self._openstack(state_dir, 'server', 'list', '-f', 'value',
                              '-c', 'Name', '-c', 'Status')
        self.assertEqual(['kept ACTIVE'], out.strip().splitlines())
        self._openstack(state_dir, 'server', 'stop', 'kept')
        self._openstack(state_dir, 'server', 'delete', '--wait', 'kept')
        out = self._openstack(state_dir, 'server', 'list', '-f', 'value')
        self.assertEqual('', out.strip())
        proc.send_signal(signal.SIGINT)
        self.assertEqual(0, proc.wait(60), self.output())
        # Both runs' logs are kept.
        with open(os.path.join(state_dir, 'sandbox.log')) as f:
            self.assertEqual(2, f.read().count('Services ready'))

    def test_failed_start_says_why_and_stops_everything(self):
        state_dir = tempfile.mkdtemp(prefix='pvm-sbx-test-')
        self.addCleanup(subprocess.call, ['rm', '-rf', state_dir])
        busy = socket.socket()
        busy.bind(('127.0.0.1', 0))
        busy.listen(1)
        self.addCleanup(busy.close)
        status, out = run_sandbox(
            state_dir, '--computes', '1', '--api-port',
            str(busy.getsockname()[1]), timeout=180)
        self.assertEqual(1, status, out)
        self.assertIn('Sandbox failed to start: OSError', out)
        self.assertIn('Address already in use', out)
        for name in ('keystone', 'placement', 'glance', 'neutron'):
            self.assertIn('Stopping %s (pid' % name, out)

    def test_start_refused_by_a_compute_exits_with_the_reason(self):
        # The simulator still holds a partition nova's (lost) databases do
        # not know: the compute refuses to start.  The command must say
        # so and end, not hang on the half-started compute's threads.
        state_dir = tempfile.mkdtemp(prefix='pvm-sbx-test-')
        self.addCleanup(subprocess.call, ['rm', '-rf', state_dir])
        proc, _banner = self.start_sandbox(state_dir)
        self._openstack(state_dir, 'server', 'create', '--image',
                        'powervm-raw', '--flavor', 'm1.tiny', '--network',
                        'private', '--wait', 'orphan')
        proc.send_signal(signal.SIGINT)
        self.assertEqual(0, proc.wait(60), self.output())
        subprocess.check_call(['rm', '-rf', os.path.join(state_dir, 'nova')])
        status, out = run_sandbox(state_dir, '--computes', '1',
                                  timeout=180)
        self.assertEqual(1, status, out)
        self.assertIn('Sandbox failed to start: InvalidConfiguration', out)
        self.assertIn('existing instances', out)
        for name in ('keystone', 'placement', 'glance', 'neutron'):
            self.assertIn('Stopping %s (pid' % name, out)
