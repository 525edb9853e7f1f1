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
"""Smoke test of the benchmark (``tools/bench.py``) with tiny parameters.

It checks that every figure is produced, that the output files are
written, and that the round trips stay within the budgets.  Timings are
never asserted: the machine is shared and noisy.
"""

import importlib.util
import io
import json
import logging
import os
import sys

import fixtures

from nova_powervm.tests import base as tests_base
from nova_powervm.virt.powervm import image

_TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))), 'tools')


def _load(name):
    """Import ``tools/<name>.py`` (tools/ is not a package)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(_TOOLS, name + '.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class TestBenchSmoke(tests_base.TestCase):
    """One run of the whole benchmark, no latency, tiny sizes.

    A single test: the run takes a few seconds and is made once.
    """

    def setUp(self):
        super().setUp()
        self.bench = _load('bench')
        self.report = _load('bench_report')

    def test_tiny_run(self):
        # No log capture here (not a nova test base): keep stderr quiet.
        logging.disable(logging.WARNING)
        self.addCleanup(logging.disable, logging.NOTSET)
        self.res = self.bench.run(latency=0.0, concurrency=2, lpars=6,
                                  image_gb=1.0 / 64, repeat=1,
                                  storm=3, storm_latency=0.0)
        self.check_every_operation_has_figures()
        self.check_round_trips_within_budgets()
        self.check_concurrent_spawns_all_ran()
        self.check_periodic_pass_sees_every_partition()
        self.check_upload_streams()
        self.check_snapshot_against_a_file_copy()
        self.check_output_files()
        self.check_deploy_storm()

    def check_every_operation_has_figures(self):
        for name in self.bench.LIFECYCLE + ('spawn_first',):
            fig = self.res['ops'][name]
            for key in ('round_trips', 'wall_ms', 'thread_cpu_ms',
                        'process_cpu_ms'):
                self.assertGreaterEqual(fig[key], 0, (name, key))
            self.assertGreater(fig['round_trips'], 0, name)
            if name != 'spawn_first':
                self.assertGreater(fig['peak_kib'], 0, name)

    def check_round_trips_within_budgets(self):
        self.assertEqual({}, self.report.over_budget(self.res))
        ops = self.res['ops']
        self.assertEqual(1, ops['get_info']['round_trips'])
        # The first spawn uploads the image: it costs more than the rest.
        self.assertGreater(ops['spawn_first']['round_trips'],
                           ops['spawn']['round_trips'])
        rat = self.res['ratios']
        self.assertLess(rat['lifecycle_round_trips_vs_retired'], 1.0)
        self.assertLessEqual(rat['periodic_round_trips_vs_retired'], 1.0)

    def check_concurrent_spawns_all_ran(self):
        conc = self.res['concurrency']
        self.assertEqual(2, conc['running_after_spawn'])
        self.assertGreaterEqual(conc['spawn']['round_trips'],
                                2 * self.res['ops']['spawn']['round_trips'])

    def check_periodic_pass_sees_every_partition(self):
        per = self.res['periodic']
        self.assertEqual(6, per['instances_listed'])
        # list_instance_uuids' feed read serves every get_info of the pass.
        self.assertEqual(0, per['parts']['get_info_all']['round_trips'])
        self.assertLessEqual(per['total']['round_trips'],
                             self.report.periodic_budget(6))

    def check_upload_streams(self):
        upl = self.res['upload']
        self.assertEqual(int(1024 ** 3 / 64), upl['large']['bytes'])
        self.assertEqual(8.0, upl['size_growth'])
        for size in ('small', 'large'):
            self.assertEqual(5, upl[size]['round_trips'])
            self.assertGreater(upl[size]['mib_per_s'], 0)
        # 16 MiB uploaded with a peak below it: nothing is buffered but
        # the stream's queue and a few 1 MiB chunks in flight (the driver
        # and the in-process simulator's receive buffer).
        self.assertLess(upl['large']['peak_kib'],
                        (image._QUEUE_CHUNKS + 5) * image.CHUNK / 1024)

    def check_snapshot_against_a_file_copy(self):
        snap = self.res['snapshot']
        # The disk is the smallest a flavor gives: 1 GiB.
        self.assertEqual(1024 ** 3, snap['bytes'])
        # Mapped to the management partition and unmapped.
        self.assertEqual(4, snap['round_trips'])
        self.assertGreater(snap['mib_per_s'], 0)
        self.assertGreater(snap['copy_mib_per_s'], 0)
        self.assertGreater(self.res['ratios']['snapshot_vs_file_copy'], 0)

    def check_output_files(self):
        out = self.useFixture(fixtures.TempDir()).path
        text = self.report.write(self.res, out)
        with open(os.path.join(out, 'bench.json')) as fil:
            self.assertEqual(self.res['ops']['spawn']['round_trips'],
                             json.load(fil)['ops']['spawn']['round_trips'])
        with open(os.path.join(out, 'bench.rst')) as fil:
            self.assertEqual(text, fil.read())
        self.assertIn('spawn_first', text)
        self.assertIn('Over budget: nothing', text)
        self.assertIn('plain copy of its file', text)

    def check_deploy_storm(self):
        storm = self.res['storm']
        self.assertEqual(0, storm['storm']['failures'])
        self.assertEqual(3, storm['storm']['running_after'])
        self.assertEqual(3, storm['storm']['boot_disks_after'])
        self.assertEqual(0, storm['destroy']['failures'])
        self.assertEqual(0, storm['destroy']['lpars_left'])
        self.assertEqual(0, storm['destroy']['boot_disks_left'])
        # The batching writers: concurrent spawns never cost more round
        # trips than lone ones.
        self.assertLessEqual(storm['storm']['round_trips_per_spawn'],
                             storm['single']['round_trips'])
        self.assertLessEqual(storm['single']['round_trips'],
                             self.report.BUDGETS['spawn'])
        self.assertGreater(storm['single']['driver_cpu_ms'], 0)
        head = self.res['headline']
        self.assertEqual(
            {'deploy_storm_wall_ratio', 'deploy_storm_rest_per_spawn',
             'deploy_storm_412', 'deploy_storm_failures',
             'driver_cpu_share_of_spawn'},
            {key for key in head if key.startswith('deploy_storm') or
             key == 'driver_cpu_share_of_spawn'})
        self.assertEqual(0, head['deploy_storm_failures'])
        self.assertIsInstance(head['deploy_storm_412'], dict)
        self.assertGreater(head['driver_cpu_share_of_spawn'], 0)
        text = self.report.render(self.res)
        self.assertIn('3 spawns at once', text)


class TestBenchCommandLine(tests_base.TestCase):
    """The options reach ``run`` and the files go to ``--output``."""

    def test_command_line_options(self):
        bench = _load('bench')
        seen = {}
        written = []
        self.useFixture(fixtures.MonkeyPatch(
            'bench.run', lambda **kwargs: seen.update(kwargs) or seen))
        self.useFixture(fixtures.MonkeyPatch(
            'bench_report.write',
            lambda res, out: written.append((res, out)) or 'table'))
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', io.StringIO()))
        bench.main(['--latency', '0.01', '--lpars', '3',
                    '--concurrency', '5', '--image-gb', '0.5',
                    '--repeat', '2', '--output', '/nonexistent/out'])
        self.assertEqual({'latency': 0.01, 'concurrency': 5, 'lpars': 3,
                          'image_gb': 0.5, 'repeat': 2}, seen)
        self.assertEqual([(seen, '/nonexistent/out')], written)
        self.assertEqual('table\n', sys.stdout.getvalue())
