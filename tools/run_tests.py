#!/usr/bin/env python3
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
"""Run the test suite with stestr and refuse a run that proves nothing.

* Fails when stestr fails, when no test ran, or when a test module could not
  be imported (stestr reports that as a failure already; this repeats it).
* Prints every skipped test with its reason, so no skip hides in the summary.
* Ends with the plain line ``N passed, N failed, N skipped``.
* Fails when a known secret appears in what the run captured: every
  test's attachments (logs, tracebacks) and the DEBUG logs the functional
  tests write to ``PVM_TEST_LOG_DIR``.  Every secret the tests configure
  (``nova_powervm.tests.known_secrets``) starts with the tag this runner
  draws at random and hands down in ``PVM_TEST_SECRET_TAG``; a leak is any
  occurrence of that tag.
"""

import os
import secrets
import shutil
import subprocess
import sys
import tempfile

#: Environment variables shared with ``nova_powervm.tests.known_secrets``.
LOG_DIR_ENV = 'PVM_TEST_LOG_DIR'
TAG_ENV = 'PVM_TEST_SECRET_TAG'
#: How much of a leaked secret to show (enough to tell which, not all).
_SHOWN = 12


def main(argv):
    env = dict(os.environ)
    env.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')
    concurrency = env.get('STESTR_CONCURRENCY', '')
    cmd = [sys.executable, '-m', 'stestr', 'run', '--color']
    if concurrency:
        cmd += ['--concurrency', concurrency]
    cmd += argv
    own_dir = not env.get(LOG_DIR_ENV)
    if own_dir:
        env[LOG_DIR_ENV] = tempfile.mkdtemp(prefix='pvm-logs-')
    log_dir = env[LOG_DIR_ENV]
    tag = env.setdefault(TAG_ENV, 'pvmleak' + secrets.token_hex(4))
    try:
        rc = subprocess.call(cmd, env=env)
        leaks = _scan_files(log_dir, tag)
    finally:
        if own_dir:
            shutil.rmtree(log_dir, ignore_errors=True)

    last = subprocess.run(
        [sys.executable, '-m', 'stestr', 'last', '--subunit'],
        env=env, stdout=subprocess.PIPE, check=False).stdout
    counts, skips, found = _summarise(last, tag)
    leaks += found
    for test_id, reason in skips:
        print('SKIPPED %s: %s' % (test_id, reason))
    for where, marker in leaks:
        print('SECRET LEAK: %r in %s' % (marker, where), file=sys.stderr)
    print('%d passed, %d failed, %d skipped'
          % (counts['success'], counts['fail'], counts['skip']))
    print('secrets check: %s' % ('%d leak(s)' % len(leaks) if leaks
                                 else 'no known secret in the captured logs'))
    if leaks:
        return 1
    if rc == 0 and counts['success'] == 0:
        print('ERROR: no test ran', file=sys.stderr)
        return 1
    if rc == 0 and counts['fail']:
        return 1
    return rc


def _find(text, tag):
    """The beginnings of the tagged secrets in ``text``."""
    found = []
    start = text.find(tag)
    while start >= 0:
        found.append(text[start:start + len(tag) + _SHOWN] + '...')
        start = text.find(tag, start + 1)
    return found


def _summarise(stream, tag):
    """Count results and collect skip reasons from a subunit v2 stream."""
    import io

    import subunit
    import testtools

    counts = {'success': 0, 'fail': 0, 'skip': 0}
    tails = {}
    found = []
    kinds = {'success': 'success', 'xfail': 'success', 'fail': 'fail',
             'uxsuccess': 'fail', 'skip': 'skip'}
    skips = []

    class Collector(testtools.StreamResult):
        def status(self, test_id=None, test_status=None, file_name=None,
                   file_bytes=None, **kwargs):
            if test_status in kinds:
                counts[kinds[test_status]] += 1
            if file_name == 'reason' and file_bytes:
                skips.append((test_id, file_bytes.decode('utf8', 'replace')))
            if file_bytes:
                key = (test_id, file_name)
                text = tails.get(key, '') + bytes(file_bytes).decode(
                    'utf8', 'replace')
                for marker in _find(text, tag):
                    if (key, marker) not in found:
                        found.append((key, marker))
                tails[key] = text[-(len(tag) + _SHOWN):]

    source = subunit.ByteStreamToStreamResult(
        io.BytesIO(stream), non_subunit_name='stdout')
    result = Collector()
    result.startTestRun()
    source.run(result)
    result.stopTestRun()
    leaks = [('%s (%s)' % key, marker) for key, marker in found]
    return counts, skips, leaks


def _scan_files(folder, tag):
    """(where, marker) of each known secret in the files of ``folder``."""
    leaks = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        test = '?'
        with open(path, encoding='utf-8', errors='replace') as fil:
            for line in fil:
                if line.startswith('=== '):
                    test = line[4:].strip()
                for marker in _find(line, tag):
                    leaks.append(('%s (%s)' % (name, test), marker))
    return leaks


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
