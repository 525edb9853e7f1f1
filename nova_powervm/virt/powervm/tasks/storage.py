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

The tasks call the disk adapter (``ctx.disk_dvr``) and the config drive
module (``media``) and never look at the kind of storage.  Mapping and
unmapping go through one ``mapping.VIOSMappings`` per task, so each VIOS
is read once and updated with a single POST whatever number of devices it
gains or loses.
"""

from oslo_log import log as logging
from taskflow.types import failure as tf_failure

from nova_powervm.virt.powervm import mapping
from nova_powervm.virt.powervm import media
from nova_powervm.virt.powervm.tasks import base

LOG = logging.getLogger(__name__)


def _ok(result):
    return result is not None and not isinstance(result, tf_failure.Failure)


def disconnect(ctx, instance, lpar_uuid=None):
    """Remove the mappings of an instance's disks and config drive.

    1 GET of the VIOS feed, and 1 POST per VIOS that held one.  Mappings
    of anything else (volumes) are left alone.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param lpar_uuid: only mappings to this partition (None: any client,
                      for a partition that vanished).
    :returns: the ``(vios_uuid, storage)`` pairs unmapped.
    """
    mappings = mapping.VIOSMappings(ctx.adapter, 'unmap_storage', instance)
    ctx.disk_dvr.disconnect_disks(mappings, instance, lpar_uuid)
    media.disconnect(mappings, instance, lpar_uuid)
    return mappings.execute()


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


class CreateLocalDisks(base.PowerVMTask):
    """Blank ephemeral and swap disks (1 GET + 1 POST for them all).

    Provides ``local_disks``; revert deletes them.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param disks: list of ``disk.base.LocalDisk`` to create.
    """

    def __init__(self, ctx, instance, disks):
        super().__init__(instance, 'create_local_disks',
                         provides='local_disks')
        self.ctx = ctx
        self.disks = disks

    def execute(self):
        return self.ctx.disk_dvr.create_blank_disks(self.instance,
                                                    self.disks)

    def revert(self, result, flow_failures, **kwargs):
        # By name: a POST that failed on our side may still have happened.
        self.best_effort('delete ephemeral and swap disks',
                         self.ctx.disk_dvr.delete_disks_named,
                         self.instance, [d.name for d in self.disks])


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
        return media.create(self.ctx.adapter, self.ctx.cache, self.instance,
                            data)

    def revert(self, result, flow_failures, **kwargs):
        # Also after a failed upload: the media may exist half-written.
        self.best_effort('delete config drive', media.delete,
                         self.ctx.adapter, self.ctx.cache, self.instance)


class ConnectStorage(base.PowerVMTask):
    """Map boot disk, ephemeral and swap disks and config drive at once.

    One VIOS update; the boot disk first.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param with_media: a ``cfg_vopt`` is provided by an earlier task.
    :param with_local: a ``local_disks`` list is provided by an earlier
                       task.
    :param with_boot: a ``boot_disk`` is provided by an earlier task
                      (false when the server boots from a volume).
    """

    def __init__(self, ctx, instance, with_media, with_local=False,
                 with_boot=True):
        requires = ['lpar_wrap'] + (['boot_disk'] if with_boot else [])
        if with_media:
            requires.append('cfg_vopt')
        if with_local:
            requires.append('local_disks')
        super().__init__(instance, 'connect_storage', requires=requires)
        self.ctx = ctx

    def execute(self, lpar_wrap, boot_disk=None, cfg_vopt=None,
                local_disks=()):
        mappings = mapping.VIOSMappings(self.ctx.adapter, 'map_storage',
                                        self.instance)
        for disk in [boot_disk] + list(local_disks or ()):
            if disk is not None:
                self.ctx.disk_dvr.connect_disk(mappings, lpar_wrap.uuid,
                                               disk)
        if cfg_vopt is not None:
            media.connect(mappings, lpar_wrap.uuid, cfg_vopt)
        mappings.execute()

    def revert(self, lpar_wrap, result, flow_failures, boot_disk=None,
               cfg_vopt=None, local_disks=None, **kwargs):
        self.best_effort('remove mappings', disconnect, self.ctx,
                         self.instance, lpar_wrap.uuid)


class DisconnectStorage(base.PowerVMTask):
    """Remove the mappings of the instance's disks and config drive.

    Works whether or not the partition still exists (``lpar_wrap`` None):
    the storage is recognised by its names.  Volumes' mappings are left
    to their connectors.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    """

    def __init__(self, ctx, instance):
        super().__init__(instance, 'disconnect_storage',
                         requires=['lpar_wrap'])
        self.ctx = ctx

    def execute(self, lpar_wrap):
        disconnect(self.ctx, self.instance,
                   lpar_wrap.uuid if lpar_wrap is not None else None)

    def revert(self, *args, **kwargs):
        """Mappings of a partition being destroyed are not restored."""


class DeleteStorage(base.PowerVMTask):
    """Delete the instance's disks (unless kept) and config drive media.

    They are found by name, not through the mappings just removed, so
    that a destroy retried after a failure still deletes them.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param destroy_disks: delete the disks too.
    """

    def __init__(self, ctx, instance, destroy_disks):
        super().__init__(instance, 'delete_storage')
        self.ctx = ctx
        self.destroy_disks = destroy_disks

    def execute(self):
        deleted = []
        if self.destroy_disks:
            deleted += self.ctx.disk_dvr.delete_instance_disks(self.instance)
        deleted += media.delete(self.ctx.adapter, self.ctx.cache,
                                self.instance)
        return deleted

    def revert(self, *args, **kwargs):
        """Deleted storage cannot come back; nothing to do."""


# ----------------------------------------------------------------------
# Rescue and unrescue
# ----------------------------------------------------------------------
class CreateRescueDisk(base.PowerVMTask):
    """The rescue disk, copied from the rescue image; revert deletes it.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param context: nova ``RequestContext``.
    :param image_meta: nova ``ImageMeta`` of the rescue image.
    """

    def __init__(self, ctx, instance, context, image_meta):
        super().__init__(instance, 'create_rescue_disk',
                         provides='rescue_disk')
        self.ctx = ctx
        self.context = context
        self.image_meta = image_meta
        self.cached = None

    def execute(self):
        disk, self.cached = self.ctx.disk_dvr.create_rescue_disk(
            self.context, self.instance, self.image_meta)
        return disk

    def revert(self, result, flow_failures, **kwargs):
        dvr = self.ctx.disk_dvr
        # By name: a copy that failed on our side may still have happened.
        self.best_effort('delete rescue disk', dvr.delete_disks_named,
                         self.instance, [dvr.rescue_disk_name(self.instance)])
        if self.cached is not None:
            self.best_effort('delete cached rescue image', dvr.delete_disks,
                             [self.cached])


class ConnectRescueDisk(base.PowerVMTask):
    """Map the rescue disk beside the boot disk (1 GET + 1 POST).

    Provides ``boot_string``: the rescue disk's Open Firmware path, for
    the PowerOn job.  Revert removes the rescue disk's mapping.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    """

    def __init__(self, ctx, instance):
        super().__init__(instance, 'connect_rescue_disk',
                         provides='boot_string',
                         requires=['lpar_wrap', 'rescue_disk'])
        self.ctx = ctx

    def execute(self, lpar_wrap, rescue_disk):
        mappings = mapping.VIOSMappings(self.ctx.adapter, 'map_rescue_disk',
                                        self.instance)
        self.ctx.disk_dvr.connect_disk(mappings, lpar_wrap.uuid, rescue_disk)
        mappings.execute()
        return mappings.boot_string(lpar_wrap.uuid, mapping.storage_named(
            [self.ctx.disk_dvr.rescue_disk_name(self.instance)]))

    def revert(self, lpar_wrap, result, flow_failures, **kwargs):
        self.best_effort('remove rescue disk mapping', disconnect_named,
                         self.ctx, self.instance, lpar_wrap.uuid,
                         [self.ctx.disk_dvr.rescue_disk_name(self.instance)])


def disconnect_named(ctx, instance, lpar_uuid, names):
    """Remove the mappings of some of an instance's disks (1 GET, 1 POST).

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param lpar_uuid: PowerVM UUID of the partition.
    :param names: names of the disks to unmap.
    :returns: the ``mapping.VIOSMappings`` executed (its VIOS wrappers
              show what stays mapped).
    """
    mappings = mapping.VIOSMappings(ctx.adapter, 'unmap_disks', instance)
    ctx.disk_dvr.disconnect_disks(mappings, instance, lpar_uuid, names=names)
    mappings.execute()
    return mappings


class DisconnectRescueDisk(base.PowerVMTask):
    """Remove the rescue disk's mapping (unrescue; nothing when gone).

    Provides ``boot_string``, the mapped boot disk's Open Firmware path
    (None when none is mapped), and ``leftover_disks``: the rescue disk and
    a boot disk a failed rebuild left unmapped, to delete.  Both are read
    from the same VIOS update.  Unrescue only goes forward: a failed
    unrescue is run again.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    """

    def __init__(self, ctx, instance):
        super().__init__(instance, 'disconnect_rescue_disk',
                         provides=('boot_string', 'leftover_disks'),
                         requires=['lpar_wrap'])
        self.ctx = ctx

    def execute(self, lpar_wrap):
        dvr = self.ctx.disk_dvr
        rescue = dvr.rescue_disk_name(self.instance)
        mappings = disconnect_named(self.ctx, self.instance, lpar_wrap.uuid,
                                    [rescue])
        boot_names = dvr.boot_disk_names(self.instance)
        mapped = mappings.names_mapped_to(lpar_wrap.uuid)
        leftover = [rescue]
        if mapped & set(boot_names):
            leftover += [name for name in boot_names if name not in mapped]
        return (mappings.boot_string(lpar_wrap.uuid,
                                     mapping.storage_named(boot_names),
                                     required=False),
                leftover)

    def revert(self, *args, **kwargs):
        """Unrescue goes forward only; run it again."""


class DeleteLeftoverDisks(base.PowerVMTask):
    """Delete the disks ``leftover_disks`` names (GET, and POST if any).

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    """

    def __init__(self, ctx, instance):
        super().__init__(instance, 'delete_leftover_disks',
                         requires=['leftover_disks'])
        self.ctx = ctx

    def execute(self, leftover_disks):
        return self.ctx.disk_dvr.delete_disks_named(self.instance,
                                                    leftover_disks)

    def revert(self, *args, **kwargs):
        """Deleted disks cannot come back."""


# ----------------------------------------------------------------------
# Rebuild
# ----------------------------------------------------------------------
class CreateBootDisk(base.PowerVMTask):
    """A new boot disk from the rebuild's image, beside the old one.

    Provides ``boot_disk``; revert deletes it.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param context: nova ``RequestContext``.
    :param image_meta: nova ``ImageMeta``.
    :param name: the new disk's name (the boot disk name the old one
                 does not have).
    """

    def __init__(self, ctx, instance, context, image_meta, name):
        super().__init__(instance, 'create_boot_disk', provides='boot_disk')
        self.ctx = ctx
        self.context = context
        self.image_meta = image_meta
        self.disk_name = name
        self.cached = None

    def execute(self):
        disk, self.cached = self.ctx.disk_dvr.create_boot_disk(
            self.context, self.instance, self.image_meta, self.disk_name)
        return disk

    def revert(self, result, flow_failures, **kwargs):
        dvr = self.ctx.disk_dvr
        self.best_effort('delete new boot disk', dvr.delete_disks_named,
                         self.instance, [self.disk_name])
        if self.cached is not None:
            self.best_effort('delete cached image', dvr.delete_disks,
                             [self.cached])


class SwapBootDisk(base.PowerVMTask):
    """Map the new boot disk in place of the old one (1 GET + 1 POST).

    The same VIOS update unmaps the config drive and the disks the
    rebuild replaces (ephemerals unless preserved).  Provides
    ``boot_string``: the new boot disk's Open Firmware path.  Revert
    maps back what was unmapped and unmaps the new disk.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param old_names: names of the disks to unmap (old boot disk, ...).
    :param new_name: the new boot disk's name.
    """

    def __init__(self, ctx, instance, old_names, new_name):
        super().__init__(instance, 'swap_boot_disk', provides='boot_string',
                         requires=['lpar_wrap', 'boot_disk'])
        self.ctx = ctx
        self.old_names = old_names
        self.new_name = new_name
        self.removed = []

    def execute(self, lpar_wrap, boot_disk):
        dvr = self.ctx.disk_dvr
        mappings = mapping.VIOSMappings(self.ctx.adapter, 'swap_boot_disk',
                                        self.instance)
        dvr.disconnect_disks(mappings, self.instance, lpar_wrap.uuid,
                             names=self.old_names)
        media.disconnect(mappings, self.instance, lpar_wrap.uuid)
        dvr.connect_disk(mappings, lpar_wrap.uuid, boot_disk)
        self.removed = mappings.execute()
        return mappings.boot_string(lpar_wrap.uuid,
                                    mapping.storage_named([self.new_name]))

    def revert(self, lpar_wrap, result, flow_failures, **kwargs):
        self.best_effort('map the old disks again', self._restore,
                         lpar_wrap.uuid)

    def _restore(self, lpar_uuid):
        mappings = mapping.VIOSMappings(self.ctx.adapter, 'restore_mappings',
                                        self.instance)
        self.ctx.disk_dvr.disconnect_disks(mappings, self.instance,
                                           lpar_uuid, names=[self.new_name])
        for vios_uuid, stg in self.removed:
            mappings.add_vscsi(vios_uuid, lpar_uuid, stg)
        mappings.execute()


class DeleteReplacedStorage(base.PowerVMTask):
    """Delete the replaced disks and the old config drive.

    From here the rebuild goes forward: what was replaced is gone.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param names: names of the replaced disks.
    """

    def __init__(self, ctx, instance, names):
        super().__init__(instance, 'delete_replaced_storage')
        self.ctx = ctx
        self.names = names

    def execute(self):
        deleted = self.ctx.disk_dvr.delete_disks_named(self.instance,
                                                       self.names)
        return deleted + media.delete(self.ctx.adapter, self.ctx.cache,
                                      self.instance)

    def revert(self, *args, **kwargs):
        """Deleted storage cannot come back."""


class ConnectMore(base.PowerVMTask):
    """Map new ephemeral disks and config drive (rebuild; 1 GET + 1 POST).

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param with_media: a ``cfg_vopt`` is provided by an earlier task.
    :param with_local: a ``local_disks`` list is provided by an earlier
                       task.
    """

    def __init__(self, ctx, instance, with_media, with_local):
        requires = ['lpar_wrap']
        if with_media:
            requires.append('cfg_vopt')
        if with_local:
            requires.append('local_disks')
        super().__init__(instance, 'connect_more_storage',
                         requires=requires)
        self.ctx = ctx

    def execute(self, lpar_wrap, cfg_vopt=None, local_disks=()):
        mappings = mapping.VIOSMappings(self.ctx.adapter, 'map_storage',
                                        self.instance)
        for disk in local_disks or ():
            self.ctx.disk_dvr.connect_disk(mappings, lpar_wrap.uuid, disk)
        if cfg_vopt is not None:
            media.connect(mappings, lpar_wrap.uuid, cfg_vopt)
        mappings.execute()

    def revert(self, lpar_wrap, result, flow_failures, local_disks=None,
               **kwargs):
        self.best_effort('remove new mappings', self._unmap, lpar_wrap.uuid,
                         [d.name for d in local_disks or ()])

    def _unmap(self, lpar_uuid, names):
        mappings = mapping.VIOSMappings(self.ctx.adapter, 'unmap_storage',
                                        self.instance)
        if names:
            self.ctx.disk_dvr.disconnect_disks(mappings, self.instance,
                                               lpar_uuid, names=names)
        media.disconnect(mappings, self.instance, lpar_uuid)
        mappings.execute()
