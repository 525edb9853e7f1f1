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
"""Benchmark image streaming and the periodic pass at scale.

Streaming: the simulator runs in its own process (``powervm-sim``'s
module as a subprocess), the driver in this one.  An image of random
bytes (non-sparse, made once in the output directory) is uploaded into
the local-disk image cache (Glance stand-in -> pypowervm File upload ->
the simulator's disk file) and a boot disk holding the same bytes is
snapshotted (disk -> Glance stand-in writing a file), each against a
plain ``cp`` of the same file on the same disk in the same run, every
read starting with the source out of the page cache.  The driver
process's RSS growth (peak during the call over the RSS before it,
``VmHWM`` reset through ``/proc/self/clear_refs``) and CPU seconds (every
thread of this process: the driver, pypowervm and the Glance stand-in)
are recorded at two image sizes.

Scale: ``--lpars`` partitions made in an in-process simulator server;
one periodic pass as nova 34 runs it: the resource tracker's
``get_available_resource`` and ``update_provider_tree``, then
``_sync_power_states``' ``get_num_instances`` and ``get_info`` of each
instance through a 5-thread pool.  Round trips from the simulator's
counter; driver CPU summed over the calling and the pool threads.

Usage: ``python tools/bench_stream.py [--image-gb G] [--small-gb G]
[--lpars N] [--latency S] [--output DIR]``; writes ``stream.json`` and
merges the headline figures into ``bench.json``'s ``headline`` dict in
``--output``.
"""

import argparse
import concurrent.futures
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(_ROOT, 'tools'))
sys.path.insert(1, _ROOT)
import bench_env  # noqa: E402  (first: selects native threading)
import fixtures  # noqa: E402
from nova.compute import provider_tree  # noqa: E402
from nova import context as nova_context  # noqa: E402
from nova import objects  # noqa: E402
from oslo_config import cfg  # noqa: E402
import requests  # noqa: E402

from nova_powervm.virt.powervm import driver as pvm_driver  # noqa: E402

CONF = cfg.CONF
GIB = 1024 ** 3
MIB = 1024 ** 2
NODE = 'bench-host'
# What Glance reads of an upload at a time.
GLANCE_UPLOAD_CHUNK = MIB
# nova's [DEFAULT] sync_power_state_pool_size.
SYNC_POOL = 5


# -- process figures --------------------------------------------------------
def _status_kib(field):
    with open('/proc/self/status') as fil:
        for line in fil:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak_rss():
    """Reset VmHWM to the current RSS (Linux >= 4.0)."""
    with open('/proc/self/clear_refs', 'w') as fil:
        fil.write('5')


def _cpu_s():
    """CPU seconds of every thread of this process (user + system)."""
    times = os.times()
    return times.user + times.system


def _sys_s():
    """Kernel CPU seconds of every thread of this process."""
    return os.times().system


class ProcMeter:
    """Wall, process CPU and RSS growth of one call in this process."""

    def __call__(self, func, *args):
        rss = _status_kib('VmRSS')
        _reset_peak_rss()
        wall, cpu, ksys = time.perf_counter(), _cpu_s(), _sys_s()
        result = func(*args)
        fig = {'wall_s': time.perf_counter() - wall,
               'cpu_s': _cpu_s() - cpu,
               'sys_s': _sys_s() - ksys,
               'rss_growth_mib': (_status_kib('VmHWM') - rss) / 1024.0}
        return result, fig


def _drop_cache(path):
    """Flush dirty pages, then evict a file's pages from the page cache.

    The flush first: an earlier step's writeback must not slow the next
    one down.
    """
    os.sync()
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def make_random_file(path, size):
    """A non-sparse file of ``size`` random bytes."""
    block = 4 * MIB
    with open(path, 'wb') as fil:
        left = size
        while left > 0:
            fil.write(os.urandom(min(block, left)))
            left -= block
    return path


def timed_cp(src, dst):
    """Seconds of ``cp src dst`` with ``src`` out of the page cache."""
    _drop_cache(src)
    start = time.perf_counter()
    subprocess.run(['cp', src, dst], check=True)
    took = time.perf_counter() - start
    os.unlink(dst)
    return took


# -- the simulator in its own process ---------------------------------------
def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class SimProcess:
    """``powervm-sim`` (its module) as a subprocess.

    :param state_dir: its state directory.
    :param latency: seconds it adds to each REST request.
    """

    def __init__(self, state_dir, latency):
        self.port = _free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'nova_powervm.simulator.cli',
             '--port', str(self.port), '--state-dir', state_dir,
             '--latency', str(latency), '--event-timeout', '1',
             '--save-interval', '60'],
            cwd=_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while True:
            try:
                self.get('stats')
                return
            except requests.ConnectionError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError('powervm-sim did not start')
                time.sleep(0.1)

    def get(self, path):
        """GET ``/sim/<path>`` (JSON)."""
        resp = requests.get('%s/sim/%s' % (self.url, path), timeout=60)
        resp.raise_for_status()
        return resp.json()

    def reset_stats(self):
        """Zero the request counters."""
        requests.post('%s/sim/stats/reset' % self.url, timeout=60)

    def round_trips(self):
        """REST round trips since the last reset, event polls left out."""
        stats = self.get('stats')
        return stats['total'] - stats['by_pattern'].get(
            bench_env.EVENT_POLL, 0)

    def stop(self):
        """Terminate it and wait."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class FileImageAPI(bench_env.SparseImageAPI):
    """A Glance stand-in over files.

    Downloads go in glanceclient's chunks (as the sparse images' API);
    uploads (snapshots) are read 1 MiB at a time into a file, as Glance's
    file store keeps them.

    :param workdir: where uploaded images are written.
    """

    def add(self, path):
        """Serve the file ``path`` as a new raw image; its ImageMeta."""
        image_id = str(uuid.uuid4())
        self.paths[image_id] = path
        return objects.ImageMeta.from_dict(
            {'id': image_id, 'name': 'bench', 'size': os.path.getsize(path),
             'disk_format': 'raw', 'container_format': 'bare',
             'status': 'active'})

    def update(self, context, image_id, metadata, data=None,
               purge_props=False):
        """Store a snapshot: read ``data`` 1 MiB at a time into a file."""
        path = os.path.join(self.workdir, 'glance-%s' % image_id)
        size = 0
        with open(path, 'wb') as out:
            while True:
                chunk = data.read(GLANCE_UPLOAD_CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                size += len(chunk)
        self.uploaded[image_id] = (path, size)
        return {'id': image_id}


class StreamEnv(bench_env.BenchEnv):
    """BenchEnv whose driver talks to a simulator in another process."""

    def __init__(self, latency, workdir):
        super().__init__(latency=latency, workdir=workdir)
        self.simproc = None

    def _setUp(self):
        objects.register_all()
        CONF([], project='nova', default_config_files=[],
             default_config_dirs=[])
        self.addCleanup(CONF.reset)
        self.simproc = SimProcess(os.path.join(self.workdir, 'sim'),
                                  self.latency)
        self.addCleanup(self.simproc.stop)
        over = CONF.set_override
        over('state_path', self.workdir)
        over('lock_path', os.path.join(self.workdir, 'locks'),
             group='oslo_concurrency')
        over('my_ip', '192.0.2.10')
        for key, val in {'pvm_host': '127.0.0.1',
                         'pvm_port': self.simproc.port,
                         'host_shim': 'simulator',
                         'volume_group_name': 'datavg'}.items():
            over(key, val, group='powervm')
        self.images = FileImageAPI(self.workdir)
        self.useFixture(fixtures.MonkeyPatch(
            'nova_powervm.virt.powervm.image._API', self.images))
        self.ctx = nova_context.get_admin_context()

    def round_trips(self):
        return self.simproc.round_trips()


def _disk_file(env, udid):
    """The backing file of a disk in the simulator's state directory."""
    for root, _dirs, names in os.walk(os.path.join(env.workdir, 'sim')):
        for name in names:
            if name.endswith('.img') and udid.replace('/', '_') in name:
                return os.path.join(root, name)
    raise LookupError(udid)


def _sim_cpu_s(env, kernel_only=False):
    """CPU seconds the simulator's process has used (or its kernel's)."""
    with open('/proc/%d/stat' % env.simproc.proc.pid) as fil:
        fields = fil.read().rsplit(')', 1)[1].split()
    ticks = int(fields[12]) if kernel_only else (
        int(fields[11]) + int(fields[12]))
    return ticks / os.sysconf('SC_CLK_TCK')


class _Discard:
    """A file-like object that drops what is written (counts it)."""

    def __init__(self):
        self.size = 0

    def write(self, data):
        self.size += len(data)


def source_read(env, path):
    """The Glance stand-in's read of ``path`` alone: wall and CPU.

    The first stage of the upload on its own (the source file out of the
    page cache, read in glanceclient's pieces, dropped): the floor the
    disk's reads put under the upload, against ``cp``'s read and write.
    """
    image_meta = env.images.add(path)
    _drop_cache(path)
    sink = _Discard()
    _r, fig = ProcMeter()(env.images.download, env.ctx, image_meta.id,
                          sink)
    fig['bytes'] = sink.size
    return fig


def _paired(env, repeat, copy, transfer):
    """``repeat`` times ``cp`` then the transfer; best of each, figures.

    The machine is shared: the best of alternating runs compares like
    with like.  CPU and RSS growth: the mean and the highest.
    """
    runs, cps = [], []
    for _idx in range(repeat):
        cps.append(copy())
        sim_cpu = _sim_cpu_s(env)
        sim_sys = _sim_cpu_s(env, kernel_only=True)
        env.simproc.reset_stats()
        fig = transfer()
        fig['sim_cpu_s'] = _sim_cpu_s(env) - sim_cpu
        fig['sim_sys_s'] = _sim_cpu_s(env, kernel_only=True) - sim_sys
        fig['round_trips'] = env.round_trips()
        runs.append(fig)
    best = dict(min(runs, key=lambda fig: fig['wall_s']))
    best.update(cp_s=min(cps), cp_runs_s=cps,
                wall_runs_s=[fig['wall_s'] for fig in runs],
                cpu_s=sum(fig['cpu_s'] for fig in runs) / repeat,
                sim_cpu_s=sum(fig['sim_cpu_s'] for fig in runs) / repeat,
                sys_s=sum(fig['sys_s'] for fig in runs) / repeat,
                sim_sys_s=sum(fig['sim_sys_s'] for fig in runs) / repeat,
                rss_growth_mib=max(fig['rss_growth_mib'] for fig in runs),
                round_trips=max(fig['round_trips'] for fig in runs))
    size = best['bytes']
    best.update(mib_per_s=size / MIB / best['wall_s'],
                cp_mib_per_s=size / MIB / best['cp_s'],
                cpu_s_per_gib=best['cpu_s'] / (size / GIB),
                sim_cpu_s_per_gib=best['sim_cpu_s'] / (size / GIB),
                sys_s_per_gib=best['sys_s'] / (size / GIB),
                sim_sys_s_per_gib=best['sim_sys_s'] / (size / GIB))
    best['vs_cp'] = best['cp_s'] / best['wall_s']
    return best


def bench_upload(env, drv, path, repeat=2):
    """Upload ``path`` into the image cache against ``cp``; figures.

    Each upload is of a new image id (a cache miss); the disks of all but
    the last are deleted.
    """
    dvr = drv._ctx.disk_dvr
    size = os.path.getsize(path)
    done = []

    def copy():
        # The previous upload's disk goes first (not counted).
        if done:
            dvr.delete_disks([done.pop()[1]])
        return timed_cp(path, os.path.join(env.workdir, 'sim', 'cp-target'))

    def upload():
        image_meta = env.images.add(path)
        _drop_cache(path)
        (_vg, vdisk), fig = ProcMeter()(lambda: dvr._upload_image(
            env.ctx, dvr.get_vg(), image_meta))
        done.append((image_meta, vdisk))
        fig['bytes'] = size
        return fig

    fig = _paired(env, repeat, copy, upload)
    fig['image_meta'], fig['vdisk'] = done[0]
    return fig


def bench_snapshot(env, drv, image_meta, path, repeat=2):
    """Snapshot a boot disk holding ``path``'s bytes against ``cp``."""
    size = os.path.getsize(path)
    inst = env.instance(image_meta, config_drive=False,
                        root_gb=max(1, -(-size // GIB)))
    drv.spawn(env.ctx, inst, image_meta, [], None, {}, None)
    try:
        name = drv._ctx.disk_dvr.boot_disk_name(inst)
        udid = [vd['udid'] for vd in env.simproc.get('state')[
            'virtual_disks'] if vd['name'] == name][0]
        disk = _disk_file(env, udid)
        # A plain disk holding the image's bytes (not a linked clone the
        # simulator would merge into a view first, which is its cost, not
        # the driver's): the host's device as it would be.
        capacity = os.path.getsize(disk)
        shutil.copyfile(path, disk)
        os.truncate(disk, capacity)
        base = disk[:-len('.img')] + '.base'
        if os.path.exists(base):
            os.unlink(base)

        def snap():
            _drop_cache(disk)
            _r, fig = ProcMeter()(drv.snapshot, env.ctx, inst,
                                  'bench-snapshot', lambda **kwargs: None)
            out, fig['bytes'] = env.images.uploaded.pop('bench-snapshot')
            os.unlink(out)
            return fig

        return _paired(env, repeat, lambda: timed_cp(
            disk, os.path.join(env.workdir, 'cp-target')), snap)
    finally:
        drv.destroy(env.ctx, inst, None)


def run_streaming(workdir, image_gb=2.0, small_gb=0.5, latency=0.05,
                  repeat=2):
    """Upload and snapshot at two sizes; the results dict."""
    res = {'latency_s': latency}
    env = StreamEnv(latency, workdir)
    env.setUp()
    try:
        drv = pvm_driver.PowerVMDriver(bench_env.nova_fake.FakeVirtAPI())
        drv.init_host(NODE)
        try:
            for key, gib in (('small', small_gb), ('large', image_gb)):
                path = make_random_file(
                    os.path.join(workdir, 'random-%s.raw' % key),
                    int(gib * GIB))
                try:
                    upl = bench_upload(env, drv, path, repeat)
                    if key == 'large':
                        upl['source_read'] = source_read(env, path)
                    image_meta = upl.pop('image_meta')
                    vdisk = upl.pop('vdisk')
                    res['upload_' + key] = upl
                    if key == 'large':
                        res['snapshot'] = bench_snapshot(
                            env, drv, image_meta, path, repeat)
                    drv._ctx.disk_dvr.delete_disks([vdisk])
                finally:
                    os.unlink(path)
        finally:
            drv.cleanup_host(NODE)
    finally:
        env.cleanUp()
    return res


def bench_periodic(lpars, latency, workdir):
    """One periodic pass as nova 34 runs it over ``lpars`` partitions."""
    env = bench_env.BenchEnv(latency=latency, workdir=workdir)
    env.setUp()
    try:
        insts = env.add_lpars(lpars)
        drv = env.driver()
        drv.init_host(NODE)
        tree = provider_tree.ProviderTree()
        tree.new_root(NODE, drv.get_nodenames_by_uuid().popitem()[0])
        cpu = []
        lock = threading.Lock()

        def timed(func, *args):
            start = time.thread_time()
            try:
                return func(*args)
            finally:
                with lock:
                    cpu.append(time.thread_time() - start)

        def cycle():
            timed(drv.get_available_resource, NODE)
            timed(drv.update_provider_tree, tree, NODE)
            count = timed(drv.get_num_instances)
            with concurrent.futures.ThreadPoolExecutor(SYNC_POOL) as pool:
                states = list(pool.map(
                    lambda inst: timed(drv.get_info, inst).state, insts))
            return count, states

        try:
            # The first pass after init_host warms the caches; the second
            # is the steady state a running compute sees every minute.
            cycle()
            env.sim.reset_stats()
            del cpu[:]
            start = time.perf_counter()
            count, states = cycle()
            wall = time.perf_counter() - start
            trips = env.round_trips()
        finally:
            drv.cleanup_host(NODE)
    finally:
        env.cleanUp()
    return {'lpars': lpars, 'num_instances': count,
            'running': sum(1 for st in states if st == 1),
            'round_trips': trips, 'wall_ms': wall * 1000,
            'driver_cpu_ms': sum(cpu) * 1000,
            'driver_cpu_ms_per_partition': sum(cpu) * 1000 / lpars}


def headline(res):
    """The figures issue 14 names, from a results dict."""
    out = {}
    if 'upload_large' in res:
        out.update(
            upload_vs_cp=round(res['upload_large']['vs_cp'], 3),
            snapshot_vs_cp=round(res['snapshot']['vs_cp'], 3),
            upload_rss_growth_mib=round(max(
                res['upload_small']['rss_growth_mib'],
                res['upload_large']['rss_growth_mib']), 1),
            upload_cpu_s_per_gib=round(
                res['upload_large']['cpu_s_per_gib'], 3))
    if 'periodic' in res:
        per = res['periodic']
        out.update(periodic_rest_1000=per['round_trips'],
                   periodic_cpu_ms_per_partition=round(
                       per['driver_cpu_ms_per_partition'], 4))
    if 'scale' in res:
        out['scale_10x50_wall_s'] = res['scale'].get('wall_s')
    return out


def merge_headline(outdir, head):
    """Merge ``head`` into ``bench.json``'s top-level ``headline`` dict."""
    path = os.path.join(outdir, 'bench.json')
    data = {}
    if os.path.exists(path):
        with open(path) as fil:
            data = json.load(fil)
    data.setdefault('headline', {}).update(head)
    with open(path, 'w') as fil:
        json.dump(data, fil, indent=1, sort_keys=True)
    return data


def restore_headline(outdir):
    """Merge the saved figures (stream.json, scale.json) into bench.json.

    ``tools/bench.py`` rewrites bench.json: the headline figures of the
    last streaming and scale runs in the same directory are put back.
    Nothing happens when neither was run there.
    """
    head = {}
    for name in ('stream.json', 'scale.json'):
        path = os.path.join(outdir, name)
        if os.path.exists(path):
            with open(path) as fil:
                data = json.load(fil)
            if name == 'stream.json':
                head.update(data.get('headline', {}))
            elif (data.get('hosts'), data.get('servers')) == (10, 50):
                head['scale_10x50_wall_s'] = round(data['wall_s'], 1)
    if head:
        merge_headline(outdir, head)
    return head


def run(outdir, image_gb=2.0, small_gb=0.5, lpars=1000, latency=0.05,
        repeat=2):
    """Both benchmarks; writes stream.json, merges the headline."""
    os.makedirs(outdir, exist_ok=True)
    start = time.perf_counter()
    res = {'params': {'image_gb': image_gb, 'small_gb': small_gb,
                      'lpars': lpars, 'latency_s': latency}}
    work = tempfile.mkdtemp(prefix='pvm-stream-', dir=outdir)
    try:
        res.update(run_streaming(work, image_gb, small_gb, latency, repeat))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    work = tempfile.mkdtemp(prefix='pvm-scale-', dir=outdir)
    try:
        res['periodic'] = bench_periodic(lpars, latency, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    res['runtime_s'] = time.perf_counter() - start
    res['headline'] = headline(res)
    with open(os.path.join(outdir, 'stream.json'), 'w') as fil:
        json.dump(res, fil, indent=1, sort_keys=True)
    merge_headline(outdir, res['headline'])
    return res


def render(res):
    """The tables of a run, as reStructuredText."""
    rows = []
    for key, label in (('upload_small', 'upload'), ('upload_large', 'upload'),
                       ('snapshot', 'snapshot')):
        fig = res.get(key)
        if not fig:
            continue
        rows.append((label, '%.2f' % (fig['bytes'] / GIB),
                     str(fig['round_trips']), '%.2f' % fig['wall_s'],
                     '%.0f' % fig['mib_per_s'], '%.0f' % fig['cp_mib_per_s'],
                     '%.2f' % fig['vs_cp'], '%.2f' % fig['cpu_s_per_gib'],
                     '%.2f' % fig['sim_cpu_s_per_gib'],
                     '%.1f' % fig['rss_growth_mib']))
    heads = ('transfer', 'GiB', 'round trips', 'wall s', 'MiB/s',
             'cp MiB/s', 'vs cp', 'CPU s/GiB', 'sim CPU s/GiB',
             'RSS growth MiB')
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(heads)]
    rule = '  '.join('=' * w for w in widths)
    lines = [rule, '  '.join(h.ljust(w) for h, w in zip(heads, widths)),
             rule]
    lines += ['  '.join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.append(rule)
    for key, label in (('upload_small', 'upload'), ('upload_large', 'upload'),
                       ('snapshot', 'snapshot')):
        fig = res.get(key)
        if fig and 'sys_s_per_gib' in fig:
            lines.append(
                '%s %.2f GiB: driver CPU %.2f s/GiB (kernel %.2f), simulator '
                '%.2f s/GiB (kernel %.2f)' % (
                    label, fig['bytes'] / GIB, fig['cpu_s_per_gib'],
                    fig['sys_s_per_gib'], fig['sim_cpu_s_per_gib'],
                    fig['sim_sys_s_per_gib']))
    src = (res.get('upload_large') or {}).get('source_read')
    if src:
        lines.append(
            'source read alone (Glance stand-in, %.2f GiB): %.2f s, %.0f '
            'MiB/s, CPU %.2f s (kernel %.2f)' % (
                src['bytes'] / GIB, src['wall_s'],
                src['bytes'] / MIB / src['wall_s'], src['cpu_s'],
                src['sys_s']))
    per = res.get('periodic')
    if per:
        lines += ['', 'Periodic pass over %d partitions: %d round trips, '
                  '%.0f ms wall, %.1f ms driver CPU (%.3f ms per partition)'
                  % (per['lpars'], per['round_trips'], per['wall_ms'],
                     per['driver_cpu_ms'],
                     per['driver_cpu_ms_per_partition'])]
    lines += ['', 'headline: %s' % json.dumps(res['headline'],
                                              sort_keys=True)]
    return '\n'.join(lines) + '\n'


def main(argv=None):
    prs = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    prs.add_argument('--image-gb', type=float, default=2.0)
    prs.add_argument('--small-gb', type=float, default=0.5)
    prs.add_argument('--lpars', type=int, default=1000)
    prs.add_argument('--latency', type=float, default=0.05)
    prs.add_argument('--output',
                     default=os.path.join(_ROOT, 'doc', 'build', 'bench'))
    prs.add_argument('--verbose', action='store_true')
    args = prs.parse_args(argv)
    if not args.verbose:
        logging.disable(logging.WARNING)
    res = run(args.output, image_gb=args.image_gb, small_gb=args.small_gb,
              lpars=args.lpars, latency=args.latency)
    print(render(res))
    return res


if __name__ == '__main__':
    main()
