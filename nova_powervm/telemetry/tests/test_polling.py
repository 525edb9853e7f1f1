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
"""Ceilometer's polling manager runs the PowerVM pollsters (``tox -e
telemetry``).

These tests run in ceilometer 27's own virtualenv, where this package is
installed without its dependencies (no nova).  A NovaLink REST simulator
(a real HTTP server) holds the partitions; ceilometer's unchanged polling
code loads the pollsters through their entry points, discovers the
instances through the compute API (naive discovery) and sends its samples
through oslo.messaging's in-memory ``test`` notification driver, where the
tests read them.

The compute API is the one stand-in: nova cannot be installed here, so a
small HTTP server answers the two GETs naive discovery makes (the
servers of the host, and a flavor) and nothing else.
"""

import http.server
import json
import logging
import os
import threading
import time
import types
import urllib.parse
import uuid

import fixtures
from oslo_messaging.notify import _impl_test as notify_test
from pypowervm.tasks import cna as pvm_cna
from pypowervm.tasks.monitor import util as pvm_mon_util
from pypowervm.tasks import power
from pypowervm.tasks import scsi_mapper as tsk_map
from pypowervm.tasks import storage as tsk_stg
from pypowervm.utils import lpar_builder as lpar_bldr
from pypowervm.utils import uuid as pvm_uuid
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import network as pvm_net
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios
import testtools

from nova_powervm.simulator import fixture as sim_fx
from nova_powervm.simulator.resources import pcm as sim_pcm
from nova_powervm.telemetry import pollsters

HOST = 'host1'
FLAVOR = {'id': '1', 'name': 'pvm.small', 'vcpus': 2, 'ram': 2048,
          'disk': 1, 'OS-FLV-EXT-DATA:ephemeral': 0, 'swap': '',
          'rxtx_factor': 1.0, 'os-flavor-access:is_public': True,
          'links': []}
POLLING_YAML = '''---
sources:
  - name: powervm
    interval: 600
    meters:
      - "powervm.*"
'''


class ComputeStub(fixtures.Fixture):
    """Answers ``GET /v2.1/servers/detail`` and ``GET /v2.1/flavors/{id}``.

    :param servers: the server dicts of the host.
    """

    def __init__(self, servers):
        super().__init__()
        self.servers = servers
        self.requests = []

    def _setUp(self):
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                stub.requests.append((url.path, query))
                if url.path == '/v2.1/servers/detail':
                    body = {'servers': [s for s in stub.servers
                                        if query.get('host') == [HOST]]}
                elif url.path == '/v2.1/flavors/1':
                    body = {'flavor': FLAVOR}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                     Handler)
        thread = threading.Thread(target=self.httpd.serve_forever,
                                  daemon=True)
        thread.start()
        self.addCleanup(thread.join, 10)
        self.addCleanup(self.httpd.server_close)
        self.addCleanup(self.httpd.shutdown)
        self.url = 'http://127.0.0.1:%d/v2.1' % self.httpd.server_port


def server(inst_uuid, name):
    return {'id': inst_uuid, 'name': name, 'status': 'ACTIVE',
            'tenant_id': 'p1', 'user_id': 'u1', 'metadata': {},
            'hostId': 'h', 'image': '', 'flavor': {'id': '1'},
            'OS-EXT-SRV-ATTR:host': HOST,
            'OS-EXT-SRV-ATTR:instance_name': 'instance-%s' % name,
            'OS-EXT-STS:vm_state': 'active',
            'OS-EXT-STS:task_state': None, 'addresses': {}}


def run_poll(test, conf_file, times=1, between=None):
    """Poll through ceilometer's own manager.

    :param test: the running test case.
    :param conf_file: ceilometer's configuration file.
    :param times: how many polls.
    :param between: called between two polls.
    :returns: the names of the PowerVM pollsters loaded, the samples sent,
              and a ``FakeLogger`` of the run's logs.
    """
    from ceilometer.polling import manager
    from ceilometer import service
    conf = service.prepare_service(
        ['ceilometer-polling', '--config-file', conf_file], [])
    # (After oslo.log's setup, which replaces the root handlers.)
    logs = test.useFixture(fixtures.FakeLogger(level=logging.DEBUG))
    mgr = manager.AgentManager(0, conf, namespaces=['compute'])
    mgr.polling_manager = manager.PollingManager(conf)
    tasks = list(mgr.setup_polling_tasks().values())
    test.assertEqual(1, len(tasks))
    loaded = sorted(p.name for p in mgr.extensions
                    if p.name.startswith('powervm.'))
    for num in range(times):
        if num and between:
            between()
        for task in tasks:
            mgr.interval_task(task)
    samples = [s for _ctx, msg, _prio, _retry in notify_test.NOTIFICATIONS
               for s in msg['payload']['samples']]
    return loaded, samples, logs


def samples_of(samples, instance):
    """The samples of one instance (and of its devices), by meter name."""
    found = {}
    for smp in samples:
        meta = smp['resource_metadata']
        if (meta.get('instance_id') == instance
                or smp['resource_id'] == instance):
            found.setdefault(smp['counter_name'], []).append(smp)
    return found


class TestPolling(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.NestedTempfile())
        self.sim = self.useFixture(sim_fx.SimulatorFixture(mode='server'))
        self.adpt = self.sim.adapter
        self.host_uuid = pvm_ms.System.get(self.adpt)[0].uuid
        # nova-compute's init_host turns the long-term monitor on.
        pvm_mon_util.ensure_ltm_monitors(self.adpt, self.host_uuid)
        self.running = str(uuid.uuid4())
        self.stopped = str(uuid.uuid4())
        self.missing = str(uuid.uuid4())
        self.lpar = self.partition(self.running, 'vm1', disks=2, vlan=300)
        self.partition(self.stopped, 'vm2', disks=1, vlan=300, start=False)
        self.compute = self.useFixture(ComputeStub([
            server(self.running, 'vm1'), server(self.stopped, 'vm2'),
            server(self.missing, 'vm3')]))
        notify_test.reset()
        self.addCleanup(pollsters.close_all)

    def partition(self, inst_uuid, name, disks, vlan, start=True):
        host = pvm_ms.System.get(self.adpt)[0]
        attrs = {lpar_bldr.NAME: name, lpar_bldr.MEM: 2048,
                 lpar_bldr.VCPU: 2, lpar_bldr.PROC_UNITS: 0.2,
                 lpar_bldr.UUID: pvm_uuid.convert_uuid_to_pvm(inst_uuid)}
        lpar = lpar_bldr.LPARBuilder(
            self.adpt, attrs, lpar_bldr.DefaultStandardize(host)).build()
        lpar = lpar.create(parent=host)
        vios = [v for v in pvm_vios.VIOS.get(self.adpt)
                if v.name == 'vios1'][0]
        vg = [v for v in pvm_stg.VG.get(
            self.adpt, parent_type=pvm_vios.VIOS, parent_uuid=vios.uuid)
            if v.name == 'datavg'][0]
        for num in range(disks):
            vdisk = tsk_stg.crt_vdisk(self.adpt, vios.uuid, vg.uuid,
                                      '%s-d%d' % (name, num), 1)
            tsk_map.add_vscsi_mapping(self.host_uuid, vios.uuid, lpar.uuid,
                                      vdisk)
        pvm_cna.crt_cna(self.adpt, self.host_uuid, lpar.uuid, vlan)
        if start:
            power.power_on(lpar, None)
        return lpar

    def config(self, **powervm):
        tmp = self.useFixture(fixtures.TempDir()).path
        polling = os.path.join(tmp, 'polling.yaml')
        with open(polling, 'w') as out:
            out.write(POLLING_YAML)
        options = {'pvm_host': self.sim.host, 'pvm_port': self.sim.port,
                   'pvm_protocol': 'http'}
        options.update(powervm)
        lines = [
            '[DEFAULT]', 'host = %s' % HOST, 'transport_url = fake://',
            '[polling]', 'cfg_file = %s' % polling,
            '[publisher_notifier]', 'telemetry_driver = test',
            '[compute]', 'instance_discovery_method = naive',
            '[service_credentials]', 'auth_type = admin_token',
            'endpoint = %s' % self.compute.url, 'token = t0ken',
            '[powervm]'] + ['%s = %s' % kv for kv in options.items()]
        path = os.path.join(tmp, 'ceilometer.conf')
        with open(path, 'w') as out:
            out.write('\n'.join(lines) + '\n')
        return path

    def poll(self, conf_file, times=1, between=None):
        loaded, samples, self.logs = run_poll(self, conf_file, times,
                                              between)
        return loaded, samples

    def by_name(self, samples, instance):
        return samples_of(samples, instance)

    def test_samples_of_a_running_partition(self):
        loaded, samples = self.poll(self.config())
        self.assertEqual(19, len(loaded))
        self.assertIn('powervm.cpu', loaded)
        got = self.by_name(samples, self.running)
        cpu = got['cpu'][0]
        self.assertEqual('cumulative', cpu['counter_type'])
        self.assertEqual('ns', cpu['counter_unit'])
        self.assertGreater(cpu['counter_volume'], 0)
        self.assertEqual(self.running, cpu['resource_id'])
        self.assertEqual('pvm.small',
                         cpu['resource_metadata']['flavor']['name'])
        self.assertEqual(100 * sim_pcm.LOAD,
                         got['cpu_util'][0]['counter_volume'])
        self.assertEqual('%', got['cpu_util'][0]['counter_unit'])
        self.assertEqual(2, got['vcpus'][0]['counter_volume'])
        self.assertEqual(2048, got['memory'][0]['counter_volume'])
        self.assertEqual(round(2048 * (100 - sim_pcm.MEM_FREE_PCT) / 100),
                         got['memory.usage'][0]['counter_volume'])

        # One virtual Ethernet adapter; its MAC from the partition's CNA.
        cna = pvm_net.CNA.get(self.adpt, parent=self.lpar)[0]
        rx = got['network.incoming.bytes']
        self.assertEqual(1, len(rx))
        meta = rx[0]['resource_metadata']
        self.assertEqual(':'.join(cna.mac[i:i + 2] for i in range(0, 12, 2))
                         .lower(), meta['mac'])
        self.assertEqual(300, meta['parameters']['vlan'])
        self.assertTrue(rx[0]['resource_id'].startswith(
            'instance-vm1-%s-pvm-V' % self.running))
        self.assertGreater(rx[0]['counter_volume'], 0)
        self.assertEqual(
            rx[0]['counter_volume'] // sim_pcm.NIC_PACKET,
            got['network.incoming.packets'][0]['counter_volume'])
        for name in ('network.outgoing.bytes', 'network.outgoing.packets',
                     'network.incoming.packets.drop',
                     'network.outgoing.packets.drop',
                     'network.incoming.packets.error',
                     'network.outgoing.packets.error'):
            self.assertEqual(1, len(got[name]), name)

        # Two disks behind one vSCSI adapter: one device.
        reads = got['disk.device.read.requests']
        self.assertEqual(1, len(reads))
        self.assertTrue(reads[0]['resource_id'].startswith(
            '%s-vscsi-V' % self.running))
        self.assertEqual(
            reads[0]['counter_volume'] * sim_pcm.DISK_OP_BYTES,
            got['disk.device.read.bytes'][0]['counter_volume'])
        writes = got['disk.device.write.requests'][0]['counter_volume']
        self.assertGreater(writes, 0)
        self.assertEqual(writes * sim_pcm.DISK_OP_BYTES,
                         got['disk.device.write.bytes'][0]['counter_volume'])

    def test_stopped_and_unknown_instances_have_no_samples(self):
        _loaded, samples = self.poll(self.config())
        self.assertEqual({}, self.by_name(samples, self.stopped))
        self.assertEqual({}, self.by_name(samples, self.missing))
        self.assertTrue(self.by_name(samples, self.running))

    def test_one_sample_read_serves_every_meter(self):
        self.sim.reset_stats()
        _loaded, samples = self.poll(self.config())
        self.assertTrue(samples)
        paths = [p for p, _q in self.compute.requests]
        self.assertEqual(['/v2.1/servers/detail', '/v2.1/flavors/1'], paths)
        self.assertEqual([HOST], self.compute.requests[0][1]['host'])
        counts = self.sim.stats()['by_pattern']
        ltm = '/rest/api/pcm/ManagedSystem/{uuid}/RawMetrics/LongTermMonitor'
        # 19 meters, 3 instances: one feed GET, and the phyp, two VIOS and
        # the lpar documents once each; the MACs of the one running
        # partition once.
        self.assertEqual(1, counts['GET ' + ltm])
        self.assertEqual(4, counts['GET ' + ltm + '/{file}'])
        self.assertEqual(1, counts[
            'GET /rest/api/uom/LogicalPartition/{uuid}/ClientNetworkAdapter'])

    def test_rates_need_two_samples(self):
        _loaded, samples = self.poll(self.config())
        self.assertNotIn('network.incoming.bytes.rate',
                         self.by_name(samples, self.running))

    def test_rates_from_two_samples(self):
        # The simulator's clock stands still in the middle of a sample
        # interval, and moves on by one interval between the polls (time
        # is the one thing mocked).
        offset = [time.time() // sim_pcm.INTERVAL * sim_pcm.INTERVAL
                  + sim_pcm.INTERVAL / 2]
        fake = types.SimpleNamespace(time=lambda: offset[0])
        self.useFixture(fixtures.MonkeyPatch(
            'nova_powervm.simulator.resources.pcm.time', fake))

        def later():
            offset[0] += sim_pcm.INTERVAL
        _loaded, samples = self.poll(self.config(pcm_refresh=0), times=2,
                                     between=later)
        got = self.by_name(samples, self.running)
        for name in ('network.incoming.bytes.rate',
                     'network.outgoing.bytes.rate'):
            self.assertEqual([float(sim_pcm.NIC_BYTES_PER_SEC)],
                             [s['counter_volume'] for s in got[name]], name)
            self.assertEqual('B/s', got[name][0]['counter_unit'])
        # The cumulative counters of the two polls grew.
        cpu = [s['counter_volume'] for s in got['cpu']]
        self.assertEqual(2, len(cpu))
        self.assertGreater(cpu[1], cpu[0])

    def test_unreachable_novalink_only_logs(self):
        _loaded, samples = self.poll(self.config(pvm_port=1,
                                                 pvm_password='s3cret',
                                                 pvm_user='admin'))
        self.assertEqual([], samples)
        output = self.logs.output
        self.assertIn('cannot log on to the NovaLink REST API at '
                      '127.0.0.1:1 (ConnectionError)', output)
        # One logon attempt for the whole poll, and no password anywhere.
        self.assertEqual(1, output.count('PUT http://127.0.0.1:1/'))
        self.assertNotIn('s3cret', output)
