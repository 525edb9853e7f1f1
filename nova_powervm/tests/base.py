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
"""Test bases that keep log output off the console.

Importing ``nova.test`` (any nova-based test module does) points the root
logger at stdout, so every WARNING/ERROR line of an expected failure
(pypowervm retrying a fault the simulator injected, say) and every line a
nova service logs while shutting down would be printed between the test
results.  ``capture_logging`` keeps a test's log in a ``pythonlogging``
attachment instead: stestr shows it only when the test fails.  nova's own
bases capture during the test; installing the capture before their
``setUp`` also catches what their cleanups log.  ``OS_DEBUG=1`` captures
DEBUG too.
"""

import logging
import os

import fixtures
import testtools

_FORMAT = '%(asctime)s %(levelname)s [%(name)s] %(message)s'


def capture_logging(test):
    """Capture all logging into a detail of ``test`` until its cleanup.

    :param test: a ``testtools.TestCase`` (before or during ``setUp``).
    :returns: the ``fixtures.FakeLogger`` (``.output`` is the log so far).
    """
    debug = os.environ.get('OS_DEBUG', '').lower() in ('1', 'true', 'yes')
    return test.useFixture(fixtures.FakeLogger(
        format=_FORMAT, level=logging.DEBUG if debug else logging.INFO))


class TestCase(testtools.TestCase):
    """``testtools.TestCase`` whose logging goes to the test's details."""

    def setUp(self):
        super().setUp()
        capture_logging(self)
