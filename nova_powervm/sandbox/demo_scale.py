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
"""``--demo --scale``: many servers booted at once across the computes.

Instead of the lifecycle, N servers are requested at once (one
``POST /servers`` each, as the admin, with the smallest flavor), placed by
round robin over the computes through the admin's ``nova:<host>``
availability zone: nova's scheduler, asked for all of them at once, packs
them (6 servers on 3 same-size hosts landed 5, 1 and 0), which would
leave most hosts out of the check.  ``round_robin=False`` lets the
scheduler place them as it is.  Once all
are ACTIVE (a server in ERROR is counted, printed and fails the demo),
each host's state is checked to be its own: every simulator holds exactly
the partitions of the servers nova says are on that host
(``OS-EXT-SRV-ATTR:host``), and placement's usage of that compute node is
the flavor times its server count.  Then every server is deleted, and no
simulator may hold anything of them nor placement any usage.

Prints a table (host, servers, partitions, placement VCPU and MEMORY_MB)
and one ``scale:`` line of the phases' times that ``tools/bench_scale.py``
parses.
"""

import logging
import time

from nova_powervm.sandbox import demo
from nova_powervm.sandbox import images

LOG = logging.getLogger(__name__)
NAME_PREFIX = 'sandbox-scale-'
FLAVOR_ID = '1'
# Waiting for N servers: the deadline grows with N (10 computes building
# 50 servers on a small shared machine take minutes).
WAIT_BASE_S = 120.0
WAIT_PER_SERVER_S = 12.0
POLL_S = 0.5


def _admin(client, method, path, body=None):
    """A compute API call with the admin token."""
    resp = client.reader.request(method, client.url + path, json=body,
                                 timeout=60)
    if resp.status_code not in (200, 201, 202, 204):
        raise demo.StepFailed('%s %s -> %d %s' % (
            method, path, resp.status_code, resp.text[:300]))
    return resp.json() if resp.content else None


def _mine(client, ids):
    """``{id: server}`` of the given servers that still exist."""
    body = _admin(client, 'GET', '/servers/detail?all_tenants=1&name=^%s'
                  % NAME_PREFIX)
    return {s['id']: s for s in body['servers'] if s['id'] in ids}


def _networks(cloud, client, network):
    """The boots' ``networks``: the shared network by id for 'auto'.

    The admin (who may ask for a host) sees more than one network, so
    'auto' would be refused as ambiguous: its servers get a port on the
    sandbox's shared network, as the demo user's would.
    """
    if network != 'auto' or cloud.services is None:
        return network
    from nova_powervm.sandbox import services

    resp = client.reader.get('%s/v2.0/networks?name=%s' % (
        cloud.services.url('neutron'), services.NETWORK_NAME), timeout=60)
    if resp.status_code != 200 or not resp.json()['networks']:
        raise demo.StepFailed('network %s not found: %d %s' % (
            services.NETWORK_NAME, resp.status_code, resp.text[:200]))
    return [{'uuid': resp.json()['networks'][0]['id']}]


def boot_all(client, hosts, count, network, round_robin=True):
    """POST ``count`` servers at once, then wait for all to settle.

    :returns: ``(servers, failures)``: the ACTIVE servers' dicts and
              ``[(id, status, fault)]`` of the others.
    """
    ids = []
    for idx in range(count):
        body = {'server': {'name': '%s%d' % (NAME_PREFIX, idx),
                           'imageRef': images.DEFAULT_IMAGE_ID,
                           'flavorRef': FLAVOR_ID, 'networks': network}}
        if round_robin:
            body['server']['availability_zone'] = (
                'nova:%s' % hosts[idx % len(hosts)])
        ids.append(_admin(client, 'POST', '/servers', body)['server']['id'])
    deadline = time.monotonic() + WAIT_BASE_S + WAIT_PER_SERVER_S * count
    pending = set(ids)
    settled = {}
    while pending and time.monotonic() < deadline:
        found = _mine(client, pending)
        for sid in list(pending):
            srv = found.get(sid)
            if srv is None:
                settled[sid] = {'id': sid, 'status': 'GONE'}
            elif srv['status'] == 'ERROR' or (
                    srv['status'] == 'ACTIVE'
                    and srv.get('OS-EXT-STS:task_state') is None):
                settled[sid] = srv
            else:
                continue
            pending.discard(sid)
        if pending:
            time.sleep(POLL_S)
    for sid in pending:
        settled[sid] = {'id': sid, 'status': 'TIMEOUT'}
    active = [settled[s] for s in ids if settled[s]['status'] == 'ACTIVE']
    failed = [(s, settled[s]['status'], demo.fault_of(settled[s]))
              for s in ids if settled[s]['status'] != 'ACTIVE']
    return active, failed


def _partitions(cloud, host):
    """Server ids (as nova knows them) of the client LPARs on ``host``.

    A partition's UUID is the instance's with the first digit's high bit
    cleared (as the driver derives it): matched on the other 35 characters.
    """
    from nova_powervm.sandbox import hosts as sandbox_hosts

    base = {lp['uuid'] for lp in cloud.baselines[host].get('lpars', [])}
    return {lp['uuid'].lower()[1:]
            for lp in cloud.simulators[host].state()['lpars']
            if lp['uuid'] not in base
            and not sandbox_hosts.is_mgmt_lpar(lp)}


def _usages(cloud):
    """``{provider name: {rc: used}}`` of every resource provider."""
    api = cloud.placement.api
    out = {}
    rps = api.get('/resource_providers', version='1.14').body
    for rp in rps['resource_providers']:
        out[rp['name']] = api.get('/resource_providers/%s/usages'
                                  % rp['uuid'], version='1.14'
                                  ).body['usages']
    return out


def _host_key(host):
    """Sort ``pvm-host2`` before ``pvm-host10`` (None last)."""
    host = host or '~'
    stem = host.rstrip('0123456789')
    return stem, int(host[len(stem):] or 0)


def check_hosts(cloud, client, servers, usage_timeout=60.0):
    """Each host holds exactly its servers; placement agrees.

    :returns: ``(rows, problems)``: ``(host, servers, partitions, VCPU,
              MEMORY_MB)`` per host, and a list of what is wrong.
    """
    flavor = _admin(client, 'GET', '/flavors/%s' % FLAVOR_ID)['flavor']
    by_host = {h: set() for h in cloud.computes}
    for srv in servers:
        by_host.setdefault(srv.get('OS-EXT-SRV-ATTR:host'), set()).add(
            srv['id'].lower()[1:])
    problems, rows = [], []
    deadline = time.monotonic() + usage_timeout
    while True:
        usages = _usages(cloud)
        problems, rows = [], []
        for host in sorted(by_host, key=_host_key):
            mine = by_host[host]
            held = _partitions(cloud, host) if host in cloud.simulators \
                else set()
            if cloud.simulators and held != mine:
                problems.append('%s: %d server(s) but %d partition(s) '
                                '(%d missing, %d not its own)' % (
                                    host, len(mine), len(held),
                                    len(mine - held), len(held - mine)))
            used = usages.get(host, {})
            want = {'VCPU': len(mine) * flavor['vcpus'],
                    'MEMORY_MB': len(mine) * flavor['ram']}
            for rc, n in want.items():
                if used.get(rc, 0) != n:
                    problems.append('%s: placement %s %d, expected %d'
                                    % (host, rc, used.get(rc, 0), n))
            rows.append((host, len(mine), len(held), used.get('VCPU', 0),
                         used.get('MEMORY_MB', 0)))
        # Partitions are checked at once; placement may trail a moment.
        if not problems or time.monotonic() > deadline or any(
                'partition' in p for p in problems):
            return rows, problems
        time.sleep(POLL_S)


def delete_all(cloud, client, ids):
    """DELETE every server, wait until gone; what is left anywhere.

    :returns: a list of problems (servers not gone, leftovers, usage).
    """
    for sid in ids:
        _admin(client, 'DELETE', '/servers/%s' % sid)
    deadline = time.monotonic() + WAIT_BASE_S + WAIT_PER_SERVER_S * len(ids)
    left = set(ids)
    while left and time.monotonic() < deadline:
        left &= set(_mine(client, left))
        if left:
            time.sleep(POLL_S)
    problems = ['%d server(s) not deleted' % len(left)] if left else []
    # The image each host cached for the boots goes in the image cache
    # pass, as in the lifecycle demo.
    cloud.image_cache_pass()
    held = cloud.leftovers()
    if held:
        problems.append('simulators hold %s' % held)
    # Usage is dropped when each compute finishes its delete; allow it
    # a moment to be written.
    deadline = time.monotonic() + 60.0
    usage = cloud.total_usage()
    while usage and time.monotonic() < deadline:
        time.sleep(POLL_S)
        usage = cloud.total_usage()
    if usage:
        problems.append('placement usage %s' % usage)
    return problems


def run(cloud, client, out, count=50, network='none', round_robin=True):
    """The scale demo; prints its table and phases.  True when passed.

    :param cloud: the running ``Cloud``.
    :param client: ``demo.ComputeClient`` (with an admin token).
    :param out: text stream.
    :param count: servers to boot at once.
    :param network: ``networks`` of the boots ('none' or 'auto').
    :param round_robin: ask for each host in turn (default); False lets
                        nova's scheduler place the servers.
    """
    hosts = sorted(cloud.computes, key=_host_key)
    # nova's default quotas stop at 10 instances and 20 cores a project.
    cloud.flags(instances=-1, cores=-1, ram=-1, group='quota')
    print('Scale: %d servers at once over %d compute(s) (%s).'
          % (count, len(hosts), 'round robin over nova:<host>'
             if round_robin else "nova's scheduler places them"), file=out)
    out.flush()
    times, problems, servers, failed = {}, [], [], []
    t0 = time.monotonic()
    try:
        servers, failed = boot_all(client, hosts, count,
                                   _networks(cloud, client, network),
                                   round_robin)
    except Exception as exc:
        LOG.exception('scale boot failed')
        problems.append('boot: %s' % exc)
    times['boot'] = time.monotonic() - t0
    for sid, status, fault in failed:
        print('  server %s: %s %s' % (sid, status, fault), file=out)
    if failed:
        problems.append('%d of %d server(s) did not become ACTIVE'
                        % (len(failed), count))
    t1 = time.monotonic()
    rows = []
    try:
        rows, bad = check_hosts(cloud, client, servers)
        problems.extend(bad)
    except Exception as exc:
        LOG.exception('scale check failed')
        problems.append('check: %s' % exc)
    times['check'] = time.monotonic() - t1
    t2 = time.monotonic()
    try:
        ids = [s['id'] for s in servers] + [f[0] for f in failed]
        problems.extend(delete_all(cloud, client, ids))
    except Exception as exc:
        LOG.exception('scale delete failed')
        problems.append('delete: %s' % exc)
    times['delete'] = time.monotonic() - t2
    print_rows(rows, out)
    spread = sorted(r[1] for r in rows)
    print('scale: servers=%d hosts=%d active=%d failed=%d boot_s=%.1f '
          'check_s=%.1f delete_s=%.1f per_host=%s'
          % (count, len(hosts), len(servers), len(failed), times['boot'],
             times['check'], times['delete'],
             ','.join(str(n) for n in spread)), file=out)
    for problem in problems:
        LOG.error('scale demo: %s', problem)
        print('FAILED: %s' % problem, file=out)
    return not problems


def print_rows(rows, out):
    """The per-host table, with a total line."""
    header = '%-12s  %7s  %10s  %14s  %19s' % (
        'host', 'servers', 'partitions', 'placement VCPU',
        'placement MEMORY_MB')
    print(header, file=out)
    print('-' * len(header), file=out)
    for row in rows:
        print('%-12s  %7d  %10d  %14d  %19d' % row, file=out)
    if rows:
        print('%-12s  %7d  %10d  %14d  %19d' % (
            ('total',) + tuple(sum(r[i] for r in rows)
                               for i in range(1, 5))), file=out)
