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
"""Smoke test of ``tools/bench_stream.py`` with tiny sizes.

The simulator runs in its own process, as in the real run.  Figures are
checked to exist and the round trips to stay within budget; no time is
asserted.
"""

import json
import logging
import os

import fixtures

from nova_powervm.tests import base as tests_base
from nova_powervm.tests.unit import test_bench

HEADLINE = ('upload_vs_cp', 'snapshot_vs_cp', 'upload_rss_growth_mib',
            'upload_cpu_s_per_gib', 'periodic_rest_1000',
            'periodic_cpu_ms_per_partition')


class TestBenchStreamSmoke(tests_base.TestCase):

    def test_tiny_run(self):
        logging.disable(logging.WARNING)
        self.addCleanup(logging.disable, logging.NOTSET)
        bench = test_bench._load('bench_stream')
        out = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(out, 'bench.json'), 'w') as fil:
            json.dump({'ops': {'spawn': {}}}, fil)
        res = bench.run(out, image_gb=1.0 / 64, small_gb=1.0 / 256,
                        lpars=12, latency=0.0, repeat=1)
        for key in ('upload_small', 'upload_large', 'snapshot'):
            fig = res[key]
            self.assertGreater(fig['mib_per_s'], 0, key)
            self.assertGreater(fig['cp_mib_per_s'], 0, key)
            self.assertGreaterEqual(fig['rss_growth_mib'], 0, key)
        # GET VG, POST VG, PUT File, PUT contents, DELETE File.
        self.assertEqual(5, res['upload_large']['round_trips'])
        self.assertEqual(1024 ** 3 // 64, res['upload_large']['bytes'])
        # The upload's first stage alone: every byte of the image read.
        src = res['upload_large']['source_read']
        self.assertEqual(1024 ** 3 // 64, src['bytes'])
        self.assertGreaterEqual(res['upload_large']['cpu_s_per_gib'],
                                res['upload_large']['sys_s_per_gib'])
        # The snapshot's disk is the smallest a flavor gives (1 GiB),
        # every byte of it read back.
        self.assertEqual(1024 ** 3, res['snapshot']['bytes'])
        per = res['periodic']
        self.assertEqual(12, per['num_instances'])
        self.assertEqual(6, per['running'])
        self.assertEqual(3, per['round_trips'])
        with open(os.path.join(out, 'bench.json')) as fil:
            data = json.load(fil)
        # Merged next to what was there.
        self.assertIn('ops', data)
        self.assertEqual(sorted(HEADLINE), sorted(data['headline']))
        self.assertIn('upload', bench.render(res))
        self.assertIn('source read alone', bench.render(res))
        # Nothing left in the output directory but the results.
        self.assertEqual(['bench.json', 'stream.json'],
                         sorted(os.listdir(out)))
