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
"""Threaded HTTP(S) server around the simulator's WSGI application."""

import logging
import socket
import socketserver
import ssl
import threading
from wsgiref import simple_server

LOG = logging.getLogger(__name__)


class _ServerHandler(simple_server.ServerHandler):
    # wsgiref answers HTTP/1.0 by default, which makes every client close
    # the connection after the reply.
    http_version = '1.1'
    #: Whether the reply sent exactly its Content-Length (set at close).
    complete = False

    def cleanup_headers(self):
        super(_ServerHandler, self).cleanup_headers()
        req = self.request_handler
        # Decided before the reply goes out: a client must not reuse a
        # connection the server is about to close.
        left = req.body_left(self.stdin)
        if req.close_connection or left is None or left > _DRAIN_MAX:
            req.close_connection = True
            self.headers['Connection'] = 'close'

    def close(self):
        # wsgiref forgets the headers and the byte count here.
        length = self.headers and self.headers.get('Content-Length')
        self.complete = (length is not None and
                         self.headers.get('Connection', '') != 'close' and
                         int(length) == self.bytes_sent)
        super(_ServerHandler, self).close()


class _CountingInput(object):
    """``wsgi.input`` that counts the request body bytes the app read.

    :param raw: the connection's buffered reader.
    """

    def __init__(self, raw):
        self.raw = raw
        self.consumed = 0

    def _count(self, data):
        self.consumed += len(data)
        return data

    def read(self, size=-1):
        return self._count(self.raw.read(size))

    def readline(self, size=-1):
        return self._count(self.raw.readline(size))

    def readinto(self, buf):
        got = self.raw.readinto(buf) or 0
        self.consumed += got
        return got

    def readlines(self, hint=-1):
        return [self._count(line) for line in self.raw.readlines(hint)]

    def __iter__(self):
        return iter(self.readline, b'')


#: Unread request body bytes the server reads and drops to keep the
#: connection usable (an error reply sent before the body was read);
#: more closes the connection instead.
_DRAIN_MAX = 1024 * 1024


class _Handler(simple_server.WSGIRequestHandler):
    """HTTP/1.1 with keep-alive: many requests per connection.

    A connection is closed after a reply when the client asks for it, the
    request body was left half read (and is large or chunked), or the
    reply did not send exactly its Content-Length.
    """

    protocol_version = 'HTTP/1.1'
    #: Seconds a client may stay silent while sending its request or
    #: between requests on a kept-alive connection: a stalled client
    #: frees its thread instead of holding it for ever.
    timeout = 60

    def log_message(self, fmt, *args):
        LOG.debug('%s - %s', self.address_string(), fmt % args)

    def setup(self):
        super(_Handler, self).setup()
        self.server.track(self.connection, True)

    def finish(self):
        try:
            super(_Handler, self).finish()
        finally:
            self.server.track(self.connection, False)

    def handle(self):
        self.close_connection = True
        self._handle_one()
        while not self.close_connection:
            self._handle_one()

    def _handle_one(self):
        self.close_connection = True
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except OSError:
            # Idle past the timeout, or the client went away.
            return
        if not self.raw_requestline:
            return
        if len(self.raw_requestline) > 65536:
            self.requestline = ''
            self.request_version = ''
            self.command = ''
            self.send_error(414)
            return
        if not self.parse_request():
            return
        if self.command == 'HEAD':
            self.close_connection = True
        body = _CountingInput(self.rfile)
        handler = _ServerHandler(body, self.wfile, self.get_stderr(),
                                 self.get_environ(), multithread=False)
        handler.request_handler = self
        handler.run(self.server.get_app())
        keep = (not self.close_connection and handler.complete and
                self._drain(body))
        self.close_connection = not keep

    def body_left(self, body):
        """Request body bytes the app has not read; None if unknown.

        Unknown for a chunked body (the connection is then closed).

        :param body: the request's ``_CountingInput``.
        """
        if 'chunked' in self.headers.get('Transfer-Encoding', '').lower():
            return None
        text = (self.headers.get('Content-Length') or '0').strip()
        if not text.isdigit():
            return None
        return max(0, int(text) - body.consumed)

    def _drain(self, body):
        """Read what the app left of the request body; False to close."""
        left = self.body_left(body)
        if left is None or left > _DRAIN_MAX:
            return False
        while left > 0:
            data = self.rfile.read(min(left, 65536))
            if not data:
                return False
            left -= len(data)
        return True


class _Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, *args, **kwargs):
        self._conn_lock = threading.Lock()
        self._open = set()
        #: Connections accepted since the server started.
        self.accepted = 0
        super(_Server, self).__init__(*args, **kwargs)

    def track(self, conn, opened):
        """Count an accepted connection, or forget a finished one."""
        with self._conn_lock:
            if opened:
                self.accepted += 1
                self._open.add(conn)
            else:
                self._open.discard(conn)

    def close_open(self):
        """Shut every kept-alive connection (the server is stopping)."""
        with self._conn_lock:
            conns = list(self._open)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class SimServer(object):
    """Serve a Simulator over HTTP in a background thread.

    :param sim: the Simulator.
    :param host: bind address (loopback by default).
    :param port: bind port (0 = ephemeral).
    :param tls_cert: PEM certificate path to serve HTTPS.
    :param tls_key: PEM key path.
    """

    def __init__(self, sim, host='127.0.0.1', port=12080, tls_cert=None,
                 tls_key=None):
        self.sim = sim
        self.httpd = simple_server.make_server(
            host, port, sim, server_class=_Server, handler_class=_Handler)
        scheme = 'http'
        if tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls_cert, tls_key)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket,
                                                server_side=True)
            scheme = 'https'
        self.host = host
        self.port = self.httpd.server_address[1]
        sim.base_url = '%s://%s:%d' % (scheme, host, self.port)
        self._thread = None

    @property
    def accepted(self):
        """TCP connections accepted since the server started."""
        return self.httpd.accepted

    def start(self):
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self.httpd.serve_forever,
                                        kwargs={'poll_interval': 0.2},
                                        name='pvm-sim-http', daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        """Serve in the calling thread until :meth:`stop`."""
        self.httpd.serve_forever(poll_interval=0.2)

    def stop(self):
        """Stop serving and close the socket (waits for the loop)."""
        self.sim.events.close()
        self.sim.faults.clear()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd.close_open()
        if self._thread:
            self._thread.join(5)
