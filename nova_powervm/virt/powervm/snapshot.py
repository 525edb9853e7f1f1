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
"""Snapshot: an instance's boot disk, streamed to the image service.

The disk adapter reads the boot disk back on the management partition
through the host shim (``DiskAdapter.read_boot_disk``); its bytes go to
the image service as a raw image, in chunks, never whole in memory.  The
partition is not touched: a running server keeps running.
"""

from nova.compute import task_states
from oslo_log import log as logging

from nova_powervm import exception as exc
from nova_powervm.virt.powervm import image
from nova_powervm.virt.powervm import vm

LOG = logging.getLogger(__name__)


def image_metadata(instance):
    """What the driver sets on the snapshot image (raw, bare).

    nova's compute API created the image record with the instance's image
    properties already; they are kept (no purge).

    :param instance: nova ``Instance``.
    """
    props = {'image_location': 'snapshot', 'image_state': 'available',
             'owner_id': instance.project_id}
    if instance.os_type:
        props['os_type'] = instance.os_type
    return {'disk_format': 'raw', 'container_format': 'bare',
            'properties': props}


def snapshot(ctx, context, instance, image_id, update_task_state,
             image_api=None):
    """Upload the boot disk of an instance as the image ``image_id``.

    REST cost: the disk adapter's ``read_boot_disk`` (1 GET when the
    management partition serves the disk).

    :param ctx: ``HostContext``.
    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance``.
    :param image_id: the image nova's API created for the snapshot.
    :param update_task_state: nova's callback, called with
        ``IMAGE_PENDING_UPLOAD`` then ``IMAGE_UPLOADING``.
    :param image_api: nova's image API (``glance.API()`` by default).
    :raises InstanceNotRunning: when the partition does not exist.
    """
    if not ctx.disk_dvr.capabilities.get('snapshot'):
        raise exc.NotSupportedYet(
            operation='snapshot with disk driver %s'
            % type(ctx.disk_dvr).__name__)
    api = image_api or image.image_api()
    update_task_state(task_state=task_states.IMAGE_PENDING_UPLOAD)
    lpar_uuid = vm.get_pvm_uuid(instance)
    with ctx.disk_dvr.read_boot_disk(instance, lpar_uuid,
                                     ctx.shim) as reader:
        update_task_state(task_state=task_states.IMAGE_UPLOADING,
                          expected_state=task_states.IMAGE_PENDING_UPLOAD)
        LOG.info('Uploading %(size)d bytes of the boot disk to image '
                 '%(image)s.', {'size': reader.size, 'image': image_id},
                 instance=instance)
        api.update(context, image_id, image_metadata(instance), data=reader)
        if reader.short:
            # The device ended early: the image is short (nova deletes a
            # snapshot image whose upload failed).
            raise exc.DiskNotReadable(
                disk=ctx.disk_dvr.boot_disk_name(instance),
                reason='the device ended %d bytes early' % reader.left)
    LOG.info('Snapshot %s uploaded.', image_id, instance=instance)
