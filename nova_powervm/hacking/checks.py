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
"""Project-specific flake8 checks (codes N9xx).

They are wired in ``tox.ini`` under ``[flake8:local-plugins]`` and run with
``tox -e pep8``.  Each check is a flake8 *logical line* plugin: flake8 calls
it once per logical line with comments removed and string contents masked,
so text inside strings and comments never triggers a check.

The checks do not import ``hacking`` so that their unit tests run in the
test environment, where only flake8's own environment has hacking.

* N901: no ``eventlet`` import outside the tests.  nova-compute in 2026.2
  runs on native threads and makes every ``eventlet`` import fail, so such an
  import would stop the compute service.
* N902: no ``CONF.host`` in ``nova_powervm/virt/``.  Several compute services
  can run in one process (tests, the sandbox), each with its own host name;
  the driver uses the name given to ``init_host`` instead.
* N903: ``pypowervm.exceptions`` is imported only by the error boundary
  (``virt/powervm/errors.py``, and ``virt/powervm/session.py``, which must
  tell a refused logon from a server that is not up yet).  Everything else
  gets nova exceptions from ``errors`` and treats a 404 on delete with
  ``errors.ignore_missing()``.  Tests (the simulator's tests check
  pypowervm's own behaviour) are exempt.
"""

import os
import re

_EVENTLET_IMPORT_RE = re.compile(
    r'^\s*(?:from\s+eventlet(?:\.|\s)'
    r'|import\s+(?:[\w.]+(?:\s+as\s+\w+)?\s*,\s*)*eventlet\b)')
_CONF_HOST_RE = re.compile(r'\bCONF\.(?:DEFAULT\.)?host\b')
_PVM_EXC_IMPORT_RE = re.compile(
    r'^\s*(?:from\s+pypowervm\s+import\s+(?:[\w\s,()]*\b)?exceptions\b'
    r'|from\s+pypowervm\.exceptions\s+import\b'
    r'|import\s+pypowervm\.exceptions\b)')
# The error boundary: the only modules that may import pypowervm's
# exceptions (paths relative to the nova_powervm package).
_BOUNDARY = (('virt', 'powervm', 'errors.py'),
             ('virt', 'powervm', 'session.py'))


def _parts(filename):
    """The components of a path, with ``/`` or ``\\`` separators."""
    norm = os.path.normpath(filename).replace('\\', '/')
    return [part for part in norm.split('/') if part not in ('', '.')]


def _in_tests(filename):
    parts = _parts(filename)
    return 'tests' in parts


def _in_virt(filename):
    parts = _parts(filename)
    for idx in range(len(parts) - 1):
        if parts[idx] == 'nova_powervm' and parts[idx + 1] == 'virt':
            return True
    return False


def check_no_eventlet(logical_line, filename):
    """N901: ``eventlet`` must not be imported outside the tests.

    :param logical_line: the logical line flake8 is checking.
    :param filename: path of the file the line comes from.
    """
    if _in_tests(filename):
        return
    if _EVENTLET_IMPORT_RE.match(logical_line):
        yield (0, 'N901: do not import eventlet; nova-compute runs on '
                  'native threads and refuses eventlet imports')


def check_no_conf_host(logical_line, filename):
    """N902: ``CONF.host`` must not be read in ``nova_powervm/virt/``.

    :param logical_line: the logical line flake8 is checking.
    :param filename: path of the file the line comes from.
    """
    if not _in_virt(filename):
        return
    match = _CONF_HOST_RE.search(logical_line)
    if match:
        yield (match.start(), 'N902: do not read CONF.host in the driver; '
                              'use the host given to init_host '
                              '(HostContext.host)')


def _package_path(filename):
    """The path components below ``nova_powervm``, or None."""
    parts = _parts(filename)
    if 'nova_powervm' not in parts:
        return None
    return tuple(parts[len(parts) - parts[::-1].index('nova_powervm'):])


def check_pypowervm_exceptions(logical_line, filename):
    """N903: ``pypowervm.exceptions`` only in the error boundary modules.

    :param logical_line: the logical line flake8 is checking.
    :param filename: path of the file the line comes from.
    """
    if _in_tests(filename) or _package_path(filename) in _BOUNDARY:
        return
    if _package_path(filename) is None:
        return
    if _PVM_EXC_IMPORT_RE.match(logical_line):
        yield (0, 'N903: do not import pypowervm.exceptions here; let '
                  'nova_powervm.virt.powervm.errors translate (use '
                  'errors.translate or errors.ignore_missing)')
