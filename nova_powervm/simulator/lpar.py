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

from lxml import etree
from pypowervm.wrappers import logical_partition as pvm_lpar

from nova_powervm.simulator import jobs
from nova_powervm.simulator import model
from nova_powervm.simulator import registry
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
    dedicated = xu.text(elem, _PROC + '/HasDedicatedProcessors') == 'true'
    if dedicated:
        tpl.prune(xu.find(elem, _PROC), (
            'SharedProcessorConfiguration',
            'CurrentSharedProcessorConfiguration'))
        vcpus = int(xu.text(elem, _DED + '/DesiredProcessors', 1))
        units = float(vcpus)
    else:
        vcpus = int(xu.text(elem, _SHR + '/DesiredVirtualProcessors', 1))
        units = float(xu.text(elem, _SHR + '/DesiredProcessingUnits', 0.1))
        cur = _PROC + '/CurrentSharedProcessorConfiguration/'
        for path, val in (('AllocatedVirtualProcessors', vcpus),
                          ('CurrentProcessingUnits', units),
                          ('CurrentMaximumVirtualProcessors', xu.text(
                              elem, _SHR + '/MaximumVirtualProcessors')),
                          ('CurrentMinimumVirtualProcessors', xu.text(
                              elem, _SHR + '/MinimumVirtualProcessors'))):
            if xu.find(elem, cur + path) is not None and val is not None:
                xu.set_text(elem, cur + path, val)
    obj.extra['vcpus'] = vcpus
    obj.extra['proc_units'] = units


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


@registry.register
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
        build_partition(sim, elem, name, next_partition_id(sim), uuid,
                        xu.text(body, 'PartitionType', 'AIX/Linux'),
                        'not activated')
        obj = model.Obj(self.kind, uuid, elem, ('ManagedSystem',
                                                sim.sys_uuid))
        sync_partition(obj)
        return sim.store.add(obj)

    def after_update(self, sim, obj):
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
        sim.release_client_adapters(obj)
        sim.store.remove(obj)

    def quick(self, sim, obj):
        return quick_props(sim, obj)


def _job_error(code, msg):
    raise jobs.JobFailed('%s %s' % (code, msg))


@jobs.operation('LogicalPartition', 'PowerOn')
def power_on(sim, lpar, params):
    """PowerOn: not activated -> starting -> running.

    :param sim: the Simulator.
    :param lpar: the LPAR object.
    :param params: job parameters (bootmode, ... are accepted).
    """
    state = xu.text(lpar.elem, 'PartitionState')
    if state != 'not activated':
        _job_error('PVME01042026', 'Partition %s is already powered on.'
                   % xu.text(lpar.elem, 'PartitionName'))
    if params.get('bootmode'):
        xu.set_text(lpar.elem, 'BootMode', params['bootmode'])
    set_state(sim, lpar, 'starting', 'running')
    _touch_nvram(sim, lpar)
    return {}


def _touch_nvram(sim, lpar):
    """Firmware rewrites NVRAM at boot: new contents and an event."""
    node = xu.find(lpar.elem, 'PartitionNVRAM')
    if node is None:
        return
    boots = int(lpar.extra.get('boots', 0)) + 1
    lpar.extra['boots'] = boots
    node.text = base64.b64encode(('NVRAM of %s, boot %d' % (
        lpar.uuid, boots)).encode()).decode()
    sim.store.touch(lpar)
    sim.emit('MODIFY_URI', lpar, 'NVRAM')


@jobs.operation('LogicalPartition', 'PowerOff')
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
    set_state(sim, lpar, 'shutting down', 'not activated')
    if restart or operation == 'dumprestart':
        set_state(sim, lpar, 'starting', 'running')
        _touch_nvram(sim, lpar)
    return {}
