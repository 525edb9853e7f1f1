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
"""The sandbox demo with ports bound as ``ovs`` and ``pvm_sriov``.

The default ``pvm_sea`` demo (with the network rows) runs in
``test_sandbox``; these run the quick ``--lite`` sandbox with one compute.
"""

import subprocess
import tempfile

from nova_powervm.tests import base as tests_base
from nova_powervm.tests.functional import test_sandbox

NETWORK_ROWS = ('attach interface', 'detach interface', 'diagnostics',
                'crash dump')


class TestSandboxVifTypes(tests_base.TestCase):

    def run_demo(self, vif_type):
        state_dir = tempfile.mkdtemp(prefix='pvm-sbx-test-')
        self.addCleanup(subprocess.call, ['rm', '-rf', state_dir])
        status, out = test_sandbox.run_sandbox(
            state_dir, '--demo', '--lite', '--computes', '1',
            '--vif-type', vif_type)
        self.assertEqual(0, status, out)
        self.assertIn('Demo PASSED', out)
        self.assertNotIn('FAILED', out)
        for row in NETWORK_ROWS:
            self.assertRegex(out, r'(?m)^%s\s' % row)
        self.assertRegex(out, r'(?m)^attach interface\s+2 ports')
        self.assertRegex(out, r'(?m)^detach interface\s+1 port\(s\) left')
        self.assertRegex(out, r'(?m)^leftovers\s+none')
        return out

    def test_ovs_demo(self):
        self.run_demo('ovs')

    def test_sriov_demo(self):
        self.run_demo('pvm_sriov')
