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
"""nova's noVNC proxy, served by the sandbox.

The proxy is nova's own (``nova.console.websocketproxy``: token check in
the cell database, the RPC call asking the compute whether the console
port is right, RFB security negotiation with the host's VNC server).
``nova-novncproxy`` would run it in a process of its own, but the
sandbox's computes answer RPC only inside the sandbox's process (an
in-memory message bus), so the sandbox runs the same proxy class on a
thread per connection instead of a forked process.
"""

import logging
import os
import socket
import threading

import fixtures
from nova.console.securityproxy import rfb
from nova.console import websocketproxy

LOG = logging.getLogger(__name__)
NOVNC_DIR = '/usr/share/novnc'
NOVNC_MISSING = """<!DOCTYPE html>
<html><head><title>nova-powervm sandbox console</title></head><body>
<p>The console's websocket is served here (path <code>?token=...</code>),
but noVNC's browser client is not installed. Install it (Debian, Ubuntu:
<code>apt-get install novnc</code>) and restart the sandbox, or point
any websockify-capable VNC client at this URL.</p></body></html>
"""


def web_dir(state_dir):
    """noVNC's files: the system's, or a page saying how to get them.

    The websocket works either way; only the browser page needs noVNC.
    """
    if os.path.isdir(NOVNC_DIR):
        return NOVNC_DIR
    web = os.path.join(state_dir, 'novnc')
    os.makedirs(web, exist_ok=True)
    with open(os.path.join(web, 'vnc_auto.html'), 'w') as f:
        f.write(NOVNC_MISSING)
    return web


class ConsoleProxy(fixtures.Fixture):
    """nova's noVNC websocket proxy on a loopback port.

    :param state_dir: where a placeholder page goes without noVNC.
    :param port: TCP port (0: any free port; see ``port``).
    """

    def __init__(self, state_dir, port=0):
        super().__init__()
        self.state_dir = state_dir
        self.port = port

    @property
    def base_url(self):
        """What ``[vnc] novncproxy_base_url`` is set to."""
        return 'http://127.0.0.1:%d/vnc_auto.html' % self.port

    def _setUp(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', self.port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.proxy = websocketproxy.NovaWebSocketProxy(
            listen_host='127.0.0.1', listen_port=self.port,
            source_is_ipv6=False, cert='self.pem', key=None,
            ssl_only=False, daemon=False, record=None, traffic=False,
            web=web_dir(self.state_dir), file_only=True,
            RequestHandlerClass=websocketproxy.NovaProxyRequestHandler,
            security_proxy=rfb.RFBSecurityProxy())
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._accept,
                                       name='novncproxy', daemon=True)
        self.thread.start()
        self.addCleanup(self._shutdown)

    def _accept(self):
        while not self._stop.is_set():
            try:
                conn, addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._client, args=(conn, addr),
                             name='novncproxy-client', daemon=True).start()

    def _client(self, conn, addr):
        conn.settimeout(None)
        try:
            self.proxy.top_new_client(conn, addr)
        except Exception:
            LOG.exception('console proxy connection from %s failed', addr)
        finally:
            conn.close()

    def _shutdown(self):
        LOG.info('Stopping the noVNC proxy')
        self._stop.set()
        self.thread.join(5)
        self.sock.close()
