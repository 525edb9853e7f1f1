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
"""Tests of the project's flake8 checks (``nova_powervm/hacking``)."""

import configparser
import os

from nova_powervm.hacking import checks
from nova_powervm.tests import base as tests_base

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))

_DRIVER = './nova_powervm/virt/powervm/driver.py'
_SIM = 'nova_powervm/simulator/app.py'
_TEST = './nova_powervm/tests/unit/virt/powervm/test_driver.py'


def _codes(check, line, filename):
    """The codes a check reports for one logical line."""
    return [msg.split(':')[0] for _pos, msg in check(line, filename)]


class TestNoEventlet(tests_base.TestCase):
    """N901: no eventlet import outside the tests."""

    def test_flags_imports_of_eventlet(self):
        for line in ('import eventlet',
                     'import eventlet.greenthread',
                     'import eventlet as evt',
                     'import os, eventlet',
                     'from eventlet import greenthread',
                     'from eventlet.green import threading',
                     '    import eventlet'):
            self.assertEqual(['N901'],
                             _codes(checks.check_no_eventlet, line, _DRIVER),
                             line)

    def test_flags_any_module_outside_tests(self):
        for filename in (_SIM, 'nova/virt/powervm_ext/driver.py',
                         'nova_powervm/conf/powervm.py'):
            self.assertEqual(
                ['N901'],
                _codes(checks.check_no_eventlet, 'import eventlet', filename))

    def test_ignores_other_modules(self):
        for line in ('import eventletx',
                     'import foo.eventlet',
                     'from foo import eventlet',
                     'from eventlet_compat import x',
                     'import threading',
                     'x = eventlet_count'):
            self.assertEqual([],
                             _codes(checks.check_no_eventlet, line, _DRIVER),
                             line)

    def test_allowed_in_tests(self):
        self.assertEqual(
            [], _codes(checks.check_no_eventlet, 'import eventlet', _TEST))


class TestNoConfHost(tests_base.TestCase):
    """N902: no CONF.host in nova_powervm/virt/."""

    def test_flags_conf_host_in_virt(self):
        for line in ('host = CONF.host',
                     'name = nova.conf.CONF.host',
                     'name = cfg.CONF.host.lower()',
                     'name = CONF.DEFAULT.host',
                     'LOG.info("x %s", CONF.host)'):
            self.assertEqual(['N902'],
                             _codes(checks.check_no_conf_host, line, _DRIVER),
                             line)

    def test_reports_the_column(self):
        results = list(checks.check_no_conf_host('x = CONF.host', _DRIVER))
        self.assertEqual(4, results[0][0])

    def test_ignores_other_options(self):
        for line in ('host = CONF.powervm.pvm_host',
                     'shim = CONF.powervm.host_shim',
                     'x = CONF.hostname',
                     'host = self._ctx.host'):
            self.assertEqual([],
                             _codes(checks.check_no_conf_host, line, _DRIVER),
                             line)

    def test_only_in_virt(self):
        for filename in (_SIM, 'nova_powervm/sandbox/cli.py',
                         'nova_powervm/conf/__init__.py'):
            self.assertEqual(
                [], _codes(checks.check_no_conf_host, 'h = CONF.host',
                           filename))

    def test_windows_separators(self):
        self.assertEqual(
            ['N902'],
            _codes(checks.check_no_conf_host, 'h = CONF.host',
                   'nova_powervm\\virt\\powervm\\vm.py'))


class TestWiring(tests_base.TestCase):
    """tox.ini's local plugins name the checks that exist here."""

    def test_local_plugins_resolve(self):
        parser = configparser.ConfigParser()
        parser.read(os.path.join(_ROOT, 'tox.ini'))
        section = parser['flake8:local-plugins']
        self.assertEqual('./nova_powervm/hacking', section['paths'].strip())
        entries = {}
        for line in section['extension'].strip().splitlines():
            code, target = (part.strip() for part in line.split('='))
            entries[code] = target
        self.assertEqual({'N901': 'checks:check_no_eventlet',
                          'N902': 'checks:check_no_conf_host',
                          'N903': 'checks:check_pypowervm_exceptions'},
                         entries)
        for target in entries.values():
            module, func = target.split(':')
            self.assertEqual('checks', module)
            self.assertTrue(callable(getattr(checks, func)))


class TestPypowervmExceptions(tests_base.TestCase):
    """N903: pypowervm's exceptions only in the error boundary."""

    def test_flags_imports_outside_the_boundary(self):
        for line in ('from pypowervm import exceptions as pvm_exc',
                     'from pypowervm import exceptions',
                     'from pypowervm import adapter, exceptions',
                     'from pypowervm.exceptions import HttpError',
                     'import pypowervm.exceptions as pvm_exc',
                     'import pypowervm.exceptions'):
            for filename in (_DRIVER, _SIM,
                             'nova_powervm/virt/powervm/disk/localdisk.py',
                             'nova_powervm/sandbox/cloud.py'):
                self.assertEqual(
                    ['N903'],
                    _codes(checks.check_pypowervm_exceptions, line,
                           filename), (line, filename))

    def test_allows_the_boundary_and_tests(self):
        line = 'from pypowervm import exceptions as pvm_exc'
        for filename in ('./nova_powervm/virt/powervm/errors.py',
                         'nova_powervm/virt/powervm/session.py', _TEST,
                         'nova_powervm/tests/unit/simulator/test_storage.py'):
            self.assertEqual(
                [], _codes(checks.check_pypowervm_exceptions, line,
                           filename), filename)

    def test_ignores_other_imports(self):
        for line in ('from pypowervm import adapter as pvm_adpt',
                     'from nova_powervm import exception as exc',
                     'from pypowervm.wrappers import http_error'):
            self.assertEqual(
                [], _codes(checks.check_pypowervm_exceptions, line, _DRIVER))

    def test_tree_is_clean(self):
        root = os.path.join(_ROOT, 'nova_powervm')
        offenders = []
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                if not name.endswith('.py'):
                    continue
                path = os.path.join(dirpath, name)
                with open(path) as src:
                    for line in src:
                        if list(checks.check_pypowervm_exceptions(
                                line, path)):
                            offenders.append(path)
        self.assertEqual([], offenders)
