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

    def execute(self, lpar_wrap, boot_disk, cfg_vopt=None):
        mappings = mapping.VIOSMappings(self.ctx.adapter, 'map_storage',
                                        self.instance)
        self.ctx.disk_dvr.connect_disk(mappings, lpar_wrap.uuid, boot_disk)
        if cfg_vopt is not None:
            media.connect(mappings, lpar_wrap.uuid, cfg_vopt)
        mappings.execute()

    def revert(self, lpar_wrap, boot_disk, result, flow_failures,
               cfg_vopt=None, **kwargs):
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
