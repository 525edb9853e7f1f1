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
"""PCM: preferences and the long-term-monitor (LTM) feed with samples.

Samples are synthesized from the simulator's partitions: every running
partition uses 30% of its entitled processing units, is backed by all of
its memory, and each of its virtual Ethernet adapters moves
``NIC_BYTES_PER_SEC`` bytes each way (in ``NIC_PACKET``-byte packets), so
counters grow with wall-clock time like a real hypervisor's.
"""

import copy
import datetime
import json
import time

from lxml import etree

from nova_powervm.simulator import http
from nova_powervm.simulator import registry
from nova_powervm.simulator import render
from nova_powervm.simulator.resources import system
from nova_powervm.simulator import templates as tpl
from nova_powervm.simulator import xmlutil as xu

INTERVAL = 30
CYCLES = 512000000
LOAD = 0.3
NIC_BYTES_PER_SEC = 1500
NIC_PACKET = 1500
_TEMPLATE = json.loads(tpl.read_capture('phyp_pcm_data.txt'))


def _stamp(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)


def _part_util(sim, obj, epoch, started):
    elem = obj.elem
    units = float(obj.extra.get('proc_units', 0.1))
    running = xu.text(elem, 'PartitionState') == 'running'
    elapsed = max(epoch - started, 0)
    entitled = int(units * CYCLES * elapsed)
    used = int(entitled * LOAD) if running else 0
    memory = int(xu.text(
        elem, 'PartitionMemoryConfiguration/DesiredMemory', 0))
    return {'id': int(xu.text(elem, 'PartitionID')), 'uuid': obj.uuid,
            'type': 'aixlinux', 'name': xu.text(elem, 'PartitionName'),
            'state': 'Running' if running else 'Not Activated',
            'affinityScore': 100,
            'memory': {'logicalMem': memory,
                       'backedPhysicalMem': memory if running else 0},
            'network': {'virtualEthernetAdapters': _veas(
                sim, obj, elapsed if running else 0)},
            'processor': {
                'poolId': 0, 'mode': 'uncap',
                'maxVirtualProcessors': obj.extra.get('vcpus', 1),
                'maxProcUnits': units, 'weight': 128,
                'entitledProcCycles': entitled,
                'utilizedCappedProcCycles': used,
                'utilizedUnCappedProcCycles': 0,
                'idleProcCycles': entitled - used, 'donatedProcCycles': 0,
                'timeSpentWaitingForDispatch': 0, 'totalInstructions': used,
                'totalInstructionsExecutionTime': used}}


def _veas(sim, obj, seconds):
    """Counters of a partition's virtual Ethernet adapters."""
    octets = int(NIC_BYTES_PER_SEC * seconds)
    packets = octets // NIC_PACKET
    veas = []
    for cna in sim.store.children('ClientNetworkAdapter', obj.uuid):
        veas.append({
            'vlanId': int(xu.text(cna.elem, 'PortVLANID', 0)),
            'vswitchId': int(xu.text(cna.elem, 'VirtualSwitchID', 0)),
            'physicalLocation': xu.text(cna.elem, 'LocationCode'),
            'isPortVLANID': True,
            'receivedPackets': packets, 'sentPackets': packets,
            'droppedPackets': 0, 'sentBytes': octets,
            'receivedBytes': octets, 'receivedPhysicalPackets': packets,
            'sentPhysicalPackets': packets, 'droppedPhysicalPackets': 0,
            'sentPhysicalBytes': octets, 'receivedPhysicalBytes': octets})
    return veas


def phyp_sample(sim, epoch):
    """The phyp JSON document for a sample time.

    :param sim: the Simulator.
    :param epoch: sample time (seconds).
    """
    started = float(sim.store.first('ManagedSystem').extra.get(
        'pcm_start', epoch))
    doc = copy.deepcopy(_TEMPLATE)
    info, sample = doc['systemUtil']['utilInfo'], \
        doc['systemUtil']['utilSample']
    info['mtms'] = sim.inventory.mtms
    info['name'] = sim.inventory.system_name
    sample['timeStamp'] = _stamp(epoch).strftime('%Y-%m-%dT%H:%M:%S+0000')
    cores = sim.inventory.cores
    sample['timeBasedCycles'] = float(CYCLES * cores * epoch)
    lpars = [_part_util(sim, o, epoch, started)
             for o in sim.store.all('LogicalPartition')]
    vioses = [_part_util(sim, o, epoch, started)
              for o in sim.store.all('VirtualIOServer')]
    used = sum(p['processor']['utilizedCappedProcCycles']
               for p in lpars + vioses)
    sample['systemFirmware']['utilizedProcCycles'] = used // 20
    sample['processor'].update({
        'totalProcUnits': cores, 'configurableProcUnits': cores,
        'availableProcUnits': float(system.view_value(
            sim, 'CurrentAvailableSystemProcessorUnits')),
        'procCyclesPerSecond': CYCLES})
    sample['memory'].update({
        'totalMem': sim.inventory.memory_gb * 1024,
        'configurableMem': sim.inventory.memory_gb * 1024,
        'availableMem': int(system.view_value(
            sim, 'CurrentAvailableSystemMemory'))})
    pool = sample['sharedProcessorPool'][0]
    pool.update({'utilizedPoolCycles': used, 'maxProcUnits': cores,
                 'assignedProcCycles': float(CYCLES * cores * epoch)})
    sample['lparsUtil'] = lpars
    sample['viosUtil'] = vioses
    return doc


def _pref_entry(sim, ms):
    pref = tpl.capture_object('pcm_pref.txt')
    tpl.set_atom_id(pref, ms.uuid)
    ns = xu.PCM
    mtm, serial = sim.inventory.mtms.split('*')
    xu.set_text(pref, 'SystemName', sim.inventory.system_name, ns=ns)
    xu.set_text(pref, 'MachineTypeModelSerialNumber/MachineType',
                mtm.split('-')[0], ns=ns)
    xu.set_text(pref, 'MachineTypeModelSerialNumber/Model',
                mtm.split('-')[1], ns=ns)
    xu.set_text(pref, 'MachineTypeModelSerialNumber/SerialNumber', serial,
                ns=ns)
    for name in ('LongTermMonitorEnabled', 'AggregationEnabled',
                 'ShortTermMonitorEnabled', 'ComputeLTMEnabled'):
        xu.set_text(pref, name, ms.extra.get('pcm_' + name, 'false'), ns=ns)
    ams = xu.find(pref, 'AssociatedManagedSystem', ns=ns)
    ams.set('href', sim.href(ms))
    etag = ms.extra.get('pcm_etag', '1')
    return render.entry(pref, ms.uuid, etag, '%s/rest/api/pcm/'
                        'ManagedSystem/%s/preferences' % (sim.base_url,
                                                          ms.uuid),
                        'ManagedSystemPcmPreference'), etag


def _ltm_feed(sim, ms, path):
    if ms.extra.get('pcm_LongTermMonitorEnabled') != 'true':
        return http.Response(204)
    now = int(time.time()) // INTERVAL * INTERVAL
    ents = []
    for epoch in (now - INTERVAL, now):
        stamp = _stamp(epoch)
        name = 'LTM_%s_phyp_%s.json' % (
            sim.inventory.mtms, stamp.strftime('%Y%m%dT%H%M%S+0000'))
        ent = etree.Element(xu.qn('entry', xu.ATOM), nsmap={None: xu.ATOM})
        for tag, val in (('id', sim.uuid_for('ltm', str(epoch))),
                         ('updated', stamp.strftime(
                             '%Y-%m-%dT%H:%M:%S.000Z')),
                         ('title', name), ('published', stamp.strftime(
                             '%Y-%m-%dT%H:%M:%S.000Z'))):
            xu.sub(ent, tag, val, ns=xu.ATOM)
        xu.sub(ent, 'link', ns=xu.ATOM, href='%s%s/%s' % (
            sim.base_url, path, name),
            type='application/vnd.ibm.powervm.pcm.json')
        xu.sub(xu.sub(ent, 'author', ns=xu.ATOM), 'name', 'IBM',
               ns=xu.ATOM)
        xu.sub(ent, 'category', ns=xu.ATOM, term='phyp')
        ents.append(xu.tostring(ent))
    return http.atom_response(render.feed(ents, sim.base_url + path))


def handle(sim, req, parts):
    """Serve ``/rest/api/pcm/ManagedSystem/{sys}/...``.

    :param sim: the Simulator.
    :param req: the request.
    :param parts: path segments after ``pcm``.
    """
    if len(parts) < 3 or parts[0] != 'ManagedSystem':
        raise registry.SimError(404, 'Unknown PCM path')
    with sim.store.lock:
        ms = sim.store.get(parts[1], 'ManagedSystem')
        if ms is None:
            raise registry.SimError(404, 'No such system')
        if parts[2] == 'preferences':
            return _preferences(sim, req, ms)
        if parts[2:4] == ['RawMetrics', 'LongTermMonitor']:
            if len(parts) == 4:
                return _ltm_feed(sim, ms, req.path.rstrip('/'))
            stamp = parts[4].rsplit('_', 1)[-1].split('+')[0]
            epoch = datetime.datetime.strptime(stamp, '%Y%m%dT%H%M%S')
            epoch = epoch.replace(tzinfo=datetime.timezone.utc).timestamp()
            data = json.dumps(phyp_sample(sim, epoch)).encode()
            return http.Response(200, data, 'application/json')
    raise registry.SimError(404, 'Unknown PCM path')


def _preferences(sim, req, ms):
    if req.method == 'POST':
        body = req.xml()
        if req.header('If-Match') not in (None, ms.extra.get('pcm_etag',
                                                             '1')):
            raise registry.SimError(412, 'Stale PCM preferences etag')
        pref = body if xu.local(body.tag) == 'ManagedSystemPcmPreference' \
            else next(body.iter(xu.qn('ManagedSystemPcmPreference',
                                      xu.PCM)))
        for name in ('LongTermMonitorEnabled', 'AggregationEnabled',
                     'ShortTermMonitorEnabled', 'ComputeLTMEnabled'):
            val = xu.text(pref, name, ns=xu.PCM)
            if val is not None:
                ms.extra['pcm_' + name] = val
        ms.extra.setdefault('pcm_start', str(time.time() - INTERVAL * 2))
        ms.extra['pcm_etag'] = str(int(ms.extra.get('pcm_etag', '1')) + 1)
        sim.store.dirty.set()
    ent, etag = _pref_entry(sim, ms)
    return http.atom_response(render.feed([ent], sim.base_url + req.path),
                              etag=etag)
