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
"""The ``GET /sim/state`` summary."""

from nova_powervm.simulator import xmlutil as xu

_STG = ('VirtualDisk', 'VirtualOpticalMedia', 'PhysicalVolume',
        'LogicalUnit')
_STG_NAME = {'VirtualDisk': 'DiskName', 'VirtualOpticalMedia': 'MediaName',
             'PhysicalVolume': 'VolumeName', 'LogicalUnit': 'UnitName'}


def _lpar(obj):
    elem = obj.elem
    return {'name': xu.text(elem, 'PartitionName'), 'uuid': obj.uuid,
            'id': int(xu.text(elem, 'PartitionID')),
            'state': xu.text(elem, 'PartitionState'),
            'vcpus': obj.extra.get('vcpus'),
            'proc_units': obj.extra.get('proc_units'),
            'memory_mb': int(xu.text(
                elem, 'PartitionMemoryConfiguration/DesiredMemory', 0)),
            'type': xu.text(elem, 'PartitionType'),
            'rmc_state': xu.text(elem, 'ResourceMonitoringControlState'),
            'dumps': len(obj.extra.get('dumps', ())),
            'booted_from': obj.extra.get('booted_from')}


def _lpar_ref(mapping):
    href = None
    alp = xu.find(mapping, 'AssociatedLogicalPartition')
    if alp is not None:
        href = alp.get('href')
    lid = xu.text(mapping, 'ServerAdapter/RemoteLogicalPartitionID')
    return xu.href_uuid(href), int(lid) if lid else None


def _scsi(mapping):
    uuid, lid = _lpar_ref(mapping)
    stype = sname = None
    stg = xu.find(mapping, 'Storage')
    if stg is not None and len(stg):
        stype = xu.local(stg[0].tag)
        sname = xu.text(stg[0], _STG_NAME.get(stype, 'Name'))
    return {'lpar_uuid': uuid, 'lpar_id': lid, 'storage_type': stype,
            'storage_name': sname,
            'server_adapter': xu.text(mapping, 'ServerAdapter/AdapterName')}


def _fc(mapping):
    uuid, lid = _lpar_ref(mapping)
    wwpns = xu.text(mapping, 'ClientAdapter/WWPNs')
    return {'lpar_uuid': uuid, 'lpar_id': lid,
            'port': xu.text(mapping, 'Port/PortName'),
            'wwpns': wwpns.split() if wwpns else [],
            'server_adapter': xu.text(mapping, 'ServerAdapter/AdapterName')}


def _vios(obj):
    return {'name': xu.text(obj.elem, 'PartitionName'), 'uuid': obj.uuid,
            'id': int(xu.text(obj.elem, 'PartitionID')),
            'state': xu.text(obj.elem, 'PartitionState'),
            'scsi_mappings': [_scsi(m) for m in xu.findall(
                obj.elem, 'VirtualSCSIMappings/VirtualSCSIMapping')],
            'fc_mappings': [_fc(m) for m in xu.findall(
                obj.elem, 'VirtualFibreChannelMappings/'
                'VirtualFibreChannelMapping')]}


def _storage(sim):
    vdisks, vopts = [], []
    for vg in sim.store.all('VolumeGroup'):
        vios = sim.store.get(vg.parent[1])
        vname = xu.text(vios.elem, 'PartitionName')
        gname = xu.text(vg.elem, 'GroupName')
        for vdisk in xu.findall(vg.elem, 'VirtualDisks/VirtualDisk'):
            vdisks.append({'vios': vname, 'vg': gname,
                           'name': xu.text(vdisk, 'DiskName'),
                           'udid': xu.text(vdisk, 'UniqueDeviceID'),
                           'capacity_gb': float(xu.text(
                               vdisk, 'DiskCapacity', 0))})
        for vopt in xu.findall(vg.elem, 'MediaRepositories/'
                               'VirtualMediaRepository/OpticalMedia/'
                               'VirtualOpticalMedia'):
            size = float(xu.text(vopt, 'Size', 0)) * 1024
            vopts.append({'vios': vname, 'vg': gname,
                          'name': xu.text(vopt, 'MediaName'),
                          'size_mb': int(round(size)) or (1 if size else 0)})
    return vdisks, vopts


def _cna(sim, obj):
    vsw = None
    link = xu.find(obj.elem, 'AssociatedVirtualSwitch/link')
    if link is not None:
        found = sim.store.get(xu.href_uuid(link.get('href')))
        vsw = xu.text(found.elem, 'SwitchName') if found else None
    return {'lpar_uuid': obj.parent[1], 'uuid': obj.uuid,
            'mac': xu.text(obj.elem, 'MACAddress'),
            'vlan': int(xu.text(obj.elem, 'PortVLANID', 0)),
            'vswitch': vsw,
            'slot': int(xu.text(obj.elem, 'VirtualSlotNumber', 0)),
            'trunk': xu.find(obj.elem, 'TrunkPriority') is not None}


def _file(obj):
    def get(name):
        return xu.text(obj.elem, name, ns=xu.WEB)
    return {'uuid': obj.uuid, 'name': get('Filename'),
            'type': get('FileEnumType'),
            'size': int(get('CurrentFileSizeInBytes') or 0)}


def summary(sim):
    """Build the state dict (caller holds the store lock).

    :param sim: the Simulator.
    """
    vdisks, vopts = _storage(sim)
    out = {
        'lpars': [_lpar(o) for o in sim.store.all('LogicalPartition')
                  if xu.text(o.elem, 'IsManagementPartition') != 'true'],
        'vioses': [_vios(o) for o in sim.store.all('VirtualIOServer')],
        'virtual_disks': vdisks,
        'optical_media': vopts,
        'cnas': [_cna(sim, o)
                 for o in sim.store.all('ClientNetworkAdapter')],
        'vnics': [], 'lus': [],
        'files': [_file(o) for o in sim.store.all('File')],
        'jobs_running': sim.jobs.running(),
    }
    sim.registry.run_hooks('state', sim, out)
    return out
