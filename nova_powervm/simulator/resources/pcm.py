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

Every 30-second sample time has, as on NovaLink, one ``phyp`` document,
one ``vios_<id>`` document per Virtual I/O Server and one ``lpar`` document
(the partitions' own memory view, which NovaLink gets through RMC).  The
phyp document names each partition's client vSCSI and virtual FC adapters
(VIOS id and server slot, or WWPNs); the VIOS documents carry their
counters: every storage element mapped to a running partition reads
``DISK_READS_PER_SEC`` and writes ``DISK_WRITES_PER_SEC`` operations of
``DISK_OP_BYTES`` bytes a second, every virtual FC port of a running
partition ``VFC_OPS_PER_SEC`` of each, of ``VFC_OP_BYTES``.
"""

import copy
import datetime
import json
import time

from lxml import etree

from nova_powervm.simulator import http
from nova_powervm.simulator import registry
from nova_powervm.simulator import render
from nova_powervm.simulator.resources import npiv
from nova_powervm.simulator.resources import system
from nova_powervm.simulator import templates as tpl
from nova_powervm.simulator import xmlutil as xu

INTERVAL = 30
CYCLES = 512000000
LOAD = 0.3
NIC_BYTES_PER_SEC = 1500
NIC_PACKET = 1500
DISK_READS_PER_SEC = 20
DISK_WRITES_PER_SEC = 10
DISK_OP_BYTES = 4096
VFC_OPS_PER_SEC = 5
VFC_OP_BYTES = 65536
#: Share of its memory a running partition's operating system reports free.
MEM_FREE_PCT = 40
_SCSI = 'VirtualSCSIMappings/VirtualSCSIMapping'
_VFC = 'VirtualFibreChannelMappings/VirtualFibreChannelMapping'
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
            'storage': _client_storage(sim, obj),
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


def _running(sim, uuid):
    lpar = sim.store.get(uuid, 'LogicalPartition')
    return lpar is not None and xu.text(
        lpar.elem, 'PartitionState') == 'running'


def _lpar_uuid(mapping):
    alp = xu.find(mapping, 'AssociatedLogicalPartition')
    href = alp.get('href') if alp is not None else None
    return href.rstrip('/').rsplit('/', 1)[-1].upper() if href else None


def _wwpns(mapping):
    return (xu.text(mapping, 'ClientAdapter/WWPNs') or '').split()


def _client_storage(sim, part):
    """The phyp view of a partition's client storage adapters."""
    vscsi, vfc = [], []
    seen = set()
    for vios in sim.store.all('VirtualIOServer'):
        vid = int(xu.text(vios.elem, 'PartitionID'))
        for mapping in xu.findall(vios.elem, _SCSI):
            loc = xu.text(mapping, 'ClientAdapter/LocationCode')
            slot = xu.text(mapping, 'ServerAdapter/VirtualSlotNumber')
            if (_lpar_uuid(mapping) != part.uuid.upper() or loc is None
                    or slot is None or (vid, slot) in seen):
                continue
            seen.add((vid, slot))
            vscsi.append({'physicalLocation': loc, 'viosId': vid,
                          'viosAdapterSlotId': int(slot)})
        for mapping in xu.findall(vios.elem, _VFC):
            wwpns = _wwpns(mapping)
            if _lpar_uuid(mapping) != part.uuid.upper() or not wwpns:
                continue
            vfc.append({'physicalLocation': xu.text(
                mapping, 'ClientAdapter/LocationCode'), 'viosId': vid,
                'wwpnpair': [int(w, 16) for w in wwpns]})
    return {'genericVirtualAdapters': vscsi,
            'virtualFiberChannelAdapters': vfc}


def _io(reads, writes, size, seconds):
    # Counted in tenths of a second, so that the counters keep the exact
    # ratio of their rates (20 and 10 a second: always 2 to 1).
    ticks = int(seconds * 10)
    nreads, nwrites = reads * ticks // 10, writes * ticks // 10
    return {'numOfReads': nreads, 'numOfWrites': nwrites,
            'readBytes': nreads * size, 'writeBytes': nwrites * size}


def vios_sample(sim, vios, epoch):
    """The ``vios_<id>`` JSON document of a VIOS for a sample time.

    :param sim: the Simulator.
    :param vios: the VIOS ``Obj``.
    :param epoch: sample time (seconds).
    """
    started = float(sim.store.first('ManagedSystem').extra.get(
        'pcm_start', epoch))
    elapsed = max(epoch - started, 0)
    vhosts, ports = {}, {}
    for mapping in xu.findall(vios.elem, _SCSI):
        sva = xu.find(mapping, 'ServerAdapter')
        loc = xu.text(sva, 'LocationCode') if sva is not None else None
        if loc is None:
            continue
        adpt = vhosts.setdefault(loc, {
            'id': xu.text(sva, 'AdapterName'), 'type': 'virtual',
            'physicalLocation': loc, 'disks': 0})
        if (xu.find(mapping, 'Storage') is not None
                and _running(sim, _lpar_uuid(mapping) or '')):
            adpt['disks'] += 1
    for adpt in vhosts.values():
        adpt.update(_io(DISK_READS_PER_SEC * adpt['disks'],
                        DISK_WRITES_PER_SEC * adpt['disks'], DISK_OP_BYTES,
                        elapsed))
        del adpt['disks']
    for mapping in xu.findall(vios.elem, _VFC):
        wwpns = _wwpns(mapping)
        port = xu.text(mapping, 'Port/PortName')
        if not wwpns or port is None:
            continue
        seconds = elapsed if _running(sim, _lpar_uuid(mapping) or '') else 0
        vfc = {'id': xu.text(mapping, 'ServerAdapter/AdapterName'),
               'wwpn': wwpns[0], 'runningSpeed': 8,
               'physicalLocation': xu.text(
                   mapping, 'ServerAdapter/LocationCode')}
        vfc.update(_io(VFC_OPS_PER_SEC, VFC_OPS_PER_SEC, VFC_OP_BYTES,
                       seconds))
        ports.setdefault(port, []).append(vfc)
    fcs = []
    for phys in npiv.physical_ports(vios.elem):
        name = xu.text(phys, 'PortName')
        vfcs = ports.pop(name, [])
        fc = {'id': name, 'wwpn': (xu.text(phys, 'WWPN') or '').lower(),
              'physicalLocation': xu.text(phys, 'LocationCode'),
              'runningSpeed': 8, 'ports': vfcs}
        fc.update({key: sum(v[key] for v in vfcs) for key in (
            'numOfReads', 'numOfWrites', 'readBytes', 'writeBytes')})
        fcs.append(fc)
    memory = int(xu.text(
        vios.elem, 'PartitionMemoryConfiguration/CurrentMemory', 0))
    return {'systemUtil': {
        'utilInfo': {'version': '1.0.0', 'metricType': 'Raw',
                     'monitoringType': 'LTM', 'mtms': sim.inventory.mtms,
                     'name': sim.inventory.system_name},
        'utilSample': {
            'timeStamp': _stamp(epoch).strftime('%Y-%m-%dT%H:%M:%S+0000'),
            'viosUtil': [{
                'id': xu.text(vios.elem, 'PartitionID'),
                'name': xu.text(vios.elem, 'PartitionName'),
                'memory': {'utilizedMem': memory // 2},
                'network': {'genericAdapters': [], 'sharedAdapters': []},
                'storage': {'fiberChannelAdapters': fcs,
                            'genericPhysicalAdapters': [],
                            'genericVirtualAdapters': list(
                                vhosts.values())}}]}}}


def lpar_sample(sim, epoch):
    """The ``lpar`` JSON document (the partitions' memory through RMC).

    A partition that is not running has the error NovaLink reports for it
    (6001).

    :param sim: the Simulator.
    :param epoch: sample time (seconds).
    """
    stamp = _stamp(epoch).strftime('%Y%m%dT%H%M%S+0000')
    lpars = []
    for obj in sim.store.all('LogicalPartition'):
        util = {'uuid': obj.uuid, 'name': xu.text(obj.elem, 'PartitionName'),
                'id': xu.text(obj.elem, 'PartitionID'), 'timeStamp': stamp}
        if _running(sim, obj.uuid):
            memory = int(xu.text(
                obj.elem, 'PartitionMemoryConfiguration/DesiredMemory', 0))
            util['memory'] = {
                'pctRealMemAvbl': MEM_FREE_PCT, 'totalPgSpSizeCount': 131072,
                'totalPgSpFreeCount': 131072, 'vmActivePgCount': int(
                    memory * (100 - MEM_FREE_PCT) / 100) * 256,
                'realMemSizeBytes': memory * 1024 * 1024,
                'pctRealMemFree': MEM_FREE_PCT, 'vmPgInRate': 0,
                'vmPgOutRate': 0, 'vmPgSpInRate': 0, 'vmPgSpOutRate': 0}
        else:
            util['errorInfo'] = {'errorId': '6001', 'message': (
                'The partition is not activated.')}
        lpars.append(util)
    return {'lparUtil': lpars}


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
    kinds = ['phyp'] + ['vios_%s' % xu.text(v.elem, 'PartitionID')
                        for v in sim.store.all('VirtualIOServer')] + ['lpar']
    for epoch, kind in ((e, k) for e in (now - INTERVAL, now)
                        for k in kinds):
        stamp = _stamp(epoch)
        name = 'LTM_%s_%s_%s.json' % (
            sim.inventory.mtms, kind, stamp.strftime('%Y%m%dT%H%M%S+0000'))
        ent = etree.Element(xu.qn('entry', xu.ATOM), nsmap={None: xu.ATOM})
        for tag, val in (('id', sim.uuid_for('ltm', '%s_%s' % (
                             kind, epoch))),
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
        xu.sub(ent, 'category', ns=xu.ATOM, term=kind)
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
            return _sample(sim, parts[4])
    raise registry.SimError(404, 'Unknown PCM path')


def _sample(sim, name):
    """One sample document by its file name (LTM_<mtms>_<kind>_<ts>.json).

    :param sim: the Simulator.
    :param name: the file name.
    """
    head, stamp = name.rsplit('_', 1)
    kind = head[len('LTM_%s_' % sim.inventory.mtms):]
    try:
        epoch = datetime.datetime.strptime(
            stamp.split('+')[0], '%Y%m%dT%H%M%S')
    except ValueError:
        raise registry.SimError(404, 'No such PCM sample: %s' % name)
    epoch = epoch.replace(tzinfo=datetime.timezone.utc).timestamp()
    if kind == 'phyp':
        doc = phyp_sample(sim, epoch)
    elif kind == 'lpar':
        doc = lpar_sample(sim, epoch)
    elif kind.startswith('vios_'):
        vios = [v for v in sim.store.all('VirtualIOServer')
                if xu.text(v.elem, 'PartitionID') == kind[5:]]
        if not vios:
            raise registry.SimError(404, 'No such PCM sample: %s' % name)
        doc = vios_sample(sim, vios[0], epoch)
    else:
        raise registry.SimError(404, 'No such PCM sample: %s' % name)
    return http.Response(200, json.dumps(doc).encode(), 'application/json')


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
