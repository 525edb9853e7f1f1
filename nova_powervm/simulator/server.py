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
import socketserver
import ssl
import threading
from wsgiref import simple_server

LOG = logging.getLogger(__name__)


class _Handler(simple_server.WSGIRequestHandler):
    protocol_version = 'HTTP/1.1'
    #: Seconds a client may stay silent while sending its request: a
    #: stalled client frees its thread instead of holding it for ever.
    timeout = 60

    def log_message(self, fmt, *args):
        LOG.debug('%s - %s', self.address_string(), fmt % args)

    def handle(self):
        # One request per connection: pypowervm opens a new connection
        # per request anyway, and this keeps the wsgiref handler simple.
        self.close_connection = True
        super(_Handler, self).handle()


class _Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


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
        if self._thread:
            self._thread.join(5)
