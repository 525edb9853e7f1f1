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
"""tests.base: a test's log lines go to its details, not the console."""

import io
import logging

import fixtures
import testtools

from nova_powervm.tests import base as tests_base
from nova_powervm.tests.unit import base as unit_base


def _inner_cases():
    """Test classes to run inside the tests (hidden from discovery)."""

    def logs_an_error():
        logging.getLogger('pypowervm.adapter').error('injected fault %s', 42)

    class Plain(tests_base.TestCase):

        def test_fails(self):
            logs_an_error()
            self.fail('on purpose')

        def test_passes(self):
            logs_an_error()

    class NovaBased(unit_base.NoDBTestCase):

        def test_fails(self):
            logs_an_error()
            self.fail('on purpose')

    return Plain, NovaBased


class TestLogCapture(tests_base.TestCase):

    def setUp(self):
        super().setUp()
        # What importing nova.test installs: the root logger on a stream.
        self.console = io.StringIO()
        self.useFixture(fixtures.LogHandler(
            logging.StreamHandler(self.console), nuke_handlers=False))

    def run_inner(self, case):
        result = testtools.TestResult()
        case.run(result)
        return result

    def test_failing_test_keeps_its_log_off_the_console(self):
        plain, nova_based = _inner_cases()
        for case in (plain('test_fails'), nova_based('test_fails')):
            result = self.run_inner(case)
            self.assertEqual(1, len(result.failures), case.id())
            logs = ''.join(
                ''.join(d.iter_text()) for name, d in
                case.getDetails().items() if name.startswith('pythonlogging'))
            self.assertIn('ERROR [pypowervm.adapter] injected fault 42', logs)
        self.assertEqual('', self.console.getvalue())

    def test_passing_test_prints_nothing(self):
        result = self.run_inner(_inner_cases()[0]('test_passes'))
        self.assertTrue(result.wasSuccessful())
        self.assertEqual('', self.console.getvalue())
