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
"""Flow tasks about disks, config drive media and their VIOS mappings.

Disk and media are mapped to the partition by one FeedTask over the VIOS
feed (``?group=ViosSCSIMapping``), so each VIOS is read once and updated
with a single POST whatever number of devices it gains or loses.
"""

from oslo_log import log as logging
from pypowervm import const as pvm_const
from pypowervm.tasks import scsi_mapper as pvm_smap
from pypowervm.utils import transaction as pvm_tx
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios
from taskflow.types import failure as tf_failure

from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import media
from nova_powervm.virt.powervm.tasks import base
from nova_powervm.virt.powervm import vm

LOG = logging.getLogger(__name__)


def _ok(result):
    return result is not None and not isinstance(result, tf_failure.Failure)


def _add_mapping(vios_w, vios_uuid, lpar_uuid, stg):
    """FeedTask subtask: map ``stg`` to the partition on one VIOS."""
    if vios_w.uuid != vios_uuid:
        return False
    mapping = pvm_smap.build_vscsi_mapping(None, vios_w, lpar_uuid, stg)
    return pvm_smap.add_map(vios_w, mapping) is not None


def _remove_mappings(vios_w, lpar_uuid, names=None):
    """FeedTask subtask: drop the partition's mappings (of ``names``)."""
    def match(stg):
        return names is None or (stg is not None and stg.name in names)
    return pvm_smap.remove_maps(vios_w, lpar_uuid, match_func=match,
                                include_orphans=False)


def vios_feed_task(adapter, name):
    """A FeedTask over the VIOS feed with only the SCSI mappings group.

    :param adapter: pypowervm ``Adapter``.
    :param name: task name.
    """
    return pvm_tx.FeedTask(name, pvm_vios.VIOS.getter(
        adapter, xag=[pvm_const.XAG.VIO_SMAP]))


def remove_mappings(adapter, lpar_uuid, names=None):
    """Remove a partition's VSCSI mappings (1 GET + 1 POST per VIOS).

    :param adapter: pypowervm ``Adapter``.
    :param lpar_uuid: PowerVM UUID of the partition.
    :param names: only mappings of storage with these names (None: all).
    :returns: list of ``(vios_uuid, storage element)`` that were unmapped.
    """
    ftsk = vios_feed_task(adapter, 'unmap_storage')
    ftsk.add_functor_subtask(_remove_mappings, lpar_uuid, names=names,
                             provides='removed')
    with errors.translate('remove storage mappings'):
        rets = ftsk.execute()
    removed = []
    for vios_uuid, ret in (rets or {}).get('wrapper_task_rets', {}).items():
        for mapping in ret.get('removed') or ():
            if mapping.backing_storage is not None:
                removed.append((vios_uuid, mapping.backing_storage))
    return removed


def delete_vg_storage(adapter, targets):
    """Delete VDisks and optical media by name.

    Per VIOS: one GET of its VG feed and one POST per changed VG.

    :param adapter: pypowervm ``Adapter``.
    :param targets: dict ``{vios_uuid: (vdisk names, media names)}``.
    :returns: list of the deleted names.
    """
    deleted = []
    for vios_uuid, (vdisks, vopts) in targets.items():
        if not (vdisks or vopts):
            continue
        with errors.translate('delete storage'):
            for vg_w in pvm_stg.VG.get(adapter, parent_type=pvm_vios.VIOS,
                                       parent_uuid=vios_uuid):
                vds, media_names = media.remove_from_vg(
                    vg_w, vopt_names=vopts, vdisk_names=vdisks)
                deleted.extend(vds + media_names)
    return deleted


class CreateDiskForImg(base.PowerVMTask):
    """The boot disk, copied from the (cached) image; revert deletes it.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param context: nova ``RequestContext``.
    :param image_meta: nova ``ImageMeta``.
    """

    def __init__(self, ctx, instance, context, image_meta):
        super().__init__(instance, 'create_disk_from_image',
                         provides='boot_disk')
        self.ctx = ctx
        self.context = context
        self.image_meta = image_meta
        self.cached = None

    def execute(self):
        disk, self.cached = self.ctx.disk_dvr.create_disk_from_image(
            self.context, self.instance, self.image_meta)
        return disk

    def revert(self, result, flow_failures, **kwargs):
        doomed = [d for d in (result if _ok(result) else None, self.cached)
                  if d is not None]
        if doomed:
            self.best_effort('delete boot disk',
                             self.ctx.disk_dvr.delete_disks, doomed)


class CreateConfigDrive(base.PowerVMTask):
    """Build the config drive ISO and upload it as optical media.

    Provides ``cfg_vopt``: ``(vios_uuid, VOptMedia reference)``.  Revert
    deletes the media.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param context: nova ``RequestContext``.
    :param injected_files: list of ``(path, contents)``.
    :param admin_password: admin password or None.
    :param network_info: nova ``NetworkInfo``.
    :param with_mgmt: a ``mgmt_cna`` (or None) is provided by an earlier
                      task; its link-local address goes in the network data.
    """

    def __init__(self, ctx, instance, context, injected_files,
                 admin_password, network_info, with_mgmt=False):
        super().__init__(instance, 'create_config_drive', provides='cfg_vopt',
                         requires=['mgmt_cna'] if with_mgmt else None)
        self.ctx = ctx
        self.context = context
        self.injected_files = injected_files
        self.admin_password = admin_password
        self.network_info = network_info

    def execute(self, mgmt_cna=None):
        data = media.config_drive_iso(
            self.instance, self.injected_files, self.admin_password,
            self.network_info, request_context=self.context,
            mgmt_mac=mgmt_cna.mac if mgmt_cna is not None else None)
        with errors.translate('upload config drive'):
            vios_uuid, _vg = media.find_repo(self.ctx.adapter,
                                             self.ctx.cache)
            vopt = media.upload(self.ctx.adapter, vios_uuid,
                                media.vopt_name(self.instance), data)
        return vios_uuid, vopt

    def revert(self, result, flow_failures, **kwargs):
        # Also after a failed upload: the media may exist half-written.
        self.best_effort('delete config drive', media.delete_media,
                         self.ctx.adapter, self.ctx.cache,
                         [media.vopt_name(self.instance)])


class ConnectStorage(base.PowerVMTask):
    """Map the boot disk and the config drive in one VIOS update.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param with_media: a ``cfg_vopt`` is provided by an earlier task.
    """

    def __init__(self, ctx, instance, with_media):
        requires = ['lpar_wrap', 'boot_disk']
        if with_media:
            requires.append('cfg_vopt')
        super().__init__(instance, 'connect_storage', requires=requires)
        self.ctx = ctx

    def _items(self, boot_disk, cfg_vopt):
        items = [(self.ctx.disk_dvr.vios_uuids[0], boot_disk)]
        if cfg_vopt is not None:
            items.append(cfg_vopt)
        return items

    def execute(self, lpar_wrap, boot_disk, cfg_vopt=None):
        ftsk = vios_feed_task(self.ctx.adapter, 'map_storage')
        for vios_uuid, stg in self._items(boot_disk, cfg_vopt):
            ftsk.add_functor_subtask(_add_mapping, vios_uuid, lpar_wrap.uuid,
                                     stg)
        with errors.translate('map storage', instance=self.instance):
            ftsk.execute()

    def revert(self, lpar_wrap, boot_disk, result, flow_failures,
               cfg_vopt=None, **kwargs):
        names = {stg.name for _v, stg in self._items(boot_disk, cfg_vopt)}
        self.best_effort('remove mappings', remove_mappings,
                         self.ctx.adapter, lpar_wrap.uuid, names)


class DisconnectStorage(base.PowerVMTask):
    """Remove all the partition's VSCSI mappings (destroy).

    Provides ``removed_storage``: ``(vios_uuid, storage)`` pairs.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    """

    def __init__(self, ctx, instance):
        super().__init__(instance, 'disconnect_storage',
                         provides='removed_storage')
        self.ctx = ctx

    def execute(self):
        return remove_mappings(self.ctx.adapter,
                               vm.get_pvm_uuid(self.instance))

    def revert(self, *args, **kwargs):
        """Mappings of a partition being destroyed are not restored."""


class DeleteStorage(base.PowerVMTask):
    """Delete the boot disk (unless kept) and the config drive media.

    They are found by name, not only through the mappings just removed, so
    that a destroy retried after a failure still deletes them.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param destroy_disks: delete the boot disk too.
    """

    def __init__(self, ctx, instance, destroy_disks):
        super().__init__(instance, 'delete_storage',
                         requires=['removed_storage'])
        self.ctx = ctx
        self.destroy_disks = destroy_disks

    def _targets(self):
        targets = {}
        if self.destroy_disks:
            for vios_uuid, names in self.ctx.disk_dvr.vg_disk_names(
                    self.instance).items():
                targets.setdefault(vios_uuid, (set(), set()))[0].update(
                    names)
        with errors.translate('find media repository'):
            repo_vios, _vg = media.find_repo(self.ctx.adapter,
                                             self.ctx.cache)
        targets.setdefault(repo_vios, (set(), set()))[1].add(
            media.vopt_name(self.instance))
        return targets

    def execute(self, removed_storage):
        deleted = delete_vg_storage(self.ctx.adapter, self._targets())
        # Disks that do not live in a volume group (SSP logical units).
        dvr = self.ctx.disk_dvr
        others = [stg for _v, stg in removed_storage
                  if not isinstance(stg, (pvm_stg.VDisk, pvm_stg.VOptMedia))
                  and self.destroy_disks
                  and dvr.is_instance_disk(stg, self.instance)]
        if others:
            dvr.delete_disks(others)
        return deleted

    def revert(self, *args, **kwargs):
        """Deleted storage cannot come back; nothing to do."""
