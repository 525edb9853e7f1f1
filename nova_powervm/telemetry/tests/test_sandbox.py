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
"""Ceilometer polls a server booted through the sandbox's real nova.

The sandbox (``nova-powervm-sandbox --lite``: nova's API and
nova-compute with this driver on a simulated host) needs nova, which
cannot live in ceilometer's venv: it runs as a process of its own with
the Python named by ``NOVA_POWERVM_SANDBOX_PYTHON`` (tox sets it to the
``py3`` env's).  Ceilometer discovers the server through that real
compute API (naive discovery; ``--lite`` trusts the ``admin:demo``
token, given to ceilometer as an ``admin_token`` credential).
"""

import os
import queue
import re
import signal
import subprocess
import threading
import time

import fixtures
from oslo_messaging.notify import _impl_test as notify_test
import requests
import testtools

from nova_powervm.simulator.resources import pcm as sim_pcm
from nova_powervm.telemetry import pollsters
from nova_powervm.telemetry.tests import test_polling

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
TOKEN = 'admin:demo'
START_TIMEOUT = 180
BOOT_TIMEOUT = 120


class Sandbox(fixtures.Fixture):
    """``nova-powervm-sandbox --lite --computes 1`` in a subprocess."""

    def _setUp(self):
        python = os.environ.get('NOVA_POWERVM_SANDBOX_PYTHON')
        if not python or not os.path.exists(python):
            raise RuntimeError(
                'NOVA_POWERVM_SANDBOX_PYTHON (%r) names no Python with nova:'
                ' run "tox -e py3 --notest" first' % python)
        state = self.useFixture(fixtures.TempDir()).path
        env = dict(os.environ, OS_NOVA_DISABLE_EVENTLET_PATCHING='1')
        self.proc = subprocess.Popen(
            [python, '-m', 'nova_powervm.sandbox.cli', '--lite',
             '--computes', '1', '--api-port', '0', '--state-dir', state],
            cwd=REPO, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        self.addCleanup(self._stop)
        lines = queue.Queue()
        self.output = []

        def read():
            for line in self.proc.stdout:
                self.output.append(line)
                lines.put(line)
            lines.put(None)
        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        self.api = self.sim_port = None
        while True:
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(),
                                             0.1))
            except queue.Empty:
                line = None
            if line is None:
                raise RuntimeError('The sandbox did not start:\n%s'
                                   % ''.join(self.output))
            found = re.match(r'Compute API:\s+(\S+)', line)
            if found:
                self.api = found.group(1)
            found = re.match(r'NovaLink sim:\s+(\S+) -> http://([^:]+):(\d+)',
                             line)
            if found:
                self.sim_host, self.sim_port = found.group(2, 3)
            if line.startswith('Serving'):
                return

    def _stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class TestAgainstTheSandbox(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.sandbox = self.useFixture(Sandbox())
        self.http = requests.Session()
        self.http.headers.update({
            'X-Auth-Token': TOKEN, 'Accept': 'application/json',
            'OpenStack-API-Version': 'compute latest'})
        notify_test.reset()
        self.addCleanup(pollsters.close_all)

    def boot(self):
        resp = self.http.post(self.sandbox.api + '/servers', json={
            'server': {'name': 'telemetry-1', 'flavorRef': '1',
                       'imageRef': '8d3f2a6e-5b1c-4e0a-9c55-0b1e2d3c4f5a',
                       'networks': 'auto'}}, timeout=30)
        self.assertEqual(202, resp.status_code, resp.text)
        server_id = resp.json()['server']['id']
        deadline = time.monotonic() + BOOT_TIMEOUT
        while time.monotonic() < deadline:
            server = self.http.get('%s/servers/%s' % (
                self.sandbox.api, server_id), timeout=30).json()['server']
            if server['status'] in ('ACTIVE', 'ERROR'):
                break
            time.sleep(0.5)
        self.assertEqual('ACTIVE', server['status'], server)
        return server

    def config(self, host):
        tmp = self.useFixture(fixtures.TempDir()).path
        polling = os.path.join(tmp, 'polling.yaml')
        with open(polling, 'w') as out:
            out.write(test_polling.POLLING_YAML)
        path = os.path.join(tmp, 'ceilometer.conf')
        with open(path, 'w') as out:
            out.write('\n'.join([
                '[DEFAULT]', 'host = %s' % host, 'transport_url = fake://',
                '[polling]', 'cfg_file = %s' % polling,
                '[publisher_notifier]', 'telemetry_driver = test',
                '[compute]', 'instance_discovery_method = naive',
                '[service_credentials]', 'auth_type = admin_token',
                'endpoint = %s' % self.sandbox.api, 'token = %s' % TOKEN,
                '[powervm]', 'pvm_host = %s' % self.sandbox.sim_host,
                'pvm_port = %s' % self.sandbox.sim_port,
                'pvm_protocol = http']) + '\n')
        return path

    def test_poll_a_server_of_the_real_compute_api(self):
        server = self.boot()
        host = server['OS-EXT-SRV-ATTR:host']
        _loaded, samples, _logs = test_polling.run_poll(
            self, self.config(host))
        got = test_polling.samples_of(samples, server['id'])
        flavor = self.http.get(self.sandbox.api + '/flavors/1',
                               timeout=30).json()['flavor']
        cpu = got['cpu'][0]
        self.assertGreater(cpu['counter_volume'], 0)
        self.assertEqual(flavor['name'],
                         cpu['resource_metadata']['flavor']['name'])
        self.assertEqual(server['name'], cpu['resource_metadata'][
            'display_name'])
        self.assertEqual(flavor['vcpus'], got['vcpus'][0]['counter_volume'])
        self.assertEqual(flavor['ram'], got['memory'][0]['counter_volume'])
        self.assertEqual(100 * sim_pcm.LOAD,
                         got['cpu_util'][0]['counter_volume'])
        # The boot disk and the config drive: one vSCSI adapter.
        reads = got['disk.device.read.requests']
        self.assertEqual(1, len(reads))
        self.assertEqual(
            reads[0]['counter_volume'] * sim_pcm.DISK_OP_BYTES,
            got['disk.device.read.bytes'][0]['counter_volume'])
        # The port nova bound, not the RMC management adapter.
        macs = [a['OS-EXT-IPS-MAC:mac_addr']
                for net in server['addresses'].values() for a in net]
        self.assertEqual(1, len(macs), server['addresses'])
        self.assertEqual(sorted(macs), sorted(
            s['resource_metadata']['mac']
            for s in got.get('network.incoming.bytes', [])))
