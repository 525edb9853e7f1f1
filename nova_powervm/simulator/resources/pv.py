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
from nova_powervm.simulator import templates as tpl
from nova_powervm.simulator import xmlutil as xu

_PVS = 'PhysicalVolumes'
AVAILABLE, IN_USE, NOT_INTEREST = '3', '1', '5'


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


def lua_recovery(sim, vios, params):
    """Discover the hdisk behind ITLs reachable from this VIOS's ports.

    :param sim: the Simulator.
    :param vios: the VIOS object.
    :param params: ``inputXML``.
    """
    root = etree.fromstring(params.get('inputXML', '<XML_LIST/>').encode())
    device = root.find('deviceList/device')
    ports = set((xu.text(p, 'WWPN') or '').lower()
                for p in npiv.physical_ports(vios.elem))
    itls = list(device.iter('itl')) if device is not None else []
    if not any((i.findtext('Iwwpn') or '').lower() in ports for i in itls):
        return {'OutputXML': _result_xml(NOT_INTEREST, None, None,
                                         'No path from this VIOS')}
    udid = _device_udid(device)
    name = add_pv(sim, vios, udid)
    status = IN_USE if _pv_in_use(vios, name) else AVAILABLE
    return {'OutputXML': _result_xml(status, name, udid)}


def remove_device(sim, vios, params):
    """Remove an hdisk (fails while it is mapped).

    :param sim: the Simulator.
    :param vios: the VIOS object.
    :param params: ``devName``.
    """
    name = params.get('devName')
    if _pv_in_use(vios, name):
        raise jobs.JobFailed('VIOS0030 Device %s is busy.' % name)
    pvs = xu.find(vios.elem, _PVS)
    for pvol in xu.findall(pvs, 'PhysicalVolume'):
        if xu.text(pvol, 'VolumeName') == name:
            pvs.remove(pvol)
            sim.store.touch(vios)
            return {}
    raise jobs.JobFailed('VIOS0013 Device %s not found.' % name)


def rescan_vdisk(sim, vios, params):
    """Report whether a virtual disk UDID exists (``RETURN_CODE``).

    :param sim: the Simulator.
    :param vios: the VIOS object.
    :param params: ``VirtualDiskUDID``.
    """
    udid = params.get('VirtualDiskUDID')
    found = any(xu.text(d, 'UniqueDeviceID') == udid
                for vg in sim.store.children('VolumeGroup', vios.uuid)
                for d in xu.findall(vg.elem, 'VirtualDisks/VirtualDisk'))
    return {'RETURN_CODE': '0' if found else '-1'}


def iscsi_discovery(sim, vios, params):
    """Initiator query only: report the VIOS initiator name.

    :param sim: the Simulator.
    :param vios: the VIOS object.
    :param params: job parameters.
    """
    iqn = 'iqn.2026-01.com.ibm.sim:%s' % xu.text(vios.elem, 'PartitionName')
    if params.get('targetIQN'):
        return {'RETURN_CODE': '127'}
    return {'RETURN_CODE': '0', 'InitiatorName': iqn}


def iscsi_remove(sim, vios, params):
    """Logout of an iSCSI target (nothing to do; ``RETURN_CODE`` 0).

    :param sim: the Simulator.
    :param vios: the VIOS object.
    :param params: job parameters.
    """
    return {'RETURN_CODE': '0'}


def rbd_exists(sim, vios, params):
    """Every ``pool/image`` name exists (there is no Ceph behind it).

    :param sim: the Simulator.
    :param vios: the VIOS object.
    :param params: ``name``.
    """
    return {'exists': 'true' if params.get('name') else 'false'}
