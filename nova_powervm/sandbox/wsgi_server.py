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
"""A threaded WSGI server on the loopback interface, as a fixture."""

import logging
import socketserver
import threading
from wsgiref import simple_server

import fixtures

LOG = logging.getLogger(__name__)


class _QuietHandler(simple_server.WSGIRequestHandler):
    """Request handler logging through ``logging`` instead of stderr."""

    def log_message(self, format, *args):
        LOG.debug('%s %s', self.address_string(), format % args)


class _ThreadingServer(socketserver.ThreadingMixIn,
                       simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class WSGIServerFixture(fixtures.Fixture):
    """Serve a WSGI app on 127.0.0.1 in a background thread.

    :param app: the WSGI application.
    :param port: TCP port; 0 picks a free one (see ``.port`` after setUp).
    :param name: label for the server thread.
    """

    def __init__(self, app, port=0, name='wsgi'):
        super().__init__()
        self.app = app
        self.port = port
        self.name = name

    def _setUp(self):
        self.server = simple_server.make_server(
            '127.0.0.1', self.port, self.app,
            server_class=_ThreadingServer, handler_class=_QuietHandler)
        self.port = self.server.server_port
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={'poll_interval': 0.1},
            name='sandbox-%s' % self.name, daemon=True)
        self.thread.start()
        self.addCleanup(self._stop)

    def _stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    @property
    def url(self):
        """Base URL of the server (no trailing slash)."""
        return 'http://127.0.0.1:%d' % self.port
