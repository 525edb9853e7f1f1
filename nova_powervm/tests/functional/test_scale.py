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
"""Several computes, servers booted across them at once.

By default 3 computes and 6 servers (fast enough for the suite);
``tools/bench_scale.py --functional`` runs the same test with 10 computes
and 50 servers (``PVM_SCALE_HOSTS``, ``PVM_SCALE_SERVERS``) and reads its
timings from ``PVM_SCALE_REPORT`` (nova's functional fixtures deadlock
there; the benchmark's default runs the sandbox's ``--demo --scale``).
"""

import json
import os
import resource
import time

from nova.tests.functional.api import client as api_client

from nova_powervm.sandbox import images
from nova_powervm.tests.functional import base


def _env_int(name, default):
    return int(os.environ.get(name) or default)


class TestScale(base.PowerVMFunctionalTestCase):

    def test_servers_across_hosts_each_holding_its_own(self):
        n_hosts = _env_int('PVM_SCALE_HOSTS', 3)
        n_servers = _env_int('PVM_SCALE_SERVERS', 6)
        hosts = ['host%d' % i for i in range(1, n_hosts + 1)]
        # nova's default quotas stop at 10 instances and 20 cores.
        self.flags(instances=-1, cores=-1, ram=-1, group='quota')
        start = time.monotonic()
        for host in hosts:
            self.start_compute(host)
        started = time.monotonic()
        # All requests first, then the waits: the computes build at once.
        # Round robin over the hosts (an admin's "nova:<host>" zone): the
        # scheduler would put them all on the largest host.
        posted = []
        for idx in range(n_servers):
            body = self._build_server(
                name='scale%d' % idx, image_uuid=images.DEFAULT_IMAGE_ID,
                flavor_id='1', networks='none',
                az='nova:%s' % hosts[idx % n_hosts])
            posted.append(self.admin_api.post_server({'server': body}))
        servers = [self.wait_for(srv, 'ACTIVE', timeout=600)
                   for srv in posted]
        booted = time.monotonic()

        vcpus = self.api.api_get('/flavors/1').body['flavor']['vcpus']
        by_host = {}
        for server in servers:
            by_host.setdefault(server['OS-EXT-SRV-ATTR:host'],
                               []).append(server)
        self.assertEqual(sorted(hosts[:n_servers]), sorted(by_host))
        total = 0
        for host in hosts:
            mine = by_host.get(host, [])
            # Each simulated host holds its own servers' partitions, and
            # only those.
            self.assertEqual(len(mine), len(self.lpars(host)), host)
            for server in mine:
                self.assertIsNotNone(self.lpar_of(host, server))
                for other in hosts:
                    if other != host:
                        self.assertIsNone(self.lpar_of(other, server))
            self.assertEqual(len(mine) * vcpus, self.usage(host)['VCPU'],
                             host)
            total += len(mine)
        self.assertEqual(n_servers, total)

        for server in servers:
            self.api.delete_server(server['id'])
        for server in servers:
            self._wait_gone(server)
        deleted = time.monotonic()
        for host in hosts:
            self.assert_sim_empty(host)
            self.assert_no_usage(host)
        report = os.environ.get('PVM_SCALE_REPORT')
        if report:
            with open(report, 'w') as fil:
                json.dump({
                    'hosts': n_hosts, 'servers': n_servers,
                    'start_computes_s': started - start,
                    'boot_all_s': booted - started,
                    'delete_all_s': deleted - booted,
                    'servers_per_host': sorted(
                        len(v) for v in by_host.values()),
                    'max_rss_mib': resource.getrusage(
                        resource.RUSAGE_SELF).ru_maxrss / 1024.0}, fil)

    def _wait_gone(self, server):
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                self.api.get_server(server['id'])
            except api_client.OpenStackApiNotFoundException:
                return
            time.sleep(0.1)
        self.fail('server %s not deleted' % server['id'])
