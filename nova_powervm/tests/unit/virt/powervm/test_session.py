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
"""session.py: logon to the simulator, bounded waits, no secrets shown."""

import itertools
import socket
import threading
import time

from pypowervm import adapter as pvm_adpt

from nova_powervm import exception as pvm_exception
from nova_powervm.tests.unit.virt.powervm import simbase
from nova_powervm.virt.powervm import session

SECRET = 'Pa55-w0rd-never-shown'


def _free_port():
    """A local TCP port nothing listens on."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class _InstantEvent(threading.Event):
    """An Event whose waits return at once and are recorded."""

    def __init__(self):
        super().__init__()
        self.waits = []

    def wait(self, timeout=None):
        self.waits.append(timeout)
        return False


class TestConnectionInfo(simbase.base.NoDBTestCase):

    def test_snapshot_of_options(self):
        self.flags(group='powervm', pvm_host='nl1', pvm_port=1234,
                   pvm_user='admin', pvm_password=SECRET,
                   pvm_connect_timeout=7)
        info = session.ConnectionInfo.from_conf()
        self.flags(group='powervm', pvm_port=999)
        self.assertEqual(1234, info.port)
        self.assertEqual(7, info.connect_timeout)
        self.assertFalse(info.file_auth)
        self.assertEqual('https://nl1:1234', info.dest)
        self.assertNotIn(SECRET, repr(info))

    def test_file_auth_defaults(self):
        info = session.ConnectionInfo(host='localhost')
        self.assertTrue(info.file_auth)
        self.assertEqual('http://localhost:12080', info.dest)
        self.assertEqual('https://[fe80::1]:12443', session.ConnectionInfo(
            host='fe80::1', password='x').dest)


class TestHungServer(simbase.SimTestCase):

    sim_kwargs = {'mode': 'server', 'event_timeout': 0.2}

    def test_hung_logon_is_bounded(self):
        self.sim.add_fault(method='PUT', path='web/Logon', kind='hang',
                           count=-1, seconds=30)
        self.addCleanup(self.sim.clear_faults)
        flags = self.sim.driver_flags()
        info = session.ConnectionInfo(host=flags['pvm_host'],
                                      port=flags['pvm_port'],
                                      connect_timeout=1)
        start = time.monotonic()
        self.assertRaises(pvm_exception.NovaLinkNotReachable, session.connect,
                          info)
        self.assertLess(time.monotonic() - start, 10)


class TestConnect(simbase.SimTestCase):

    def test_file_logon_to_simulator(self):
        info = session.ConnectionInfo.from_conf()
        adapter, calls = self.count_rest(session.connect, info)
        self.addCleanup(session.close, adapter)
        self.assertEqual(1, calls)
        self.assertTrue(adapter.traits.local_api)
        self.assertEqual(1, len(adapter.read('ManagedSystem').feed.entries))

    def test_unreachable_server_times_out(self):
        info = session.ConnectionInfo(host='127.0.0.1', port=_free_port(),
                                      connect_timeout=5)
        # Each clock read advances 1 s; waits return at once.
        clock = itertools.count(0, 1).__next__
        stop = _InstantEvent()
        exc = self.assertRaises(pvm_exception.NovaLinkNotReachable,
                                session.connect, info, stop, clock)
        self.assertEqual([2.0, 1], stop.waits)
        self.assertIn('http://127.0.0.1:%d' % info.port,
                      exc.format_message())
        self.assertIn('5 seconds', exc.format_message())

    def test_stop_ends_the_wait(self):
        info = session.ConnectionInfo(host='127.0.0.1', port=_free_port(),
                                      connect_timeout=600)
        stop = threading.Event()
        stop.set()
        exc = self.assertRaises(pvm_exception.NovaLinkNotReachable,
                                session.connect, info, stop)
        self.assertIn('stopped', exc.format_message())

    def test_refused_password_fails_at_once_without_the_secret(self):
        # Make the simulator check password logons.
        self.sim.sim.user, self.sim.sim.password = 'admin', 'right'
        flags = self.sim.driver_flags()
        info = session.ConnectionInfo(
            host=flags['pvm_host'], port=flags['pvm_port'], protocol='http',
            user='nobody', password=SECRET, connect_timeout=600)
        self.sim.reset_stats()
        exc = self.assertRaises(pvm_exception.NovaLinkNotReachable,
                                session.connect, info)
        self.assertEqual(1, self.sim.stats()['total'])
        self.assertNotIn(SECRET, exc.format_message())
        self.assertNotIn(SECRET, self.stdlog.logger.output)


class _Handler(pvm_adpt.WrapperEventHandler):
    def process(self, events):
        pass


class TestPrivateSeams(simbase.SimTestCase):
    """The pypowervm internals session.py reaches, one test each.

    If a pypowervm release renames one of them, the test of that seam
    fails here rather than the driver misbehaving on a host.
    """

    def test_prime_sys_uuid_saves_the_get(self):
        adapter = session.connect(session.ConnectionInfo(
            host=self.sim.host, port=self.sim.port, protocol='http'))
        self.addCleanup(session.close, adapter)
        session.prime_sys_uuid(adapter, 'F00D')
        uuid, calls = self.count_rest(lambda: adapter.sys_uuid)
        self.assertEqual(('F00D', 0), (uuid, calls))

    def test_event_poll_thread_is_found_and_ends(self):
        adapter = session.connect(session.ConnectionInfo(
            host=self.sim.host, port=self.sim.port, protocol='http'))
        self.addCleanup(session.close, adapter)
        listener = adapter.session.get_event_listener()
        handler = _Handler()
        listener.subscribe(handler)
        thread = session.event_poll_thread(listener)
        self.assertIsInstance(thread, threading.Thread)
        self.assertTrue(thread.is_alive())
        listener.unsubscribe(handler)
        thread.join(10)
        self.assertFalse(thread.is_alive())

    def test_close_logs_off(self):
        adapter = session.connect(session.ConnectionInfo(
            host=self.sim.host, port=self.sim.port, protocol='http'))
        self.sim.reset_stats()
        session.close(adapter)
        by_pattern = self.sim.stats()['by_pattern']
        self.assertEqual(1, by_pattern.get('DELETE /rest/api/web/Logon'),
                         by_pattern)
