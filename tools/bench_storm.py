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
"""The deploy storm: N concurrent spawns on one host against one spawn.

The simulator runs in its own process (``powervm-sim``), so the CPU time
of this process is the driver's own (every thread of it: the spawn
threads, the batching writers' leaders, pypowervm's event listener...)
and never the simulator's.  Measured, with ``--latency`` added to every
REST request:

* one spawn at a time, ``--singles`` times (after an unmeasured spawn that
  uploads the image and fills the per-host caches): wall time, REST round
  trips, driver CPU (medians);
* ``--spawns`` spawns at once, on the same driver: wall time, round trips
  per spawn, failures (counted, not fatal), HTTP 412 replies per REST
  resource (counted in the driver's session), driver CPU per spawn; then
  as many destroys at once.

Usage: ``python tools/bench_storm.py [--spawns N] [--latency S]
[--singles N]``; ``tools/bench.py`` runs it as its ``storm`` section and
puts the headline figures in ``bench.json``'s ``headline``.
"""

import argparse
import collections
import concurrent.futures
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from unittest import mock

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(_ROOT, 'tools'))
sys.path.insert(1, _ROOT)
import bench_env  # noqa: E402  (first: selects native threading)
import bench_report  # noqa: E402
import fixtures  # noqa: E402,I100
from pypowervm import adapter as pvm_adpt  # noqa: E402
import requests  # noqa: E402

NODE = 'bench-host'


class _RemoteSimState(object):
    """``fixture.sim`` of a remote simulator: only ``latency``."""

    def __init__(self, url):
        self._url = url
        self._latency = 0.0

    @property
    def latency(self):
        return self._latency

    @latency.setter
    def latency(self, seconds):
        requests.put(self._url + '/sim/latency',
                     json={'seconds': seconds}, timeout=30).raise_for_status()
        self._latency = seconds


class RemoteSimulator(fixtures.Fixture):
    """``powervm-sim`` in a process of its own; the fixture's interface.

    Takes the arguments of ``SimulatorFixture`` that the benchmark's
    environment passes (server mode only).
    """

    def __init__(self, mode='server', event_timeout=1.0, state_dir=None,
                 **_kwargs):
        super().__init__()
        self.event_timeout = event_timeout
        self.state_dir = state_dir
        self.host = '127.0.0.1'
        self.port = None
        self.proc = None
        self.sim = None

    def _setUp(self):
        if self.state_dir is None:
            self.state_dir = self.useFixture(fixtures.TempDir()).path
        os.makedirs(self.state_dir, exist_ok=True)
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            self.port = sock.getsockname()[1]
        log = open(os.path.join(self.state_dir, 'powervm-sim.log'), 'wb')
        self.addCleanup(log.close)
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'nova_powervm.simulator.cli',
             '--host', self.host, '--port', str(self.port),
             '--state-dir', self.state_dir,
             '--event-timeout', str(self.event_timeout),
             '--save-interval', '3600'],
            stdout=log, stderr=subprocess.STDOUT, cwd=_ROOT)
        self.addCleanup(self._stop)
        url = 'http://%s:%d' % (self.host, self.port)
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(url + '/sim/stats', timeout=5)
                break
            except requests.ConnectionError:
                if (self.proc.poll() is not None or
                        time.monotonic() > deadline):
                    raise RuntimeError('powervm-sim did not start (see %s)'
                                       % log.name)
                time.sleep(0.1)
        self.url = url
        self.sim = _RemoteSimState(url)

    def _stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def _admin(self, method, path):
        resp = requests.request(method, self.url + '/sim/' + path,
                                timeout=60)
        resp.raise_for_status()
        return resp.json()

    def state(self):
        """The ``GET /sim/state`` dict."""
        return self._admin('GET', 'state')

    def stats(self):
        """The ``GET /sim/stats`` dict."""
        return self._admin('GET', 'stats')

    def reset_stats(self):
        """``POST /sim/stats/reset``."""
        self._admin('POST', 'stats/reset')

    def driver_flags(self):
        """``[powervm]`` options pointing a driver at this simulator."""
        return {'pvm_host': self.host, 'pvm_port': self.port,
                'host_shim': 'simulator', 'volume_group_name': 'datavg'}


class StormEnv(bench_env.BenchEnv):
    """The benchmark's environment with the simulator in its own process."""

    def _setUp(self):
        with mock.patch.object(bench_env.sim_fixture, 'SimulatorFixture',
                               RemoteSimulator):
            super()._setUp()


class EtagCounter(object):
    """Counts HTTP 412 replies to the driver, per REST resource type."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()

    @staticmethod
    def resource(path):
        """The last resource type a REST path names.

        ``VolumeGroup`` for ``/rest/api/uom/VirtualIOServer/{uuid}/
        VolumeGroup/{uuid}?group=None``.
        """
        segs = [seg for seg in path.split('?')[0].split('/') if seg]
        names = [seg for seg in segs if seg[:1].isupper() and
                 not (len(seg) == 36 and seg.count('-') == 4)]
        return names[-1] if names else path

    def install(self, test_fixture):
        """Wrap ``pypowervm.adapter.Session.request`` while it lives."""
        real = pvm_adpt.Session.request
        counter = self

        def request(sess, method, path, *args, **kwargs):
            try:
                return real(sess, method, path, *args, **kwargs)
            except Exception as err:
                resp = getattr(err, 'response', None)
                if getattr(resp, 'status', None) == 412:
                    with counter.lock:
                        counter.counts[counter.resource(path)] += 1
                raise
        test_fixture.useFixture(fixtures.MonkeyPatch(
            'pypowervm.adapter.Session.request', request))

    def take(self):
        """The counts since the last take, as a dict."""
        with self.lock:
            out = dict(self.counts)
            self.counts.clear()
        return out


def _measure(env, etags, func):
    """``(result, figures)`` of one call: wall, driver CPU, REST, 412s."""
    env.sim.reset_stats()
    etags.take()
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    fig = {'wall_ms': (time.perf_counter() - wall) * 1000,
           'driver_cpu_ms': (time.process_time() - cpu) * 1000,
           'round_trips': env.round_trips(),
           'by_pattern': env.by_pattern(),
           'etag_412': etags.take()}
    return result, fig


def _concurrently(func, work):
    """Run ``func(*item)`` for every item at once; the failures."""
    failures = []
    with concurrent.futures.ThreadPoolExecutor(len(work)) as pool:
        futs = [pool.submit(func, *item) for item in work]
        for fut in futs:
            try:
                fut.result()
            except Exception as err:
                failures.append('%s: %s' % (type(err).__name__, err))
    return failures


def bench_storm(spawns=20, latency=0.1, singles=3, workdir=None):
    """The deploy storm against ``singles`` lone spawns; the figures.

    :param spawns: concurrent spawns in the storm.
    :param latency: seconds added to every REST request.
    :param singles: lone spawns measured (the median is the reference).
    :param workdir: scratch directory (a temporary one when None).
    """
    env = StormEnv(latency=latency, workdir=workdir)
    env.setUp()
    etags = EtagCounter()
    etags.install(env)
    try:
        image_meta = env.images.add(16 * 1024 * 1024)
        drv = env.driver()
        drv.init_host(NODE)
        try:
            def spawn(inst, net):
                drv.spawn(env.ctx, inst, image_meta, [], None, {}, net)

            def destroy(inst, net):
                drv.destroy(env.ctx, inst, net)

            # Unmeasured: uploads the image, fills the per-host caches.
            inst, net = env.instance(image_meta), env.network_info()
            spawn(inst, net)
            destroy(inst, net)
            lone = []
            for _idx in range(singles):
                inst, net = env.instance(image_meta), env.network_info()
                lone.append(_measure(env, etags,
                                     lambda: spawn(inst, net))[1])
                destroy(inst, net)
            work = [(env.instance(image_meta), env.network_info())
                    for _idx in range(spawns)]
            failures, storm = _measure(
                env, etags, lambda: _concurrently(spawn, work))
            state = env.sim.state()
            running = sum(1 for lpar in state['lpars']
                          if lpar['state'] == 'running')
            names = {vd['name'] for vd in state['virtual_disks']}
            disks = sum(1 for inst, _net in work
                        if drv._ctx.disk_dvr.boot_disk_name(inst) in names)
            d_failures, destroys = _measure(
                env, etags, lambda: _concurrently(destroy, work))
            left = env.sim.state()
        finally:
            drv.cleanup_host(NODE)
    finally:
        env.cleanUp()
    single = {key: statistics.median(fig[key] for fig in lone)
              for key in ('wall_ms', 'driver_cpu_ms', 'round_trips')}
    single['runs'] = lone
    storm.update(spawns=spawns, failures=len(failures),
                 failure_messages=failures[:5], running_after=running,
                 boot_disks_after=disks,
                 round_trips_per_spawn=storm['round_trips'] / spawns,
                 driver_cpu_ms_per_spawn=storm['driver_cpu_ms'] / spawns)
    destroys.update(failures=len(d_failures),
                    failure_messages=d_failures[:5],
                    lpars_left=len(left['lpars']),
                    boot_disks_left=sum(
                        1 for vd in left['virtual_disks']
                        if vd['name'].startswith('b_')))
    return {'params': {'spawns': spawns, 'latency_s': latency,
                       'singles': singles},
            'single': single, 'storm': storm, 'destroy': destroys,
            'wall_ratio': storm['wall_ms'] / single['wall_ms'],
            'driver_cpu_share_of_spawn': (single['driver_cpu_ms'] /
                                          single['wall_ms'])}


def headline(res):
    """The storm's figures for ``bench.json``'s ``headline`` dict.

    :param res: what :func:`bench_storm` returned.
    """
    return {'deploy_storm_wall_ratio': round(res['wall_ratio'], 3),
            'deploy_storm_rest_per_spawn': round(
                res['storm']['round_trips_per_spawn'], 2),
            'deploy_storm_412': dict(res['storm']['etag_412']),
            'deploy_storm_failures': res['storm']['failures'],
            'driver_cpu_share_of_spawn': round(
                res['driver_cpu_share_of_spawn'], 4)}


def main(argv=None):
    """Parse options, run, print the table and the JSON figures."""
    prs = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    prs.add_argument('--spawns', type=int, default=20)
    prs.add_argument('--latency', type=float, default=0.1)
    prs.add_argument('--singles', type=int, default=3)
    prs.add_argument('--output', default=None,
                     help='write storm.json here (a directory)')
    args = prs.parse_args(argv)
    import logging
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix='pvm-storm-') as tmp:
        res = bench_storm(args.spawns, args.latency, args.singles, tmp)
    print('\n'.join(bench_report.storm_table(res)))
    print(json.dumps(headline(res), indent=2, sort_keys=True))
    if args.output:
        os.makedirs(args.output, exist_ok=True)
        with open(os.path.join(args.output, 'storm.json'), 'w') as fil:
            json.dump(res, fil, indent=2, sort_keys=True)
    return res


if __name__ == '__main__':
    main()
