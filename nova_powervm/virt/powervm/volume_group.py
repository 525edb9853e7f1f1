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
"""Reading and editing a VIOS volume group.

The local disk adapter keeps boot disks and cached images as VDisks of a
volume group, and the config drive lives in the media repository of one;
both change a volume group the same way: read it, change the wrapper,
POST it, and on an etag mismatch (HTTP 412) read it again and redo the
change.

Edits that callers make at the same time go through the host's batching
writer of the volume group (``batch.VGWriter``, :func:`edit`): one GET and
one POST for all of them.
"""

from pypowervm.utils import retry as pvm_retry
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm import exception as exc
from nova_powervm.virt.powervm import batch
from nova_powervm.virt.powervm import errors


def get(adapter, vios_uuid, vg_uuid, what='read volume group'):
    """Read one volume group (1 GET).

    :param adapter: pypowervm ``Adapter``.
    :param vios_uuid: UUID of the VIOS that owns it.
    :param vg_uuid: UUID of the volume group.
    :param what: the operation, for messages.
    :raises PowerVMNotFound: when it does not exist.
    """
    with errors.translate(what):
        return pvm_stg.VG.get(adapter, uuid=vg_uuid,
                              parent_type=pvm_vios.VIOS,
                              parent_uuid=vios_uuid)


def list_on(adapter, vios_uuid):
    """The volume groups of one VIOS (1 GET).

    :param adapter: pypowervm ``Adapter``.
    :param vios_uuid: UUID of the VIOS.
    """
    with errors.translate('list volume groups'):
        return pvm_stg.VG.get(adapter, parent_type=pvm_vios.VIOS,
                              parent_uuid=vios_uuid)


def short_name(vdisk):
    """A VDisk's name without the ``<vg>/`` prefix some replies carry."""
    return vdisk.name.split('/')[-1]


@pvm_retry.retry(argmod_func=pvm_retry.refresh_wrapper, tries=10)
def _add_vdisks(vg_w, vdisks):
    for vdisk in vdisks:
        vg_w.virtual_disks.append(vdisk)
    vg_w = vg_w.update()
    found = {short_name(vd): vd for vd in vg_w.virtual_disks}
    return vg_w, [found.get(vdisk.name) for vdisk in vdisks]


def add_vdisks(vg_w, vdisks):
    """Create VDisks in a volume group (1 POST for all; redone on 412).

    :param vg_w: ``VG`` wrapper, fresh from a GET.
    :param vdisks: the new ``VDisk`` wrappers (``VDisk.bld``).
    :returns: ``(updated VG wrapper, the VDisks as created)``.
    :raises PowerVMAPIFailed: when the reply does not hold a disk.
    """
    names = ', '.join(vdisk.name for vdisk in vdisks)
    with errors.translate('create disk %s' % names):
        vg_w, created = _add_vdisks(vg_w, vdisks)
    _require_created(vg_w, vdisks, created, names)
    return vg_w, created


def _require_created(vg_w, vdisks, created, names):
    """Raise unless the volume group reported every new VDisk.

    :raises PowerVMAPIFailed: naming the missing disks.
    """
    missing = [vdisk.name for vdisk, new in zip(vdisks, created)
               if new is None]
    if missing:
        raise exc.PowerVMAPIFailed(
            operation='create disk %s' % names,
            reason='volume group %s did not report the new disk %s'
            % (vg_w.name, ', '.join(missing)))


def add_vdisk(vg_w, vdisk):
    """Create a VDisk in a volume group (1 POST; redone on 412).

    :param vg_w: ``VG`` wrapper, fresh from a GET.
    :param vdisk: the new ``VDisk`` (``VDisk.bld``).
    :returns: ``(updated VG wrapper, the VDisk as created)``.
    :raises PowerVMAPIFailed: when the reply does not hold the disk.
    """
    vg_w, created = add_vdisks(vg_w, [vdisk])
    return vg_w, created[0]


def edit(adapter, vios_uuid, vg_uuid, apply, collect=None, what=None):
    """Change a volume group in the host's next batch of edits.

    1 GET and at most 1 POST per batch, whatever the number of concurrent
    callers; redone on 412.

    :param adapter: pypowervm ``Adapter``.
    :param vios_uuid: UUID of the VIOS that owns it.
    :param vg_uuid: UUID of the volume group.
    :param apply: ``apply(vg_w)`` changes the wrapper in place and returns
                  a true value when it changed it; it raises before any
                  change (it may run again on a fresh wrapper).
    :param collect: ``collect(vg_w)`` gives the caller's result from the
                    wrapper after the POST (None: the wrapper).
    :param what: the operation, for messages (None: no translation).
    """
    writer = batch.vg_writer(adapter, vios_uuid, vg_uuid)
    if what is None:
        return writer.submit(batch.VGEdit(apply, collect))
    with errors.translate(what):
        return writer.submit(batch.VGEdit(apply, collect))


def _remover(udids, names, vopt_names):
    """An ``apply`` removing VDisks and media (see :func:`edit`)."""
    def apply(vg_w):
        vds = [vd for vd in vg_w.virtual_disks
               if vd.udid in udids or short_name(vd) in names]
        for vd in vds:
            vg_w.virtual_disks.remove(vd)
        vopts = []
        if vg_w.vmedia_repos and vopt_names:
            media = vg_w.vmedia_repos[0].optical_media
            vopts = [m for m in media if m.name in vopt_names]
            for m in vopts:
                media.remove(m)
        removed[:] = [([short_name(vd) for vd in vds],
                       [m.name for m in vopts])]
        return bool(vds or vopts)
    removed = [([], [])]
    return apply, lambda vg_w: removed[0]


def remove_batched(adapter, vios_uuid, vg_uuid, vdisk_udids=(),
                   vdisk_names=(), vopt_names=(), what=None):
    """:func:`remove` through the host's batching writer.

    :returns: ``(deleted VDisk names, deleted media names)``.
    """
    apply, collect = _remover(set(vdisk_udids), set(vdisk_names),
                              set(vopt_names))
    return edit(adapter, vios_uuid, vg_uuid, apply, collect,
                what=what or 'update volume group %s' % vg_uuid)


def add_vdisks_batched(adapter, vios_uuid, vg_uuid, vdisks):
    """:func:`add_vdisks` through the host's batching writer.

    :returns: the VDisks as created, in the order of ``vdisks``.
    :raises PowerVMAPIFailed: when the reply does not hold a disk.
    """
    names = ', '.join(vdisk.name for vdisk in vdisks)

    def apply(vg_w):
        for vdisk in vdisks:
            vg_w.virtual_disks.append(vdisk)
        return True

    def collect(vg_w):
        found = {short_name(vd): vd for vd in vg_w.virtual_disks}
        created = [found.get(vdisk.name) for vdisk in vdisks]
        _require_created(vg_w, vdisks, created, names)
        return created
    return edit(adapter, vios_uuid, vg_uuid, apply, collect,
                what='create disk %s' % names)
