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
"""

import os
import subprocess
import sys


def main(argv):
    env = dict(os.environ)
    env.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')
    concurrency = env.get('STESTR_CONCURRENCY', '')
    cmd = [sys.executable, '-m', 'stestr', 'run', '--color']
    if concurrency:
        cmd += ['--concurrency', concurrency]
    cmd += argv
    rc = subprocess.call(cmd, env=env)

    last = subprocess.run(
        [sys.executable, '-m', 'stestr', 'last', '--subunit'],
        env=env, stdout=subprocess.PIPE, check=False).stdout
    counts, skips = _summarise(last)
    for test_id, reason in skips:
        print('SKIPPED %s: %s' % (test_id, reason))
    print('%d passed, %d failed, %d skipped'
          % (counts['success'], counts['fail'], counts['skip']))
    if rc == 0 and counts['success'] == 0:
        print('ERROR: no test ran', file=sys.stderr)
        return 1
    if rc == 0 and counts['fail']:
        return 1
    return rc


def _summarise(stream):
    """Count results and collect skip reasons from a subunit v2 stream."""
    import io

    import subunit
    import testtools

    counts = {'success': 0, 'fail': 0, 'skip': 0}
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

    source = subunit.ByteStreamToStreamResult(
        io.BytesIO(stream), non_subunit_name='stdout')
    result = Collector()
    result.startTestRun()
    source.run(result)
    result.stopTestRun()
    return counts, skips


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
