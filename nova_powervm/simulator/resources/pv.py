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
"""Physical volumes: LUARecovery discovery, RemoveDevice and friends."""

import hashlib

from lxml import etree

from nova_powervm.simulator import jobs
from nova_powervm.simulator.resources import npiv
from nova_powervm.simulator import san as sim_san
from nova_powervm.simulator import templates as tpl
from nova_powervm.simulator import xmlutil as xu

_PVS = 'PhysicalVolumes'
AVAILABLE, IN_USE, NOT_INTEREST = '3', '1', '5'
INCORRECT_ITL, ITL_ERR = '6', '8'


def _pv_template():
    pvol = tpl.find_in_capture('fake_vios_ssp_npiv.txt', 'PhysicalVolume')
    return pvol


def _pv_in_use(vios, name):
    for smap in xu.findall(vios.elem,
                           'VirtualSCSIMappings/VirtualSCSIMapping'):
        if xu.text(smap, 'Storage/PhysicalVolume/VolumeName') == name:
            return True
    return False


def add_pv(sim, vios, udid, capacity_mb=10240, fc=True):
    """Add (or find) a physical volume on a VIOS; return its name.

    :param sim: the Simulator.
    :param vios: the VIOS :class:`Obj`.
    :param udid: the UniqueDeviceID.
    :param capacity_mb: VolumeCapacity.
    :param fc: IsFibreChannelBacked.
    """
    pvs = xu.find(vios.elem, _PVS)
    names = set()
    for pvol in xu.findall(pvs, 'PhysicalVolume'):
        if xu.text(pvol, 'UniqueDeviceID') == udid:
            return xu.text(pvol, 'VolumeName')
        names.add(xu.text(pvol, 'VolumeName'))
    num = 1
    while 'hdisk%d' % num in names:
        num += 1
    name = 'hdisk%d' % num
    pvol = _pv_template()
    for path, val in (('Description', 'MPIO IBM 2145 FC Disk'),
                      ('UniqueDeviceID', udid), ('VolumeCapacity',
                                                 capacity_mb),
                      ('VolumeName', name), ('VolumeState', 'active'),
                      ('AvailableForUsage', 'true'),
                      ('VolumeUniqueID', udid[2:34]),
                      ('IsFibreChannelBacked', fc)):
        xu.set_text(pvol, path, val)
    pvs.append(pvol)
    sim.store.touch(vios)
    return name


def _device_udid(device):
    dev_id = device.findtext('deviceID')
    luns = sorted(set((i.findtext('Twwpn') or '').lower() + ':' +
                      (i.findtext('lua') or '')
                      for i in device.iter('itl')))
    key = dev_id or ','.join(luns)
    return '01M0lCTU' + hashlib.sha1(key.encode()).hexdigest().upper()


def _result_xml(status, name, udid, msg=''):
    root = etree.Element('XML_LIST')
    dev = etree.SubElement(etree.SubElement(root, 'deviceList'), 'device')
    etree.SubElement(dev, 'status').text = status
    if name:
        etree.SubElement(dev, 'pvName').text = name
        etree.SubElement(dev, 'udid').text = udid
    if msg:
        etree.SubElement(etree.SubElement(dev, 'msg'), 'msgText').text = msg
    return etree.tostring(root).decode()


def _active_ports(vios):
    return set((xu.text(p, 'WWPN') or '').lower()
               for p in npiv.physical_ports(vios.elem)
               if int(xu.text(p, 'TotalPorts') or 0) > 0)


def _pv_by_udid(vios, udid):
    for pvol in xu.findall(vios.elem, _PVS + '/PhysicalVolume'):
        if xu.text(pvol, 'UniqueDeviceID') == udid:
            return pvol
    return None


def _san_disk(sim, vios, lun, fc):
    """The hdisk of a SAN LUN on a VIOS (added, or its size refreshed).

    A rediscovery is also how a VIOS sees that a LUN grew.
    """
    size_mb = lun['size_gb'] * 1024
    pvol = _pv_by_udid(vios, lun['udid'])
    if pvol is not None:
        if int(xu.text(pvol, 'VolumeCapacity') or 0) != size_mb:
            xu.set_text(pvol, 'VolumeCapacity', size_mb)
            sim.store.touch(vios)
        return xu.text(pvol, 'VolumeName')
    name = add_pv(sim, vios, lun['udid'], capacity_mb=size_mb, fc=fc)
    pvol = _pv_by_udid(vios, lun['udid'])
    xu.set_text(pvol, 'Description', 'MPIO IBM 2145 FC Disk' if fc
                else 'MPIO IBM 2145 iSCSI Disk')
    xu.set_text(pvol, 'VolumeUniqueID', '3321%s04214503IBM%s'
                % (lun['naa'], 'fcp' if fc else 'iscsi'))
    return name


def _lua_failed(msg, status=INCORRECT_ITL):
    """A LUARecovery that ran and found no device (its XML in Results)."""
    return jobs.JobFailed(msg, results={
        'OutputXML': _result_xml(status, None, None, msg)},
        status='COMPLETED_WITH_ERROR')


def lua_recovery(sim, vios, params):
    """Discover the hdisk behind ITLs reachable from this VIOS's ports.

    ITLs to the simulated SAN's target ports (see
    :mod:`nova_powervm.simulator.san`) find a LUN only when the ITL's
    initiator is one of this VIOS's active FC ports and is in the LUN's
    masking; several good ITLs with some bad ones give status 8
    (``FOUND_ITL_ERR``); none is a ``COMPLETED_WITH_ERROR`` job whose
    OutputXML says why.  ITLs to other targets stand for a SAN outside
    the simulation: any of them from this VIOS finds a disk.

    :param sim: the Simulator.
    :param vios: the VIOS object.
    :param params: ``inputXML``.
    """
    root = etree.fromstring(params.get('inputXML', '<XML_LIST/>').encode())
    device = root.find('deviceList/device')
    ports = _active_ports(vios)
    itls = [((i.findtext('Iwwpn') or '').lower(),
             (i.findtext('Twwpn') or '').lower(),
             (i.findtext('lua') or '').lower())
            for i in (device.iter('itl') if device is not None else ())]
    local = [itl for itl in itls if itl[0] in ports]
    if not local:
        return {'OutputXML': _result_xml(NOT_INTEREST, None, None,
                                         'No path from this VIOS')}
    san = sim.san
    on_san = [itl for itl in local if itl[1] in san.fc_targets]
    if not on_san:
        udid = _device_udid(device)
        name = add_pv(sim, vios, udid)
        status = IN_USE if _pv_in_use(vios, name) else AVAILABLE
        return {'OutputXML': _result_xml(status, name, udid)}
    luns, bad = {}, 0
    for init, target, lua in on_san:
        lun = san.find_fc(target, lua)
        if lun is not None and init in lun['initiators']:
            luns[lun['name']] = lun
        else:
            bad += 1
    if not luns:
        raise _lua_failed('No LUN at LUN address %s behind the target '
                          'ports for the initiators %s of %s' % (
                              on_san[0][2], ', '.join(sorted(set(
                                  i[0] for i in on_san))),
                              xu.text(vios.elem, 'PartitionName')))
    if len(luns) > 1:
        raise _lua_failed('The ITLs lead to several LUNs: %s'
                          % ', '.join(sorted(luns)))
    lun = list(luns.values())[0]
    name = _san_disk(sim, vios, lun, fc=True)
    if _pv_in_use(vios, name):
        status = IN_USE
    else:
        status = ITL_ERR if bad else AVAILABLE
    msg = ('%d of %d paths failed' % (bad, len(on_san))) if bad else ''
    return {'OutputXML': _result_xml(status, name, lun['udid'], msg)}


def _fail(msg, **results):
    return jobs.JobFailed(msg, results=results,
                          status='COMPLETED_WITH_ERROR')


def remove_device(sim, vios, params):
    """Remove an hdisk (fails while it is mapped).

    :param sim: the Simulator.
    :param vios: the VIOS object.
    :param params: ``devName``.
    """
    name = params.get('devName')
    if _pv_in_use(vios, name):
        raise _fail('VIOS0030 Device %s is busy.' % name)
    pvs = xu.find(vios.elem, _PVS)
    for pvol in xu.findall(pvs, 'PhysicalVolume'):
        if xu.text(pvol, 'VolumeName') == name:
            pvs.remove(pvol)
            sim.store.touch(vios)
            return {}
    raise _fail('VIOS0013 Device %s not found.' % name)


def rescan_vdisk(sim, vios, params):
    """Report whether a virtual disk UDID exists (``RETURN_CODE``).

    A SAN LUN's hdisk is rescanned too: the VIOS sees its new size.

    :param sim: the Simulator.
    :param vios: the VIOS object.
    :param params: ``VirtualDiskUDID``.
    """
    udid = params.get('VirtualDiskUDID')
    found = any(xu.text(d, 'UniqueDeviceID') == udid
                for vg in sim.store.children('VolumeGroup', vios.uuid)
                for d in xu.findall(vg.elem, 'VirtualDisks/VirtualDisk'))
    pvol = _pv_by_udid(vios, udid)
    lun = sim.san.by_udid(udid) if pvol is not None else None
    if lun is not None:
        _san_disk(sim, vios, lun, fc=xu.text(
            pvol, 'IsFibreChannelBacked') == 'true')
        found = True
    return {'RETURN_CODE': '0' if found else '-1'}


def initiator_iqn(sim, vios):
    """The iSCSI initiator name of a VIOS (unique across hosts)."""
    serial = sim.inventory.mtms.split('*')[-1].lower()
    return 'iqn.2026-01.com.ibm.sim:%s-%s' % (
        serial, xu.text(vios.elem, 'PartitionName'))


def _listed(value):
    """A job parameter that pypowervm sends as a value or ``[a,b]``."""
    value = (value or '').strip()
    if value.startswith('[') and value.endswith(']'):
        return [v.strip() for v in value[1:-1].split(',') if v.strip()]
    return [value] if value else []


def _sessions(vios):
    return vios.extra.setdefault('iscsi_sessions', [])


def iscsi_discovery(sim, vios, params):
    """The VIOS initiator name, or a discovery and login to a target.

    Without ``targetIQN`` the job reports ``InitiatorName``.  With one,
    it logs in to the simulated SAN's target through the given portals
    (all of them with ``multipath``): unknown portals or targets, an
    initiator not in the LUN's masking or wrong CHAP credentials end the
    job ``COMPLETED_WITH_ERROR`` with the iSCSI ``RETURN_CODE`` in its
    Results, as the VIOS command reports them.  A good login records a
    session per portal, adds the hdisk and lists it in ``DEV_OUTPUT``.

    :param sim: the Simulator.
    :param vios: the VIOS object.
    :param params: job parameters.
    """
    iqn = initiator_iqn(sim, vios)
    if not params.get('targetIQN'):
        return {'RETURN_CODE': '0', 'InitiatorName': iqn}
    san = sim.san
    targets = _listed(params.get('targetIQN'))
    portals = [p for p in _listed(params.get('hostIP'))
               if p in san.iscsi_portals]
    if not portals:
        raise _fail('iSCSI portal %s unreachable'
                    % params.get('hostIP'), RETURN_CODE='8')
    if params.get('multipath', '').lower() != 'true':
        portals = portals[:1]
    luns = [san.find_iscsi(t) for t in targets]
    lun = next((x for x in luns if x is not None), None)
    if lun is None:
        raise _fail('No iSCSI target %s on %s' % (
            ', '.join(targets), ', '.join(portals)), RETURN_CODE='21')
    if iqn not in lun['initiators']:
        raise _fail('Login to %s refused: initiator %s not allowed'
                    % (san_target(lun), iqn), RETURN_CODE='5')
    chap = lun.get('chap')
    if chap and not (params.get('auth', '').upper() == 'CHAP' and
                     params.get('user') == chap['username'] and
                     params.get('password') == chap['secret']):
        raise _fail('CHAP authentication to %s failed' % san_target(lun),
                    RETURN_CODE='24')
    sessions = _sessions(vios)
    existed = True
    for portal in portals:
        if [san_target(lun), portal] not in sessions:
            sessions.append([san_target(lun), portal])
            existed = False
    sim.store.touch(vios)
    name = _san_disk(sim, vios, lun, fc=False)
    return {'RETURN_CODE': '15' if existed else '0',
            'DEV_OUTPUT': repr(['%s %s %s' % (san_target(lun), name,
                                              lun['udid'])])}


def san_target(lun):
    """The target IQN of a SAN LUN."""
    return sim_san.target_iqn(lun['name'])


def iscsi_remove(sim, vios, params):
    """Remove an iSCSI LUN's hdisk and log out of its target.

    Fails (``COMPLETED_WITH_ERROR``, ``RETURN_CODE`` 1) while the hdisk
    is mapped; ``RETURN_CODE`` 21 when there was nothing to remove.

    :param sim: the Simulator.
    :param vios: the VIOS object.
    :param params: ``targetIQN``, ``targetPORTAL``, ``targetLUN``...
    """
    targets = set(_listed(params.get('targetIQN')))
    removed = False
    for target in targets:
        lun = sim.san.find_iscsi(target)
        pvol = _pv_by_udid(vios, lun['udid']) if lun else None
        if pvol is not None:
            name = xu.text(pvol, 'VolumeName')
            if _pv_in_use(vios, name):
                raise _fail('Device %s of %s is busy' % (name, target),
                            RETURN_CODE='1')
            xu.find(vios.elem, _PVS).remove(pvol)
            removed = True
    sessions = _sessions(vios)
    kept = [s for s in sessions if s[0] not in targets]
    if len(kept) != len(sessions):
        vios.extra['iscsi_sessions'] = kept
        removed = True
    if removed:
        sim.store.touch(vios)
    return {'RETURN_CODE': '0' if removed else '21'}


def state_devices(sim, out):
    """``state`` hook: hdisks and iSCSI sessions of every VIOS.

    :param sim: the Simulator.
    :param out: the state dict being built.
    """
    pvs, sessions = [], []
    for vios in sim.store.all('VirtualIOServer'):
        vname = xu.text(vios.elem, 'PartitionName')
        for pvol in xu.findall(vios.elem, _PVS + '/PhysicalVolume'):
            pvs.append({'vios': vname, 'name': xu.text(pvol, 'VolumeName'),
                        'udid': xu.text(pvol, 'UniqueDeviceID'),
                        'capacity_mb': int(xu.text(pvol, 'VolumeCapacity')
                                           or 0)})
        for target, portal in vios.extra.get('iscsi_sessions', ()):
            sessions.append({'vios': vname, 'target_iqn': target,
                             'portal': portal})
    out['physical_volumes'] = pvs
    out['iscsi_sessions'] = sessions


def rbd_exists(sim, vios, params):
    """Every ``pool/image`` name exists (there is no Ceph behind it).

    :param sim: the Simulator.
    :param vios: the VIOS object.
    :param params: ``name``.
    """
    return {'exists': 'true' if params.get('name') else 'false'}
