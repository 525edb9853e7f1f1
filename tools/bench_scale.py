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

Runs the sandbox's scale demo in a subprocess (``nova-powervm-sandbox
--computes 10 --demo --scale --scale-servers 50``: real keystone,
placement, Glance, Neutron and Cinder processes, nova's API, conductor,
scheduler and one nova-compute per simulated NovaLink host), parses its
figures (the ``scale:`` line and the per-host table) and reports the wall
time of the boot phase and of the whole run, and the sandbox process
tree's memory: the peak RSS of its largest process (``RUSAGE_CHILDREN``)
and the peak of the tree's summed RSS (sampled from ``/proc`` each
second).  Not part of CI: 10 computes and 50 servers take minutes on a
small machine.

``--functional`` runs the older path instead,
``nova_powervm.tests.functional.test_scale`` (all services in one test
process on nova's functional fixtures; deadlocks with 10 computes, see
doc/source/devref/performance.rst).

Usage: ``python tools/bench_scale.py [--hosts 10] [--servers 50]
[--output DIR] [--functional] [-- SANDBOX ARGS]``; merges
``scale_10x50_wall_s`` (for 10 x 50) into ``bench.json``'s ``headline``
in ``--output``.
"""

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(_ROOT, 'tools'))

ROW = re.compile(r'(?m)^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$')
PHASES = re.compile(
    r'(?m)^scale: servers=(?P<servers>\d+) hosts=(?P<hosts>\d+) '
    r'active=(?P<active>\d+) failed=(?P<failed>\d+) '
    r'boot_s=(?P<boot_s>[\d.]+) check_s=(?P<check_s>[\d.]+) '
    r'delete_s=(?P<delete_s>[\d.]+) per_host=(?P<per_host>[\d,]*)$')
STARTED = re.compile(r'Sandbox started in ([\d.]+) s')
DEMO = re.compile(r'Demo (PASSED|FAILED) in ([\d.]+) s \(total ([\d.]+) s\)')


def parse(out):
    """The figures of a scale demo's output (a dict).

    :raises ValueError: when the output has no ``scale:`` line.
    """
    phases = PHASES.search(out)
    if phases is None:
        raise ValueError('no "scale:" line in the sandbox output')
    res = {k: int(v) for k, v in phases.groupdict().items()
           if k in ('servers', 'hosts', 'active', 'failed')}
    res.update({k: float(v) for k, v in phases.groupdict().items()
                if k.endswith('_s')})
    res['servers_per_host'] = {
        m.group(1): int(m.group(2)) for m in ROW.finditer(out)
        if m.group(1) != 'total'}
    res['table'] = [[m.group(1)] + [int(m.group(i)) for i in range(2, 6)]
                    for m in ROW.finditer(out)]
    started = STARTED.search(out)
    if started:
        res['start_s'] = float(started.group(1))
    demo = DEMO.search(out)
    if demo:
        res['passed'] = demo.group(1) == 'PASSED'
        res['demo_s'] = float(demo.group(2))
        res['sandbox_total_s'] = float(demo.group(3))
    else:
        res['passed'] = False
    return res


def _tree_rss_kib(root):
    """Summed RSS (KiB) of ``root`` and its descendants, from /proc."""
    parent, rss = {}, {}
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name) as fil:
                stat = fil.read()
            with open('/proc/%s/statm' % name) as fil:
                pages = int(fil.read().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        pid = int(name)
        parent[pid] = int(stat.rsplit(')', 1)[1].split()[1])
        rss[pid] = pages * os.sysconf('SC_PAGE_SIZE') // 1024
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo.extend(p for p, pp in parent.items()
                    if pp == pid and p not in tree)
    return sum(rss.get(p, 0) for p in tree)


def run_sandbox(hosts=10, servers=50, extra=()):
    """Run the scale demo once; its figures (a dict)."""
    cmd = [sys.executable, '-m', 'nova_powervm.sandbox.cli', '--computes',
           str(hosts), '--demo', '--scale', '--scale-servers', str(servers)]
    cmd += list(extra)
    env = dict(os.environ, OS_NOVA_DISABLE_EVENTLET_PATCHING='1')
    peak = [0]
    start = time.perf_counter()
    with tempfile.TemporaryFile(mode='w+') as log:
        proc = subprocess.Popen(cmd, cwd=_ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, text=True)
        done = threading.Event()

        def sample():
            while not done.wait(1.0):
                peak[0] = max(peak[0], _tree_rss_kib(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        status = proc.wait()
        done.set()
        sampler.join()
        wall = time.perf_counter() - start
        log.seek(0)
        out = log.read()
    if status:
        raise RuntimeError('the scale demo failed (%d):\n%s'
                           % (status, out[-4000:]))
    res = parse(out)
    res.update(wall_s=wall, tree_peak_rss_mib=peak[0] / 1024.0,
               command=' '.join(cmd[1:]))
    return res


def run_functional(hosts=10, servers=50):
    """Run the functional scale test once; its figures (a dict)."""
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
    return res


def run(hosts=10, servers=50, outdir=None, functional=False, extra=()):
    """Run the benchmark once; its figures (a dict)."""
    if functional:
        res = run_functional(hosts, servers)
    else:
        res = run_sandbox(hosts, servers, extra)
    res['path'] = 'functional' if functional else 'sandbox'
    res['children_max_rss_mib'] = resource.getrusage(
        resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    res['load_average'] = '%.1f %.1f %.1f' % os.getloadavg()
    res['when'] = time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())
    if outdir:
        import bench_stream
        os.makedirs(outdir, exist_ok=True)
        with open(os.path.join(outdir, 'scale.json'), 'w') as fil:
            json.dump(res, fil, indent=1, sort_keys=True)
        if (hosts, servers) == (10, 50):
            bench_stream.merge_headline(
                outdir, {'scale_10x50_wall_s': round(res['wall_s'], 1)})
    return res


def main(argv=None):
    prs = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    prs.add_argument('--hosts', type=int, default=10)
    prs.add_argument('--servers', type=int, default=50)
    prs.add_argument('--output',
                     default=os.path.join(_ROOT, 'doc', 'build', 'bench'))
    prs.add_argument('--functional', action='store_true',
                     help='run tests/functional/test_scale.py instead of '
                          'the sandbox')
    prs.add_argument('extra', nargs='*',
                     help='more sandbox arguments (after --)')
    args = prs.parse_args(argv)
    res = run(args.hosts, args.servers, args.output, args.functional,
              args.extra)
    print(json.dumps(res, indent=1, sort_keys=True))
    return res


if __name__ == '__main__':
    main()
