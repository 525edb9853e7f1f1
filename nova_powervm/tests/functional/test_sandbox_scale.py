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
"""``nova-powervm-sandbox --demo --scale``, small: 3 computes, 6 servers.

``tools/bench_scale.py`` runs the same path with 10 computes and 50
servers (not in CI: minutes on a small machine).
"""

import io
import re
import subprocess
import tempfile

import fixtures

from nova_powervm.sandbox import cli
from nova_powervm.tests import base as tests_base
from nova_powervm.tests.functional import test_sandbox


class TestScaleDemo(tests_base.TestCase):

    def _run(self, *args):
        state_dir = tempfile.mkdtemp(prefix='pvm-sbx-scale-')
        self.addCleanup(subprocess.call, ['rm', '-rf', state_dir])
        return test_sandbox.run_sandbox(
            state_dir, '--demo', '--scale', '--lite', '--computes', '3',
            '--scale-servers', '6', '--network', 'none', *args)

    def _table(self, out):
        """``{host: (servers, partitions, VCPU, MEMORY_MB)}``."""
        return {m.group(1): tuple(int(m.group(i)) for i in range(2, 6))
                for m in re.finditer(
                    r'(?m)^(pvm-host\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$',
                    out)}

    def test_servers_across_hosts_each_holding_its_own(self):
        status, out = self._run()
        self.assertEqual(0, status, out)
        self.assertIn('Demo PASSED', out)
        self.assertNotIn('FAILED', out)
        self.assertIn('round robin over nova:<host>', out)
        # Each host: as many partitions as nova has servers there, and
        # placement's usage of m1.tiny (1 vCPU, 512 MB) times that.
        self.assertEqual({'pvm-host%d' % i: (2, 2, 2, 1024)
                          for i in (1, 2, 3)}, self._table(out))
        phases = re.search(r'(?m)^scale: servers=6 hosts=3 active=6 '
                           r'failed=0 boot_s=[\d.]+ check_s=[\d.]+ '
                           r'delete_s=[\d.]+ per_host=2,2,2$', out)
        self.assertIsNotNone(phases, out)


class TestScaleFlags(tests_base.TestCase):

    def test_defaults_leave_the_normal_demo(self):
        args = cli.parse_args(['--demo'])
        self.assertFalse(args.scale)
        self.assertEqual(50, args.scale_servers)
        self.assertFalse(args.scale_scheduler)

    def test_scale_needs_demo(self):
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', io.StringIO()))
        self.assertRaises(SystemExit, cli.parse_args, ['--scale'])
        self.assertRaises(SystemExit, cli.parse_args,
                          ['--demo', '--scale', '--scale-servers', '0'])
