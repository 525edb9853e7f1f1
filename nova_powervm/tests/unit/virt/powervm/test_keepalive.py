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
"""Kept-alive connections to NovaLink: session.py against a real server.

The simulator serves over a real socket here and counts the connections
it accepts, so the tests see what a NovaLink host would.
"""

import concurrent.futures
import http.client
import io
import socket

import fixtures
from pypowervm import adapter as pvm_adpt
from pypowervm import exceptions as pvm_exc
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
import requests

from nova_powervm.simulator import core
from nova_powervm.simulator import server as sim_server
from nova_powervm.tests.unit.simulator import test_server
from nova_powervm.tests.unit.virt.powervm import simbase
from nova_powervm.virt.powervm import session

MS_PATH = '/rest/api/uom/ManagedSystem'


class _ServedTestCase(simbase.SimTestCase):
    sim_kwargs = {'event_timeout': 0.2, 'mode': 'server'}

    def connect(self):
        adapter = session.connect(session.ConnectionInfo(
            host=self.sim.host, port=self.sim.port, protocol='http'))
        self.addCleanup(session.close, adapter)
        return adapter

    @property
    def accepted(self):
        return self.sim.server.accepted


class TestConnectionReuse(_ServedTestCase):

    def test_sequential_requests_share_one_connection(self):
        adapter = self.connect()
        before = self.accepted
        for _idx in range(10):
            self.assertEqual(1, len(pvm_ms.System.get(adapter)))
        # The logon's connection, kept alive, serves them all.
        self.assertEqual(0, self.accepted - before)

    def test_threads_share_the_pool(self):
        adapter = self.connect()
        before = self.accepted

        def reads(_idx):
            for _jdx in range(5):
                pvm_ms.System.get(adapter)

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(reads, range(8)))
        # 40 requests from 8 threads, at most 4 at a time.
        self.assertLessEqual(self.accepted - before, 4)

    def test_plain_pypowervm_sessions_are_unchanged(self):
        self.connect()
        before = self.accepted
        for _idx in range(3):
            pvm_ms.System.get(self.sim.adapter)
        self.assertEqual(3, self.accepted - before)

    def test_relogin_after_the_server_forgot_the_session(self):
        adapter = self.connect()
        pvm_ms.System.get(adapter)
        before = self.accepted
        self.sim.restart()
        self.sim.reset_stats()
        self.assertEqual(1, len(pvm_ms.System.get(adapter)))
        by_pattern = self.sim.stats()['by_pattern']
        # The 401, the logon, the retried GET: one connection.
        self.assertEqual(2, by_pattern['GET %s' % MS_PATH])
        self.assertEqual(1, by_pattern['PUT /rest/api/web/Logon'])
        self.assertEqual(0, self.accepted - before)

    def test_error_replies_keep_the_connection_usable(self):
        adapter = self.connect()
        pvm_ms.System.get(adapter)
        before = self.accepted
        self.sim.add_fault(method='GET', path='ManagedSystem$',
                           kind='http', status=500, count=1)
        exc = self.assertRaises(pvm_exc.HttpError, pvm_ms.System.get,
                                adapter)
        self.assertEqual(500, exc.response.status)
        # A 412 sent before the simulator read the POST's body.
        sys_w = pvm_ms.System.get(adapter)[0]
        self.sim.add_fault(method='POST', path='ManagedSystem',
                           kind='etag_conflict', count=1)
        exc = self.assertRaises(pvm_exc.HttpError, sys_w.update)
        self.assertEqual(412, exc.response.status)
        self.assertEqual(1, len(pvm_ms.System.get(adapter)))
        self.assertEqual(0, self.accepted - before)

    def test_dropped_connections_are_reopened(self):
        adapter = self.connect()
        pvm_ms.System.get(adapter)
        before = self.accepted
        self.sim.server.httpd.close_open()
        self.assertEqual(1, len(pvm_ms.System.get(adapter)))
        self.assertEqual(1, self.accepted - before)

    def test_download_and_upload_with_a_filehandle(self):
        adapter = self.connect()
        sess = adapter.session
        out = io.BytesIO()
        sess.request('GET', MS_PATH, filehandle=out)
        self.assertIn(b'ManagedSystem', out.getvalue())
        before = self.accepted
        sess.request('GET', MS_PATH)
        self.assertEqual(0, self.accepted - before)
        # A chunked upload the server refuses without reading it: that
        # connection is closed, the next request opens another.
        exc = self.assertRaises(
            pvm_exc.HttpError, sess.request, 'PUT', MS_PATH + '/nothing',
            filehandle=io.BytesIO(b'x' * 200000))
        self.assertEqual(404, exc.response.status)
        # The reply said Connection: close, so the client did not put it
        # back in the pool.
        self.assertEqual('close', exc.response.headers.get('Connection'))
        self.assertEqual(1, len(pvm_ms.System.get(adapter)))
        self.assertEqual(1, self.accepted - before)

    def test_close_closes_the_pool(self):
        adapter = self.connect()
        pvm_ms.System.get(adapter)
        self.assertTrue(any(
            pool.num_connections for pool in
            adapter.session._transport.adapter.poolmanager.pools._container
            .values()))
        session.close(adapter)
        self.assertEqual(
            0, len(adapter.session._transport.adapter.poolmanager.pools))


class TestServerKeepAlive(_ServedTestCase):
    """The simulator's HTTP/1.1 server, seen through a raw client."""

    def conn(self):
        conn = http.client.HTTPConnection(self.sim.host, self.sim.port,
                                          timeout=10)
        self.addCleanup(conn.close)
        return conn

    def test_replies_are_http11_with_a_length(self):
        conn = self.conn()
        before = self.accepted
        for _idx in range(3):
            conn.request('GET', '/sim/stats')
            resp = conn.getresponse()
            self.assertEqual(11, resp.version)
            self.assertIsNotNone(resp.getheader('Content-Length'))
            resp.read()
            self.assertFalse(resp.will_close)
        self.assertEqual(1, self.accepted - before)

    def test_unread_body_is_drained(self):
        conn = self.conn()
        # No session token: refused before the body is read.
        conn.request('POST', MS_PATH, body=b'<x/>' * 1000,
                     headers={'Content-Type': 'application/xml'})
        resp = conn.getresponse()
        resp.read()
        self.assertEqual(401, resp.status)
        self.assertFalse(resp.will_close)
        conn.request('GET', '/sim/stats')
        resp = conn.getresponse()
        self.assertEqual(200, resp.status)
        resp.read()

    def test_client_close_and_garbage_end_the_connection(self):
        conn = self.conn()
        conn.request('GET', '/sim/stats', headers={'Connection': 'close'})
        resp = conn.getresponse()
        resp.read()
        self.assertTrue(resp.will_close)
        with socket.create_connection((self.sim.host, self.sim.port),
                                      timeout=10) as sock:
            sock.sendall(b'NONSENSE\r\n\r\n')
            reply = sock.recv(65536)
            self.assertIn(b' 400 ', reply.split(b'\r\n')[0])
            # The server closed it: the next read sees the end.
            while reply:
                reply = sock.recv(65536)

    def test_seam_is_installed_once(self):
        self.connect()
        self.connect()
        self.assertIsInstance(pvm_adpt.requests, session._RequestsSeam)
        self.assertNotIsInstance(pvm_adpt.requests._real,
                                 session._RequestsSeam)


class TestRequestSettings(_ServedTestCase):
    """What _ThreadSession keeps from requests' per-request work."""

    def test_environment_settings_are_requests_own(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'HTTPS_PROXY', 'http://proxy.example:3128'))
        self.useFixture(fixtures.EnvironmentVariable(
            'NO_PROXY', 'novalink.example'))
        thread_sess = session._Transport().session()
        thread_sess.verify = False
        for url in ('https://novalink.example:12443/rest/api/uom/x',
                    'https://other.example:12443/rest/api/uom/x'):
            for stream in (None, True):
                plain = requests.Session()
                plain.verify = False
                want = plain.merge_environment_settings(
                    url, {}, stream, None, None)
                got = thread_sess.merge_environment_settings(
                    url, {}, stream, None, None)
                self.assertEqual(want, got)
                # Kept results are handed out as copies.
                got['proxies']['https'] = 'changed'
                self.assertEqual(want, thread_sess.merge_environment_settings(
                    url, {}, stream, None, None))

    def test_non_ascii_xml_is_read_as_utf8(self):
        adapter = self.connect()
        uuid = self.sim.add_lpars([('vm-\u00e9t\u00e9',
                                    '3f0e5c1a-7b2d-4c6e-8a9f-0d1e2f3a4b5c',
                                    'not activated')])[0]
        read = pvm_lpar.LPAR.get(adapter, uuid=uuid)
        self.assertEqual('vm-\u00e9t\u00e9', read.name)


class TestTLSKeepAlive(simbase.base.NoDBTestCase):

    def test_https_with_a_ca_bundle_reuses_connections(self):
        folder = self.useFixture(fixtures.TempDir()).path
        cert, key = test_server._self_signed(folder)
        sim = core.Simulator(user='u', password='p')
        self.addCleanup(sim.close)
        srv = sim_server.SimServer(sim, '127.0.0.1', 0, tls_cert=cert,
                                   tls_key=key).start()
        self.addCleanup(srv.stop)
        # Only the CA bundle option may make the certificate trusted.
        for var in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
            self.useFixture(fixtures.EnvironmentVariable(var))
        adapter = session.connect(session.ConnectionInfo(
            host='127.0.0.1', port=srv.port, protocol='https', user='u',
            password='p', certpath=cert, connect_timeout=30))
        self.addCleanup(session.close, adapter)
        before = srv.accepted
        for _idx in range(5):
            self.assertEqual(1, len(pvm_ms.System.get(adapter)))
        self.assertEqual(0, srv.accepted - before)
