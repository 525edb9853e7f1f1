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
"""Live partition mobility between simulator instances.

Simulators in one process find each other by system name; otherwise the
source posts the partition to the destination's admin API
(``POST /sim/migrate/in``) at ``TargetRemoteHMCIPAddress`` (``host`` or
``host:port``; the port defaults to ``Simulator.peer_port``).

A running partition with an active RMC connection migrates live, a
partition that is ``not activated`` migrates inactive.  The transfer
takes ``Simulator.lpm_seconds`` (0 by default) on a thread of its own:
meanwhile the job stays RUNNING, the partition shows
``MigrationState=Migration_In_Progress`` and its
``ProgressPartitionDataTotal``/``ProgressPartitionDataRemaining`` (bytes
of memory) count down, and a ``MigrateAbort`` job stops it: the migrate
job fails with HSCLA2D1 and the partition stays on the source as it was.
Once the partition reached the destination an abort is refused.  A
transfer broken mid-way leaves ``Migration_Failed`` until
``MigrateRecover``.  Events: ``MODIFY_URI`` of the partition on the source
when the migration starts and ends, ``DELETE_URI`` on the source and
``ADD_URI`` on the destination when it moves.
"""

import json
import threading
import urllib.error
import urllib.request
import weakref

from lxml import etree

from nova_powervm.simulator import http
from nova_powervm.simulator import jobs
from nova_powervm.simulator import model
from nova_powervm.simulator import registry
from nova_powervm.simulator.resources import lpar as sim_lpar
from nova_powervm.simulator.resources import lpm_storage
from nova_powervm.simulator.resources import system
from nova_powervm.simulator import xmlutil as xu

PEERS = weakref.WeakValueDictionary()

# Partition UUID -> abort Event of the transfer in flight.
_INFLIGHT = {}
_INFLIGHT_LOCK = threading.Lock()
_PROGRESS_STEP = 0.1


class MigrationBroken(jobs.JobFailed):
    """The migration failed after it started (needs MigrateRecover)."""


def register_peer(sim):
    """Make a simulator reachable by its system name.

    :param sim: the Simulator.
    """
    PEERS[sim.inventory.system_name] = sim


def unregister_peer(sim):
    """Forget a closed simulator: nothing may migrate into it.

    :param sim: the Simulator.
    """
    if PEERS.get(sim.inventory.system_name) is sim:
        del PEERS[sim.inventory.system_name]


def admin_request(sim, req, parts):
    """``admin`` hook: ``POST /sim/migrate/in`` (a peer's partition).

    :param sim: the Simulator.
    :param req: the request.
    :param parts: path segments after ``/sim``.
    """
    if req.method != 'POST' or parts != ['migrate', 'in']:
        return None
    pkg = req.json()
    if pkg.get('target') != sim.inventory.system_name:
        raise registry.SimError(404, 'This is not %s' % pkg.get('target'))
    try:
        if pkg.get('validate'):
            _check_target(sim, pkg)
            return http.json_response({})
        obj = accept(sim, pkg)
    except jobs.JobFailed as exc:
        raise registry.SimError(409, str(exc))
    return http.json_response({'uuid': obj.uuid})


def _check_source(sim, lpar):
    elem = lpar.elem
    if xu.text(elem, 'IsManagementPartition') == 'true':
        raise jobs.JobFailed('HSCLA27C The management partition cannot '
                             'be migrated.')
    state = xu.text(elem, 'PartitionState')
    if state != 'not activated' and (state != 'running' or xu.text(
            elem, 'ResourceMonitoringControlState') != 'active'):
        raise jobs.JobFailed('HSCLA319 The partition must be running with '
                             'an active RMC connection (live migration) '
                             'or not activated (inactive migration); it is '
                             '%s.' % state)
    if xu.text(elem, 'MigrationState', 'Not_Migrating') != 'Not_Migrating':
        raise jobs.JobFailed('HSCLA2CF A migration is already in progress.')


def _package(sim, lpar):
    cnas = [etree.tostring(c.elem).decode()
            for c in sim.store.children('ClientNetworkAdapter', lpar.uuid)]
    switches = {}
    for cna in sim.store.children('ClientNetworkAdapter', lpar.uuid):
        vsw = system.vswitch_by_id(sim, xu.text(cna.elem,
                                                'VirtualSwitchID'))
        switches[cna.uuid] = xu.text(vsw.elem, 'SwitchName') if vsw else ''
    return {'uuid': lpar.uuid, 'lpar': etree.tostring(lpar.elem).decode(),
            'storage': lpm_storage.describe(sim, lpar),
            'cnas': cnas, 'cna_uuids': [
                c.uuid for c in sim.store.children('ClientNetworkAdapter',
                                                   lpar.uuid)],
            'switches': switches}


def _check_target(sim, pkg):
    if sim.store.get(pkg['uuid']) is not None:
        raise jobs.JobFailed('HSCLA228 Partition exists on target.')
    lpm_storage.check(sim, pkg.get('storage') or {'scsi': [], 'vfc': []},
                      pkg.get('params'))


def accept(sim, pkg):
    """Create a migrated partition (and its CNAs) on this simulator.

    :param sim: the destination Simulator.
    :param pkg: the dict made by the source.
    """
    with sim.store.lock:
        _check_target(sim, pkg)
        storage = pkg.get('storage') or {'scsi': [], 'vfc': []}
        elem = xu.clean(etree.fromstring(pkg['lpar'].encode()))
        pid = sim_lpar.next_partition_id(sim)
        xu.set_text(elem, 'PartitionID', pid)
        xu.set_text(elem, 'MigrationState', 'Not_Migrating')
        xu.find(elem, 'AssociatedManagedSystem').set('href', sim.ms_href())
        obj = model.Obj('LogicalPartition', pkg['uuid'], elem,
                        ('ManagedSystem', sim.sys_uuid))
        sim_lpar.sync_partition(obj)
        sim.store.add(obj)
        sim.emit('ADD_URI', obj)
        for uuid, text in zip(pkg['cna_uuids'], pkg['cnas']):
            _accept_cna(sim, obj, pid, uuid, text,
                        pkg['switches'].get(uuid))
        lpm_storage.recreate(sim, obj, storage, pkg.get('params'))
        return obj


def _accept_cna(sim, lpar, pid, uuid, text, switch_name):
    elem = xu.clean(etree.fromstring(text.encode()))
    vsw = None
    for cand in sim.store.all('VirtualSwitch'):
        if xu.text(cand.elem, 'SwitchName') == switch_name:
            vsw = cand
    if vsw is None:
        vsw = sim.store.first('VirtualSwitch')
    xu.set_text(elem, 'LocalPartitionID', pid)
    xu.set_text(elem, 'VirtualSwitchID', xu.text(vsw.elem, 'SwitchID'))
    xu.find(elem, 'AssociatedVirtualSwitch/link').set('href', sim.href(vsw))
    slot = xu.text(elem, 'VirtualSlotNumber')
    for field in ('DynamicReconfigurationConnectorName', 'LocationCode'):
        xu.set_text(elem, field, 'U%s-V%s-C%s' % (
            sim.inventory.loc_prefix, pid, slot))
    vnet = system.ensure_vnet(sim, vsw, int(xu.text(elem, 'PortVLANID')))
    nets = xu.find(elem, 'VirtualNetworks')
    for child in list(nets):
        nets.remove(child)
    xu.sub(nets, 'link', href=sim.href(vnet), rel='related')
    sim.store.add(model.Obj('ClientNetworkAdapter', uuid, elem,
                            ('LogicalPartition', lpar.uuid)))


def _peer_address(sim, params):
    """(host, port) of the destination's simulator, from the job."""
    addr = params.get('TargetRemoteHMCIPAddress')
    target = params.get('TargetManagedSystemName')
    if not addr:
        raise jobs.JobFailed('HSCLA2A1 Target system %s not found.' % target)
    host, _sep, port = addr.rpartition(':')
    if host and port.isdigit() and not host.endswith(':'):
        return host.strip('[]'), int(port)
    return addr.strip('[]'), sim.peer_port


def _local_peer(sim, params):
    target = params.get('TargetManagedSystemName')
    if target == sim.inventory.system_name:
        raise jobs.JobFailed('HSCLA2A3 The source and target systems are '
                             'the same (%s).' % target)
    return PEERS.get(target)


def _send(sim, params, pkg, validate=False):
    target = params.get('TargetManagedSystemName')
    pkg = dict(pkg, params=params)
    peer = _local_peer(sim, params)
    if peer is not None:
        if validate:
            with peer.store.lock:
                _check_target(peer, pkg)
        else:
            accept(peer, pkg)
        return
    host, port = _peer_address(sim, params)
    req = urllib.request.Request(
        'http://%s:%d/sim/migrate/in' % (host, port),
        data=json.dumps(dict(pkg, target=target,
                             validate=validate)).encode(), method='POST')
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            resp.read()
    except urllib.error.HTTPError as exc:
        # The destination answered: a refusal, not a broken transfer.
        msg = exc.read().decode(errors='replace')
        raise jobs.JobFailed('HSCLA2A4 Target %s refused the partition: %s'
                             % (target, msg))
    except OSError as exc:
        raise MigrationBroken('HSCLA2A2 Target %s unreachable: %s'
                              % (target, exc))


def migrate_validate(sim, lpar, params):
    """Validation only: the source's and the destination's checks.

    :param sim: the Simulator.
    :param lpar: the LPAR.
    :param params: the job parameters.
    """
    _check_source(sim, lpar)
    pkg = _package(sim, lpar)
    return jobs.Outside(lambda: _send(sim, params, pkg, validate=True),
                        _finish_validate)


def _finish_validate(error):
    if error is not None:
        raise jobs.JobFailed(str(error))
    return {}


def _progress(sim, lpar, total, remaining, state):
    with sim.store.lock:
        xu.set_text(lpar.elem, 'ProgressPartitionDataTotal', total)
        xu.set_text(lpar.elem, 'ProgressPartitionDataRemaining', remaining)
        xu.set_text(lpar.elem, 'MigrationState', state)
        sim.store.touch(lpar)


def _transfer(sim, lpar, params, pkg, abort):
    """Copy the memory (in steps, abortable), then hand the partition over.

    Runs without the store lock (see :class:`jobs.Outside`).
    """
    seconds = float(getattr(sim, 'lpm_seconds', 0.0) or 0.0)
    running = xu.text(lpar.elem, 'PartitionState') == 'running'
    total = (int(xu.text(lpar.elem, 'PartitionMemoryConfiguration/'
                         'CurrentMemory') or 0) * 1024 * 1024
             if running else 0)
    steps = max(1, int(seconds / _PROGRESS_STEP)) if seconds else 0
    _progress(sim, lpar, total, total, 'Migration_In_Progress')
    for done in range(1, steps + 1):
        if abort.wait(seconds / steps):
            raise MigrationAborted('HSCLA2D1 The migration was aborted.')
        _progress(sim, lpar, total, total - total * done // steps,
                  'Migration_In_Progress')
    with _INFLIGHT_LOCK:
        if abort.is_set():
            raise MigrationAborted('HSCLA2D1 The migration was aborted.')
        # From here on the destination owns the partition: too late.
        _INFLIGHT.pop(lpar.uuid, None)
    _send(sim, params, pkg)


class MigrationAborted(jobs.JobFailed):
    """MigrateAbort stopped the transfer: nothing moved."""


def migrate(sim, lpar, params):
    """Move a partition to the target simulator.

    The transfer runs on a thread of its own without the source's store
    lock: the source keeps serving meanwhile (polls of the job, progress
    of the partition, an abort), and two hosts migrating to each other at
    once cannot deadlock.

    :param sim: the source Simulator.
    :param lpar: the LPAR.
    :param params: the job parameters.
    """
    _check_source(sim, lpar)
    pkg = _package(sim, lpar)
    _local_peer(sim, params)
    # Malformed placement parameters fail before anything starts.
    lpm_storage.parse_mappings(params.get('VirtualSCSIMappings'),
                               'VirtualSCSIMappings')
    lpm_storage.parse_mappings(params.get('VirtualFCMappings'),
                               'VirtualFCMappings')
    abort = threading.Event()
    with _INFLIGHT_LOCK:
        _INFLIGHT[lpar.uuid] = abort
    xu.set_text(lpar.elem, 'MigrationState', 'Migration_Starting')
    sim.store.touch(lpar)
    sim.emit('MODIFY_URI', lpar)

    def finish(error):
        with _INFLIGHT_LOCK:
            _INFLIGHT.pop(lpar.uuid, None)
        xu.set_text(lpar.elem, 'ProgressPartitionDataRemaining', 0)
        if error is not None:
            # Refused by the destination's checks or aborted: nothing
            # moved.  Broken mid-way: the partition needs MigrateRecover.
            state = ('Migration_Failed' if isinstance(error, MigrationBroken)
                     else 'Not_Migrating')
            xu.set_text(lpar.elem, 'MigrationState', state)
            sim.store.touch(lpar)
            sim.emit('MODIFY_URI', lpar)
            raise error
        href = sim.href(lpar)
        lpm_storage.remove_source(sim, lpar)
        sim.store.remove(lpar)
        sim.emit('DELETE_URI', href)
        return {}

    return jobs.Outside(lambda: _transfer(sim, lpar, params, pkg, abort),
                        finish, background=True)


def migrate_abort(sim, lpar, params):
    """Abort: only meaningful while a migration is running.

    :param sim: the Simulator.
    :param lpar: the LPAR.
    :param params: unused.
    """
    with _INFLIGHT_LOCK:
        abort = _INFLIGHT.get(lpar.uuid)
        if abort is None:
            raise jobs.JobFailed('HSCLA2D0 No migration in progress for '
                                 'this partition.')
        abort.set()
    # The migrate job ends (failed, HSCLA2D1) and resets MigrationState.
    return {}


def migrate_recover(sim, lpar, params):
    """Recover a failed migration.

    :param sim: the Simulator.
    :param lpar: the LPAR.
    :param params: ``Force``.
    """
    state = xu.text(lpar.elem, 'MigrationState', 'Not_Migrating')
    with _INFLIGHT_LOCK:
        busy = lpar.uuid in _INFLIGHT
    if busy:
        raise jobs.JobFailed('HSCLA2D2 The migration is still running: '
                             'abort it first.')
    if state == 'Not_Migrating' and params.get('Force') != 'true':
        raise jobs.JobFailed('HSCLA2D0 No migration to recover.')
    xu.set_text(lpar.elem, 'MigrationState', 'Not_Migrating')
    sim.store.touch(lpar)
    sim.emit('MODIFY_URI', lpar)
    return {}


def close_vterm(sim, lpar, params):
    """Close the partition's terminal (remote API mode).

    :param sim: the Simulator.
    :param lpar: the LPAR.
    :param params: unused.
    """
    sim.vterms.close(lpar.uuid)
    return {}
