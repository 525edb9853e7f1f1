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

import importlib.util
import logging
import os
import socket
import threading
import zipfile

import fixtures
from nova.console.securityproxy import rfb
from nova.console import websocketproxy

LOG = logging.getLogger(__name__)
NOVNC_DIR = '/usr/share/novnc'
# noVNC's pages, in the order tried: the ``novnc`` wheel bundles only the
# full client; distributions also ship the lite one.
PAGES = ('vnc_lite.html', 'vnc_auto.html', 'vnc.html')
NOVNC_MISSING = """<!DOCTYPE html>
<html><head><title>nova-powervm sandbox console</title></head><body>
<p>The console's websocket is served here (path <code>?token=...</code>),
but noVNC's browser client is not installed: pip install novnc (see
sandbox-requirements.txt) or apt-get install novnc, and restart the
sandbox.</p></body></html>
"""


def _bundled_novnc():
    """The web files zip of the ``novnc`` wheel, or None.

    Located without importing the package (its import unpacks the zip in
    a temporary directory of its own).
    """
    spec = importlib.util.find_spec('novnc')
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0],
                        'resources', 'novnc_server.zip')
    return path if os.path.exists(path) else None


def web_dir(state_dir):
    """A directory with noVNC's web client; returns it and its page.

    The ``novnc`` wheel's files (unpacked once under ``state_dir``), else
    the system's ``/usr/share/novnc``, else a page saying how to get
    them (the websocket works either way).
    """
    web = os.path.join(state_dir, 'novnc')
    bundle = _bundled_novnc()
    if bundle and not os.path.exists(os.path.join(web, 'vnc.html')):
        with zipfile.ZipFile(bundle) as zf:
            zf.extractall(web)
    for base in (web, NOVNC_DIR):
        for page in PAGES:
            if os.path.exists(os.path.join(base, page)):
                return base, page
    os.makedirs(web, exist_ok=True)
    with open(os.path.join(web, PAGES[0]), 'w') as f:
        f.write(NOVNC_MISSING)
    return web, PAGES[0]


class ConsoleProxy(fixtures.Fixture):
    """nova's noVNC websocket proxy on a loopback port.

    :param state_dir: where a placeholder page goes without noVNC.
    :param port: TCP port (0: any free port; see ``port``).
    """

    def __init__(self, state_dir, port=0):
        super().__init__()
        self.state_dir = state_dir
        self.port = port
        self.page = PAGES[0]

    @property
    def base_url(self):
        """What ``[vnc] novncproxy_base_url`` is set to."""
        return 'http://127.0.0.1:%d/%s' % (self.port, self.page)

    def _setUp(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', self.port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        web, self.page = web_dir(self.state_dir)
        self.proxy = websocketproxy.NovaWebSocketProxy(
            listen_host='127.0.0.1', listen_port=self.port,
            source_is_ipv6=False, cert='self.pem', key=None,
            ssl_only=False, daemon=False, record=None, traffic=False,
            web=web, file_only=True,
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
