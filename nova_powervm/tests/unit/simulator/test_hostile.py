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
"""Hostile input to ``powervm-sim`` over real HTTP: always a short 4xx.

Each row of the table is sent as raw bytes to the simulator served by a
real threaded HTTP server; the answer must be the row's 4xx status with a
short body and no traceback, and a normal REST request and a normal admin
request must still work afterwards.
"""

import json
import socket
import time

import fixtures
from pypowervm.wrappers import logical_partition as pvm_lpar

from nova_powervm.simulator import fixture as pvm_fx
from nova_powervm.tests import base as tests_base

ADMIN = 'hostile-admin-token'
LIMIT = 64 * 1024
BAD_UUID = '00000000-dead-beef-0000-000000000000'
MS_LPARS = '/rest/api/uom/ManagedSystem/{ms}/LogicalPartition'
XML = 'application/vnd.ibm.powervm.uom+xml; type=LogicalPartition'
NESTED = b'<a>' * 5000 + b'</a>' * 5000
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
          + b''.join(b'<!ENTITY %s "%s">' % (
              chr(98 + i).encode(), (b'&%s;' % chr(97 + i).encode()) * 10)
              for i in range(8))
          + b']><LogicalPartition>&i;</LogicalPartition>')
XXE = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM '
       b'"file:///etc/passwd">]><LogicalPartition xmlns="http://www.ibm.com/'
       b'xmlns/systems/power/firmware/uom/mc/2012_10/"><PartitionName>&e;'
       b'</PartitionName></LogicalPartition>')


def _send(port, data, timeout=10):
    """Send raw bytes; return (status, body) of the answer."""
    sock = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    try:
        try:
            sock.sendall(data)
        except OSError:
            pass  # the server may answer (413) and close before the end
        chunks = []
        while True:
            try:
                buf = sock.recv(65536)
            except ConnectionResetError:
                break
            if not buf:
                break
            chunks.append(buf)
    finally:
        sock.close()
    raw = b''.join(chunks)
    head, _sep, body = raw.partition(b'\r\n\r\n')
    status = int(head.split(b' ', 2)[1]) if head.startswith(b'HTTP/') else 0
    return status, body


def _request(method, path, body=b'', headers=(), length=True):
    lines = ['%s %s HTTP/1.1' % (method, path), 'Host: 127.0.0.1']
    lines += ['%s: %s' % hdr for hdr in headers]
    if length:
        lines.append('Content-Length: %d' % len(body))
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + body


# (name, method, path, body, headers, expected status); the session token
# is added unless a header says otherwise, the admin token on /sim/ paths.
REST = [
    ('malformed XML', 'PUT', '/rest/api/uom/LogicalPartition', b'<not',
     [('Content-Type', XML)], 400),
    ('binary garbage', 'PUT', '/rest/api/uom/LogicalPartition',
     b'\xff\xfe\x00garbage', [('Content-Type', XML)], 400),
    ('empty body', 'PUT', '/rest/api/uom/LogicalPartition', b'',
     [('Content-Type', XML)], 400),
    ('deep nesting', 'PUT', '/rest/api/uom/LogicalPartition', NESTED,
     [('Content-Type', XML)], 400),
    ('nesting under the parser limit', 'PUT', MS_LPARS,
     b'<a>' * 2000 + b'</a>' * 2000, [('Content-Type', XML)], 400),
    ('entity expansion', 'PUT', MS_LPARS, LAUGHS,
     [('Content-Type', XML)], 400),
    ('external entity', 'PUT', MS_LPARS, XXE,
     [('Content-Type', XML)], 400),
    ('wrong root element', 'PUT', MS_LPARS,
     b'<Nothing/>', [('Content-Type', XML)], 400),
    ('JSON to an XML API', 'PUT', '/rest/api/uom/LogicalPartition',
     b'{}', [('Content-Type', 'application/json')], 415),
    ('XML update of a missing LPAR', 'POST',
     '/rest/api/uom/LogicalPartition/' + BAD_UUID, b'<x/>', [], 404),
    ('no resource type', 'GET', '/rest/api/uom', b'', [], 404),
    ('empty resource type', 'GET', '/rest/api/uom/', b'', [], 404),
    ('empty segment', 'GET', '/rest/api/uom//ManagedSystem', b'', [], 404),
    ('unknown type', 'GET', '/rest/api/uom/NoSuchThing', b'', [], 404),
    ('unknown service', 'GET', '/rest/api/nope/x', b'', [], 404),
    ('outside the API', 'GET', '/etc/passwd', b'', [], 404),
    ('too deep a path', 'GET', '/rest/api/uom/a/b/c/d/e/f', b'', [], 404),
    ('bad UUID', 'GET', '/rest/api/uom/LogicalPartition/not-a-uuid', b'',
     [], 404),
    ('NUL in the path', 'GET', '/rest/api/uom/LogicalPartition/%00', b'',
     [], 400),
    ('non-UTF-8 path', 'GET', '/rest/api/uom/%ff%fe', b'', [], 404),
    ('bad search', 'GET', '/rest/api/uom/LogicalPartition/search/(x)', b'',
     [], 400),
    ('bad quick property', 'GET',
     '/rest/api/uom/LogicalPartition/%s/quick/x' % BAD_UUID, b'', [], 404),
    ('job on a missing LPAR', 'PUT',
     '/rest/api/uom/LogicalPartition/%s/do/PowerOn' % BAD_UUID, b'<x/>',
     [], 404),
    ('job of an unknown kind', 'GET', '/rest/api/uom/Nope/do/Nothing', b'',
     [], 404),
    ('malformed job request', 'PUT',
     '/rest/api/uom/ManagedSystem/do/CreateLPAR', b'<JobRequest',
     [], 400),
    ('unknown job id', 'GET', '/rest/api/uom/jobs/99999999', b'', [], 404),
    ('no job id', 'GET', '/rest/api/uom/jobs', b'', [], 404),
    ('malformed event', 'PUT', '/rest/api/uom/Event', b'{', [], 400),
    ('odd method', 'FROB', '/rest/api/uom/LogicalPartition', b'', [], 405),
    ('PATCH', 'PATCH', '/rest/api/uom/ManagedSystem', b'', [], 405),
    ('DELETE a feed', 'DELETE', '/rest/api/uom/LogicalPartition', b'', [],
     405),
    ('traversal in a download', 'GET',
     '/rest/api/web/File/contents/..%2F..%2F..%2Fetc%2Fpasswd', b'', [],
     404),
    ('traversal in an upload', 'PUT',
     '/rest/api/web/File/contents/../../state.xml', b'x', [], 404),
    ('traversal in a file entry', 'GET',
     '/rest/api/web/File/..%2F..%2Fstate.xml', b'', [], 404),
    ('no session', 'GET', '/rest/api/uom/ManagedSystem', b'',
     [('X-API-Session', '')], 401),
    ('wrong session', 'GET', '/rest/api/uom/ManagedSystem', b'',
     [('X-API-Session', 'not-a-session')], 401),
    ('malformed logon', 'PUT', '/rest/api/web/Logon', b'<LogonRequest',
     [], 400),
    ('logon with GET', 'GET', '/rest/api/web/Logon', b'', [], 405),
    ('wrong password', 'PUT', '/rest/api/web/Logon',
     b'<LogonRequest xmlns="http://www.ibm.com/xmlns/systems/power/'
     b'firmware/web/mc/2012_10/"><UserID>hscroot</UserID><Password>bad'
     b'</Password></LogonRequest>', [], 401),
    ('bad Content-Length', 'PUT', '/rest/api/uom/LogicalPartition', b'',
     [('Content-Length', 'abc')], 400),
    ('negative Content-Length', 'PUT', '/rest/api/uom/LogicalPartition',
     b'', [('Content-Length', '-5')], 400),
    ('body over the limit', 'PUT', '/rest/api/uom/LogicalPartition', b'',
     [('Content-Length', str(LIMIT * 1024))], 413),
]
ADMIN_ROWS = [
    ('admin root', 'GET', '/sim', b'', [], 404),
    ('unknown admin path', 'GET', '/sim/nothing/here', b'', [], 404),
    ('faults: bad JSON', 'POST', '/sim/faults', b'{"kind": ', [], 400),
    ('faults: a list', 'POST', '/sim/faults', b'[1, 2]', [], 400),
    ('faults: a string', 'POST', '/sim/faults', b'"http"', [], 400),
    ('faults: bad kind', 'POST', '/sim/faults', b'{"kind": "boom"}', [], 400),
    ('faults: kind of wrong type', 'POST', '/sim/faults', b'{"kind": [1]}',
     [], 400),
    ('faults: status not a number', 'POST', '/sim/faults',
     b'{"status": "abc"}', [], 400),
    ('faults: status not HTTP', 'POST', '/sim/faults', b'{"status": 9999}',
     [], 400),
    ('faults: bad regex', 'POST', '/sim/faults', b'{"path": "("}', [], 400),
    ('faults: path not a string', 'POST', '/sim/faults', b'{"path": 5}', [],
     400),
    ('faults: infinite hang', 'POST', '/sim/faults',
     b'{"kind": "hang", "seconds": Infinity}', [], 400),
    ('faults: count a dict', 'POST', '/sim/faults', b'{"count": {}}', [],
     400),
    ('faults: message a list', 'POST', '/sim/faults', b'{"message": [1]}',
     [], 400),
    ('faults: unknown argument', 'POST', '/sim/faults', b'{"nope": 1}', [],
     400),
    ('faults: XML body', 'POST', '/sim/faults', b'<x/>',
     [('Content-Type', 'application/xml')], 415),
    ('faults: bad UTF-8', 'POST', '/sim/faults', b'{"kind": "\xff"}', [],
     400),
    ('faults: PUT', 'PUT', '/sim/faults', b'{}', [], 405),
    ('latency: NaN', 'PUT', '/sim/latency', b'{"seconds": NaN}', [], 400),
    ('latency: negative', 'PUT', '/sim/latency', b'{"seconds": -1}', [],
     400),
    ('latency: a day', 'PUT', '/sim/latency', b'{"seconds": 86400}', [],
     400),
    ('latency: a list', 'PUT', '/sim/latency', b'[]', [], 400),
    ('latency: wrong type', 'PUT', '/sim/latency', b'{"seconds": [1]}', [],
     400),
    ('stats: POST', 'POST', '/sim/stats', b'', [], 404),
    ('lpar state: bad UUID', 'POST', '/sim/lpar/%s/state' % BAD_UUID,
     b'{"state": "running"}', [], 404),
    ('lpar state: bad state', 'POST', '/sim/lpar/%s/state' % BAD_UUID,
     b'{"state": 5}', [], 400),
    ('lpar state: a list', 'POST', '/sim/lpar/%s/state' % BAD_UUID,
     b'[]', [], 400),
    ('migrate in: empty', 'POST', '/sim/migrate/in', b'{}', [], 404),
    ('migrate in: a list', 'POST', '/sim/migrate/in', b'[]', [], 400),
    ('vterm: bad UUID', 'POST', '/sim/host/vterm/%s' % BAD_UUID, b'', [],
     404),
    ('vterm: GET', 'GET', '/sim/host/vterm/%s' % BAD_UUID, b'', [], 405),
    ('device: traversal', 'GET', '/sim/host/device/..%2F..%2Fstate.xml',
     b'', [], 404),
    ('device: bad UDID', 'GET', '/sim/host/device/nope', b'', [], 404),
    ('admin body over the limit', 'POST', '/sim/faults', b'',
     [('Content-Length', str(LIMIT + 1))], 413),
    ('host devices need no admin token', 'GET', '/sim/host/device/nope',
     b'', [('X-Sim-Admin-Token', '')], 404),
    ('no admin token', 'GET', '/sim/state', b'',
     [('X-Sim-Admin-Token', '')], 401),
    ('wrong admin token', 'GET', '/sim/stats', b'',
     [('X-Sim-Admin-Token', 'guess')], 401),
]


class TestHostileInput(tests_base.TestCase):
    """The table against one served simulator."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'nova_powervm.simulator.http.MAX_BODY', LIMIT))
        self.useFixture(fixtures.MonkeyPatch(
            'nova_powervm.simulator.server._Handler.timeout', 1.0))
        self.fx = self.useFixture(pvm_fx.SimulatorFixture(
            mode='server', user='hscroot', password='right-password',
            admin_token=ADMIN))
        self.port = self.fx.port
        self.token = self.fx.adapter.session._sessToken

    def _headers(self, path, headers):
        names = {name.lower() for name, _val in headers}
        extra = []
        if path.startswith('/sim') and 'x-sim-admin-token' not in names:
            extra.append(('X-Sim-Admin-Token', ADMIN))
        if path.startswith('/rest') and 'x-api-session' not in names:
            extra.append(('X-API-Session', self.token))
        return extra + [(n, v) for n, v in headers if v != '']

    def _row(self, row):
        name, method, path, body, headers, want = row
        path = path.format(ms=self.fx.sim.sys_uuid)
        hdrs = self._headers(path, headers)
        length = not any(n.lower() == 'content-length' for n, _v in hdrs)
        status, out = _send(self.port, _request(method, path, body, hdrs,
                                                length))
        self.assertEqual(want, status, '%s: %s' % (name, out[:300]))
        self.assertLess(len(out), 4096, name)
        self.assertNotIn(b'Traceback', out, name)
        self.assertNotIn(b'File "', out, name)
        self.assertNotIn(self.token.encode(), out, name)
        self.assertNotIn(ADMIN.encode(), out, name)
        self._still_works(name)

    def _still_works(self, name):
        wrap = pvm_lpar.LPAR.get(self.fx.adapter)
        self.assertIsInstance(wrap, list, name)
        status, out = _send(self.port, _request(
            'GET', '/sim/stats', headers=[('X-Sim-Admin-Token', ADMIN)]))
        self.assertEqual(200, status, name)
        self.assertIn('by_pattern', json.loads(out))

    def test_rest_table(self):
        for row in REST:
            self._row(row)

    def test_admin_table(self):
        for row in ADMIN_ROWS:
            self._row(row)
        self.assertEqual([], self.fx.sim.faults.list())
        self.assertEqual(0.0, self.fx.sim.latency)

    def test_chunked_bodies(self):
        hdrs = [('X-API-Session', self.token), ('Content-Type', XML),
                ('Transfer-Encoding', 'chunked')]
        status, out = _send(self.port, _request(
            'PUT', '/rest/api/uom/LogicalPartition', b'zz\r\nabc\r\n0\r\n\r\n',
            hdrs, length=False))
        self.assertEqual(400, status, out)
        big = b''.join(b'%x\r\n%s\r\n' % (4096, b'a' * 4096)
                       for _i in range(LIMIT // 4096 + 2)) + b'0\r\n\r\n'
        status, out = _send(self.port, _request(
            'PUT', '/rest/api/uom/LogicalPartition', big, hdrs,
            length=False))
        self.assertEqual(413, status, out)
        self._still_works('chunked')

    def test_stalled_client_frees_its_thread(self):
        sock = socket.create_connection(('127.0.0.1', self.port), timeout=10)
        self.addCleanup(sock.close)
        sock.sendall(b'PUT /rest/api/uom/LogicalPartition HTTP/1.1\r\n'
                     b'Content-Length: 100\r\n\r\n<Logical')
        self._still_works('while a client stalls')
        start = time.monotonic()
        sock.recv(65536)  # the server gives up (timeout) and closes
        self.assertLess(time.monotonic() - start, 8)
        self._still_works('after a client stalled')

    def test_admin_token_accepted(self):
        status, _out = _send(self.port, _request(
            'POST', '/sim/faults', b'{"kind": "http", "path": "^/none$"}',
            [('X-Sim-Admin-Token', ADMIN)]))
        self.assertEqual(200, status)
        self.assertEqual(1, len(self.fx.sim.faults.list()))

    def test_stats_stay_bounded(self):
        self.useFixture(fixtures.MonkeyPatch(
            'nova_powervm.simulator.stats.MAX_PATTERNS', 5))
        self.fx.reset_stats()
        for num in range(20):
            _send(self.port, _request('FROB%d' % num,
                                      '/rest/api/uom/X%d' % num))
            _send(self.port, _request('GET', '/rest/api/uom/Y%d' % num))
        stats = self.fx.stats()
        self.assertEqual(40, stats['total'])
        self.assertEqual({'GET': 20, 'OTHER': 20}, stats['by_method'])
        # 5 kept, then one catch-all per method.
        self.assertEqual(7, len(stats['by_pattern']))
        self.assertEqual(20, sum(n for k, n in stats['by_pattern'].items()
                                 if k.startswith('GET ')))
