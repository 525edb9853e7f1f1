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
"""host_shim.py: the simulator shim, and the local shim's commands.

The local shim runs NovaLink's ``mkvterm``/``rmvterm``; here they are
small scripts on PATH that record how they were called.
"""

import os
import socket
import stat
import threading
import time

import fixtures

from nova_powervm import exception as pvm_exception
from nova_powervm.simulator import core
from nova_powervm.simulator import server as sim_server
from nova_powervm.tests.unit.simulator import test_server
from nova_powervm.tests.unit.virt.powervm import simbase
from nova_powervm.virt.powervm import host_shim
from nova_powervm.virt.powervm import vm

_SCRIPT = '''#!/bin/sh
echo "$0 $*" >> %(log)s
%(body)s
'''


class TestShims(simbase.SimTestCase):

    def setUp(self):
        super().setUp()
        self.inst = self.instance()
        vm.create_lpar(self.adapter, self.host_wrapper(), self.inst)
        self.set_state(self.inst, 'running')
        self.pvm_uuid = vm.get_pvm_uuid(self.inst)

    def _commands(self, mkvterm_body):
        bindir = self.useFixture(fixtures.TempDir()).path
        log = os.path.join(bindir, 'calls.log')
        for name, body in (('mkvterm', mkvterm_body), ('rmvterm', 'exit 0')):
            path = os.path.join(bindir, name)
            with open(path, 'w') as fil:
                fil.write(_SCRIPT % {'log': log, 'body': body})
            os.chmod(path, stat.S_IRWXU)
        self.useFixture(fixtures.EnvironmentVariable(
            'PATH', bindir + os.pathsep + os.environ.get('PATH', '')))
        return log

    def test_get_shim_by_option(self):
        self.assertIsInstance(host_shim.get_shim('simulator', 'http://x:1',
                                                 '10.0.0.1'),
                              host_shim.SimulatorShim)
        self.assertIsInstance(host_shim.get_shim('local', 'http://x:1',
                                                 '10.0.0.1'),
                              host_shim.LocalShim)

    def test_simulator_shim_opens_a_vnc_endpoint_and_closes_it(self):
        flags = self.sim.driver_flags()
        shim = host_shim.SimulatorShim(
            'http://%s:%s' % (flags['pvm_host'], flags['pvm_port']))
        console = shim.open_vnc_console(self.adapter, self.pvm_uuid)
        with socket.create_connection((console.host, console.port),
                                      timeout=5) as sock:
            self.assertTrue(sock.recv(12).startswith(b'RFB '))
        shim.close_vnc_console(self.adapter, self.pvm_uuid)
        self.assertRaises(OSError, socket.create_connection,
                          (console.host, console.port), 2)

    def test_local_shim_closes_with_rmvterm(self):
        log = self._commands('exit 0')
        host_shim.LocalShim('127.0.0.1').close_vnc_console(self.adapter,
                                                           self.pvm_uuid)
        with open(log) as fil:
            calls = fil.read()
        self.assertIn('rmvterm --id %d' % self.lpar(self.inst)['id'], calls)

    def test_local_shim_reports_a_failed_mkvterm(self):
        log = self._commands('echo "no console" >&2; exit 1')
        exc = self.assertRaises(
            pvm_exception.VNCConsoleFailed,
            host_shim.LocalShim('127.0.0.1').open_vnc_console,
            self.adapter, self.pvm_uuid)
        self.assertIn(self.pvm_uuid, exc.format_message())
        with open(log) as fil:
            self.assertIn('mkvterm --id %d --vnc --local'
                          % self.lpar(self.inst)['id'], fil.read())


class TestSimulatorShimTLS(simbase.base.NoDBTestCase):
    """The simulator shim verifies an https simulator with pvm_certpath."""

    def setUp(self):
        super().setUp()
        folder = self.useFixture(fixtures.TempDir()).path
        self.cert, key = test_server._self_signed(folder)
        sim = core.Simulator()
        self.addCleanup(sim.close)
        srv = sim_server.SimServer(sim, '127.0.0.1', 0, tls_cert=self.cert,
                                   tls_key=key).start()
        self.addCleanup(srv.stop)
        self.dest = sim.base_url
        self.lpar_uuid = sim.store.all('LogicalPartition')[0].uuid
        # Only the option may make the self-signed certificate trusted.
        for var in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
            self.useFixture(fixtures.EnvironmentVariable(var))

    def test_certpath_verifies_the_simulator(self):
        self.assertTrue(self.dest.startswith('https://'))
        shim = host_shim.get_shim('simulator', self.dest, '10.0.0.1',
                                  certpath=self.cert)
        console = shim.open_vnc_console(None, self.lpar_uuid)
        with socket.create_connection((console.host, console.port),
                                      timeout=5) as sock:
            self.assertTrue(sock.recv(12).startswith(b'RFB '))
        shim.close_vnc_console(None, self.lpar_uuid)
        self.assertRaises(OSError, socket.create_connection,
                          (console.host, console.port), 2)

    def test_untrusted_certificate_is_refused(self):
        shim = host_shim.get_shim('simulator', self.dest, '10.0.0.1')
        exc = self.assertRaises(pvm_exception.VNCConsoleFailed,
                                shim.open_vnc_console, None, self.lpar_uuid)
        self.assertIn('CERTIFICATE_VERIFY_FAILED', exc.format_message())


class FakeKernel:
    """What Linux does on a NovaLink partition, in a directory.

    A write of ``- - -`` to the SCSI host's ``scan`` file makes the disk's
    ``/dev/disk/by-id`` link and ``sdq`` node appear (holding ``data``); a
    write of ``1`` to ``/sys/block/sdq/device/delete`` removes them.

    :param root: the directory standing for ``/``.
    :param slot: the client adapter's virtual slot number.
    :param udid: the disk's UniqueDeviceID.
    :param data: the disk's bytes.
    """

    def __init__(self, root, slot, udid, data):
        self.sys = os.path.join(root, 'sys')
        self.dev = os.path.join(root, 'dev')
        host = os.path.join(self.sys, 'bus', 'vio', 'devices',
                            '%x' % (0x30000000 | slot), 'host3',
                            'scsi_host', 'host3')
        os.makedirs(host)
        self.scan = os.path.join(host, 'scan')
        open(self.scan, 'w').close()
        block = os.path.join(self.sys, 'block', 'sdq', 'device')
        os.makedirs(block)
        self.delete = os.path.join(block, 'delete')
        open(self.delete, 'w').close()
        os.makedirs(os.path.join(self.dev, 'disk', 'by-id'))
        self.node = os.path.join(self.dev, 'sdq')
        self.link = os.path.join(self.dev, 'disk', 'by-id',
                                 'scsi-3600' + udid[-32:])
        self.data = data
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _read(self, path):
        with open(path) as fil:
            return fil.read()

    def _run(self):
        while not self.stop.is_set():
            if self._read(self.scan) == '- - -' and \
                    not os.path.exists(self.node):
                with open(self.node, 'wb') as fil:
                    fil.write(self.data)
                os.symlink('../../sdq', self.link)
                open(self.scan, 'w').close()
            if self._read(self.delete) == '1':
                os.unlink(self.link)
                os.unlink(self.node)
                open(self.delete, 'w').close()
            time.sleep(0.01)


class TestLocalShimDisks(simbase.base.NoDBTestCase):
    """The local shim reads a disk as a block device, and lets it go."""

    UDID = '01M0lCTTIxNDUzMTI2MDA1MDc2ODAyODIwQTFENTAwMDAwMDAwMDAwMDM4Ng=='

    def setUp(self):
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path
        self.shim = host_shim.LocalShim(
            '127.0.0.1', sys_root=os.path.join(self.root, 'sys'),
            dev_root=os.path.join(self.root, 'dev'))
        self.shim.poll = 0.01
        self.data = os.urandom(3 * 1024 * 1024 + 17)

    def kernel(self, slot=7):
        kern = FakeKernel(self.root, slot, self.UDID, self.data)
        self.addCleanup(kern.thread.join, 5)
        self.addCleanup(kern.stop.set)
        return kern

    def device(self, **kwargs):
        return host_shim.DiskDevice(udid=self.UDID, name='b_disk',
                                    size=len(self.data), **kwargs)

    def test_mapped_disk_discovered_read_and_removed(self):
        kern = self.kernel()
        with self.shim.open_disk(self.device(client_slot=7)) as reader:
            self.assertTrue(os.path.exists(kern.node))
            chunks = list(reader)
        self.assertEqual(self.data, b''.join(chunks))
        self.assertLessEqual(max(len(c) for c in chunks), reader.chunk)
        # The block device went away with the read.
        self.assertFalse(os.path.exists(kern.node))
        self.assertFalse(os.path.lexists(kern.link))

    def test_device_removed_when_the_reader_fails(self):
        kern = self.kernel()

        def read_then_fail():
            with self.shim.open_disk(self.device(client_slot=7)) as reader:
                reader.read(1024)
                raise ValueError('upload failed')
        self.assertRaises(ValueError, read_then_fail)
        self.assertFalse(os.path.exists(kern.node))

    def test_disk_that_never_appears(self):
        self.kernel(slot=9)
        self.shim.device_timeout = 0.1
        # No SCSI host for slot 7.
        err = self.assertRaises(pvm_exception.DiskNotReadable,
                                self._open, self.device(client_slot=7))
        self.assertIn('no SCSI host for virtual slot 0x30000007', str(err))
        # The scan finds nothing with another UDID.
        dev = host_shim.DiskDevice(udid='0' * 40, name='b_other', size=1,
                                   client_slot=9)
        err = self.assertRaises(pvm_exception.DiskNotReadable, self._open,
                                dev)
        self.assertIn('no block device appeared', str(err))

    def _open(self, device):
        with self.shim.open_disk(device) as reader:
            return reader.read()

    def test_disk_served_by_this_partition(self):
        # Management partition = VIOS: the backing device is local.
        os.makedirs(os.path.join(self.root, 'dev'))
        with open(os.path.join(self.root, 'dev', 'lv_b_disk'), 'wb') as fil:
            fil.write(self.data)
        with self.shim.open_disk(self.device(
                backing_path='lv_b_disk')) as reader:
            self.assertEqual(self.data, b''.join(reader))
        err = self.assertRaises(pvm_exception.DiskNotReadable, self._open,
                                self.device(backing_path='/nonexistent'))
        self.assertIn('b_disk', str(err))
