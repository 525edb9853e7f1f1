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

A snapshot reads an instance's boot disk back through the host shim
(:meth:`DiskAdapter.read_boot_disk`): directly when the management
partition is the VIOS that serves it, otherwise mapped to the management
partition for the time of the read.
"""

import abc
import collections
import contextlib
import copy
import math
import time

from nova import exception as nova_exc
from nova.virt import driver as nova_driver
from oslo_log import log as logging
from oslo_utils import units
from pypowervm import entities as pvm_ent
from pypowervm.tasks import scsi_mapper as pvm_smap
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm import conf as pvm_conf
from nova_powervm import exception as exc
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import host_shim
from nova_powervm.virt.powervm import mapping
from nova_powervm.virt.powervm import vm

LOG = logging.getLogger(__name__)
CONF = pvm_conf.CONF

# Ephemeral disks an instance may have (disk names hold the index).
MAX_EPHEMERALS = 10

# A blank disk of an instance: ``kind`` is 'ephemeral' or 'swap', ``name``
# the disk's name, ``size_gb`` its size in GB (float).
LocalDisk = collections.namedtuple('LocalDisk', 'kind name size_gb')


def _uuid13(instance):
    return instance.uuid.replace('-', '')[:13]


def image_size(image_meta):
    """Size of an image in bytes (0 when Glance gave none).

    :param image_meta: nova ``ImageMeta``.
    """
    if image_meta.obj_attr_is_set('size'):
        return image_meta.size or 0
    return 0


def _detached(stg):
    """A copy of a storage element wrapper, outside any mapping."""
    elem = pvm_ent.Element.wrapelement(copy.deepcopy(stg.element.element),
                                       stg.adapter)
    return type(stg).wrap(elem)


class DiskAdapter(metaclass=abc.ABCMeta):
    """Base class of disk adapters.

    :param adapter: pypowervm ``Adapter``.
    :param host_uuid: ManagedSystem UUID.
    :param mgmt_uuid: UUID of the NovaLink management partition.
    """

    capabilities = {
        'shared_storage': False,
        'has_imagecache': False,
        # read_boot_disk works for any vSCSI-mapped boot disk.
        'snapshot': True,
    }

    def __init__(self, adapter, host_uuid, mgmt_uuid):
        self.adapter = adapter
        self.host_uuid = host_uuid
        self.mgmt_uuid = mgmt_uuid
        # Cache entry name -> monotonic time it was pre-cached on request
        # (``cache_image``): this host's image cache pass keeps it for
        # ``[image_cache] remove_unused_original_minimum_age_seconds``.
        self._precached = {}

    def remember_precached(self, image_id):
        """Note that an image was pre-cached just now (``cache_image``).

        :param image_id: Glance image id.
        """
        self._precached[self.image_name(image_id)] = time.monotonic()

    def cache_entries_in_use(self, all_instances):
        """Names of the cached images the image cache pass must keep.

        The images of the instances nova knows on this host, and images
        pre-cached less than ``[image_cache]
        remove_unused_original_minimum_age_seconds`` ago.

        :param all_instances: the instances nova knows on this host.
        :returns: set of cache entry names (``image_name``).
        """
        in_use = {self.image_name(inst.image_ref)
                  for inst in all_instances if inst.image_ref}
        min_age = CONF.image_cache.remove_unused_original_minimum_age_seconds
        now = time.monotonic()
        for name, since in list(self._precached.items()):
            if now - since < min_age:
                in_use.add(name)
            else:
                del self._precached[name]
        return in_use

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
        return 'b_' + _uuid13(instance)

    @staticmethod
    def alt_boot_disk_name(instance):
        """The other name a boot disk may have (after a rebuild).

        A rebuild makes the new boot disk before it deletes the old one,
        so the two take turns between :meth:`boot_disk_name` and this one.

        :param instance: nova ``Instance``.
        """
        return 'n_' + _uuid13(instance)

    @classmethod
    def boot_disk_names(cls, instance):
        """Both names an instance's boot disk may have."""
        return [cls.boot_disk_name(instance), cls.alt_boot_disk_name(instance)]

    @staticmethod
    def rescue_disk_name(instance):
        """Name of the disk a rescued instance boots from."""
        return 'r_' + _uuid13(instance)

    @staticmethod
    def swap_disk_name(instance):
        """Name of an instance's swap disk."""
        return 's_' + _uuid13(instance)

    @staticmethod
    def ephemeral_disk_name(instance, index):
        """Name of an instance's ephemeral disk number ``index`` (0-9)."""
        return 'e%d%s' % (index, instance.uuid.replace('-', '')[:13])

    @staticmethod
    def image_name(image_id):
        """Name of the cached copy of an image (15 characters at most).

        :param image_id: Glance image id.
        """
        return 'i_' + image_id.replace('-', '')[:13]

    @staticmethod
    def disk_size_gb(instance, image_meta):
        """Boot disk size: the flavor's root disk, at least the image.

        :param instance: nova ``Instance`` (None: sized as the image).
        :param image_meta: nova ``ImageMeta``.
        :returns: int GB (at least 1).
        """
        image_gb = math.ceil(image_size(image_meta) / units.Gi)
        root_gb = int(instance.flavor.root_gb or 0) if instance else 0
        return max(root_gb, image_gb, 1)

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
        """Names of every disk this adapter may make for an instance.

        Boot disk (either name), rescue disk, swap and ephemeral disks.

        :param instance: nova ``Instance``.
        """
        return (self.boot_disk_names(instance) +
                [self.rescue_disk_name(instance),
                 self.swap_disk_name(instance)] +
                [self.ephemeral_disk_name(instance, i)
                 for i in range(MAX_EPHEMERALS)])

    @classmethod
    def local_disks(cls, instance, block_device_info):
        """The blank disks an instance needs: ephemerals, then swap.

        Block device mapping ephemerals win over the flavor's
        ``ephemeral_gb`` (nova makes one from the flavor when the request
        names none), and a block device mapping's swap over the flavor's
        ``swap``.  Pure: no REST.

        :param instance: nova ``Instance``.
        :param block_device_info: nova block device info (or None).
        :returns: list of :class:`LocalDisk`.
        :raises nova.exception.InvalidInput: for more than
            ``MAX_EPHEMERALS`` ephemeral disks.
        """
        disks = []
        ephemerals = nova_driver.block_device_info_get_ephemerals(
            block_device_info)
        sizes = [int(eph.get('size') or 0) for eph in ephemerals]
        if not ephemerals and instance.flavor.ephemeral_gb:
            sizes = [int(instance.flavor.ephemeral_gb)]
        sizes = [size for size in sizes if size > 0]
        if len(sizes) > MAX_EPHEMERALS:
            raise nova_exc.InvalidInput(
                reason='The PowerVM driver creates at most %d ephemeral '
                       'disks; %d were requested.'
                       % (MAX_EPHEMERALS, len(sizes)))
        for index, size in enumerate(sizes):
            disks.append(LocalDisk('ephemeral',
                                   cls.ephemeral_disk_name(instance, index),
                                   float(size)))
        swap = nova_driver.block_device_info_get_swap(block_device_info)
        swap_mb = int(swap.get('swap_size') or 0) or int(
            instance.flavor.swap or 0)
        if swap_mb > 0:
            disks.append(LocalDisk('swap', cls.swap_disk_name(instance),
                                   round(swap_mb / 1024.0, 6)))
        return disks

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

    def disconnect_disks(self, mappings, instance, lpar_uuid=None,
                         names=None):
        """Remove the mappings of this adapter's disks of an instance.

        Mappings of anything else (config drive, volumes) are left alone.

        :param mappings: the operation's ``mapping.VIOSMappings``.
        :param instance: nova ``Instance``.
        :param lpar_uuid: only mappings to this partition (None: any
                          client, for a partition that vanished).
        :param names: only the disks of these names (None: all of them).
        """
        named = mapping.storage_named(names) if names is not None else None

        def match(stg):
            return (self.is_instance_disk(stg, instance) and
                    (named is None or named(stg)))
        mappings.remove_vscsi(match, lpar_uuid=lpar_uuid,
                              vios_uuids=self.vios_uuids)

    def create_blank_disks(self, instance, disks):
        """Create blank disks (ephemeral, swap) for an instance.

        Adapters that cannot refuse them here, before anything is made.

        :param instance: nova ``Instance``.
        :param disks: list of :class:`LocalDisk`.
        :returns: the storage elements, in the order of ``disks``.
        """
        raise exc.NotSupportedYet(
            operation='ephemeral and swap disks on this disk driver')

    def create_rescue_disk(self, context, instance, image_meta):
        """Create the rescue disk of an instance from an image.

        :param context: nova ``RequestContext``.
        :param instance: nova ``Instance``.
        :param image_meta: nova ``ImageMeta`` of the rescue image.
        :returns: ``(disk, cached)`` as :meth:`create_disk_from_image`.
        """
        raise exc.NotSupportedYet(operation='rescue on this disk driver')

    def can_rebuild(self):
        """Whether this adapter has what rebuild needs (no REST)."""
        cls = type(self)
        return all(getattr(cls, name) is not getattr(DiskAdapter, name)
                   for name in ('create_boot_disk', 'delete_disks_named',
                                'existing_disk_names'))

    def create_boot_disk(self, context, instance, image_meta, name):
        """Create a boot disk named ``name`` from an image (rebuild).

        :param context: nova ``RequestContext``.
        :param instance: nova ``Instance``.
        :param image_meta: nova ``ImageMeta``.
        :param name: :meth:`boot_disk_name` or :meth:`alt_boot_disk_name`.
        :returns: ``(disk, cached)`` as :meth:`create_disk_from_image`.
        """
        raise exc.NotSupportedYet(operation='rebuild on this disk driver')

    def delete_disks_named(self, instance, names):
        """Delete some of an instance's disks by name; absent ones are fine.

        :param instance: nova ``Instance``.
        :param names: disk names (from :meth:`disk_names`).
        :returns: names of the deleted disks.
        """
        raise exc.NotSupportedYet(
            operation='deleting single disks on this disk driver')

    def existing_disk_names(self, instance):
        """Names of the instance's disks that exist now.

        :param instance: nova ``Instance``.
        """
        raise exc.NotSupportedYet(
            operation='listing disks on this disk driver')

    def storage_id(self):
        """What identifies this storage; equal on hosts that share it.

        nova's shared storage checks compare it between two hosts (no
        REST).  Storage of one host: the host's own UUID.
        """
        return 'host:%s' % self.host_uuid

    def extend_boot_disk(self, instance, size_gb):
        """Grow an instance's boot disk to ``size_gb`` (never shrink).

        Adapters that can set ``capabilities['extend_boot_disk']``.

        :param instance: nova ``Instance``.
        :param size_gb: the new size in GB.
        :returns: the name of the grown disk, or None when it was that
                  large already.
        """
        raise exc.NotSupportedYet(
            operation='growing the root disk on this disk driver')

    def find_instance_disks(self, instance):
        """The existing boot disk and ephemeral/swap disks of an instance.

        For shared storage: another host re-creates the partition with
        the same disks (cold migration, evacuation).

        :param instance: nova ``Instance``.
        :returns: ``(boot disk, [ephemeral and swap disks])``.
        :raises InstanceNotFound: naming the missing boot disk.
        """
        raise exc.NotSupportedYet(
            operation='re-attaching existing disks on this disk driver')

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

    def cache_image(self, context, image_meta):
        """Put an image into this storage's image cache ahead of a boot.

        nova's image pre-cache API (aggregate ``cache-images``) calls this
        through the driver's ``cache_image``.  An adapter without a cache
        keeps this default, which nova reports as ``unsupported``.

        :param context: nova ``RequestContext``.
        :param image_meta: nova ``ImageMeta`` (format already checked).
        :returns: True when the image was uploaded, False when it was
                  already cached.
        """
        raise NotImplementedError()

    def boot_disk_size(self, storage):
        """Bytes of a boot disk storage element (its capacity).

        :param storage: the storage element of the boot disk's mapping.
        """
        return int(float(storage.capacity) * units.Gi)

    @contextlib.contextmanager
    def read_boot_disk(self, instance, lpar_uuid, shim):
        """Read an instance's boot disk on the management partition.

        When the management partition is the VIOS that serves the disk,
        the disk is a local device there: 1 GET (the VIOS with its vSCSI
        mappings, for the mapping's backing device).  Otherwise the disk is
        mapped to the management partition (1 GET of the VIOS feed, 1
        POST), read, and unmapped afterwards, also when the read failed
        (1 GET, 1 POST).

        :param instance: nova ``Instance``.
        :param lpar_uuid: PowerVM UUID of the instance's partition.
        :param shim: the ``host_shim.HostShim`` that reads devices.
        :returns: context manager yielding a ``host_shim.DiskReader`` of
                  the disk's bytes (read in chunks).
        :raises InstanceNotRunning: when the partition does not exist.
        :raises DiskNotReadable: when the disk cannot be found or read.
        """
        if self.mgmt_uuid.upper() in {u.upper() for u in self.vios_uuids}:
            with errors.translate('read the storage mappings of the '
                                  'management partition', instance=instance):
                vios_w = pvm_vios.VIOS.get(self.adapter, uuid=self.mgmt_uuid,
                                           xag=[mapping.SCSI])
            found = self._boot_mappings(vios_w, lpar_uuid, instance)
            if not found:
                self._missing_disk(instance)
            stg = found[0].backing_storage
            device = host_shim.DiskDevice(
                udid=stg.udid, name=stg.name,
                size=self.boot_disk_size(stg),
                backing_path=found[0].server_adapter.backing_dev_name)
            with shim.open_disk(device) as reader:
                yield reader
            return
        with self._mapped_to_mgmt(instance, lpar_uuid) as device:
            with shim.open_disk(device) as reader:
                yield reader

    def _boot_mappings(self, vios_w, lpar_uuid, instance):
        """The vSCSI mappings of the instance's boot disk on a VIOS."""
        return pvm_smap.find_maps(
            vios_w.scsi_mappings, client_lpar_id=lpar_uuid,
            match_func=mapping.storage_named(
                self.boot_disk_names(instance)))

    def _missing_disk(self, instance):
        """Raise why an instance's boot disk mapping was not found."""
        if not vm.instance_exists(self.adapter, instance):
            raise nova_exc.InstanceNotRunning(instance_id=instance.uuid)
        raise exc.DiskNotReadable(
            disk=self.boot_disk_name(instance),
            reason='the partition has no mapping of its boot disk')

    @contextlib.contextmanager
    def _mapped_to_mgmt(self, instance, lpar_uuid):
        """Map the boot disk to the management partition for a while.

        Yields the ``host_shim.DiskDevice`` (with the client slot of the
        new mapping); the mapping is removed on exit, whatever happened.
        """
        via = self.vios_uuids[0]
        found = {}
        maps = mapping.VIOSMappings(self.adapter, 'map_disk_to_management',
                                    instance)
        maps.add_subtask(self._map_boot_to_mgmt, via, lpar_uuid, instance,
                         found)
        try:
            maps.execute()
            if 'storage' not in found:
                self._missing_disk(instance)
            stg = found['storage']
            via_w = [w for w in maps.vioses if w.uuid == via][0]
            mgmt_maps = pvm_smap.find_maps(
                via_w.scsi_mappings,
                client_lpar_id=self.mgmt_uuid, stg_elem=stg)
            if not mgmt_maps or mgmt_maps[0].client_adapter is None:
                raise exc.DiskNotReadable(
                    disk=stg.name, reason='the mapping to the management '
                                          'partition has no client adapter')
            yield host_shim.DiskDevice(
                udid=stg.udid, name=stg.name, size=self.boot_disk_size(stg),
                client_slot=mgmt_maps[0].client_adapter.lpar_slot_num)
        finally:
            if 'storage' in found:
                self._unmap_from_mgmt(instance, found['storage'])

    def _map_boot_to_mgmt(self, vios_w, via, lpar_uuid, instance, found):
        """Subtask: map the instance's boot disk to the management too."""
        if vios_w.uuid != via:
            return False
        maps = self._boot_mappings(vios_w, lpar_uuid, instance)
        if not maps:
            return False
        stg = maps[0].backing_storage
        found['storage'] = stg
        if pvm_smap.find_maps(vios_w.scsi_mappings,
                              client_lpar_id=self.mgmt_uuid, stg_elem=stg):
            # Left by an earlier read that could not clean up: reuse it.
            return False
        # A copy: lxml would move the element out of the client's mapping.
        new = pvm_smap.build_vscsi_mapping(None, vios_w, self.mgmt_uuid,
                                           _detached(stg))
        return pvm_smap.add_map(vios_w, new) is not None

    def _unmap_from_mgmt(self, instance, stg, tries=2):
        """Remove the boot disk's mappings to the management partition.

        Tried twice: a mapping left to the management partition would
        outlive the snapshot.
        """
        match = mapping.storage_named([stg.name])
        for attempt in range(1, tries + 1):
            maps = mapping.VIOSMappings(
                self.adapter, 'unmap_disk_from_management', instance)
            maps.remove_vscsi(match, lpar_uuid=self.mgmt_uuid,
                              vios_uuids=self.vios_uuids)
            try:
                maps.execute()
                return
            except Exception:
                if attempt == tries:
                    raise
                LOG.warning('Removing the mapping of %s to the management '
                            'partition failed; trying again.', stg.name,
                            instance=instance)
