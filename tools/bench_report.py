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
"""Budgets, ratios and the JSON / RST output of ``tools/bench.py``."""

import datetime
import json
import os
import platform

# REST round trips the driver may use (the unit tests' budgets; event
# long polls left out).  ``upload`` is: GET VG, POST VG, PUT File, PUT
# contents, DELETE File.  ``get_info_all`` is every get_info(use_cache=True)
# of one periodic pass: at most one LPAR feed read for the state snapshot
# (none when list_instance_uuids just refreshed it).
BUDGETS = {'init_host': 9, 'spawn': 12, 'get_info': 1, 'power_off': 4,
           'power_on': 4, 'reboot_soft': 4, 'reboot_hard': 4,
           'destroy': 10, 'upload': 5, 'get_available_resource': 3,
           'update_provider_tree': 0, 'list_instance_uuids': 1,
           'get_info_all': 1}

# The retired driver's counts for the same cases, from
# shared/research/novalink-rest-surface.md section 8 (8.0-8.3, 8.11;
# spawn_first is 8.1 "image not cached: +5").
RETIRED = {'init_host': 17, 'spawn': 22, 'spawn_first': 27, 'get_info': 1,
           'power_off': 4, 'power_on': 4, 'reboot_soft': 4,
           'reboot_hard': 4, 'destroy': 18, 'upload': 5,
           'get_available_resource': 3, 'list_instance_uuids': 1}

_OPS = ('init_host', 'spawn_first', 'spawn', 'get_info', 'power_off',
        'power_on', 'reboot_soft', 'reboot_hard', 'destroy')


def machine():
    """Where and when the run happened."""
    return {'date': datetime.datetime.now(datetime.timezone.utc).strftime(
                '%Y-%m-%d %H:%M UTC'),
            'cpus': os.cpu_count(), 'python': platform.python_version(),
            'platform': platform.platform(terse=True),
            'processor': platform.machine()}


def periodic_budget(lpars):
    """Round trips one periodic pass may use with ``lpars`` partitions.

    The same for any count: the get_info calls share one snapshot.
    """
    return (BUDGETS['get_available_resource'] +
            BUDGETS['update_provider_tree'] +
            BUDGETS['list_instance_uuids'] + BUDGETS['get_info_all'])


def over_budget(res):
    """``{name: (round trips, budget)}`` of everything over its budget."""
    over = {}
    for name, fig in res['ops'].items():
        if name in BUDGETS and fig['round_trips'] > BUDGETS[name]:
            over[name] = (fig['round_trips'], BUDGETS[name])
    for name, fig in res['periodic']['parts'].items():
        if name in BUDGETS and fig['round_trips'] > BUDGETS[name]:
            over[name] = (fig['round_trips'], BUDGETS[name])
    lpars = res['periodic']['lpars']
    if res['periodic']['total']['round_trips'] > periodic_budget(lpars):
        over['periodic'] = (res['periodic']['total']['round_trips'],
                            periodic_budget(lpars))
    for size in ('small', 'large'):
        if res['upload'][size]['round_trips'] > BUDGETS['upload']:
            over['upload_' + size] = (res['upload'][size]['round_trips'],
                                      BUDGETS['upload'])
    return over


def ratios(res):
    """Ratios measured in this one run (see the performance devref)."""
    ops = res['ops']
    latency = res['params']['latency_s']
    out = {'round_trips_vs_retired': {
        name: ops[name]['round_trips'] / float(RETIRED[name])
        for name in _OPS if name in ops}}
    out['latency_share_of_wall'] = {
        name: (ops[name]['round_trips'] * latency * 1000.0 /
               ops[name]['wall_ms']) for name in _OPS if name in ops}
    out['lifecycle_round_trips_vs_retired'] = (
        sum(ops[n]['round_trips'] for n in _OPS if n != 'spawn_first') /
        float(sum(RETIRED[n] for n in _OPS if n != 'spawn_first')))
    conc = res['concurrency']
    out['concurrent_spawn_speedup'] = (
        conc['concurrency'] * ops['spawn']['wall_ms'] /
        conc['spawn']['wall_ms'])
    out['concurrent_spawn_extra_round_trips'] = (
        conc['spawn']['round_trips'] -
        conc['concurrency'] * ops['spawn']['round_trips'])
    per = res['periodic']
    retired_periodic = (RETIRED['get_available_resource'] +
                        RETIRED['list_instance_uuids'] + per['lpars'])
    out['periodic_round_trips_vs_retired'] = (
        per['total']['round_trips'] / float(retired_periodic))
    out['periodic_ms_per_lpar'] = per['total']['wall_ms'] / per['lpars']
    upl = res['upload']
    out['upload_size_growth'] = upl['size_growth']
    out['upload_peak_memory_growth'] = upl['peak_growth']
    snap = res.get('snapshot')
    if snap:
        out['snapshot_vs_file_copy'] = (snap['mib_per_s'] /
                                        snap['copy_mib_per_s'])
    return out


def _table(headers, rows):
    """An RST simple table."""
    cells = [[str(c) for c in headers]] + [[_fmt(c) for c in row]
                                           for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    rule = '  '.join('=' * w for w in widths)
    lines = [rule, '  '.join(c.ljust(w) for c, w in zip(cells[0], widths)),
             rule]
    lines += ['  '.join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
              for row in cells[1:]]
    lines.append(rule)
    return '\n'.join(lines)


def _fmt(val):
    if val is None:
        return '-'
    if isinstance(val, float):
        return '%.1f' % val if abs(val) < 1000 else '%.0f' % val
    return str(val)


def _ops_table(res):
    rows = []
    for name in _OPS:
        fig = res['ops'][name]
        rows.append((name, fig['round_trips'], RETIRED.get(name),
                     BUDGETS.get(name), fig['wall_ms'], fig['thread_cpu_ms'],
                     fig['process_cpu_ms'], fig['peak_kib']))
    return _table(('operation', 'round trips', 'retired', 'budget',
                   'wall ms', 'driver CPU ms', 'process CPU ms',
                   'peak KiB'), rows)


def _other_tables(res):
    conc = res['concurrency']
    num = conc['concurrency']
    rows = [('%d spawns at once' % num, conc['spawn']['round_trips'],
             conc['spawn']['wall_ms'], conc['spawn']['thread_cpu_ms'],
             conc['spawn']['process_cpu_ms']),
            ('%d destroys at once' % num, conc['destroy']['round_trips'],
             conc['destroy']['wall_ms'], conc['destroy']['thread_cpu_ms'],
             conc['destroy']['process_cpu_ms'])]
    per = res['periodic']
    for name, fig in list(per['parts'].items()) + [('periodic pass total',
                                                    per['total'])]:
        rows.append((name, fig['round_trips'], fig['wall_ms'],
                     fig['thread_cpu_ms'], fig['process_cpu_ms']))
    first = _table(('work', 'round trips', 'wall ms', 'driver CPU ms',
                    'process CPU ms'), rows)
    urows = [('%.2f GiB' % (upl['bytes'] / 1024.0 ** 3), upl['round_trips'],
              upl['wall_ms'], upl['mib_per_s'], upl['thread_cpu_ms'],
              upl['process_cpu_ms'], upl['peak_kib'])
             for upl in (res['upload']['small'], res['upload']['large'])]
    second = _table(('image upload', 'round trips', 'wall ms', 'MiB/s',
                     'driver CPU ms', 'process CPU ms', 'peak KiB'), urows)
    return first, second


def render(res):
    """The results as RST text (tables and ratios)."""
    par, mach, rat = res['params'], res['machine'], res['ratios']
    conc_tab, upl_tab = _other_tables(res)
    lines = [
        'Run of %s on %s (%s CPUs, %s, Python %s): latency %.0f ms per '
        'request, %d timed life cycles (medians), %d concurrent spawns, '
        '%d partitions, %.2f GiB image; benchmark runtime %.0f s.' % (
            mach['date'], mach['platform'], mach['cpus'],
            mach['processor'], mach['python'], par['latency_s'] * 1000,
            par['repeat'], par['concurrency'], par['lpars'],
            par['image_gb'], res['runtime_s']),
        '', _ops_table(res), '', conc_tab, '', upl_tab, '',
        'Ratios (this run):', '',
        '* life cycle round trips (init_host .. destroy) vs the retired '
        'driver: %.2f' % rat['lifecycle_round_trips_vs_retired'],
        '* spawn round trips vs retired: %.2f; destroy: %.2f; init_host: '
        '%.2f' % tuple(rat['round_trips_vs_retired'][n]
                       for n in ('spawn', 'destroy', 'init_host')),
        '* share of spawn wall time that is NovaLink latency: %.0f %%'
        % (100 * rat['latency_share_of_wall']['spawn']),
        '* %d concurrent spawns vs %d serial: %.2fx faster '
        '(%.1f spawns/minute)' % (
            par['concurrency'], par['concurrency'],
            rat['concurrent_spawn_speedup'],
            res['concurrency']['spawns_per_minute']),
        '* round trips the concurrent spawns added over %d serial ones '
        '(412 etag retries on shared VIOS / volume group): %d' % (
            par['concurrency'], rat['concurrent_spawn_extra_round_trips']),
        '* periodic pass round trips vs retired: %.2f (%.1f ms per '
        'partition)' % (rat['periodic_round_trips_vs_retired'],
                        rat['periodic_ms_per_lpar']),
        '* image upload: size x%.0f, peak traced memory x%.2f (streamed)'
        % (rat['upload_size_growth'], rat['upload_peak_memory_growth'])]
    snap = res.get('snapshot')
    if snap:
        lines.append(
            '* snapshot of a %.2f GiB disk: %d round trips, %.0f MiB/s; a '
            'plain copy of its file in the same run: %.0f MiB/s (ratio '
            '%.2f)' % (snap['bytes'] / 1024.0 ** 3, snap['round_trips'],
                       snap['mib_per_s'], snap['copy_mib_per_s'],
                       rat['snapshot_vs_file_copy']))
    if res.get('storm'):
        lines += [''] + storm_table(res['storm'])
    over = over_budget(res)
    lines += ['', 'Over budget: %s' % (
        ', '.join('%s %d > %d' % (k, v[0], v[1])
                  for k, v in sorted(over.items())) or 'nothing')]
    return '\n'.join(lines) + '\n'


def storm_table(res):
    """The deploy storm (``bench_storm``) as RST lines: table, ratios."""
    single, storm, dest = res['single'], res['storm'], res['destroy']
    rows = [
        ('one spawn (median of %d)' % res['params']['singles'],
         '%.0f' % single['wall_ms'], '%.1f' % single['round_trips'],
         '%.1f' % single['driver_cpu_ms'], '--', '--'),
        ('%d spawns at once' % storm['spawns'], '%.0f' % storm['wall_ms'],
         '%.1f / spawn' % storm['round_trips_per_spawn'],
         '%.1f / spawn' % storm['driver_cpu_ms_per_spawn'],
         str(storm['failures']),
         ', '.join('%s %d' % item for item in
                   sorted(storm['etag_412'].items())) or 'none'),
        ('%d destroys at once' % storm['spawns'], '%.0f' % dest['wall_ms'],
         '%.1f / destroy' % (dest['round_trips'] / storm['spawns']),
         '%.1f / destroy' % (dest['driver_cpu_ms'] / storm['spawns']),
         str(dest['failures']),
         ', '.join('%s %d' % item for item in
                   sorted(dest['etag_412'].items())) or 'none')]
    heads = ('Deploy storm', 'Wall ms', 'REST', 'Driver CPU ms',
             'Failures', 'HTTP 412 by resource')
    widths = [max(len(str(row[i])) for row in rows + [heads])
              for i in range(len(heads))]
    rule = '  '.join('=' * w for w in widths)
    out = [rule, '  '.join(h.ljust(w) for h, w in zip(heads, widths)), rule]
    out += ['  '.join(str(c).ljust(w) for c, w in zip(row, widths))
            for row in rows]
    out += [rule, '',
            'Storm wall / one spawn: %.2f; driver CPU / spawn wall: %.1f%% '
            '(latency %.0f ms).' % (res['wall_ratio'],
                                    100 * res['driver_cpu_share_of_spawn'],
                                    1000 * res['params']['latency_s'])]
    return out


def write(res, outdir):
    """Write ``bench.json`` and ``bench.rst`` to ``outdir``; return RST."""
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, 'bench.json'), 'w') as fil:
        json.dump(res, fil, indent=2, sort_keys=True)
    text = render(res)
    with open(os.path.join(outdir, 'bench.rst'), 'w') as fil:
        fil.write(text)
    return text
