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
"""Benchmark: many computes, servers booted across them at once.

Runs ``nova_powervm.tests.functional.test_scale`` (real nova API,
conductor, scheduler, placement and one nova-compute per host with this
driver, each on a simulated NovaLink host of its own) with ``--hosts``
computes and ``--servers`` servers, and reports its wall time, the
phases' times the test writes, and the peak RSS of the process running
every service.  Not part of CI's demo: 10 computes and 50 servers take
minutes on a small machine.

Usage: ``python tools/bench_scale.py [--hosts 10] [--servers 50]
[--output DIR]``; merges ``scale_10x50_wall_s`` (for 10 x 50) into
``bench.json``'s ``headline`` in ``--output``.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(_ROOT, 'tools'))


def run(hosts=10, servers=50, outdir=None):
    """Run the scale test once; its figures (a dict)."""
    fd, report = tempfile.mkstemp(prefix='pvm-scale-', suffix='.json')
    os.close(fd)
    env = dict(os.environ, PVM_SCALE_HOSTS=str(hosts),
               PVM_SCALE_SERVERS=str(servers), PVM_SCALE_REPORT=report,
               OS_NOVA_DISABLE_EVENTLET_PATCHING='1')
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, '-m', 'testtools.run',
             'nova_powervm.tests.functional.test_scale'],
            cwd=_ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode:
            raise RuntimeError('the scale test failed:\n%s' %
                               (proc.stdout + proc.stderr)[-4000:])
        with open(report) as fil:
            res = json.load(fil)
    finally:
        os.unlink(report)
    res['wall_s'] = wall
    res['children_max_rss_mib'] = resource.getrusage(
        resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    if outdir:
        import bench_stream
        os.makedirs(outdir, exist_ok=True)
        with open(os.path.join(outdir, 'scale.json'), 'w') as fil:
            json.dump(res, fil, indent=1, sort_keys=True)
        if (hosts, servers) == (10, 50):
            bench_stream.merge_headline(
                outdir, {'scale_10x50_wall_s': round(wall, 1)})
    return res


def main(argv=None):
    prs = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    prs.add_argument('--hosts', type=int, default=10)
    prs.add_argument('--servers', type=int, default=50)
    prs.add_argument('--output',
                     default=os.path.join(_ROOT, 'doc', 'build', 'bench'))
    args = prs.parse_args(argv)
    res = run(args.hosts, args.servers, args.output)
    print(json.dumps(res, indent=1, sort_keys=True))
    return res


if __name__ == '__main__':
    main()
