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
"""The disk adapter interface: where instance boot disks live.

A disk adapter owns the disks of instances on one kind of storage
(volume groups of a VIOS for ``localdisk``, a Shared Storage Pool for
``ssp``) end to end: it creates them (from an image), finds them, connects
them to a partition on every VIOS it must use, disconnects only its own
mappings, deletes them, and reports the storage's capacity.  Flow tasks
call these methods and never look at the kind of storage.

Connecting and disconnecting add changes to the operation's
``mapping.VIOSMappings``, so that disks, config drive media and volumes
share one VIOS update.
"""

import abc
import math

from oslo_utils import units

from nova_powervm.virt.powervm import mapping


def image_size(image_meta):
    """Size of an image in bytes (0 when Glance gave none).

    :param image_meta: nova ``ImageMeta``.
    """
    if image_meta.obj_attr_is_set('size'):
        return image_meta.size or 0
    return 0


class DiskAdapter(metaclass=abc.ABCMeta):
    """Base class of disk adapters.

    :param adapter: pypowervm ``Adapter``.
    :param host_uuid: ManagedSystem UUID.
    :param mgmt_uuid: UUID of the NovaLink management partition.
    """

    capabilities = {
        'shared_storage': False,
        'has_imagecache': False,
        'snapshot': False,
    }

    def __init__(self, adapter, host_uuid, mgmt_uuid):
        self.adapter = adapter
        self.host_uuid = host_uuid
        self.mgmt_uuid = mgmt_uuid

    @property
    @abc.abstractmethod
    def vios_uuids(self):
        """UUIDs of the VIOSes through which the disks are mapped."""

    @abc.abstractmethod
    def disk_usage(self):
        """``(total_gb, used_gb)`` of the storage, as floats."""

    @property
    def capacity(self):
        """Total capacity of the storage in GB (float)."""
        return self.disk_usage()[0]

    @property
    def capacity_used(self):
        """Used capacity of the storage in GB (float)."""
        return self.disk_usage()[1]

    @staticmethod
    def boot_disk_name(instance):
        """Name of an instance's boot disk (15 characters at most).

        :param instance: nova ``Instance``.
        """
        return 'b_' + instance.uuid.replace('-', '')[:13]

    @staticmethod
    def image_name(image_id):
        """Name of the cached copy of an image (15 characters at most).

        :param image_id: Glance image id.
        """
        return 'i_' + image_id.replace('-', '')[:13]

    @staticmethod
    def disk_size_gb(instance, image_meta):
        """Boot disk size: the flavor's root disk, at least the image.

        :param instance: nova ``Instance``.
        :param image_meta: nova ``ImageMeta``.
        :returns: int GB (at least 1).
        """
        image_gb = math.ceil(image_size(image_meta) / units.Gi)
        return max(int(instance.flavor.root_gb or 0), image_gb, 1)

    @abc.abstractmethod
    def create_disk_from_image(self, context, instance, image_meta):
        """Create an instance's boot disk holding an image.

        :param context: nova ``RequestContext``.
        :param instance: nova ``Instance``.
        :param image_meta: nova ``ImageMeta``.
        :returns: ``(disk, cached)``: the storage element to map, and the
                  image cache element this call created (None when the
                  image was already cached), which a revert may remove.
        """

    def disk_names(self, instance):
        """Names of the disks this adapter makes for an instance.

        :param instance: nova ``Instance``.
        """
        return [self.boot_disk_name(instance)]

    def is_instance_disk(self, storage, instance):
        """Whether a storage element is one of the instance's disks.

        :param storage: storage element (of a mapping, say), or None.
        :param instance: nova ``Instance``.
        """
        return mapping.storage_named(self.disk_names(instance))(storage)

    def connect_disk(self, mappings, lpar_uuid, disk):
        """Map a disk to a partition on every VIOS this storage uses.

        :param mappings: the operation's ``mapping.VIOSMappings``.
        :param lpar_uuid: PowerVM UUID of the partition.
        :param disk: the storage element (from
                     :meth:`create_disk_from_image`).
        """
        for vios_uuid in self.vios_uuids:
            mappings.add_vscsi(vios_uuid, lpar_uuid, disk)

    def disconnect_disks(self, mappings, instance, lpar_uuid=None):
        """Remove the mappings of this adapter's disks of an instance.

        Mappings of anything else (config drive, volumes) are left alone.

        :param mappings: the operation's ``mapping.VIOSMappings``.
        :param instance: nova ``Instance``.
        :param lpar_uuid: only mappings to this partition (None: any
                          client, for a partition that vanished).
        """
        mappings.remove_vscsi(
            lambda stg: self.is_instance_disk(stg, instance),
            lpar_uuid=lpar_uuid, vios_uuids=self.vios_uuids)

    @abc.abstractmethod
    def delete_disks(self, disks):
        """Delete disks; absent ones are ignored.

        :param disks: storage elements returned by
                      :meth:`create_disk_from_image`.
        """

    @abc.abstractmethod
    def delete_instance_disks(self, instance):
        """Find an instance's disks by name and delete them.

        Found by name, not through mappings, so that a destroy retried
        after a failure, or of a partition that vanished, still finds them.

        :param instance: nova ``Instance``.
        :returns: names of the deleted disks.
        """

    def manage_image_cache(self, context, all_instances):
        """Remove cached images no instance on the host uses.

        :param context: nova ``RequestContext``.
        :param all_instances: the instances nova knows on this host.
        """
