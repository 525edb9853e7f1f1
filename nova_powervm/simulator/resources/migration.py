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
(``POST /sim/migrate/in``) at ``TargetRemoteHMCIPAddress`` and the port
in ``Simulator.peer_port``.
"""

import json
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
        obj = accept(sim, pkg)
    except jobs.JobFailed as exc:
        raise registry.SimError(409, str(exc))
    return http.json_response({'uuid': obj.uuid})


def _check_source(sim, lpar):
    elem = lpar.elem
    if xu.text(elem, 'IsManagementPartition') == 'true':
        raise jobs.JobFailed('HSCLA27C The management partition cannot '
                             'be migrated.')
    if xu.text(elem, 'PartitionState') != 'running' or xu.text(
            elem, 'ResourceMonitoringControlState') != 'active':
        raise jobs.JobFailed('HSCLA319 The partition must be running with '
                             'an active RMC connection.')
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


def accept(sim, pkg):
    """Create a migrated partition (and its CNAs) on this simulator.

    :param sim: the destination Simulator.
    :param pkg: the dict made by the source.
    """
    with sim.store.lock:
        if sim.store.get(pkg['uuid']) is not None:
            raise jobs.JobFailed('HSCLA228 Partition exists on target.')
        storage = pkg.get('storage') or {'scsi': [], 'vfc': []}
        lpm_storage.check(sim, storage)
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
        lpm_storage.recreate(sim, obj, storage)
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


def _send(sim, params, pkg):
    target = params.get('TargetManagedSystemName')
    peer = PEERS.get(target)
    if peer is not None and peer is not sim:
        accept(peer, pkg)
        return
    host = params.get('TargetRemoteHMCIPAddress')
    if not host:
        raise jobs.JobFailed('HSCLA2A1 Target system %s not found.' % target)
    req = urllib.request.Request(
        'http://%s:%d/sim/migrate/in' % (host, sim.peer_port),
        data=json.dumps(dict(pkg, target=target)).encode(), method='POST')
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            resp.read()
    except OSError as exc:
        raise MigrationBroken('HSCLA2A2 Target %s unreachable: %s'
                              % (target, exc))


def migrate_validate(sim, lpar, params):
    """Validation only.

    :param sim: the Simulator.
    :param lpar: the LPAR.
    :param params: the job parameters.
    """
    _check_source(sim, lpar)
    target = params.get('TargetManagedSystemName')
    if target not in PEERS and not params.get('TargetRemoteHMCIPAddress'):
        raise jobs.JobFailed('HSCLA2A1 Target system %s not found.' % target)
    return {}


def migrate(sim, lpar, params):
    """Move a running partition to the target simulator.

    The transfer runs without the source's store lock: the source keeps
    serving meanwhile, and two hosts migrating to each other at once
    cannot deadlock.

    :param sim: the source Simulator.
    :param lpar: the LPAR.
    :param params: the job parameters.
    """
    _check_source(sim, lpar)
    pkg = _package(sim, lpar)
    xu.set_text(lpar.elem, 'MigrationState', 'Migration_Starting')
    sim.store.touch(lpar)

    def finish(error):
        if error is not None:
            # Refused by the destination's checks: nothing moved.  Broken
            # mid-way: the partition needs MigrateRecover.
            state = ('Migration_Failed' if isinstance(error, MigrationBroken)
                     else 'Not_Migrating')
            xu.set_text(lpar.elem, 'MigrationState', state)
            sim.store.touch(lpar)
            raise error
        href = sim.href(lpar)
        lpm_storage.remove_source(sim, lpar)
        sim.store.remove(lpar)
        sim.emit('DELETE_URI', href)
        return {}

    return jobs.Outside(lambda: _send(sim, params, pkg), finish)


def migrate_abort(sim, lpar, params):
    """Abort: only meaningful while a migration is running.

    :param sim: the Simulator.
    :param lpar: the LPAR.
    :param params: unused.
    """
    if xu.text(lpar.elem, 'MigrationState') in (None, 'Not_Migrating'):
        raise jobs.JobFailed('HSCLA2D0 No migration in progress.')
    xu.set_text(lpar.elem, 'MigrationState', 'Not_Migrating')
    sim.store.touch(lpar)
    return {}


def migrate_recover(sim, lpar, params):
    """Recover a failed migration.

    :param sim: the Simulator.
    :param lpar: the LPAR.
    :param params: ``Force``.
    """
    xu.set_text(lpar.elem, 'MigrationState', 'Not_Migrating')
    sim.store.touch(lpar)
    return {}


def close_vterm(sim, lpar, params):
    """Close the partition's terminal (remote API mode).

    :param sim: the Simulator.
    :param lpar: the LPAR.
    :param params: unused.
    """
    sim.vterms.close(lpar.uuid)
    return {}
