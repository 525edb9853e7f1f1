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
"""tools/bench_scale.py reads the scale demo's output."""

import io
import os

from nova_powervm.sandbox import demo_scale
from nova_powervm.tests import base as tests_base
from nova_powervm.tests.unit import test_bench


class TestBenchScaleParse(tests_base.TestCase):

    def setUp(self):
        super().setUp()
        self.bench = test_bench._load('bench_scale')

    def _output(self):
        out = io.StringIO()
        out.write('Sandbox started in 99.7 s (2 compute(s), ...).\n')
        demo_scale.print_rows([('pvm-host1', 3, 3, 3, 1536),
                               ('pvm-host2', 2, 2, 2, 1024)], out)
        out.write('scale: servers=5 hosts=2 active=5 failed=0 boot_s=12.5 '
                  'check_s=0.4 delete_s=6.0 per_host=2,3\n'
                  'Demo PASSED in 19.2 s (total 118.9 s).\n')
        return out.getvalue()

    def test_figures_of_the_demo_output(self):
        res = self.bench.parse(self._output())
        self.assertEqual(5, res['servers'])
        self.assertEqual(2, res['hosts'])
        self.assertEqual(0, res['failed'])
        self.assertEqual(12.5, res['boot_s'])
        self.assertEqual(6.0, res['delete_s'])
        self.assertEqual({'pvm-host1': 3, 'pvm-host2': 2},
                         res['servers_per_host'])
        self.assertEqual(['total', 5, 5, 5, 2560], res['table'][-1])
        self.assertEqual(99.7, res['start_s'])
        self.assertTrue(res['passed'])
        self.assertEqual(118.9, res['sandbox_total_s'])

    def test_no_scale_line_is_an_error(self):
        self.assertRaises(ValueError, self.bench.parse, 'Demo FAILED\n')

    def test_tree_rss_counts_this_process(self):
        self.assertGreater(self.bench._tree_rss_kib(os.getpid()), 1024)
