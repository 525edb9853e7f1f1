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
"""Storage side of live migration: carry VSCSI (PV, LU) and VFC mappings.

The source lists the partition's mappings; the destination checks that it
can host them (a PV with the same UDID on some VIOS, the same logical unit
in its shared storage pool, an FC port for each virtual FC adapter) before
anything moves, then recreates them with new adapters.  The job's
``VirtualSCSIMappings`` / ``VirtualFCMappings`` parameters
(``client-slot/vios-name/vios-id[/vios-slot[/fc-port]]``) choose the
destination VIOS (and FC port) of a client adapter.  Local VDisks cannot
move, as on a real system.
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
    for vios, mapping in _client_maps(sim, lpar, _SCSI):
        stg = xu.find(mapping, 'Storage')
        if stg is None or not len(stg):
            continue
        kind = xu.local(stg[0].tag)
        if kind not in ('PhysicalVolume', 'LogicalUnit'):
            raise jobs.JobFailed(
                'HSCLA2F4 The partition has %s storage that is not '
                'reachable from the destination.' % kind)
        scsi.append({'kind': kind,
                     'udid': xu.text(stg[0], 'UniqueDeviceID'),
                     'name': xu.text(stg[0], 'UnitName'),
                     'slot': _slot(mapping),
                     'vios': xu.text(vios.elem, 'PartitionName')})
    for _vios, mapping in _client_maps(sim, lpar, _VFC):
        vfc.append({'wwpns': xu.text(mapping, 'ClientAdapter/WWPNs'),
                    'slot': _slot(mapping)})
    return {'scsi': scsi, 'vfc': vfc}


def _slot(mapping):
    slot = xu.text(mapping, 'ClientAdapter/VirtualSlotNumber')
    return int(slot) if slot and slot.isdigit() else None


def parse_mappings(text, param):
    """The job's mapping parameter as {client slot: (vios name, id, port)}.

    :param text: ``slot/vios-name/vios-id[/vios-slot[/port]]``, comma
        separated (pypowervm's ``migrate_lpar`` format).
    :param param: the parameter name (for the fault).
    """
    out = {}
    for item in filter(None, (text or '').split(',')):
        parts = item.split('/')
        if len(parts) < 3 or not parts[0].isdigit() or not (
                parts[1] or parts[2]):
            raise jobs.JobFailed('HSCLA2F8 Malformed %s entry %r.'
                                 % (param, item))
        out[int(parts[0])] = (parts[1], parts[2],
                              parts[4] if len(parts) > 4 else '')
    return out


def _named_vios(sim, spec):
    name, pid = spec[:2]
    for vios in sim.store.all('VirtualIOServer'):
        if (name and xu.text(vios.elem, 'PartitionName') == name) or (
                not name and xu.text(vios.elem, 'PartitionID') == pid):
            return vios
    raise jobs.JobFailed('HSCLA2F9 The destination has no VIOS %s.'
                         % (name or 'with ID %s' % pid))


def remove_source(sim, lpar):
    """Drop the partition's mappings on the source VIOSes.

    A logical unit stays in the shared pool: only its mapping moves.

    :param sim: the source Simulator.
    :param lpar: the LPAR.
    """
    for path in (_SCSI, _VFC):
        for vios, mapping in list(_client_maps(sim, lpar, path)):
            mapping.getparent().remove(mapping)
            sim.store.touch(vios)


def _pv_owner(sim, udid, only=None):
    for vios in sim.store.all('VirtualIOServer'):
        if only is not None and vios is not only:
            continue
        for pvol in xu.findall(vios.elem, 'PhysicalVolumes/PhysicalVolume'):
            if xu.text(pvol, 'UniqueDeviceID') == udid:
                return vios, xu.text(pvol, 'VolumeName')
    return None, None


def _same_name(sim, entry):
    """The destination VIOS named like the source's (same topology)."""
    for vios in sim.store.all('VirtualIOServer'):
        if xu.text(vios.elem, 'PartitionName') == entry.get('vios'):
            return vios
    return None


def _lu_home(sim, entry, only=None):
    found = any(xu.text(lu.elem, 'UniqueDeviceID') == entry['udid']
                for lu in sim.store.all('LogicalUnit'))
    if not found:
        return None
    if only is not None:
        return only
    vioses = sorted(sim.store.all('VirtualIOServer'),
                    key=lambda v: xu.text(v.elem, 'PartitionName'))
    return _same_name(sim, entry) or (vioses[0] if vioses else None)


def _fc_vios(sim, index, spec=None):
    if spec is not None:
        vios = _named_vios(sim, spec)
        ports = npiv.physical_ports(vios.elem)
        if spec[2]:
            ports = [p for p in ports if xu.text(p, 'PortName') == spec[2]]
        # Only a port with a free virtual port (NPIV capable) will do.
        ports = [p for p in ports if _npiv_capable(p)]
        if not ports:
            raise jobs.JobFailed('HSCLA2F6 No NPIV capable FC port %s on '
                                 'VIOS %s.' % (spec[2] or '',
                                               spec[0] or spec[1]))
        return vios, xu.text(ports[0], 'PortName')
    hosts = [v for v in sim.store.all('VirtualIOServer')
             if any(_npiv_capable(p) for p in npiv.physical_ports(v.elem))]
    if not hosts:
        return None, None
    vios = hosts[index % len(hosts)]
    port = [p for p in npiv.physical_ports(vios.elem) if _npiv_capable(p)][0]
    return vios, xu.text(port, 'PortName')


def _npiv_capable(port):
    try:
        return int(xu.text(port, 'AvailablePorts') or 0) > 0
    except ValueError:
        return False


def _placement(sim, storage, params):
    """Where each mapping goes on the destination.

    :returns: ([(entry, vios, name)], [(wwpns, vios, port)]).
    :raises JobFailed: when the destination cannot host one.
    """
    params = params or {}
    scsi_map = parse_mappings(params.get('VirtualSCSIMappings'),
                              'VirtualSCSIMappings')
    fc_map = parse_mappings(params.get('VirtualFCMappings'),
                            'VirtualFCMappings')
    scsi, vfc = [], []
    for entry in storage['scsi']:
        spec = scsi_map.get(entry.get('slot'))
        only = _named_vios(sim, spec) if spec else None
        if entry['kind'] == 'LogicalUnit':
            vios, name = _lu_home(sim, entry, only), entry['name']
            what = 'the logical unit %s' % entry['name']
        else:
            vios, name = _pv_owner(sim, entry['udid'],
                                   only or _same_name(sim, entry))
            if vios is None and only is None:
                vios, name = _pv_owner(sim, entry['udid'])
            what = 'the disk %s' % entry['udid']
        if vios is None:
            raise jobs.JobFailed('HSCLA2F5 No VIOS on the destination sees '
                                 '%s.' % what)
        scsi.append((entry, vios, name))
    for idx, entry in enumerate(storage['vfc']):
        vios, port = _fc_vios(sim, idx, fc_map.get(entry.get('slot')))
        if vios is None:
            raise jobs.JobFailed('HSCLA2F6 No FC port on the destination.')
        vfc.append((entry['wwpns'], vios, port))
    return scsi, vfc


def check(sim, storage, params=None):
    """Raise JobFailed unless the destination can host ``storage``.

    :param sim: the destination Simulator.
    :param storage: the dict from :func:`describe`.
    :param params: the migrate job's parameters (mapping choices).
    """
    _placement(sim, storage, params)


def _adapter_pair(mapping):
    for name in ('ClientAdapter', 'ServerAdapter'):
        adp = xu.sub(mapping, name, schemaVersion='V1_0')
        xu.sub(adp, 'AdapterType', 'Client' if name == 'ClientAdapter'
               else 'Server')
        xu.sub(adp, 'UseNextAvailableSlotID', 'true')


def recreate(sim, lpar, storage, params=None):
    """Map the storage to ``lpar`` on the destination VIOSes.

    :param sim: the destination Simulator.
    :param lpar: the migrated LPAR object.
    :param storage: the dict from :func:`describe`.
    :param params: the migrate job's parameters (mapping choices).
    """
    scsi, vfc = _placement(sim, storage, params)
    for entry, vios, name in scsi:
        mapping = _new_map(sim, vios, lpar, 'VirtualSCSIMappings',
                           'VirtualSCSIMapping')
        _adapter_pair(mapping)
        stg = xu.sub(xu.sub(mapping, 'Storage'), entry['kind'])
        xu.sub(stg, 'UniqueDeviceID', entry['udid'])
        if entry['kind'] == 'LogicalUnit':
            xu.sub(stg, 'UnitName', name)
        else:
            xu.sub(stg, 'VolumeName', name)
        sim_vios.process_scsi_mappings(sim, vios, vios.elem)
        sim.store.touch(vios)
    for wwpns, vios, port in vfc:
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
