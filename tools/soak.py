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
"""Run the soak: seeded random operations on two simulated hosts.

``python tools/soak.py --ops 200 [--seed N] [--fault-rate 0.1]
[--report soak.json]`` runs ``nova_powervm.tests.functional.test_soak``
(nova's services in-process, two simulators sharing a Shared Storage Pool
and a SAN) with those settings.  It prints the seed first (rerun a failure
with ``--seed``), one line per operation, and a summary; the exit status
is the test's.
"""

import argparse
import json
import os
import subprocess
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--ops', type=int, default=200,
                        help='operations to run (default 200)')
    parser.add_argument('--seed', type=int, default=None,
                        help='random seed (default: a random one, printed)')
    parser.add_argument('--fault-rate', type=float, default=0.1,
                        help='share of operations with a fault injected '
                             'first (default 0.1)')
    parser.add_argument('--report', default=None,
                        help='write the JSON report (every step) here')
    args = parser.parse_args(argv)
    if args.ops < 1:
        parser.error('--ops must be at least 1')
    if not 0 <= args.fault_rate <= 1:
        parser.error('--fault-rate must be between 0 and 1')
    env = dict(os.environ, OS_NOVA_DISABLE_EVENTLET_PATCHING='1',
               PVM_SOAK_OPS=str(args.ops),
               PVM_SOAK_FAULT_RATE=str(args.fault_rate))
    if args.seed is not None:
        env['PVM_SOAK_SEED'] = str(args.seed)
    report = args.report or os.path.join(
        os.environ.get('TMPDIR', '/tmp'), 'pvm-soak-%d.json' % os.getpid())
    env['PVM_SOAK_REPORT'] = report
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rc = subprocess.call(
        [sys.executable, '-m', 'testtools.run',
         'nova_powervm.tests.functional.test_soak'], cwd=root, env=env)
    if rc == 0 and os.path.exists(report):
        with open(report) as f:
            data = json.load(f)
        print('Soak passed: seed %(seed)s, %(operations)s operations in '
              '%(seconds)s s' % data)
        for name, count in data['counts'].items():
            print('  %-36s %d' % (name, count))
        print('  servers left before the final clean-up: %s'
              % (data['left_at_end'] or 'none'))
        print('Report: %s' % report)
    return rc


if __name__ == '__main__':
    sys.exit(main())
