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
"""Recognizable secrets the tests configure, and the check for them.

The functional base gives every simulator and compute these values (the
NovaLink password, the simulator's admin token, session tokens that start
with ``SESSION_PREFIX``; volume tests use ``CHAP_SECRET``).
Every one starts with a tag that ``tools/run_tests.py`` draws at random
for its run and hands down in ``PVM_TEST_SECRET_TAG``; it greps the logs
the whole run captured for the tag and fails the run when it appears.
No text of the code base contains the tag.
"""

import os

#: Environment variable with the tag (set by tools/run_tests.py).
TAG_ENV = 'PVM_TEST_SECRET_TAG'
# Without the runner: a fixed tag, spelled in two so this file is no hit.
_TAG = os.environ.get(TAG_ENV) or 'pvm' + 'leak'
PASSWORD = _TAG + '-novalink-password-7f3a'
ADMIN_TOKEN = _TAG + '-sim-admin-token-2c9e'
CHAP_SECRET = _TAG + '-chap-secret-5d1b'
SESSION_PREFIX = _TAG + '-session-'
USER = 'hscroot'
#: What must never appear in a log line, an exception text or /sim/stats.
MARKERS = (PASSWORD, ADMIN_TOKEN, CHAP_SECRET, SESSION_PREFIX)
#: Environment variable naming a directory where the functional tests
#: also write their DEBUG logs (set by tools/run_tests.py).
LOG_DIR_ENV = 'PVM_TEST_LOG_DIR'


def find(text):
    """The markers present in ``text`` (str or bytes).

    :param text: text to search.
    :returns: list of markers found.
    """
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    return [mark for mark in MARKERS if mark in text]


def log_dir():
    """The DEBUG log directory of this run, or None."""
    return os.environ.get(LOG_DIR_ENV) or None
