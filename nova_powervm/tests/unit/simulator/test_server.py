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
"""Server mode: admin API over HTTP, chunked uploads, restart, auth."""

import datetime
import io
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography import x509
from cryptography.x509.oid import NameOID
import fixtures
from pypowervm import adapter as pvm_adpt
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import storage as tsk_stg
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm.simulator import core
from nova_powervm.simulator import fixture as pvm_fx
from nova_powervm.simulator import server as sim_server
from nova_powervm.tests import base as tests_base
from nova_powervm.tests.unit.simulator import base

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))))


def _call(port, method, path, data=None):
    req = urllib.request.Request(
        'http://127.0.0.1:%d%s' % (port, path), method=method,
        data=json.dumps(data).encode() if data is not None else None)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, dict(resp.headers), resp.read()


class TestServerMode(base.SimTestCase):
    mode = 'server'

    def admin(self, method, path, data=None):
        _st, _hdr, body = _call(self.fx.port, method, '/sim/' + path, data)
        return json.loads(body)

    def test_admin_api(self):
        lpar = self.make_lpar()
        state = self.admin('GET', 'state')
        self.assertEqual(['inst-1'], [p['name'] for p in state['lpars']])
        self.admin('POST', 'stats/reset')
        pvm_lpar.LPAR.get(self.adpt, uuid=lpar.uuid)
        stats = self.admin('GET', 'stats')
        self.assertEqual(1, stats['total'])
        self.assertEqual({'GET /rest/api/uom/LogicalPartition/{uuid}': 1},
                         stats['by_pattern'])
        out = self.admin('POST', 'lpar/%s/state' % lpar.uuid,
                         {'state': 'running'})
        self.assertEqual('running', out['state'])
        self.assertEqual('running', pvm_lpar.LPAR.get(
            self.adpt, uuid=lpar.uuid).state)
        self.assertEqual({'seconds': 0.01},
                         self.admin('PUT', 'latency', {'seconds': 0.01}))
        term = self.admin('POST', 'host/vterm/%s' % lpar.uuid)
        self.assertEqual('127.0.0.1', term['host'])
        self.assertEqual({'closed': True},
                         self.admin('DELETE', 'host/vterm/%s' % lpar.uuid))

    def test_faults(self):
        self.admin('POST', 'faults', {'method': 'GET',
                                      'path': 'LogicalPartition$',
                                      'kind': 'http', 'status': 503,
                                      'count': 1})
        exc = self.assertRaises(pvm_exc.HttpError, pvm_lpar.LPAR.get,
                                self.adpt)
        self.assertEqual(503, exc.response.status)
        self.assertEqual(1, len(pvm_lpar.LPAR.get(self.adpt)))
        self.admin('POST', 'faults', {'path': 'LogicalPartition',
                                      'kind': 'etag_conflict', 'count': -1})
        self.assertEqual(1, len(self.admin('GET', 'faults')))
        self.admin('DELETE', 'faults')
        self.assertEqual([], self.admin('GET', 'faults'))
        # A bad spec is the caller's error (400), not a simulator crash.
        exc = self.assertRaises(urllib.error.HTTPError, self.admin, 'POST',
                                'faults', {'path': 'LogicalPartition('})
        self.assertEqual(400, exc.code)
        self.assertEqual([], self.admin('GET', 'faults'))

    def test_headers_and_401(self):
        status, hdrs, _body = _call(self.fx.port, 'GET',
                                    '/sim/state')
        self.assertEqual(200, status)
        exc = self.assertRaises(urllib.error.HTTPError, _call, self.fx.port,
                                'GET', '/rest/api/uom/LogicalPartition')
        self.assertEqual(401, exc.code)
        self.assertEqual('PVM', exc.headers['X-MC-Type'])

    def test_chunked_upload_over_http(self):
        vios_uuid = self.vios('vios1')
        vg = self.vg()
        data = os.urandom(200000)
        img, _f = tsk_stg.upload_new_vdisk(
            self.adpt, vios_uuid, vg.uuid, io.BytesIO(data), 'i_img',
            len(data))
        with open(self.sim.files.disk_path(img.udid), 'rb') as fil:
            self.assertEqual(data, fil.read(len(data)))


class TestRestartAndPassword(tests_base.TestCase):

    def test_state_survives_restart(self):
        state_dir = self.useFixture(fixtures.TempDir()).path
        first = pvm_fx.SimulatorFixture(mode='server', state_dir=state_dir)
        first.setUp()
        try:
            host = first.adapter.read('ManagedSystem')
            self.assertTrue(host.feed.entries)
            from pypowervm.utils import lpar_builder as lb
            from pypowervm.wrappers import managed_system as pvm_ms
            sysw = pvm_ms.System.get(first.adapter)[0]
            wrap = lb.LPARBuilder(first.adapter, {
                lb.NAME: 'persist', lb.MEM: 1024, lb.VCPU: 1},
                lb.DefaultStandardize(sysw)).build()
            created = wrap.create(parent=sysw)
            uuid = created.uuid
            vios_uuid = first.state()['vioses'][0]['uuid']
            vg = [v for v in pvm_stg.VG.get(
                first.adapter, parent_type=pvm_vios.VIOS,
                parent_uuid=vios_uuid) if v.name == 'datavg'][0]
            data = os.urandom(5000)
            img, _f = tsk_stg.upload_new_vdisk(
                first.adapter, vios_uuid, vg.uuid, io.BytesIO(data),
                'i_keep', len(data))
        finally:
            first.cleanUp()
        second = self.useFixture(pvm_fx.SimulatorFixture(
            mode='server', state_dir=state_dir))
        got = pvm_lpar.LPAR.get(second.adapter, uuid=uuid)
        self.assertEqual('persist', got.name)
        self.assertEqual([('persist', 1, 1024)],
                         [(p['name'], p['vcpus'], p['memory_mb'])
                          for p in second.state()['lpars']])
        self.assertEqual(['i_keep'], [d['name'] for d in
                                      second.state()['virtual_disks']])
        with open(second.sim.files.disk_path(img.udid), 'rb') as fil:
            self.assertEqual(data, fil.read(len(data)))
        # Etags survive too, so clients' cached wrappers stay valid.
        self.assertEqual(created.etag, got.etag)
        got.name = 'renamed'
        self.assertNotEqual(created.etag, got.update().etag)

    def test_failed_save_is_retried(self):
        state_dir = self.useFixture(fixtures.TempDir()).path
        sim = core.Simulator(state_dir=state_dir)
        self.addCleanup(sim.close, save=False)
        sim.store.dirty.set()
        # A directory where the temporary file goes makes the write fail.
        blocker = os.path.join(state_dir, core.STATE_FILE + '.tmp')
        os.mkdir(blocker)
        self.assertRaises(OSError, sim.save)
        self.assertTrue(sim.store.dirty.is_set())
        self.assertFalse(os.path.exists(os.path.join(state_dir,
                                                     core.STATE_FILE)))
        os.rmdir(blocker)
        sim.save()
        self.assertFalse(sim.store.dirty.is_set())
        again = core.Simulator(state_dir=state_dir)
        self.addCleanup(again.close, save=False)
        self.assertEqual(sim.state(), again.state())

    def test_password_logon(self):
        sim = core.Simulator(user='admin', password='s3cret')
        self.addCleanup(sim.close)
        srv = sim_server.SimServer(sim, '127.0.0.1', 0).start()
        self.addCleanup(srv.stop)
        sess = pvm_adpt.Session('127.0.0.1', 'admin', 's3cret',
                                protocol='http', port=srv.port)
        self.addCleanup(sess._logoff)
        self.assertEqual('PVM', sess.mc_type)
        adpt = pvm_adpt.Adapter(sess)
        self.assertEqual(1, len(pvm_lpar.LPAR.get(adpt)))
        self.assertRaises(pvm_exc.Error, pvm_adpt.Session, '127.0.0.1',
                          'admin', 'wrong', protocol='http', port=srv.port)
        # Any text is a wrong password, not a server error.
        exc = self.assertRaises(pvm_exc.HttpUnauth, pvm_adpt.Session,
                                '127.0.0.1', 'admin', 'sécret',
                                protocol='http', port=srv.port)
        self.assertNotIn('sécret', str(exc))


class TestCLI(tests_base.TestCase):

    def _start(self, state_dir, port):
        proc = subprocess.Popen(
            [sys.executable, '-m', 'nova_powervm.simulator.cli',
             '--port', str(port), '--state-dir', state_dir,
             '--save-interval', '0.2', '--cores', '8'],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.addCleanup(self._stop, proc)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                _call(port, 'GET', '/sim/stats')
                return proc
            except OSError:
                time.sleep(0.1)
        raise AssertionError('powervm-sim did not start')

    @staticmethod
    def _stop(proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        proc.stdout.close()

    def test_sigterm_saves_and_restart_reloads(self):
        state_dir = self.useFixture(fixtures.TempDir()).path
        sock = socket.socket()
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
        sock.close()
        proc = self._start(state_dir, port)
        sess = pvm_adpt.Session('127.0.0.1', port=port, protocol='http')
        adpt = pvm_adpt.Adapter(sess)
        from pypowervm.utils import lpar_builder as lb
        from pypowervm.wrappers import managed_system as pvm_ms
        sysw = pvm_ms.System.get(adpt)[0]
        self.assertEqual(8, sysw.proc_units)
        lb.LPARBuilder(adpt, {lb.NAME: 'cli-vm', lb.MEM: 1024, lb.VCPU: 1},
                       lb.DefaultStandardize(sysw)).build().create(
                           parent=sysw)
        sess._logoff()
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(0, proc.wait(30))
        self._start(state_dir, port)
        _st, _hdr, body = _call(port, 'GET', '/sim/state')
        self.assertEqual(['cli-vm'],
                         [p['name'] for p in json.loads(body)['lpars']])


def _self_signed(folder):
    """Write a self-signed certificate for 127.0.0.1; return paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, '127.0.0.1')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = x509.CertificateBuilder().subject_name(name).issuer_name(
        name).public_key(key.public_key()).serial_number(1).not_valid_before(
        now).not_valid_after(now + datetime.timedelta(days=1)).add_extension(
        x509.SubjectAlternativeName([x509.IPAddress(
            ipaddress.ip_address('127.0.0.1'))]), critical=False).sign(
        key, hashes.SHA256())
    cpath, kpath = os.path.join(folder, 'c.pem'), os.path.join(folder, 'k.pem')
    with open(cpath, 'wb') as fil:
        fil.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(kpath, 'wb') as fil:
        fil.write(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
    return cpath, kpath


class TestTLS(tests_base.TestCase):

    def test_https_password_session(self):
        folder = self.useFixture(fixtures.TempDir()).path
        cert, key = _self_signed(folder)
        sim = core.Simulator(user='u', password='p')
        self.addCleanup(sim.close)
        srv = sim_server.SimServer(sim, '127.0.0.1', 0, tls_cert=cert,
                                   tls_key=key).start()
        self.addCleanup(srv.stop)
        self.assertTrue(sim.base_url.startswith('https://'))
        # requests verifies against REQUESTS_CA_BUNDLE when it is set.
        self.useFixture(fixtures.EnvironmentVariable('REQUESTS_CA_BUNDLE',
                                                     cert))
        sess = pvm_adpt.Session('127.0.0.1', 'u', 'p', port=srv.port,
                                certpath=None)
        self.addCleanup(sess._logoff)
        self.assertEqual('https', sess.protocol)
        self.assertEqual(1, len(pvm_lpar.LPAR.get(pvm_adpt.Adapter(sess))))
