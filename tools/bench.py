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
"""Benchmark the PowerVM driver against the NovaLink simulator.

The driver's cost is (REST round trips x NovaLink latency) + its own CPU.
This runs the real driver against the simulator as an HTTP server with an
injected per-request latency and reports, per driver operation: REST round
trips (the simulator's counter, event long polls left out), wall time,
CPU time of the calling thread (the driver's own work; pypowervm runs in
it) and of the whole process (simulator included), and peak traced memory
(tracemalloc, measured in a separate pass so that tracing does not inflate
the times).  Then: N concurrent spawns on one host, one periodic pass over
hundreds of partitions, and the upload of a multi-GB sparse raw image at
two sizes (the peak memory must not grow with the image), and the
snapshot of a disk of the large image's size against a plain copy of the
same disk's file in the same run.

Usage: ``python tools/bench.py [--latency S] [--concurrency N]
[--lpars N] [--image-gb G] [--repeat N] [--output DIR]``
(``tox -e bench -- ...``).  Writes ``bench.json`` and ``bench.rst`` to
``--output`` and prints the tables.
"""

import argparse
import concurrent.futures
import gc
import logging
import math
import os
import shutil
import statistics
import sys
import time
import tracemalloc

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(_ROOT, 'tools'))
sys.path.insert(1, _ROOT)
import bench_env  # noqa: E402  (first: selects native threading)
import bench_report  # noqa: E402
import bench_storm  # noqa: E402
from nova.compute import provider_tree  # noqa: E402

GIB = 1024 ** 3
NODE = 'bench-host'

# The life-cycle operations, in the order they run on one instance.
LIFECYCLE = ('init_host', 'spawn', 'get_info', 'power_off', 'power_on',
             'reboot_soft', 'reboot_hard', 'destroy')


class Meter:
    """Measures one call: round trips, wall, CPU and (optionally) memory.

    :param env: the :class:`bench_env.BenchEnv`.
    :param trace: measure peak traced memory (tracemalloc must be on).
    """

    def __init__(self, env, trace=False):
        self.env = env
        self.trace = trace

    def __call__(self, func, *args, **kwargs):
        """Run ``func``; returns ``(result, figures dict)``."""
        self.env.sim.reset_stats()
        if self.trace:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
        wall, thr, proc = (time.perf_counter(), time.thread_time(),
                           time.process_time())
        result = func(*args, **kwargs)
        fig = {'wall_ms': (time.perf_counter() - wall) * 1000,
               'thread_cpu_ms': (time.thread_time() - thr) * 1000,
               'process_cpu_ms': (time.process_time() - proc) * 1000,
               'round_trips': self.env.round_trips(),
               'by_pattern': self.env.by_pattern()}
        if self.trace:
            fig['peak_kib'] = (tracemalloc.get_traced_memory()[1] -
                               base) / 1024.0
        return result, fig


def _init_host(env, meter):
    """init_host of a new driver (then cleanup_host); its figures."""
    drv = env.driver()
    try:
        return meter(drv.init_host, NODE)[1]
    finally:
        drv.cleanup_host(NODE)


def _lifecycle(env, drv, meter, image_meta):
    """spawn ... destroy of one instance; figures per operation."""
    inst = env.instance(image_meta)
    net = env.network_info()
    steps = (
        ('spawn', drv.spawn, env.ctx, inst, image_meta,
         [('/etc/motd', b'hello')], 'secret-pass', {}, net),
        ('get_info', drv.get_info, inst),
        ('power_off', drv.power_off, inst, 60, 10),
        ('power_on', drv.power_on, env.ctx, inst, net),
        ('reboot_soft', drv.reboot, env.ctx, inst, net, 'SOFT'),
        ('reboot_hard', drv.reboot, env.ctx, inst, net, 'HARD'),
        ('destroy', drv.destroy, env.ctx, inst, net))
    out = {}
    for name, func, *args in steps:
        _r, out[name] = meter(func, *args)
    return out


def _traced(func, *args):
    tracemalloc.start()
    try:
        return func(*args)
    finally:
        tracemalloc.stop()


def bench_ops(env, image_meta, repeat):
    """Per-operation figures: medians of ``repeat`` timed runs + memory.

    ``init_host`` runs on new drivers.  The other operations run on one
    driver: a first, unmeasured life cycle uploads the image and fills the
    per-connection caches (job templates, vswitches), so ``spawn`` is the
    steady-state cached-image case; that first spawn is reported as
    ``spawn_first``.  Memory comes from one more, traced, run.
    """
    runs = [{'init_host': _init_host(env, Meter(env))}
            for _ in range(repeat)]
    mem = {'init_host': _traced(_init_host, env, Meter(env, trace=True))}
    drv = env.driver()
    drv.init_host(NODE)
    try:
        warm = _lifecycle(env, drv, Meter(env), image_meta)
        for run in runs:
            run.update(_lifecycle(env, drv, Meter(env), image_meta))
        mem.update(_traced(_lifecycle, env, drv, Meter(env, trace=True),
                           image_meta))
    finally:
        drv.cleanup_host(NODE)
    ops = {}
    for name in LIFECYCLE:
        fig = {key: statistics.median(run[name][key] for run in runs)
               for key in ('wall_ms', 'thread_cpu_ms', 'process_cpu_ms')}
        counts = sorted({run[name]['round_trips'] for run in runs} |
                        {mem[name]['round_trips']})
        fig['round_trips'] = counts[-1]
        fig['round_trips_varied'] = counts[0] != counts[-1]
        fig['peak_kib'] = mem[name]['peak_kib']
        fig['by_pattern'] = mem[name]['by_pattern']
        ops[name] = fig
    ops['spawn_first'] = dict(warm['spawn'], peak_kib=None)
    return ops


def bench_concurrency(env, image_meta, concurrency):
    """``concurrency`` spawns at once on one host, then as many destroys."""
    drv = env.driver()
    drv.init_host(NODE)
    meter = Meter(env)
    try:
        work = [(env.instance(image_meta), env.network_info())
                for _ in range(concurrency)]

        def run_all(func):
            with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
                for fut in [pool.submit(func, inst, net)
                            for inst, net in work]:
                    fut.result()

        _r, spawn = meter(run_all, lambda inst, net: drv.spawn(
            env.ctx, inst, image_meta, [], None, {}, net))
        running = sum(1 for lpar in env.sim.state()['lpars']
                      if lpar['state'] == 'running')
        _r, destroy = meter(run_all, lambda inst, net: drv.destroy(
            env.ctx, inst, net))
    finally:
        drv.cleanup_host(NODE)
    # The work runs on pool threads: the caller's thread CPU means nothing.
    spawn['thread_cpu_ms'] = destroy['thread_cpu_ms'] = None
    return {'concurrency': concurrency, 'spawn': spawn, 'destroy': destroy,
            'running_after_spawn': running,
            'spawns_per_minute': concurrency * 60000.0 / spawn['wall_ms']}


def bench_periodic(env, lpars):
    """One periodic pass over ``lpars`` partitions made in the simulator."""
    insts = env.add_lpars(lpars)
    drv = env.driver()
    drv.init_host(NODE)
    meter = Meter(env)
    tree = provider_tree.ProviderTree()
    tree.new_root(NODE, drv.get_nodenames_by_uuid().popitem()[0])
    try:
        parts = {}
        _r, parts['get_available_resource'] = meter(
            drv.get_available_resource, NODE)
        _r, parts['update_provider_tree'] = meter(
            drv.update_provider_tree, tree, NODE)
        uuids, parts['list_instance_uuids'] = meter(drv.list_instance_uuids)
        _r, parts['get_info_all'] = meter(
            lambda: [drv.get_info(inst) for inst in insts])
    finally:
        drv.cleanup_host(NODE)
    found = sum(1 for inst in insts if inst.uuid in uuids)
    total = {key: sum(part[key] for part in parts.values())
             for key in ('wall_ms', 'thread_cpu_ms', 'process_cpu_ms',
                         'round_trips')}
    return {'lpars': lpars, 'instances_listed': found, 'parts': parts,
            'total': total}


def _upload(env, drv, size):
    """Upload one sparse image of ``size`` bytes into the image cache."""
    image_meta = env.images.add(size)
    dvr = drv._ctx.disk_dvr
    meter = Meter(env, trace=True)
    # GET VG + the upload: what a spawn with the image not cached adds.
    (_vg, vdisk), fig = _traced(meter, lambda: dvr._upload_image(
        env.ctx, dvr.get_vg(), image_meta))
    dvr.delete_disks([vdisk])
    env.images.remove(image_meta.id)
    fig['bytes'] = size
    fig['mib_per_s'] = size / 1024.0 ** 2 / (fig['wall_ms'] / 1000.0)
    return fig


def bench_upload(env, image_gb):
    """Image upload at ``image_gb`` and at an eighth of it (memory flat)."""
    drv = env.driver()
    drv.init_host(NODE)
    try:
        big = int(image_gb * GIB)
        small = _upload(env, drv, max(big // 8, 1024 * 1024))
        large = _upload(env, drv, big)
    finally:
        drv.cleanup_host(NODE)
    return {'small': small, 'large': large,
            'peak_growth': large['peak_kib'] / max(small['peak_kib'], 1.0),
            'size_growth': large['bytes'] / small['bytes']}


def _drop_cache(path):
    """Evict a file's pages from the page cache (this file only)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def bench_snapshot(env, image_gb):
    """Snapshot of a ``image_gb`` disk vs a plain copy of its file.

    The snapshot reads the boot disk on the management partition (mapped
    to it: the simulator's management partition is not the VIOS) and hands
    it to the image API in chunks; the image API reads and drops them.
    The plain copy reads the disk's backing file into /dev/null with
    ``shutil.copyfileobj`` (1 MiB buffers), in the same run.  Each read
    starts with the file out of the page cache.
    """
    drv = env.driver()
    drv.init_host(NODE)
    image_meta = env.images.add(16 * 1024 * 1024)
    inst = env.instance(image_meta, config_drive=False,
                        root_gb=max(1, int(math.ceil(image_gb))))
    try:
        drv.spawn(env.ctx, inst, image_meta, [], None, {}, None)
        name = drv._ctx.disk_dvr.boot_disk_name(inst)
        udid = [vd['udid'] for vd in env.sim.state()['virtual_disks']
                if vd['name'] == name][0]
        path = env.sim.sim.files.disk_path(udid)
        # The first read of a new sparse file costs several times any
        # later one (the file system maps its holes): whichever read came
        # first would pay it.  An untimed read takes it, then both timed
        # reads start with none of the file in the page cache.
        with open(path, 'rb', buffering=0) as src:
            while src.read(1024 * 1024):
                pass
        _drop_cache(path)
        _r, fig = Meter(env)(drv.snapshot, env.ctx, inst, 'bench-snapshot',
                             lambda **kwargs: None)
        fig['bytes'] = env.images.uploaded.pop('bench-snapshot')
        _drop_cache(path)
        start = time.perf_counter()
        with open(path, 'rb') as src, open(os.devnull, 'wb') as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
        copy_s = time.perf_counter() - start
        fig['mib_per_s'] = fig['bytes'] / 1024.0 ** 2 / (
            fig['wall_ms'] / 1000.0)
        fig['copy_mib_per_s'] = fig['bytes'] / 1024.0 ** 2 / copy_s
        drv.destroy(env.ctx, inst, None)
    finally:
        drv.cleanup_host(NODE)
        env.images.remove(image_meta.id)
    return fig


def run(latency=0.05, concurrency=4, lpars=200, image_gb=2.0, repeat=5,
        workdir=None, storm=20, storm_latency=0.1):
    """Run every benchmark; returns the results dict.

    :param latency: seconds added to each REST request.
    :param concurrency: concurrent spawns.
    :param lpars: partitions in the periodic pass.
    :param image_gb: size of the large image upload, in GiB.
    :param repeat: timed runs of the life cycle (medians reported).
    :param workdir: scratch directory (a temporary one when None).
    :param storm: concurrent spawns of the deploy storm (0: none).
    :param storm_latency: seconds added to each REST request in the storm.
    """
    start = time.perf_counter()
    env = bench_env.BenchEnv(latency=latency, workdir=workdir)
    env.setUp()
    try:
        image_meta = env.images.add(16 * 1024 * 1024)
        res = {'params': {'latency_s': latency, 'concurrency': concurrency,
                          'lpars': lpars, 'image_gb': image_gb,
                          'repeat': repeat},
               'ops': bench_ops(env, image_meta, repeat)}
        res['concurrency'] = bench_concurrency(env, image_meta, concurrency)
        res['upload'] = bench_upload(env, image_gb)
        res['snapshot'] = bench_snapshot(env, image_gb)
        res['periodic'] = bench_periodic(env, lpars)
    finally:
        env.cleanUp()
        # Sessions left in reference cycles log when collected: now, not
        # at some random later point.
        gc.collect()
    if storm:
        # Its own simulator process: the driver's CPU is measured alone.
        res['storm'] = bench_storm.bench_storm(storm, storm_latency,
                                               workdir=workdir)
        res.setdefault('headline', {}).update(
            bench_storm.headline(res['storm']))
    res['runtime_s'] = time.perf_counter() - start
    res['machine'] = bench_report.machine()
    res['ratios'] = bench_report.ratios(res)
    return res


def main(argv=None):
    """Parse options, run, write JSON and RST, print the tables."""
    prs = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    prs.add_argument('--latency', type=float, default=0.05,
                     help='seconds added to every REST request')
    prs.add_argument('--concurrency', type=int, default=4,
                     help='concurrent spawns on one host')
    prs.add_argument('--lpars', type=int, default=200,
                     help='partitions in the periodic pass')
    prs.add_argument('--image-gb', type=float, default=2.0,
                     help='size of the large sparse image (GiB)')
    prs.add_argument('--repeat', type=int, default=5,
                     help='timed life cycles (medians are reported)')
    prs.add_argument('--output',
                     default=os.path.join(_ROOT, 'doc', 'build', 'bench'),
                     help='directory for bench.json and bench.rst '
                     '(default: doc/build/bench of the checkout)')
    prs.add_argument('--verbose', action='store_true',
                     help='keep the log (412 retries are warnings)')
    prs.add_argument('--storm', type=int, default=None,
                     help='concurrent spawns of the deploy storm (default '
                     '20; 0: none)')
    prs.add_argument('--storm-latency', type=float, default=None,
                     help='seconds added to every REST request in the '
                     'deploy storm (default 0.1)')
    prs.add_argument('--stream', action='store_true',
                     help='then run tools/bench_stream.py (upload and '
                     'snapshot against cp, the simulator in its own '
                     'process; the periodic pass at 1,000 partitions)')
    args = prs.parse_args(argv)
    storm_args = {key: val for key, val in (
        ('storm', args.storm), ('storm_latency', args.storm_latency))
        if val is not None}
    if not args.verbose:
        logging.disable(logging.WARNING)
    res = run(latency=args.latency, concurrency=args.concurrency,
              lpars=args.lpars, image_gb=args.image_gb, repeat=args.repeat,
              **storm_args)
    text = bench_report.write(res, args.output)
    print(text)
    import bench_stream
    if args.stream:
        print(bench_stream.render(bench_stream.run(
            args.output, image_gb=args.image_gb, latency=args.latency)))
    # bench.json was rewritten: the headline of the last streaming and
    # scale runs in this directory goes back in.
    bench_stream.restore_headline(args.output)
    return res


if __name__ == '__main__':
    main()
