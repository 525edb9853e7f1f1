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
"""Host-side services the simulator provides: VNC terminal listeners.

``POST /sim/host/vterm/{lpar}`` opens a loopback listener that completes
the RFB 3.8 handshake with security type None and then sends a blank
framebuffer description; ``DELETE`` closes it.
"""

import socket
import struct
import threading

RFB_VERSION = b'RFB 003.008\n'


def _server_init(name):
    pixfmt = struct.pack('!BBBBHHHBBBxxx', 32, 24, 0, 1, 255, 255, 255,
                         16, 8, 0)
    raw = name.encode('utf-8')
    return struct.pack('!HH', 640, 480) + pixfmt + struct.pack(
        '!I', len(raw)) + raw


def _recv(conn, size):
    data = b''
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError('client closed')
        data += chunk
    return data


def handshake(conn, name):
    """Serve the RFB 3.8 handshake (security None) on a socket.

    :param conn: the accepted socket.
    :param name: the desktop name.
    """
    conn.sendall(RFB_VERSION)
    _recv(conn, 12)
    conn.sendall(b'\x01\x01')
    _recv(conn, 1)
    conn.sendall(struct.pack('!I', 0))
    _recv(conn, 1)
    conn.sendall(_server_init(name))


class Vterm(object):
    """One listening VNC terminal for an LPAR.

    :param name: desktop name (the LPAR name or UUID).
    """

    def __init__(self, name):
        self.name = name
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._conns = set()
        self._thread = threading.Thread(target=self._serve, daemon=True,
                                        name='sim-vterm-%d' % self.port)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                if self._stop.is_set():
                    conn.close()
                    return
                self._conns.add(conn)
            threading.Thread(target=self._client, args=(conn,),
                             daemon=True).start()

    def _client(self, conn):
        try:
            conn.settimeout(10)
            handshake(conn, self.name)
            while not self._stop.is_set() and conn.recv(4096):
                pass
        except (OSError, ConnectionError):
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
            conn.close()

    def close(self):
        """Stop listening and end every session, as ``rmvterm`` does."""
        self._stop.set()
        try:
            self.sock.close()
        except OSError:
            pass
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(2)


class Vterms(object):
    """Open terminals by LPAR UUID."""

    def __init__(self):
        self._lock = threading.Lock()
        self._open = {}

    def open(self, lpar_uuid, name):
        """Open (or return the open) terminal; returns the port.

        :param lpar_uuid: the LPAR UUID.
        :param name: desktop name.
        """
        key = lpar_uuid.upper()
        with self._lock:
            if key not in self._open:
                self._open[key] = Vterm(name)
            return self._open[key].port

    def close(self, lpar_uuid):
        """Close a terminal; True if one was open.

        :param lpar_uuid: the LPAR UUID.
        """
        with self._lock:
            term = self._open.pop(lpar_uuid.upper(), None)
        if term:
            term.close()
        return term is not None

    def close_all(self):
        """Close every terminal."""
        with self._lock:
            terms, self._open = list(self._open.values()), {}
        for term in terms:
            term.close()


class Ovs(object):
    """The Open vSwitch of the NovaLink partition: bridges and ports.

    A port is a network device of the NovaLink partition attached to a
    bridge, with the external ids Neutron's agent reads (``iface-id``,
    ``attached-mac``, ``vm-uuid``...), an MTU and an optional access VLAN
    tag.  Bridges exist once a port names them (``ovs-vsctl add-br`` is
    the deployer's job on a host).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._ports = {}

    def add_port(self, bridge, name, external_ids=None, mtu=None, tag=None):
        """Add (or replace, as ``--may-exist`` does) a port.

        :param bridge: bridge name.
        :param name: device name.
        :param external_ids: dict of the interface's external ids.
        :param mtu: MTU of the device, or None.
        :param tag: access VLAN, or None.
        :returns: the port dict.
        """
        port = {'bridge': bridge, 'name': name,
                'external_ids': dict(external_ids or {}),
                'mtu': None if mtu is None else int(mtu),
                'tag': None if tag is None else int(tag)}
        with self._lock:
            self._ports[name] = port
        return dict(port)

    def del_port(self, name):
        """Delete a port (``--if-exists``); True if it existed.

        :param name: device name.
        """
        with self._lock:
            return self._ports.pop(name, None) is not None

    def ports(self, bridge=None):
        """The ports (of one bridge, or all), sorted by name.

        :param bridge: bridge name or None.
        """
        with self._lock:
            return [dict(p) for _n, p in sorted(self._ports.items())
                    if bridge is None or p['bridge'] == bridge]
