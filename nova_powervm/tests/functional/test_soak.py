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
"""Soak: seeded random operations on two hosts, with faults injected.

Two computes share a Shared Storage Pool (so servers can move) and a
simulated SAN (volumes).  Each step picks an operation the current
servers allow (boot, delete, stop, start, reboot, snapshot, resize,
migrate, volume attach and detach) and, at ``PVM_SOAK_FAULT_RATE``,
first injects one fault in a simulator: a transient one the driver
retries (a 412, a busy VIOS) or, more rarely, a failed job, after which
the operation may fail with a fault the user can read.  After each step
every server must be as the model says: its status, no task state left.
At the end: placement's usage of each host equals the partitions its
simulator holds, and once every server is deleted nothing is left.

``PVM_SOAK_OPS`` (default 30) operations, ``PVM_SOAK_SEED`` (default:
random, printed) seeds the choice; ``tools/soak.py`` runs the long form
and prints the report.
"""

import collections
import json
import os
import random
import sys
import time

import fixtures
from nova.cmd import manage
from nova import context as nova_context
from nova import objects
from testtools import content

from nova_powervm.sandbox import cloud
from nova_powervm.tests.functional import test_volumes

FLAVORS = (dict(memory_mb=512, vcpu=1, disk=1, ephemeral=0),
           dict(memory_mb=1024, vcpu=2, disk=1, ephemeral=0))
HOSTS = ('host1', 'host2')
MAX_SERVERS = 4
MAX_VOLUMES = 2
#: Seconds a snapshot may take (a loaded machine needs minutes).
SNAPSHOT_WAIT = 300
#: Seconds any other operation may take before the server counts as
#: stuck: at a load average near 100 (the 200-operation run of seed 4242)
#: each API call took 3 to 18 s and a cold migration's resize_finish
#: alone passed a minute while it progressed.
SETTLE_WAIT = 300

#: Faults the driver rides through (retries): kind, method, path.
TRANSIENT = (
    dict(kind='etag_conflict', method='POST', path='VirtualIOServer/'),
    dict(kind='vios_busy', method='POST', path='VirtualIOServer/'),
    dict(kind='etag_conflict', method='POST', path='LogicalPartition/'),
)
#: Faults an operation may fail on (rarer).
HARD = (
    dict(kind='job_fail', job='PowerOn'),
    dict(kind='job_fail', job='PowerOff'),
    dict(kind='http', status=500, method='PUT', path='LogicalPartition$'),
)


def settings():
    """Operations, seed and fault rate from the environment."""
    seed = os.environ.get('PVM_SOAK_SEED') or str(random.randrange(10 ** 6))
    return (int(os.environ.get('PVM_SOAK_OPS', '30')), int(seed),
            float(os.environ.get('PVM_SOAK_FAULT_RATE', '0.1')))


class TestSoak(test_volumes.VolumeTestCase):

    microversion = '2.79'

    def setUp(self):
        super().setUp()
        self.flags(disk_driver='ssp', group='powervm')
        pool_dir = self.useFixture(fixtures.TempDir()).path
        for host in HOSTS:
            self.start_compute(host, san_dir=self.san_dir, pool_dir=pool_dir,
                               mode='server')
        self.san = self.cinder.san = self.simulators['host1'].san_client()
        # Each compute detaches volumes as itself (nova compares the
        # server's host with the one CONF.host of the process).
        cloud.Cloud._local_volume_detach(self)
        self.flavors = [self._create_flavor(**f) for f in FLAVORS]
        self.sizes = {fid: (f['vcpu'], f['memory_mb'])
                      for fid, f in zip(self.flavors, FLAVORS)}
        #: ``{server id: {'status', 'flavor', 'volumes'}}``
        self.model = {}
        self.counts = collections.Counter()
        #: The fault injected before the current operation, or None.
        self.fault = None
        self.log = []

    # -- faults -----------------------------------------------------------
    def maybe_fault(self, rng, rate):
        """Maybe inject one fault, in both simulators (whichever serves)."""
        self.fault = None
        if rng.random() >= rate:
            return None
        hard = rng.random() < 0.25
        spec = dict(rng.choice(HARD if hard else TRANSIENT), count=1)
        for host in HOSTS:
            self.simulators[host].add_fault(**spec)
        self.counts['faults injected'] += 1
        self.fault = spec
        return spec

    def end_fault(self, spec):
        if spec is None:
            return ''
        hit = [host for host in HOSTS
               if not self.simulators[host].sim.faults.list()]
        for host in HOSTS:
            self.simulators[host].clear_faults()
        name = spec.get('job') or '%s %s' % (spec['kind'], spec.get(
            'path', ''))
        if not hit:
            return ' [fault %s: not hit]' % name
        self.counts['faults hit'] += 1
        return ' [fault %s: hit on %s]' % (name, ', '.join(hit))

    # -- operations -------------------------------------------------------
    def servers(self, rng, status=None, volumes=None):
        ids = sorted(sid for sid, s in self.model.items()
                     if (status is None or s['status'] == status) and
                     (volumes is None or bool(s['volumes']) == volumes))
        return rng.choice(ids) if ids else None

    def settle(self, sid, timeout=SETTLE_WAIT, also=()):
        """Wait until the server has no task state; return it.

        :param also: statuses to wait out too.
        """
        deadline = time.monotonic() + timeout
        while True:
            server = self.api.get_server(sid)
            if (server['OS-EXT-STS:task_state'] is None and
                    server['status'] not in ('BUILD', 'RESIZE', 'MIGRATING',
                                             'REBOOT', 'HARD_REBOOT') + also):
                return server
            if time.monotonic() > deadline:
                self.fail('server %s stuck in %s/%s' % (
                    sid, server['status'], server['OS-EXT-STS:task_state']))
            time.sleep(0.1)

    def fail_to_error(self, sid, server):
        """A server an injected fault put in ERROR: deleted, as users do."""
        self.counts['servers in ERROR (deleted)'] += 1
        self.delete(server)
        self.model.pop(sid)
        self.reap()
        return 'ERROR -> deleted' + self.audit_placement(sid)

    def audit_placement(self, sid):
        """``nova-manage placement audit --delete`` after a failed move.

        A move that fails after nova moved the source's allocation to the
        migration record (a revert whose destination fails) puts the
        server in ERROR; deleting it removes the server's allocation but
        not the migration's (nova's bookkeeping: the resource tracker
        keeps allocations of migrations it cannot tell apart from ones in
        flight).  Operators remove them with nova's placement audit; the
        soak does the same and checks that what it removed belonged to a
        failed migration of this server, nothing else.
        """
        ctx = nova_context.get_admin_context(read_deleted='yes')
        before = self.consumers()
        with fixtures.MonkeyPatch('sys.stdout', open(os.devnull, 'w')):
            manage.PlacementCommands().audit(delete=True)
        removed = {consumer for _host, consumer in
                   before - self.consumers()}
        if not removed:
            return ''
        # The server's migrations were deleted with it.
        failed = {m.uuid for m in objects.MigrationList.get_by_filters(
            ctx, {'instance_uuid': sid}) if m.status in ('error', 'failed')}
        self.assertEqual(set(), removed - failed,
                         'placement audit removed allocations of consumers '
                         'other than failed migrations of %s' % sid)
        self.counts['allocations of failed migrations audited'] += len(
            removed)
        return ', audit removed a failed migration\'s allocation'

    def consumers(self):
        """``{(host, consumer)}`` of every allocation on the hosts."""
        return {(host, consumer) for host in HOSTS
                for consumer in self._get_allocations_by_provider_uuid(
                    self._get_provider_uuid_by_host(host))}

    def reap(self):
        """nova's periodic clean-up of partitions of deleted servers.

        A move that failed on its destination leaves the stopped source
        partition; nova deletes it (``running_deleted_instance_action``
        = reap) in a periodic task, which functional tests do not run on
        their own.
        """
        ctx = nova_context.get_admin_context()
        for host in HOSTS:
            self.computes[host].manager._cleanup_running_deleted_instances(
                ctx)

    def op_boot(self, rng):
        flavor = rng.choice(self.flavors)
        body = self._build_server(
            image_uuid=test_volumes.images.DEFAULT_IMAGE_ID,
            flavor_id=flavor, networks='none')
        sid = self.api.post_server({'server': body})['id']
        server = self.settle(sid)
        if server['status'] == 'ERROR':
            self.model[sid] = {}
            return self.fail_to_error(sid, server)
        self.assertEqual('ACTIVE', server['status'])
        self.model[sid] = {'status': 'ACTIVE', 'flavor': flavor,
                           'volumes': []}
        return 'ACTIVE on %s' % server['OS-EXT-SRV-ATTR:host']

    def op_delete(self, rng):
        sid = self.servers(rng)
        for vol in self.model[sid]['volumes']:
            self.cinder.luns.pop(vol, None)
        self.delete({'id': sid})
        self.model.pop(sid)
        return 'deleted'

    def _power(self, rng, status, action, expected):
        sid = self.servers(rng, status)
        self.api.post_server_action(sid, action)
        return sid, self.settle(sid), expected

    def _check(self, sid, server, expected):
        if server['status'] == 'ERROR':
            return self.fail_to_error(sid, server)
        if server['status'] != expected:
            # A refused or failed action leaves the server as it was.
            self.assertEqual(self.model[sid]['status'], server['status'],
                             server.get('fault'))
            self.counts['actions failed, server unchanged'] += 1
            return '%s (action failed: %s)' % (
                server['status'], (server.get('fault') or {}).get('message'))
        self.model[sid]['status'] = expected
        return expected

    def op_stop(self, rng):
        return self._check(*self._power(rng, 'ACTIVE', {'os-stop': None},
                                        'SHUTOFF'))

    def op_start(self, rng):
        return self._check(*self._power(rng, 'SHUTOFF', {'os-start': None},
                                        'ACTIVE'))

    def op_reboot(self, rng):
        kind = rng.choice(('SOFT', 'HARD'))
        return kind + ' ' + self._check(*self._power(
            rng, 'ACTIVE', {'reboot': {'type': kind}}, 'ACTIVE'))

    def op_snapshot(self, rng):
        sid = self.servers(rng)
        status = self.model[sid]['status']
        resp = self.api.post_server_action(
            sid, {'createImage': {'name': 'soak-%d' % len(self.log)}})
        # The whole (sparse) 1 GiB boot disk is read and uploaded.
        server = self.settle(sid, timeout=SNAPSHOT_WAIT)
        out = self._check(sid, server, status)
        try:
            image = self.glance.show(None, resp['image_id'])
        except Exception:
            why = self.last_fault(sid)
            # Only an injected fault may fail a snapshot.
            self.assertIsNotNone(self.fault, 'snapshot of %s failed with '
                                 'no fault injected: %s' % (sid, why))
            self.counts['snapshots failed'] += 1
            return out + ', no image (failed: %s)' % why
        self.glance.delete(None, resp['image_id'])
        return out + ', image %s' % image['status']

    @staticmethod
    def last_fault(sid):
        """The message of the server's last instance fault (or None).

        A failed snapshot leaves the server ACTIVE: its fault is recorded
        but the API shows it only for a server in ERROR.
        """
        fault = objects.InstanceFault.get_latest_for_instance(
            nova_context.get_admin_context(), sid)
        return fault.message if fault else None

    def _move(self, rng, action, sid=None):
        sid = sid or self.servers(rng, volumes=False)
        before = self.api.get_server(sid)
        status = self.model[sid]['status']
        self.api.post_server_action(sid, action)
        server = self.settle(sid)
        if server['status'] != 'VERIFY_RESIZE':
            return self._check(sid, server, status)
        finish = rng.choice(('confirmResize', 'revertResize'))
        self.api.post_server_action(sid, {finish: None})
        server = self.settle(sid, also=('VERIFY_RESIZE', 'REVERT_RESIZE'))
        if finish == 'confirmResize' and 'resize' in action:
            self.model[sid]['flavor'] = action['resize']['flavorRef']
        return '%s -> %s, %s %s' % (
            before['OS-EXT-SRV-ATTR:host'], server['OS-EXT-SRV-ATTR:host'],
            finish, self._check(sid, server, status))

    def op_resize(self, rng):
        sid = self.servers(rng, volumes=False)
        other = [f for f in self.flavors if f != self.model[sid]['flavor']]
        return self._move(rng, {'resize': {'flavorRef': other[0]}}, sid)

    def op_migrate(self, rng):
        return self._move(rng, {'migrate': None})

    def op_attach(self, rng):
        sid = self.servers(rng)
        vol = self.cinder.add()
        event = self.run_tolerant(sid, 'attach_volume', 'POST',
                                  '/servers/%s/os-volume_attachments' % sid,
                                  {'volumeAttachment': {'volumeId': vol}})
        if event.result == 'Success':
            self.model[sid]['volumes'].append(vol)
        else:
            self.counts['actions failed, server unchanged'] += 1
        return 'attach %s' % event.result

    def op_detach(self, rng):
        sid = rng.choice(sorted(s for s, m in self.model.items()
                                if m['volumes']))
        vol = self.model[sid]['volumes'][0]
        event = self.run_tolerant(
            sid, 'detach_volume', 'DELETE',
            '/servers/%s/os-volume_attachments/%s' % (sid, vol))
        if event.result == 'Success':
            self.model[sid]['volumes'].remove(vol)
        else:
            self.counts['actions failed, server unchanged'] += 1
        return 'detach %s' % event.result

    def run_tolerant(self, sid, action, method, path, body=None):
        """Call the API; wait for the compute's event (any result)."""
        server = {'id': sid, 'status': self.model[sid]['status']}
        before = len(self._events(server, action))
        if method == 'POST':
            self.api.api_post(path, body)
        else:
            self.api.api_delete(path)
        deadline = time.monotonic() + SETTLE_WAIT
        while time.monotonic() < deadline:
            events = self._events(server, action)
            if len(events) > before:
                self.settle(sid)
                time.sleep(0.2)
                return events[-1]
            time.sleep(0.1)
        self.fail('%s of server %s did not end' % (action, sid))

    def choices(self):
        """Operations the model allows now, with their weights."""
        have = len(self.model)
        statuses = collections.Counter(s['status']
                                       for s in self.model.values())
        movable = [s for s in self.model.values() if not s['volumes']]
        vols = sum(len(s['volumes']) for s in self.model.values())
        ops = []
        if have < MAX_SERVERS:
            ops.append(('boot', 4 if have < 2 else 2))
        if have:
            ops += [('delete', 1), ('snapshot', 1)]
            if vols < MAX_VOLUMES:
                ops.append(('attach', 1))
        if statuses['ACTIVE']:
            ops += [('stop', 2), ('reboot', 2)]
        if statuses['SHUTOFF']:
            ops.append(('start', 3))
        if movable:
            ops += [('resize', 2), ('migrate', 2)]
        if vols:
            ops.append(('detach', 2))
        return ops

    # -- checks -----------------------------------------------------------
    def check_model(self):
        for sid, want in self.model.items():
            server = self.api.get_server(sid)
            self.assertEqual((want['status'], None),
                             (server['status'],
                              server['OS-EXT-STS:task_state']), sid)

    def check_placement_matches_simulators(self):
        """Each host's usage is what its partitions hold; one per server."""
        where = collections.defaultdict(list)
        for sid in self.model:
            server = self.api.get_server(sid)
            where[server['OS-EXT-SRV-ATTR:host']].append(server)
        for host in HOSTS:
            lpars = self.lpars(host)
            self.assertEqual(
                sorted(s['OS-EXT-SRV-ATTR:instance_name']
                       for s in where[host]),
                sorted(lp['name'] for lp in lpars), host)
            usage = self.usage(host)
            self.assertEqual(
                (sum(lp['vcpus'] for lp in lpars),
                 sum(lp['memory_mb'] for lp in lpars)),
                (usage['VCPU'], usage['MEMORY_MB']), host)
            self.assertEqual(
                sum(self.sizes[self.model[s['id']]['flavor']][0]
                    for s in where[host]), usage['VCPU'], host)

    def test_a_failed_revert_leaves_only_what_the_audit_removes(self):
        # The revert's destroy on the destination fails twice (its power
        # off and the retry): the server goes to ERROR with the source's
        # allocation held by the migration.
        self.op_boot(random.Random(0))
        sid = next(iter(self.model))
        source = self.api.get_server(sid)['OS-EXT-SRV-ATTR:host']
        dest = [h for h in HOSTS if h != source][0]
        self.api.post_server_action(sid, {'migrate': {'host': dest}})
        server = self.settle(sid)
        self.assertEqual('VERIFY_RESIZE', server['status'])
        self.simulators[dest].add_fault(kind='job_fail', job='PowerOff',
                                        count=2)
        self.api.post_server_action(sid, {'revertResize': None})
        server = self.settle(sid, also=('VERIFY_RESIZE', 'REVERT_RESIZE'))
        self.simulators[dest].clear_faults()
        self.assertEqual('ERROR', server['status'])
        out = self.fail_to_error(sid, server)
        self.assertIn('audit removed', out)
        self.assertEqual(1, self.counts[
            'allocations of failed migrations audited'])
        for host in HOSTS:
            self.assert_no_usage(host)
            self.assert_sim_empty(host)

    def test_soak(self):
        ops, seed, rate = settings()
        sys.stderr.write('soak: %d operations, seed %d, fault rate %.2f\n'
                         % (ops, seed, rate))
        sys.stderr.flush()
        rng = random.Random(seed)
        started = time.monotonic()
        for step in range(ops):
            names, weights = zip(*self.choices())
            name = rng.choices(names, weights)[0]
            fault = self.maybe_fault(rng, rate)
            t0 = time.monotonic()
            out = getattr(self, 'op_' + name)(rng)
            out += self.end_fault(fault)
            self.counts[name] += 1
            self.log.append('%3d %-8s %5.1fs %s' % (
                step + 1, name, time.monotonic() - t0, out))
            sys.stderr.write('soak: %s\n' % self.log[-1])
            sys.stderr.flush()
            self.check_model()
        self.check_placement_matches_simulators()
        states = collections.Counter(s['status']
                                     for s in self.model.values())
        for sid in list(self.model):
            self.delete({'id': sid})
            self.model.pop(sid)
        for host in HOSTS:
            self.assert_no_usage(host)
            self.assert_sim_empty(host)
            self.assert_clean(host)
        report = {'seed': seed, 'operations': ops, 'fault_rate': rate,
                  'seconds': round(time.monotonic() - started, 1),
                  'counts': dict(sorted(self.counts.items())),
                  'left_at_end': dict(states), 'steps': self.log}
        text = json.dumps(report, indent=1)
        self.addDetail('soak', content.text_content(text))
        path = os.environ.get('PVM_SOAK_REPORT')
        if path:
            with open(path, 'w') as f:
                f.write(text + '\n')
        sys.stderr.write('soak: seed %d: %d operations in %.0f s, %s\n' % (
            seed, ops, report['seconds'], json.dumps(report['counts'])))
