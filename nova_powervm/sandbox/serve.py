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
"""Serve one OpenStack service's WSGI app in a process of its own.

``python -m nova_powervm.sandbox.serve NAME --config-dir DIR --fd FD``
serves keystone, placement, glance or neutron on a listening socket the
sandbox opened and handed down (``FD``), reading ``NAME.conf`` in ``DIR``.
Each service keeps its own global configuration, which is why none of
them shares nova's process.

Requests are served one at a time: keystone and neutron on sqlite fail
under concurrent writers ("database is locked").  Glance is served a
thread per request, its sqlite transactions taking the write lock when
they begin (see :func:`sqlite_waits_for_writers`).  Request bodies sent
with ``Transfer-Encoding: chunked`` (glanceclient's image uploads, which
nova's snapshots use) are de-chunked before the app sees them.

The process ends on SIGTERM, and when its parent dies.
"""

import argparse
# Imported before any service: its module registers an exit hook, which
# fails when done lazily inside a request (glance's task pool).
import concurrent.futures.thread  # noqa: F401
import ctypes
import io
import logging
import os
import signal
import socket
import socketserver
import sys
import tempfile
from wsgiref import simple_server

LOG = logging.getLogger('nova_powervm.sandbox.serve')
PR_SET_PDEATHSIG = 1
SPOOL_MAX = 8 * 1024 * 1024
SERVICES = ('keystone', 'placement', 'glance', 'neutron')


def die_with_parent():
    """Ask Linux to SIGTERM this process when its parent exits."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def load_app(name, config_dir):
    """Build the service's WSGI application from ``NAME.conf``.

    :param name: one of ``SERVICES``.
    :param config_dir: directory holding ``NAME.conf``.
    """
    # Each service parses sys.argv and reads its config location from the
    # environment; give them nothing but the file written for them.
    sys.argv = sys.argv[:1]
    upper = name.upper()
    os.environ['OS_%s_CONFIG_DIR' % upper] = config_dir
    os.environ['OS_%s_CONFIG_FILES' % upper] = '%s.conf' % name
    if name == 'keystone':
        from keystone.server import wsgi
        return wsgi.initialize_public_application()
    if name == 'placement':
        from placement import wsgi
        return wsgi.init_application()
    if name == 'glance':
        # glance reads glance-api.conf in OS_GLANCE_CONFIG_DIR.
        from glance.common import wsgi_app
        return wsgi_app.init_app()
    if name == 'neutron':
        create_neutron_schema(os.path.join(config_dir, 'neutron.conf'))
        from neutron.wsgi import api
        return api.application
    raise ValueError('unknown service %s' % name)


def create_neutron_schema(conf_path):
    """Create Neutron's tables on a new sqlite database.

    Neutron's migrations alter constraints, which sqlite cannot; its own
    tests build the schema from the models instead, as done here.
    """
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    parser.read(conf_path)
    url = parser.get('database', 'connection')
    path = url[len('sqlite:///'):]
    if os.path.exists(path):
        return
    from neutron.db.migration.models import head
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        head.get_metadata().create_all(engine)
    except Exception:
        engine.dispose()
        os.unlink(path)
        raise
    engine.dispose()


class ChunkedReader(io.RawIOBase):
    """A file reading the payload of a chunked HTTP body.

    :param rfile: the connection's buffered reader, at the first chunk.
    """

    def __init__(self, rfile):
        super().__init__()
        self.rfile = rfile
        self.left = 0
        self.done = False

    def readable(self):
        return True

    def readinto(self, buf):
        if self.done:
            return 0
        if not self.left:
            line = self.rfile.readline(65537)
            size = int(line.split(b';', 1)[0].strip() or b'0', 16)
            if size == 0:
                # Trailers end with an empty line.
                while self.rfile.readline(65537).strip():
                    pass
                self.done = True
                return 0
            self.left = size
        data = self.rfile.read(min(len(buf), self.left))
        if not data:
            raise IOError('connection closed inside a chunk')
        buf[:len(data)] = data
        self.left -= len(data)
        if not self.left:
            self.rfile.readline(3)   # the chunk's CRLF
        return len(data)


def spool_chunked(rfile):
    """The whole chunked body in a seekable file, and its length."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX)
    reader = io.BufferedReader(ChunkedReader(rfile), 1024 * 1024)
    size = 0
    while True:
        block = reader.read(1024 * 1024)
        if not block:
            break
        spool.write(block)
        size += len(block)
    spool.seek(0)
    return spool, size


class Handler(simple_server.WSGIRequestHandler):
    """wsgiref's handler, de-chunking bodies and logging to ``logging``."""

    def get_environ(self):
        env = super().get_environ()
        if 'chunked' in env.get('HTTP_TRANSFER_ENCODING', '').lower():
            spool, size = spool_chunked(self.rfile)
            self._spool = spool
            env.pop('HTTP_TRANSFER_ENCODING')
            env['CONTENT_LENGTH'] = str(size)
        return env

    def handle(self):
        self._spool = None
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():
            return
        env = self.get_environ()
        stdin = self._spool if self._spool is not None else self.rfile
        handler = simple_server.ServerHandler(
            stdin, self.wfile, self.get_stderr(), env,
            multithread=isinstance(self.server, socketserver.ThreadingMixIn))
        handler.request_handler = self
        handler.run(self.server.get_app())
        if self._spool is not None:
            self._spool.close()

    def log_message(self, format, *args):
        LOG.debug('%s %s', self.address_string(), format % args)


class ThreadingWSGIServer(socketserver.ThreadingMixIn,
                          simple_server.WSGIServer):
    """A thread per request.

    For glance: a long image download or upload must not hold every other
    image request (Cinder's volumes from images, snapshots, shelve).
    """

    daemon_threads = True


#: Services served a thread per request; the others write their sqlite
#: database from every request and stay serial ("database is locked").
THREADED = ('glance',)


def sqlite_waits_for_writers(busy_timeout_ms=30000):
    """Make concurrent sqlite transactions wait for each other.

    oslo.db begins sqlite transactions with a deferred ``BEGIN``: two
    threads that read and then write deadlock, and sqlite answers one of
    them "database is locked" at once, without waiting (its busy handler
    cannot help a deadlock).  ``BEGIN IMMEDIATE`` takes the write lock when
    the transaction begins, so a second writer waits in the busy handler
    (``busy_timeout_ms``) instead.  Registered on the Engine class, for
    every engine of the process: class listeners run ahead of oslo.db's
    per-engine one, which then sees the transaction begun and emits
    nothing.
    """
    import sqlalchemy
    from sqlalchemy import engine as sa_engine
    target = sa_engine.Engine

    @sqlalchemy.event.listens_for(target, 'connect')
    def _busy_timeout(dbapi_con, con_record):
        if type(dbapi_con).__module__.startswith('sqlite3'):
            dbapi_con.execute('PRAGMA busy_timeout = %d' % busy_timeout_ms)

    @sqlalchemy.event.listens_for(target, 'begin', insert=True)
    def _begin_immediate(conn):
        if (conn.dialect.name == 'sqlite'
                and 'in_transaction' not in conn.info):
            conn.exec_driver_sql('BEGIN IMMEDIATE')
            conn.info['in_transaction'] = True


def serve(app, fd, threaded=False):
    """Serve ``app`` on the inherited listening socket ``fd``, forever.

    :param threaded: a thread per request instead of one at a time.
    """
    cls = ThreadingWSGIServer if threaded else simple_server.WSGIServer
    server = cls(('127.0.0.1', 0), Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = socket.socket(fileno=fd)
    host, port = server.socket.getsockname()[:2]
    server.server_name = socket.getfqdn(host)
    server.server_port = port
    server.setup_environ()
    server.set_app(app)
    server.serve_forever(poll_interval=0.5)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='nova_powervm.sandbox.serve')
    parser.add_argument('name', choices=SERVICES)
    parser.add_argument('--config-dir', required=True)
    parser.add_argument('--fd', type=int, required=True)
    args = parser.parse_args(argv)
    die_with_parent()
    if args.name in THREADED:
        sqlite_waits_for_writers()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    logging.basicConfig(level=logging.INFO)
    app = load_app(args.name, os.path.abspath(args.config_dir))
    print('serving %s' % args.name, flush=True)
    serve(app, args.fd, threaded=args.name in THREADED)
    return 0


if __name__ == '__main__':
    sys.exit(main())
