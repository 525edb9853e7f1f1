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
"""Storage side of live migration: carry VSCSI (PV) and VFC mappings.

The source lists the partition's mappings; the destination checks that it
can host them (a PV with the same UDID on some VIOS, an FC port for each
virtual FC adapter) before anything moves, then recreates them with new
adapters.  Local VDisks cannot move, as on a real system.
"""

from lxml import etree

from nova_powervm.simulator import jobs
from nova_powervm.simulator.resources import npiv
from nova_powervm.simulator.resources import vios as sim_vios
from nova_powervm.simulator import xmlutil as xu

_SCSI = 'VirtualSCSIMappings/VirtualSCSIMapping'
_VFC = 'VirtualFibreChannelMappings/VirtualFibreChannelMapping'


def _client_maps(sim, lpar, path):
    lid = xu.text(lpar.elem, 'PartitionID')
    for vios in sim.store.all('VirtualIOServer'):
        for mapping in xu.findall(vios.elem, path):
            if xu.text(mapping, 'ClientAdapter/LocalPartitionID') == lid:
                yield vios, mapping


def describe(sim, lpar):
    """What the destination must recreate; raises on immovable storage.

    :param sim: the source Simulator.
    :param lpar: the LPAR.
    """
    scsi, vfc = [], []
    for _vios, mapping in _client_maps(sim, lpar, _SCSI):
        stg = xu.find(mapping, 'Storage')
        if stg is None or not len(stg):
            continue
        kind = xu.local(stg[0].tag)
        if kind != 'PhysicalVolume':
            raise jobs.JobFailed(
                'HSCLA2F4 The partition has %s storage that is not '
                'reachable from the destination.' % kind)
        scsi.append(xu.text(stg[0], 'UniqueDeviceID'))
    for _vios, mapping in _client_maps(sim, lpar, _VFC):
        vfc.append(xu.text(mapping, 'ClientAdapter/WWPNs'))
    return {'scsi': scsi, 'vfc': vfc}


def remove_source(sim, lpar):
    """Drop the partition's mappings on the source VIOSes.

    :param sim: the source Simulator.
    :param lpar: the LPAR.
    """
    for path in (_SCSI, _VFC):
        for vios, mapping in list(_client_maps(sim, lpar, path)):
            mapping.getparent().remove(mapping)
            sim.store.touch(vios)


def _pv_owner(sim, udid):
    for vios in sim.store.all('VirtualIOServer'):
        for pvol in xu.findall(vios.elem, 'PhysicalVolumes/PhysicalVolume'):
            if xu.text(pvol, 'UniqueDeviceID') == udid:
                return vios, xu.text(pvol, 'VolumeName')
    return None, None


def _fc_vios(sim, index):
    hosts = [v for v in sim.store.all('VirtualIOServer')
             if npiv.physical_ports(v.elem)]
    if not hosts:
        return None, None
    vios = hosts[index % len(hosts)]
    port = npiv.physical_ports(vios.elem)[0]
    return vios, xu.text(port, 'PortName')


def check(sim, storage):
    """Raise JobFailed unless the destination can host ``storage``.

    :param sim: the destination Simulator.
    :param storage: the dict from :func:`describe`.
    """
    for udid in storage['scsi']:
        if _pv_owner(sim, udid)[0] is None:
            raise jobs.JobFailed('HSCLA2F5 No VIOS on the destination sees '
                                 'the disk %s.' % udid)
    if storage['vfc'] and _fc_vios(sim, 0)[0] is None:
        raise jobs.JobFailed('HSCLA2F6 No FC port on the destination.')


def _adapter_pair(mapping):
    for name in ('ClientAdapter', 'ServerAdapter'):
        adp = xu.sub(mapping, name, schemaVersion='V1_0')
        xu.sub(adp, 'AdapterType', 'Client' if name == 'ClientAdapter'
               else 'Server')
        xu.sub(adp, 'UseNextAvailableSlotID', 'true')


def recreate(sim, lpar, storage):
    """Map the storage to ``lpar`` on the destination VIOSes.

    :param sim: the destination Simulator.
    :param lpar: the migrated LPAR object.
    :param storage: the dict from :func:`describe`.
    """
    for udid in storage['scsi']:
        vios, name = _pv_owner(sim, udid)
        mapping = _new_map(sim, vios, lpar, 'VirtualSCSIMappings',
                           'VirtualSCSIMapping')
        _adapter_pair(mapping)
        pvol = xu.sub(xu.sub(mapping, 'Storage'), 'PhysicalVolume')
        xu.sub(pvol, 'UniqueDeviceID', udid)
        xu.sub(pvol, 'VolumeName', name)
        sim_vios.process_scsi_mappings(sim, vios, vios.elem)
        sim.store.touch(vios)
    for idx, wwpns in enumerate(storage['vfc']):
        vios, port = _fc_vios(sim, idx)
        mapping = _new_map(sim, vios, lpar, 'VirtualFibreChannelMappings',
                           'VirtualFibreChannelMapping')
        _adapter_pair(mapping)
        xu.sub(xu.find(mapping, 'ClientAdapter'), 'WWPNs', wwpns)
        port_el = etree.Element(xu.qn('Port'))
        xu.sub(port_el, 'PortName', port)
        xu.find(mapping, 'ClientAdapter').addnext(port_el)
        npiv.process_vfc_mappings(sim, vios, vios.elem)
        sim.store.touch(vios)


def _new_map(sim, vios, lpar, list_name, map_name):
    parent = xu.find(vios.elem, list_name)
    mapping = xu.sub(parent, map_name, schemaVersion='V1_0')
    xu.sub(mapping, 'AssociatedLogicalPartition', href=sim.href(lpar),
           rel='related')
    return mapping
