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
"""LogicalPartition: create, update, delete, quick properties, power."""

import base64
import re
import time

from lxml import etree
from pypowervm.wrappers import logical_partition as pvm_lpar

from nova_powervm.simulator import http
from nova_powervm.simulator import jobs
from nova_powervm.simulator import model
from nova_powervm.simulator import registry
from nova_powervm.simulator.resources import system
from nova_powervm.simulator import templates as tpl
from nova_powervm.simulator import xmlutil as xu

LPAR_ORDER = list(pvm_lpar._LPAR_EL_ORDER)
_MEM = 'PartitionMemoryConfiguration'
_PROC = 'PartitionProcessorConfiguration'
_SHR = _PROC + '/SharedProcessorConfiguration'
_DED = _PROC + '/DedicatedProcessorConfiguration'
_CAPS = ('DynamicLogicalPartitionIOCapable',
         'DynamicLogicalPartitionMemoryCapable',
         'DynamicLogicalPartitionProcessorCapable')
_DROP = ('AssociatedPartitionProfile', 'PartitionProfiles', 'ProcessorPool')


def lpar_template():
    """A pruned LPAR element from the real capture."""
    elem = tpl.capture_kind('LogicalPartition')
    tpl.prune(elem, _DROP)
    for path in ('PartitionIOConfiguration/ProfileIOSlots',
                 'PartitionIOConfiguration/EthernetAdapterCapabilities',
                 'HostEthernetAdapterLogicalPort',
                 'VirtualSCSIClientAdapters'):
        tpl.empty(elem, path, keep=('Metadata',))
    xu.set_text(elem, 'OperatingSystemVersion', 'Unknown')
    xu.set_text(elem, 'CurrentProcessorCompatibilityMode', 'POWER9')
    xu.insert_ordered(elem, _el('MigrationState', 'Not_Migrating'),
                      LPAR_ORDER)
    nvram = xu.insert_ordered(elem, _el('PartitionNVRAM', None), LPAR_ORDER)
    nvram.set('group', 'NVRAM')
    return elem


def _el(name, value):
    node = etree.Element(xu.qn(name))
    node.text = value
    return node


def next_partition_id(sim):
    """The lowest unused partition short id.

    :param sim: the Simulator.
    """
    used = set(int(xu.text(p.elem, 'PartitionID'))
               for p in partitions(sim))
    pid = 1
    while pid in used:
        pid += 1
    return pid


def partitions(sim):
    """Every LPAR and VIOS object.

    :param sim: the Simulator.
    """
    return (sim.store.all('LogicalPartition') +
            sim.store.all('VirtualIOServer'))


def partition_by_id(sim, pid):
    """The partition with a short id, or None.

    :param sim: the Simulator.
    :param pid: the short id (int or str).
    """
    for part in partitions(sim):
        if xu.text(part.elem, 'PartitionID') == str(pid):
            return part
    return None


def sync_partition(obj):
    """Derive Current* values and the simulator's bookkeeping.

    :param obj: a partition :class:`Obj`.
    """
    elem = obj.elem
    for name in ('Memory', 'MaximumMemory', 'MinimumMemory'):
        src = 'Desired' + name if name == 'Memory' else name
        val = xu.text(elem, '%s/%s' % (_MEM, src))
        cur = xu.find(elem, '%s/Current%s' % (_MEM, name))
        if val is not None and cur is not None:
            cur.text = val
    dedicated, vcpus, units = processors(elem)
    if dedicated:
        tpl.prune(xu.find(elem, _PROC), (
            'SharedProcessorConfiguration',
            'CurrentSharedProcessorConfiguration'))
    else:
        cur = _PROC + '/CurrentSharedProcessorConfiguration/'
        for path, val in (('AllocatedVirtualProcessors', vcpus),
                          ('CurrentProcessingUnits', units),
                          ('CurrentMaximumVirtualProcessors', xu.text(
                              elem, _SHR + '/MaximumVirtualProcessors')),
                          ('CurrentMinimumVirtualProcessors', xu.text(
                              elem, _SHR + '/MinimumVirtualProcessors'))):
            if xu.find(elem, cur + path) is not None and val is not None:
                xu.set_text(elem, cur + path, val)
    factor = expansion_factor(elem)
    for path, val in (('CurrentExpansionFactor', factor),
                      ('MemoryExpansionEnabled', factor > 0)):
        if xu.find(elem, '%s/%s' % (_MEM, path)) is not None:
            xu.set_text(elem, '%s/%s' % (_MEM, path), val)
    obj.extra['vcpus'] = vcpus
    obj.extra['proc_units'] = units


def _number(elem, path, default, kind):
    text = xu.text(elem, path)
    try:
        return kind(text) if text else default
    except ValueError:
        raise registry.SimError(
            400, 'HSCL0009 The value %r of %s is not a valid number.'
            % (text, path.rsplit('/', 1)[-1]))


def processors(elem):
    """``(dedicated, virtual processors, processing units)`` desired.

    A dedicated partition holds one whole processor per processor.

    :param elem: a partition element.
    :raises SimError: 400 on a value that is not a number.
    """
    if xu.text(elem, _PROC + '/HasDedicatedProcessors') == 'true':
        procs = _number(elem, _DED + '/DesiredProcessors', 1, int)
        return True, procs, float(procs)
    return (False, _number(elem, _SHR + '/DesiredVirtualProcessors', 1, int),
            _number(elem, _SHR + '/DesiredProcessingUnits', 0.1, float))


def expansion_factor(elem):
    """The Active Memory Expansion factor asked for (0.0: none).

    :param elem: a partition element.
    :raises SimError: 400 on a value that is not a number.
    """
    return _number(elem, _MEM + '/ExpansionFactor', 0.0, float)


# What a real host refuses; the HSCL codes are the simulator's own.
_EPSILON = 1e-9
_TOO_FEW_UNITS = (
    'HSCLA4B1 Partition %(name)s cannot have %(units)g processing units '
    'for %(vcpus)d virtual processors: the managed system requires at '
    'least %(min)g processing units per virtual processor.')
_TOO_MANY_UNITS = (
    'HSCLA4B2 Partition %(name)s cannot have %(units)g processing units '
    'for %(vcpus)d virtual processors: a virtual processor uses at most '
    '1.0 processing unit.')
_NO_CAPACITY = (
    'HSCLA4B3 Partition %(name)s needs %(units)g processing units but '
    'only %(free)g are available in the shared processor pool.')
_NO_AME = (
    'HSCLA4B4 The managed system is not capable of Active Memory '
    'Expansion: partition %(name)s cannot have the memory expansion factor '
    '%(factor)g.')
_BAD_AME = (
    'HSCLA4B5 The memory expansion factor %(factor)g of partition '
    '%(name)s is not between 1.0 and 10.0.')


def check_config(sim, elem, current=None):
    """Refuse (HTTP 400) processor and memory settings a host refuses.

    Shared processors need between the host's
    ``MinimumProcessorUnitsPerVirtualProcessor`` and 1.0 processing units
    per virtual processor; the units must fit in what the other
    partitions leave of the shared processor pool; an Active Memory
    Expansion factor needs an AME-capable host and lies in [1.0, 10.0].
    An update is checked for what it changes.

    :param sim: the Simulator.
    :param elem: the new partition element.
    :param current: the stored partition :class:`Obj` (an update), or
        None (a create).
    :raises SimError: 400 naming the partition and the values.
    """
    info = {'name': xu.text(elem, 'PartitionName')}
    procs = processors(elem)
    old = processors(current.elem) if current is not None else None
    dedicated, info['vcpus'], info['units'] = procs
    if procs != old and not dedicated:
        info['min'] = system.min_proc_units_per_vcpu(sim)
        if info['units'] < round(info['vcpus'] * info['min'], 2) - _EPSILON:
            raise registry.SimError(400, _TOO_FEW_UNITS % info)
        if info['units'] > info['vcpus'] + _EPSILON:
            raise registry.SimError(400, _TOO_MANY_UNITS % info)
    if old is None or info['units'] > old[2] + _EPSILON:
        info['free'] = system.available_proc_units(sim, exclude=current)
        if info['units'] > info['free'] + _EPSILON:
            raise registry.SimError(400, _NO_CAPACITY % info)
    info['factor'] = expansion_factor(elem)
    old_factor = (expansion_factor(current.elem) if current is not None
                  else 0.0)
    if info['factor'] and info['factor'] != old_factor:
        if not system.ame_capable(sim):
            raise registry.SimError(400, _NO_AME % info)
        if not 1.0 - _EPSILON <= info['factor'] <= 10.0 + _EPSILON:
            raise registry.SimError(400, _BAD_AME % info)


# Limits a running partition cannot change, and the desired values that
# must stay within them (dynamic LPAR); an inactive one takes anything.
_DLPAR_LIMITS = (
    (_MEM + '/MinimumMemory', _MEM + '/MaximumMemory',
     _MEM + '/DesiredMemory'),
    (_SHR + '/MinimumVirtualProcessors', _SHR + '/MaximumVirtualProcessors',
     _SHR + '/DesiredVirtualProcessors'),
    (_SHR + '/MinimumProcessingUnits', _SHR + '/MaximumProcessingUnits',
     _SHR + '/DesiredProcessingUnits'),
    (_DED + '/MinimumProcessors', _DED + '/MaximumProcessors',
     _DED + '/DesiredProcessors'),
)
_DLPAR_LIMIT = (
    'HSCL1566 Partition %(name)s is %(state)s: %(what)s cannot change '
    'from %(old)s to %(new)s while it is active; stop it first.')
_DLPAR_RANGE = (
    'HSCL1567 Partition %(name)s is %(state)s: %(what)s %(new)s is not '
    'between its minimum %(low)s and maximum %(high)s.')


def check_dlpar(elem, current):
    """Refuse (HTTP 400) what a running partition cannot take.

    The minimum and maximum of memory and processors are fixed while the
    partition is active; desired values move only within them (and its
    processor mode cannot change).

    :param elem: the new partition element.
    :param current: the stored partition :class:`Obj`.
    :raises SimError: 400 naming the value.
    """
    state = xu.text(current.elem, 'PartitionState')
    if state in ('not activated', 'error', None):
        return
    info = {'name': xu.text(elem, 'PartitionName'), 'state': state}
    old_mode = xu.text(current.elem, _PROC + '/HasDedicatedProcessors')
    if xu.text(elem, _PROC + '/HasDedicatedProcessors') != old_mode:
        info.update(what='the processor mode', old=old_mode,
                    new=xu.text(elem, _PROC + '/HasDedicatedProcessors'))
        raise registry.SimError(400, _DLPAR_LIMIT % info)
    for low, high, desired in _DLPAR_LIMITS:
        for path in (low, high):
            old, new = xu.text(current.elem, path), xu.text(elem, path)
            if old is not None and new is not None and (
                    float(old) != float(new)):
                info.update(what=path.rsplit('/', 1)[-1], old=old, new=new)
                raise registry.SimError(400, _DLPAR_LIMIT % info)
        value = xu.text(elem, desired)
        lo, hi = xu.text(elem, low), xu.text(elem, high)
        if value is None or lo is None or hi is None:
            continue
        if not float(lo) - _EPSILON <= float(value) <= float(hi) + _EPSILON:
            info.update(what=desired.rsplit('/', 1)[-1], new=value, low=lo,
                        high=hi)
            raise registry.SimError(400, _DLPAR_RANGE % info)


MGMT_UPTIME = 1185681


def build_partition(sim, elem, name, pid, uuid, ptype, state, mgmt=False):
    """Fill the identity/state fields of a partition element.

    :param sim: the Simulator.
    :param elem: the partition element (template or client-merged).
    :param name: PartitionName.
    :param pid: PartitionID.
    :param uuid: the UPPER-case UUID.
    :param ptype: PartitionType.
    :param state: PartitionState.
    :param mgmt: IsManagementPartition.
    """
    tpl.set_atom_id(elem, uuid)
    xu.set_text(elem, 'PartitionName', name)
    xu.set_text(elem, 'PartitionID', pid)
    xu.set_text(elem, 'PartitionUUID', uuid)
    xu.set_text(elem, 'PartitionType', ptype)
    xu.set_text(elem, 'PartitionState', state)
    xu.set_text(elem, 'ResourceMonitoringControlState',
                'active' if state == 'running' else 'inactive')
    xu.set_text(elem, 'IsManagementPartition', mgmt)
    if mgmt:
        # Seconds the NovaLink partition has been up (a real capture's).
        xu.set_text(elem, 'Uptime', MGMT_UPTIME)
    ams = xu.find(elem, 'AssociatedManagedSystem')
    if ams is not None:
        ams.set('href', sim.ms_href())
    caps = xu.find(elem, 'PartitionCapabilities')
    if caps is not None:
        for cap in _CAPS:
            xu.set_text(caps, cap, True)
    return elem


def set_state(sim, obj, *states):
    """Move a partition through ``states``, emitting one event each.

    :param sim: the Simulator.
    :param obj: the partition :class:`Obj`.
    :param states: the PartitionState values in order.
    """
    for state in states:
        xu.set_text(obj.elem, 'PartitionState', state)
        rmc = 'active' if state == 'running' else 'inactive'
        if obj.extra.get('rmc_override'):
            rmc = obj.extra['rmc_override']
        xu.set_text(obj.elem, 'ResourceMonitoringControlState', rmc)
        sim.store.touch(obj)
        sim.emit('MODIFY_URI', obj, 'PartitionState')


def quick_props(sim, obj):
    """The quick property dict of a partition.

    :param sim: the Simulator.
    :param obj: the partition :class:`Obj`.
    """
    elem = obj.elem
    return {
        'PartitionState': xu.text(elem, 'PartitionState'),
        'PartitionID': int(xu.text(elem, 'PartitionID')),
        'PartitionName': xu.text(elem, 'PartitionName'),
        'PartitionType': xu.text(elem, 'PartitionType'),
        'RMCState': xu.text(elem, 'ResourceMonitoringControlState'),
        'MigrationState': xu.text(elem, 'MigrationState', 'Not_Migrating'),
        'CurrentProcessingUnits': obj.extra.get('proc_units', 0),
        'CurrentMemory': int(xu.text(elem, _MEM + '/DesiredMemory', 0)),
        'AssociatedManagedSystem': sim.ms_href(),
        'SharingMode': xu.text(elem, _PROC + '/SharingMode'),
        'ReferenceCode': xu.text(elem, 'ReferenceCode', '00000000'),
        'IsVirtualServiceAttentionLEDOn': xu.text(
            elem, 'IsVirtualServiceAttentionLEDOn', 'false'),
        'UUID': obj.uuid,
    }


class LogicalPartition(registry.Resource):
    kind = 'LogicalPartition'
    search_keys = {'PartitionName': 'PartitionName',
                   'PartitionID': 'PartitionID'}

    def create(self, sim, parent, body):
        if parent is None or parent.kind != 'ManagedSystem':
            raise registry.SimError(
                405, 'LogicalPartition is created under a ManagedSystem')
        name = xu.text(body, 'PartitionName')
        if not name:
            raise registry.SimError(400, 'PartitionName is required')
        uuid = (xu.text(body, 'PartitionUUID') or
                xu.text(body, 'Metadata/Atom/AtomID') or sim.new_uuid())
        uuid = uuid.upper()
        if sim.store.get(uuid) is not None:
            raise registry.SimError(409, 'Partition %s exists' % uuid)
        elem = registry.merge_fields(lpar_template(), body)
        check_config(sim, elem)
        build_partition(sim, elem, name, next_partition_id(sim), uuid,
                        xu.text(body, 'PartitionType', 'AIX/Linux'),
                        'not activated')
        obj = model.Obj(self.kind, uuid, elem, ('ManagedSystem',
                                                sim.sys_uuid))
        sync_partition(obj)
        return sim.store.add(obj)

    def update(self, sim, obj, body, groups):
        new = registry.merge_groups(obj.elem, body, groups)
        check_config(sim, new, obj)
        check_dlpar(new, obj)
        obj.elem = new
        sync_partition(obj)

    def delete(self, sim, obj):
        if xu.text(obj.elem, 'PartitionState') not in ('not activated',
                                                       'error'):
            raise registry.SimError(
                409, 'HSCL1561 The partition %s must be not activated to '
                'be deleted.' % xu.text(obj.elem, 'PartitionName'))
        if xu.text(obj.elem, 'IsManagementPartition') == 'true':
            raise registry.SimError(409, 'Cannot delete the management '
                                    'partition')
        sim.registry.run_hooks('lpar_delete', sim, obj)
        sim.store.remove(obj)

    def quick(self, sim, obj):
        return quick_props(sim, obj)


_STATES = ('not activated', 'starting', 'running', 'shutting down',
           'open firmware', 'error', 'migrating running')
# The transitional state a real host passes through (one event each) on
# the way from the first state to the second.
_VIA = {('running', 'not activated'): 'shutting down',
        ('open firmware', 'not activated'): 'shutting down',
        ('not activated', 'running'): 'starting',
        ('not activated', 'open firmware'): 'starting'}


def admin_request(sim, req, parts):
    """``admin`` hook: partition state changes and the host's lparcfg.

    Serves ``POST /sim/lpar/{uuid}/state`` and ``GET /sim/host/lparcfg``;
    returns None for other paths.

    :param sim: the Simulator.
    :param req: the request.
    :param parts: path segments after ``/sim``.
    """
    if parts[:1] == ['lpar'] and len(parts) == 3 and parts[2] == 'state':
        return _admin_state(sim, req, parts[1])
    if req.method == 'GET' and parts == ['host', 'lparcfg']:
        return _admin_lparcfg(sim)
    return None


def _admin_state(sim, req, uuid):
    if req.method != 'POST':
        raise registry.SimError(405, 'POST only')
    data = req.json()
    state = data.get('state')
    if state not in _STATES:
        raise registry.SimError(400, 'state must be one of %s'
                                % ', '.join(_STATES))
    with sim.store.lock:
        obj = sim.store.get(uuid, 'LogicalPartition')
        if obj is None:
            raise registry.SimError(404, 'LPAR %s not found' % uuid)
        if 'rmc_state' in data:
            obj.extra['rmc_override'] = data['rmc_state']
        via = _VIA.get((xu.text(obj.elem, 'PartitionState'), state))
        set_state(sim, obj, *([via, state] if via else [state]))
        return http.json_response({'uuid': obj.uuid, 'state': xu.text(
            obj.elem, 'PartitionState'), 'rmc_state': xu.text(
            obj.elem, 'ResourceMonitoringControlState')})


def _admin_lparcfg(sim):
    with sim.store.lock:
        for part in partitions(sim):
            if xu.text(part.elem, 'IsManagementPartition') == 'true':
                pid = int(xu.text(part.elem, 'PartitionID'))
                return http.json_response({
                    'partition_id': pid, 'uuid': part.uuid,
                    'partition_name': xu.text(part.elem, 'PartitionName'),
                    'lparcfg': 'lparcfg 1.9\npartition_id=%d\n'
                               'partition_name=%s\n' % (
                                   pid, xu.text(part.elem, 'PartitionName'))})
    raise registry.SimError(404, 'No management partition')


def _job_error(code, msg):
    raise jobs.JobFailed('%s %s' % (code, msg))


# Open Firmware path of a virtual SCSI disk, as a PowerOn ``bootstring``:
# the client adapter's unit address (0x30000000 + slot) and the LUN.
_BOOTSTRING = re.compile(
    r'^/vdevice/v-scsi@([0-9a-fA-F]+)/disk@([0-9a-fA-F]+)$')
_DISK_NAME = {'VirtualDisk': 'DiskName', 'PhysicalVolume': 'VolumeName',
              'LogicalUnit': 'UnitName'}


def boot_disks(sim, lpar):
    """The partition's virtual SCSI disks in firmware (device tree) order.

    Optical media are left out: the firmware boots from a disk unless
    told otherwise.

    :param sim: the Simulator.
    :param lpar: the LPAR object.
    :returns: sorted ``(client slot, LUN, storage name)`` triples.
    """
    lid = xu.text(lpar.elem, 'PartitionID')
    found = []
    for vios in sim.store.all('VirtualIOServer'):
        for mapping in xu.findall(vios.elem, 'VirtualSCSIMappings/'
                                  'VirtualSCSIMapping'):
            if xu.text(mapping, 'ServerAdapter/RemoteLogicalPartitionID') \
                    != lid:
                continue
            stg = xu.find(mapping, 'Storage')
            if stg is None or not len(stg):
                continue
            field = _DISK_NAME.get(xu.local(stg[0].tag))
            slot = xu.text(mapping, 'ClientAdapter/VirtualSlotNumber')
            lua = xu.text(mapping, 'TargetDevice/*/LogicalUnitAddress')
            if field is None or slot is None or lua is None:
                continue
            found.append((int(slot), int(lua, 16),
                          xu.text(stg[0], field).split('/')[-1]))
    return sorted(found)


def _boot_device(sim, lpar, bootstring):
    """The disk the firmware boots: ``bootstring``'s, else the first."""
    disks = boot_disks(sim, lpar)
    if not bootstring:
        return disks[0][2] if disks else None
    match = _BOOTSTRING.match(bootstring)
    if match:
        slot = int(match.group(1), 16) - 0x30000000
        lun = int(match.group(2), 16)
        for d_slot, d_lun, name in disks:
            if (d_slot, d_lun) == (slot, lun):
                return name
    _job_error('PVME01040012', 'Boot device %s of partition %s was not '
               'found.' % (bootstring, xu.text(lpar.elem, 'PartitionName')))


def power_on(sim, lpar, params):
    """PowerOn: not activated -> starting -> running.

    The disk the partition booted from is recorded (``booted_from`` in
    the state): the one a ``bootstring`` parameter names (an Open Firmware
    path, ``/vdevice/v-scsi@<30000000 + client slot>/disk@<LUN>``), else
    the first virtual SCSI disk in slot and LUN order.

    :param sim: the Simulator.
    :param lpar: the LPAR object.
    :param params: job parameters (bootmode, bootstring, ... are
                   accepted).
    """
    state = xu.text(lpar.elem, 'PartitionState')
    if state != 'not activated':
        _job_error('PVME01042026', 'Partition %s is already powered on.'
                   % xu.text(lpar.elem, 'PartitionName'))
    booted = _boot_device(sim, lpar, params.get('bootstring'))
    if params.get('bootmode'):
        xu.set_text(lpar.elem, 'BootMode', params['bootmode'])
    set_state(sim, lpar, 'starting', 'running')
    lpar.extra['booted_from'] = booted
    _touch_nvram(sim, lpar)
    return {}


def _touch_nvram(sim, lpar):
    """Firmware rewrites NVRAM at boot: new contents and an event.

    The contents keep what they held (a partition given NVRAM restored
    from a store keeps its history) and add a line for this boot.
    """
    node = xu.find(lpar.elem, 'PartitionNVRAM')
    if node is None:
        return
    boots = int(lpar.extra.get('boots', 0)) + 1
    lpar.extra['boots'] = boots
    lines = []
    if node.text:
        try:
            lines = base64.b64decode(node.text).decode().splitlines()
        except ValueError:
            lines = []
    if not lines:
        lines = ['NVRAM of %s' % lpar.uuid]
    lines.append('boot %d on %s' % (boots, sim.sys_uuid))
    node.text = base64.b64encode('\n'.join(lines).encode()).decode()
    sim.store.touch(lpar)
    sim.emit('MODIFY_URI', lpar, 'NVRAM')


def power_off(sim, lpar, params):
    """PowerOff with operation shutdown/osshutdown/dumprestart, restart.

    :param sim: the Simulator.
    :param lpar: the LPAR object.
    :param params: operation, immediate, restart.
    """
    state = xu.text(lpar.elem, 'PartitionState')
    restart = params.get('restart') == 'true'
    operation = params.get('operation', 'shutdown')
    if state == 'not activated':
        _job_error('PVME04000005', 'Partition %s is already powered off.'
                   % xu.text(lpar.elem, 'PartitionName'))
    if operation == 'osshutdown' and xu.text(
            lpar.elem, 'ResourceMonitoringControlState') != 'active':
        _job_error('PVME01050905', 'RMC is not active for the partition.')
    if operation not in ('shutdown', 'osshutdown', 'dumprestart'):
        _job_error('PVME01050000', 'Invalid operation %s' % operation)
    if operation == 'dumprestart':
        if state != 'running':
            _job_error('PVME01050000', 'Partition %s is not running: '
                       'nothing to dump.' % xu.text(lpar.elem,
                                                    'PartitionName'))
        # The OS writes its dump, then the partition restarts.
        lpar.extra.setdefault('dumps', []).append(
            {'time': time.time(),
             'immediate': params.get('immediate') == 'true'})
    set_state(sim, lpar, 'shutting down', 'not activated')
    lpar.extra['booted_from'] = None
    if restart or operation == 'dumprestart':
        lpar.extra['booted_from'] = _boot_device(sim, lpar, None)
        set_state(sim, lpar, 'starting', 'running')
        _touch_nvram(sim, lpar)
    return {}
