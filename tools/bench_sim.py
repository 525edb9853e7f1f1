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
"""Benchmark the NovaLink simulator: entry-GET latency and concurrency.

Starts a simulator as a real threaded HTTP server on 127.0.0.1 (no
injected latency), creates some LPARs, then measures:

* entry GET latency (``GET /rest/api/uom/LogicalPartition/{uuid}``) as a
  raw HTTP round trip and through pypowervm (wrapper parsing included);
* quick-property GET latency;
* 50 concurrent clients doing entry GETs (throughput, errors).

Usage: ``python tools/bench_sim.py [--requests N] [--clients N]``
"""

import argparse
import os
import statistics
import sys
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
from nova_powervm.simulator import core  # noqa: E402
from nova_powervm.simulator import server as sim_server  # noqa: E402


def _pct(values, pct):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * pct / 100.0))]


def _report(name, samples):
    ms = [s * 1000 for s in samples]
    print('%-38s n=%-5d median=%6.2f ms  p90=%6.2f ms  max=%6.2f ms' % (
        name, len(ms), statistics.median(ms), _pct(ms, 90), max(ms)))
    return statistics.median(ms)


def _timed(func, count):
    out = []
    for _ in range(count):
        start = time.perf_counter()
        func()
        out.append(time.perf_counter() - start)
    return out


def _setup(port):
    from pypowervm import adapter as pvm_adpt
    from pypowervm.utils import lpar_builder as lb
    from pypowervm.wrappers import managed_system as pvm_ms
    sess = pvm_adpt.Session('127.0.0.1', port=port, protocol='http')
    adpt = pvm_adpt.Adapter(sess)
    sysw = pvm_ms.System.get(adpt)[0]
    uuids = []
    for idx in range(20):
        wrap = lb.LPARBuilder(adpt, {lb.NAME: 'bench-%d' % idx,
                                     lb.MEM: 1024, lb.VCPU: 1},
                              lb.DefaultStandardize(sysw)).build()
        uuids.append(wrap.create(parent=sysw).uuid)
    return sess, adpt, uuids


def _concurrent(url, headers, clients, per_client):
    lat, errors = [], []
    lock = threading.Lock()

    def worker():
        mine = []
        for _ in range(per_client):
            start = time.perf_counter()
            try:
                resp = requests.get(url, headers=headers, timeout=30)
                if resp.status_code != 200:
                    errors.append(resp.status_code)
            except requests.RequestException as exc:
                errors.append(str(exc))
            mine.append(time.perf_counter() - start)
        with lock:
            lat.extend(mine)
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for thr in threads:
        thr.start()
    for thr in threads:
        thr.join()
    return lat, errors, time.perf_counter() - start


def main():
    """Run the benchmark and print the figures."""
    prs = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    prs.add_argument('--requests', type=int, default=300)
    prs.add_argument('--clients', type=int, default=50)
    prs.add_argument('--per-client', type=int, default=20)
    args = prs.parse_args()
    sim = core.Simulator()
    srv = sim_server.SimServer(sim, '127.0.0.1', 0).start()
    try:
        sess, adpt, uuids = _setup(srv.port)
        from pypowervm.wrappers import logical_partition as pvm_lpar
        url = 'http://127.0.0.1:%d/rest/api/uom/LogicalPartition/%s' % (
            srv.port, uuids[0])
        headers = {'X-API-Session': sess._sessToken,
                   'Accept': 'application/atom+xml'}
        print('Simulator benchmark (no injected latency), %d LPARs' %
              len(uuids))
        med = _report('entry GET, raw HTTP', _timed(
            lambda: requests.get(url + '?group=None', headers=headers),
            args.requests))
        _report('entry GET, pypowervm LPAR.get', _timed(
            lambda: pvm_lpar.LPAR.get(adpt, uuid=uuids[0]), args.requests))
        _report('quick PartitionState, pypowervm', _timed(
            lambda: adpt.read('LogicalPartition', uuids[0],
                              suffix_type='quick',
                              suffix_parm='PartitionState'), args.requests))
        _report('LPAR feed GET (21 entries), pypowervm', _timed(
            lambda: pvm_lpar.LPAR.get(adpt), max(args.requests // 5, 10)))
        lat, errors, wall = _concurrent(url, headers, args.clients,
                                        args.per_client)
        _report('entry GET, %d concurrent clients' % args.clients, lat)
        print('%d clients x %d GETs: %d errors, %.0f requests/s' % (
            args.clients, args.per_client, len(errors),
            len(lat) / wall))
        print('RESULT median entry GET latency: %.2f ms (target < 5 ms)'
              % med)
        sess._logoff()
    finally:
        srv.stop()
        sim.close()


if __name__ == '__main__':
    main()
