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
"""VolumeGroup: virtual disks, media repository and optical media.

Disk and media contents live in sparse files under the state directory
(see :mod:`nova_powervm.simulator.files`); ISO uploads land in the
media repository (see :mod:`.file`).
"""

import functools
import hashlib

from lxml import etree

from nova_powervm.simulator import model
from nova_powervm.simulator import registry
from nova_powervm.simulator import templates as tpl
from nova_powervm.simulator import xmlutil as xu

VDISK_ORDER = ['Metadata', 'DiskCapacity', 'DiskLabel', 'DiskName',
               'VolumeGroup', 'UniqueDeviceID', 'VirtualDiskType',
               'FileFormat', 'BaseImage']
VOPT_ORDER = ['Metadata', 'MediaName', 'MediaUDID', 'MountType', 'Size']
_REPO = 'MediaRepositories/VirtualMediaRepository'
_VOPTS = _REPO + '/OpticalMedia/VirtualOpticalMedia'
_VDISKS = 'VirtualDisks/VirtualDisk'


def build_vg(sim, vios, name, capacity_gb, repo_gb=None):
    """A VolumeGroup object under a VIOS.

    :param sim: the Simulator.
    :param vios: the VIOS :class:`Obj`.
    :param name: GroupName.
    :param capacity_gb: GroupCapacity.
    :param repo_gb: media repository size, or None for no repository.
    """
    elem = tpl.capture_kind('VolumeGroup')
    serial = hashlib.md5(('%s/%s' % (vios.uuid, name)).encode()).hexdigest()
    uuid = sim.uuid_for('vg', vios.uuid, name)
    tpl.set_atom_id(elem, uuid)
    xu.set_text(elem, 'GroupCapacity', '%.4f' % capacity_gb)
    xu.set_text(elem, 'GroupName', name)
    xu.set_text(elem, 'GroupSerialID', serial)
    xu.set_text(elem, 'UniqueDeviceID', '04' + serial)
    tpl.empty(elem, 'VirtualDisks')
    tpl.empty(elem, 'PhysicalVolumes')
    repo = xu.find(elem, _REPO)
    tpl.empty(elem, _REPO + '/OpticalMedia')
    if repo_gb is None:
        repo.getparent().remove(repo)
    else:
        xu.set_text(repo, 'RepositoryName', 'VMLibrary')
        xu.set_text(repo, 'RepositorySize', int(repo_gb))
    obj = model.Obj('VolumeGroup', uuid, elem, ('VirtualIOServer', vios.uuid))
    _recompute(obj)
    return obj


def _gb(node, path):
    return float(xu.text(node, path, 0) or 0)


def _recompute(obj):
    elem = obj.elem
    used = sum(_gb(d, 'DiskCapacity') for d in xu.findall(elem, _VDISKS))
    used += _gb(elem, _REPO + '/RepositorySize')
    free = _gb(elem, 'GroupCapacity') - used
    if free < -0.0001:
        raise registry.SimError(
            409, 'VIOS0017 Not enough space in volume group %s.' %
            xu.text(elem, 'GroupName'))
    for name in ('AvailableSize', 'FreeSpace'):
        xu.set_text(elem, name, '%.4f' % free)


def vgs_of(sim, vios):
    """The VolumeGroup objects of a VIOS.

    :param sim: the Simulator.
    :param vios: the VIOS :class:`Obj`.
    """
    return sim.store.children('VolumeGroup', vios.uuid)


def _find_in_vgs(sim, vios, path, key, value):
    for vg in vgs_of(sim, vios):
        for node in xu.findall(vg.elem, path):
            if xu.text(node, key) == value:
                return vg, node
    return None, None


def resolve(sim, vios, kind, given):
    """The full storage element a mapping should show.

    :param sim: the Simulator.
    :param vios: the VIOS the mapping is on.
    :param kind: storage element local name.
    :param given: the element the client sent.
    :raises SimError: when the device does not exist on that VIOS.
    """
    found = None
    if kind == 'VirtualDisk':
        name = (xu.text(given, 'DiskName') or '').rsplit('/', 1)[-1]
        found = _find_in_vgs(sim, vios, _VDISKS, 'DiskName', name)[1]
        if found is not None:
            found = xu.deepcopy(found)
            vgl = xu.find(found, 'VolumeGroup')
            if vgl is not None:
                found.remove(vgl)
    elif kind == 'VirtualOpticalMedia':
        found = _find_in_vgs(sim, vios, _VOPTS, 'MediaName',
                             xu.text(given, 'MediaName'))[1]
    elif kind == 'PhysicalVolume':
        for pvol in xu.findall(vios.elem, 'PhysicalVolumes/PhysicalVolume'):
            if (xu.text(pvol, 'VolumeName') == xu.text(given, 'VolumeName')
                    or (xu.text(given, 'UniqueDeviceID') and
                        xu.text(pvol, 'UniqueDeviceID') ==
                        xu.text(given, 'UniqueDeviceID'))):
                found = pvol
    else:
        found = sim.registry.run_hooks('resolve_storage', sim, kind, given)
    if found is None:
        raise registry.SimError(
            400, 'VIOS0013 The storage %s %s was not found on %s.' % (
                kind, xu.tostring(given)[-200:].decode('utf-8', 'replace'),
                xu.text(vios.elem, 'PartitionName')))
    return xu.deepcopy(found)


def backing_name(sim, kind, full):
    """ServerAdapter BackingDeviceName for a storage element.

    VDisks name their backing file so that the host can read it back.

    :param sim: the Simulator.
    :param kind: storage local name.
    :param full: the resolved storage element.
    """
    if kind == 'VirtualDisk':
        return sim.files.disk_path(xu.text(full, 'UniqueDeviceID'))
    if kind == 'VirtualOpticalMedia':
        return xu.text(full, 'MediaName')
    if kind == 'PhysicalVolume':
        return xu.text(full, 'VolumeName')
    return xu.text(full, 'UnitName')


def mapped(sim, kind, field, value):
    """Whether any VIOS mapping holds a storage element with a value.

    :param sim: the Simulator.
    :param kind: the storage element's local name (``VirtualDisk``...).
    :param field: the identifying child (``UniqueDeviceID``...).
    :param value: the value to look for.
    """
    for vios in sim.store.all('VirtualIOServer'):
        for node in vios.elem.iter(xu.qn(kind)):
            if xu.text(node, field) == value:
                return True
    return False


def vdisk_in_use(sim, udid):
    """Whether any VSCSI mapping uses a VDisk UDID.

    :param sim: the Simulator.
    :param udid: the VDisk UniqueDeviceID.
    """
    return mapped(sim, 'VirtualDisk', 'UniqueDeviceID', udid)


def vopt_in_use(sim, name):
    """Whether any VSCSI mapping has a media loaded.

    :param sim: the Simulator.
    :param name: the MediaName.
    """
    return mapped(sim, 'VirtualOpticalMedia', 'MediaName', name)


def _fill_vdisk(sim, vg, vdisk, seq, actions):
    """Set a new VDisk's server-side fields; queue its backing file.

    :param sim: the Simulator.
    :param vg: the VolumeGroup :class:`Obj`.
    :param vdisk: the new VirtualDisk element (modified in place).
    :param seq: the sequence number making its UDID unique.
    :param actions: list the file creation is appended to.
    :raises SimError: when the BaseImage it clones does not exist.
    """
    udid = '03%s.%d' % (xu.text(vg.elem, 'GroupSerialID'), seq)
    cap = float(xu.text(vdisk, 'DiskCapacity', 1))
    xu.set_text(vdisk, 'DiskCapacity', '%.6f' % cap)
    if xu.find(vdisk, 'DiskLabel') is None:
        xu.insert_ordered(vdisk, _leaf('DiskLabel', 'None'), VDISK_ORDER)
    name = xu.text(vdisk, 'DiskName', '').rsplit('/', 1)[-1]
    xu.set_text(vdisk, 'DiskName', name)
    link = xu.find(vdisk, 'VolumeGroup')
    if link is None:
        link = xu.insert_ordered(vdisk, _leaf('VolumeGroup', None),
                                 VDISK_ORDER)
    link.set('href', sim.href(vg))
    link.set('rel', 'related')
    xu.insert_ordered(vdisk, _leaf('UniqueDeviceID', udid), VDISK_ORDER)
    base = xu.text(vdisk, 'BaseImage')
    if base is not None:
        vdisk.remove(xu.find(vdisk, 'BaseImage'))
        sim.files.check_disk(base)
    actions.append(lambda: sim.files.create_disk(udid, cap, base))
    return udid


def _leaf(name, value):
    node = etree.Element(xu.qn(name))
    node.text = value
    return node


def _update_vdisks(sim, vg, old, new):
    """Check a VDisk list change; return the file actions it needs.

    Nothing is changed on disk here, so a refused update leaves no trace.

    :param sim: the Simulator.
    :param vg: the VolumeGroup :class:`Obj`.
    :param old: the stored VolumeGroup element.
    :param new: the requested element (new disks are filled in).
    :returns: callables creating, growing and removing backing files.
    """
    old_disks = {xu.text(d, 'UniqueDeviceID'): d
                 for d in xu.findall(old, _VDISKS)}
    seq = max([int(u.rsplit('.', 1)[-1]) for u in old_disks if u] + [0])
    names = set()
    actions = []
    for vdisk in xu.findall(new, _VDISKS):
        udid = xu.text(vdisk, 'UniqueDeviceID')
        name = xu.text(vdisk, 'DiskName', '').rsplit('/', 1)[-1]
        if name in names:
            raise registry.SimError(409, 'VIOS0016 Disk %s exists.' % name)
        names.add(name)
        if udid is None or udid not in old_disks:
            seq += 1
            _fill_vdisk(sim, vg, vdisk, seq, actions)
            continue
        was = float(xu.text(old_disks[udid], 'DiskCapacity'))
        now = float(xu.text(vdisk, 'DiskCapacity'))
        if now < was - 0.0001:
            raise registry.SimError(409, 'VIOS0018 Cannot shrink %s.' % name)
        if now > was:
            actions.append(functools.partial(sim.files.resize_disk, udid,
                                             now))
        old_disks.pop(udid)
    for udid in old_disks:
        if vdisk_in_use(sim, udid):
            raise registry.SimError(
                409, 'VIOS0020 Disk %s is in use by a mapping.' % udid)
        actions.append(functools.partial(sim.files.delete_disk, udid))
    return actions


def _update_vopts(sim, vg, old, new):
    """Check an optical media change; return the file actions it needs.

    :param sim: the Simulator.
    :param vg: the VolumeGroup :class:`Obj`.
    :param old: the stored VolumeGroup element.
    :param new: the requested element (new media are filled in).
    :returns: callables creating and removing media files.
    """
    old_names = set(xu.text(v, 'MediaName') for v in xu.findall(old, _VOPTS))
    new_names = set()
    actions = []
    for vopt in xu.findall(new, _VOPTS):
        name = xu.text(vopt, 'MediaName')
        new_names.add(name)
        if name not in old_names:
            fill_vopt(vopt, name, 0)
            actions.append(functools.partial(sim.files.create_media, vg,
                                             name))
    for name in old_names - new_names:
        if vopt_in_use(sim, name):
            raise registry.SimError(
                409, 'VIOS0021 Media %s is loaded in a virtual optical '
                'device.' % name)
        actions.append(functools.partial(sim.files.delete_media, vg, name))
    repo = xu.find(new, _REPO)
    if repo is not None and xu.find(repo, 'OpticalMedia') is None:
        repo.insert(1, etree.Element(xu.qn('OpticalMedia')))
    return actions


def fill_vopt(vopt, name, size_bytes):
    """Set the server-side fields of a VirtualOpticalMedia element.

    :param vopt: the element (modified in place).
    :param name: MediaName.
    :param size_bytes: the ISO size in bytes.
    """
    for field, val in (('MediaName', name), ('MediaUDID', '0e' + name),
                       ('MountType', xu.text(vopt, 'MountType', 'rw')),
                       ('Size', '%.6f' % (size_bytes / 1024.0 ** 3))):
        node = xu.find(vopt, field)
        if node is None:
            node = xu.insert_ordered(vopt, _leaf(field, None), VOPT_ORDER)
        node.text = val
    return vopt


def media_upload_path(sim, fobj):
    """Path to write an uploaded ISO to (its VIOS needs a repository).

    :param sim: the Simulator.
    :param fobj: the web File :class:`Obj`.
    """
    vios_uuid = xu.text(fobj.elem, 'TargetVirtualIOServerUUID', ns=xu.WEB)
    vios = sim.store.get(vios_uuid or '', 'VirtualIOServer')
    if vios is None:
        raise registry.SimError(400, 'Unknown VIOS %s' % vios_uuid)
    for vg in vgs_of(sim, vios):
        if xu.find(vg.elem, _REPO) is not None:
            fobj.extra['vg'] = vg.uuid
            name = xu.text(fobj.elem, 'Filename', ns=xu.WEB)
            return sim.files.media_path(vg, name)
    raise registry.SimError(400, 'VIOS %s has no media repository'
                            % vios_uuid)


def add_uploaded_media(sim, fobj, size):
    """Add an uploaded ISO to the repository as optical media.

    :param sim: the Simulator.
    :param fobj: the web File :class:`Obj` (see :func:`media_upload_path`).
    :param size: bytes written.
    """
    vg = sim.store.get(fobj.extra['vg'], 'VolumeGroup')
    name = xu.text(fobj.elem, 'Filename', ns=xu.WEB)
    media = xu.find(vg.elem, _REPO + '/OpticalMedia')
    for vopt in list(media):
        if xu.text(vopt, 'MediaName') == name:
            media.remove(vopt)
    vopt = xu.sub(media, 'VirtualOpticalMedia', schemaVersion='V1_0')
    xu.sub(xu.sub(vopt, 'Metadata'), 'Atom')
    fill_vopt(vopt, name, size)
    sim.store.touch(vg)


class VolumeGroup(registry.Resource):
    kind = 'VolumeGroup'
    root = False

    def update(self, sim, obj, body, groups):
        new = registry.merge_groups(obj.elem, body, groups)
        for name in ('GroupSerialID', 'UniqueDeviceID', 'GroupName'):
            xu.set_text(new, name, xu.text(obj.elem, name))
        actions = _update_vdisks(sim, obj, obj.elem, new)
        actions += _update_vopts(sim, obj, obj.elem, new)
        old = obj.elem
        obj.elem = new
        try:
            _recompute(obj)
        except registry.SimError:
            obj.elem = old
            raise
        # Only an accepted update touches the backing files.
        for action in actions:
            action()
