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
"""Boot disks as logical volumes in a volume group of a VIOS.

Images are cached in the volume group as VDisks named ``i_<image id>``;
a boot disk ``b_<instance uuid>`` is a copy of the cached image made by
the VIOS (a VDisk created with ``BaseImage``).  A cache miss uploads the
image once, streamed from Glance.  ``manage_image_cache`` removes cached
images that no instance on the host uses any more.
"""


from nova import exception as nova_exc
from oslo_concurrency import lockutils
from oslo_log import log as logging
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import vios_file as pvm_file
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm import conf as pvm_conf
from nova_powervm import exception as exc
from nova_powervm.virt.powervm.disk import base
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import image
from nova_powervm.virt.powervm import volume_group as vg

LOG = logging.getLogger(__name__)
CONF = pvm_conf.CONF


class LocalStorage(base.DiskAdapter):
    """Disk adapter on a volume group (``[powervm] volume_group_name``).

    :param adapter: pypowervm ``Adapter``.
    :param host_uuid: ManagedSystem UUID.
    :param mgmt_uuid: UUID of the NovaLink management partition.
    :param vioses: VIOS wrappers already read (saves the feed GET).
    """

    def __init__(self, adapter, host_uuid, mgmt_uuid, vioses=None):
        super().__init__(adapter, host_uuid, mgmt_uuid)
        # (vios_uuid, vg_uuid) of the media repository seen on the way.
        self.media_repo = None
        self.vg_name = CONF.powervm.volume_group_name
        self.vios_uuid, self.vg_uuid = self._find_vg(vioses)
        # Names of cached images (``i_``) seen in the volume group: a copy
        # of one goes straight to the batching writer, which checks again.
        self._known_cached = set()
        self.capabilities = dict(base.DiskAdapter.capabilities,
                                 has_imagecache=True, extend_boot_disk=True)

    def _find_vg(self, vioses):
        """Find the VG; note the media repository on the way."""
        if not self.vg_name:
            raise nova_exc.InvalidInput(
                reason='[powervm] volume_group_name is required with '
                       'disk_driver=localdisk')
        if vioses is None:
            with errors.translate('find volume group %s' % self.vg_name):
                vioses = pvm_vios.VIOS.get(self.adapter)
        found = None
        for vios_w in vioses:
            for vg_w in vg.list_on(self.adapter, vios_w.uuid):
                if vg_w.vmedia_repos:
                    self.media_repo = vios_w.uuid, vg_w.uuid
                if vg_w.name == self.vg_name and found is None:
                    found = vios_w.uuid, vg_w.uuid
            if found:
                return found
        raise nova_exc.InvalidInput(
            reason='volume group %s ([powervm] volume_group_name) was not '
                   'found on any Virtual I/O Server' % self.vg_name)

    @property
    def vios_uuids(self):
        """The one VIOS that owns the volume group."""
        return [self.vios_uuid]

    def get_vg(self):
        """Read the volume group (1 GET)."""
        return vg.get(self.adapter, self.vios_uuid, self.vg_uuid,
                      'read volume group %s' % self.vg_name)

    def disk_usage(self):
        """``(total_gb, used_gb)`` of the volume group (1 GET)."""
        vg_w = self.get_vg()
        return (float(vg_w.capacity),
                float(vg_w.capacity) - float(vg_w.available_size))

    def is_instance_disk(self, storage, instance):
        """A VDisk named after one of the instance's disks."""
        return (isinstance(storage, pvm_stg.VDisk) and
                super().is_instance_disk(storage, instance))

    def create_disk_from_image(self, context, instance, image_meta):
        """Copy the cached image (uploading it first on a miss).

        2 round trips with the image cached (GET and POST of the VG);
        4 more on a miss (POST VG, PUT File, PUT contents, DELETE File).
        """
        return self.create_boot_disk(context, instance, image_meta,
                                     self.boot_disk_name(instance))

    def create_rescue_disk(self, context, instance, image_meta):
        """The rescue disk: a copy of the (cached) rescue image.

        Sized as the image (at least 1 GB), not the flavor's root disk.
        Costs as :meth:`create_disk_from_image`.
        """
        return self._copy_image(context, instance, image_meta,
                                self.rescue_disk_name(instance),
                                self.disk_size_gb(None, image_meta))

    def create_boot_disk(self, context, instance, image_meta, name):
        """A boot disk named ``name``; costs as create_disk_from_image."""
        return self._copy_image(context, instance, image_meta, name,
                                self.disk_size_gb(instance, image_meta))

    def _copy_image(self, context, instance, image_meta, name, size_gb):
        image_id = image_meta.id
        created = None
        try:
            disk = None
            if self.image_name(image_id) in self._known_cached:
                # Seen cached: copy in the next batch, which checks again.
                disk = self._copy_batched(image_meta, name, size_gb)
            if disk is None:
                vg_w, img_vd, created = self._cached_image(context,
                                                           image_meta)
                if vg_w is not None:
                    # Under the image lock this thread read or wrote the
                    # volume group: copy with that wrapper (1 POST).
                    new = pvm_stg.VDisk.bld(self.adapter, name, size_gb,
                                            base_image=img_vd.udid)
                    disk = vg.add_vdisk(vg_w, new)[1]
                else:
                    disk = self._copy_batched(image_meta, name, size_gb)
                    if disk is None:
                        raise exc.PowerVMAPIFailed(
                            operation='create disk %s' % name,
                            reason='image %s left the cache while it was '
                                   'copied' % image_id)
        except Exception:
            if created is not None:
                self.delete_disks([created])
            raise
        LOG.info('Created disk %(disk)s from image %(img)s.',
                 {'disk': disk.name, 'img': image_id}, instance=instance)
        return disk, created

    def _copy_batched(self, image_meta, name, size_gb):
        """Copy a cached image in the volume group's next batch.

        1 GET and 1 POST shared with the concurrent edits.

        :returns: the new VDisk, or None when the image is not cached.
        """
        img_name = self.image_name(image_meta.id)
        state = {}

        def apply(vg_w):
            cached = [vd for vd in vg_w.virtual_disks if vd.name == img_name]
            state['hit'] = bool(cached)
            if not cached:
                return False
            new = pvm_stg.VDisk.bld(self.adapter, name, size_gb,
                                    base_image=cached[0].udid)
            vg_w.virtual_disks.append(new)
            return True

        def collect(vg_w):
            if not state['hit']:
                return None
            for vdisk in vg_w.virtual_disks:
                if vg.short_name(vdisk) == name:
                    return vdisk
            raise exc.PowerVMAPIFailed(
                operation='create disk %s' % name,
                reason='volume group %s did not report the new disk'
                % vg_w.name)
        disk = vg.edit(self.adapter, self.vios_uuid, self.vg_uuid, apply,
                       collect, what='create disk %s' % name)
        if disk is None:
            self._known_cached.discard(img_name)
        return disk

    def _cached_image(self, context, image_meta):
        """The image's cache VDisk, uploaded first on a miss.

        Under the image's lock; a thread that finds the image known to be
        cached when it gets the lock reads nothing (``vg_w`` None: the
        caller copies in a batch).

        :returns: ``(vg_w, image VDisk, created)``: ``created`` is the
                  VDisk when this call uploaded it, else None.
        """
        name = self.image_name(image_meta.id)
        with lockutils.lock('pvm-image-%s-%s' % (self.vg_uuid,
                                                 image_meta.id)):
            if name in self._known_cached:
                return None, None, None
            vg_w = self.get_vg()
            cached = [vd for vd in vg_w.virtual_disks if vd.name == name]
            if cached:
                self._known_cached.add(name)
                return vg_w, cached[0], None
            vg_w, img_vd = self._upload_image(context, vg_w, image_meta)
            self._known_cached.add(name)
            return vg_w, img_vd, img_vd

    def cache_image(self, context, image_meta):
        """Upload an image into the volume group's cache (``i_`` VDisk).

        1 GET of the volume group when it is cached already; 4 more round
        trips to upload it (POST VG, PUT File, PUT contents, DELETE File).
        The image cache pass keeps a pre-cached image, unused, for
        ``[image_cache] remove_unused_original_minimum_age_seconds``.

        :returns: True when uploaded, False when it was already cached.
        """
        name = self.image_name(image_meta.id)
        self._known_cached.discard(name)
        created = self._cached_image(context, image_meta)[2]
        self.remember_precached(image_meta.id)
        if created is not None:
            LOG.info('Pre-cached image %s.', image_meta.id)
        return created is not None

    def _upload_image(self, context, vg_w, image_meta):
        """Create the ``i_`` VDisk and stream the image into it."""
        size = base.image_size(image_meta)
        vdisk = pvm_stg.VDisk.bld(
            self.adapter, self.image_name(image_meta.id),
            max(1, -(-size // (1024 ** 3))))
        vg_w, img_vd = vg.add_vdisk(vg_w, vdisk)
        try:
            self._stream_into(context, image_meta, img_vd, size)
        except Exception:
            LOG.warning('Upload of image %s failed; removing its disk.',
                        image_meta.id)
            self.delete_disks([img_vd])
            raise
        return vg_w, img_vd

    def _stream_into(self, context, image_meta, vdisk, size):
        """Upload an image into a VDisk: PUT File, PUT contents, DELETE."""
        with errors.translate('upload image %s' % image_meta.id):
            vio_file = pvm_file.File.bld(
                self.adapter, vdisk.name, pvm_file.FileType.DISK_IMAGE,
                self.vios_uuid, f_size=size, tdev_udid=vdisk.udid).create()
            try:
                with image.stream(context, image_meta.id) as chunks:
                    self.adapter.upload_file(vio_file.element, chunks)
            finally:
                with errors.ignore_missing():
                    self.adapter.delete(vio_file.schema_type,
                                        root_id=vio_file.uuid, service='web')

    def delete_disks(self, disks):
        """Delete VDisks from the volume group (GET + POST)."""
        udids = [d.udid for d in disks if d is not None and d.udid]
        if not udids:
            return []
        return self._remove(vdisk_udids=udids)

    def _remove(self, vdisk_udids=(), vdisk_names=()):
        """Remove VDisks in the next batch (GET, and POST if any)."""
        deleted = vg.remove_batched(
            self.adapter, self.vios_uuid, self.vg_uuid,
            vdisk_udids=vdisk_udids, vdisk_names=vdisk_names,
            what='update volume group %s' % self.vg_name)[0]
        self._known_cached.difference_update(deleted)
        return deleted

    def create_blank_disks(self, instance, disks):
        """Blank VDisks (ephemeral, swap): 1 GET and 1 POST for them all.

        :param instance: nova ``Instance``.
        :param disks: list of ``base.LocalDisk``.
        :returns: the VDisks, in the order of ``disks``.
        """
        if not disks:
            return []
        created = vg.add_vdisks_batched(
            self.adapter, self.vios_uuid, self.vg_uuid,
            [pvm_stg.VDisk.bld(self.adapter, d.name, d.size_gb)
             for d in disks])
        LOG.info('Created disks %s.', ', '.join(d.name for d in disks),
                 instance=instance)
        return created

    def delete_disks_named(self, instance, names):
        """Delete some of the instance's VDisks (GET, and POST if any)."""
        wanted = set(names) & set(self.disk_names(instance))
        if not wanted:
            return []
        return self._remove(vdisk_names=wanted)

    def existing_disk_names(self, instance):
        """Names of the instance's VDisks in the volume group (1 GET)."""
        mine = set(self.disk_names(instance))
        return sorted(vg.short_name(vd) for vd in self.get_vg().virtual_disks
                      if vg.short_name(vd) in mine)

    def delete_instance_disks(self, instance):
        """Delete the instance's VDisks by name (GET, and POST if any)."""
        return self._remove(vdisk_names=self.disk_names(instance))

    def manage_image_cache(self, context, all_instances):
        """Delete ``i_`` VDisks of images no instance here uses.

        1 GET of the volume group, and 1 POST when something is removed.
        """
        if not CONF.image_cache.remove_unused_base_images:
            return []
        in_use = self.cache_entries_in_use(all_instances)
        found = {}

        def apply(vg_w):
            # Chosen from each wrapper the batch reads (again after a 412).
            unused = {vd.udid for vd in vg_w.virtual_disks
                      if vd.name.startswith('i_') and vd.name not in in_use}
            rem_apply, found['collect'] = vg._remover(unused, set(), set())
            return rem_apply(vg_w)
        removed = vg.edit(self.adapter, self.vios_uuid, self.vg_uuid, apply,
                          lambda vg_w: found['collect'](vg_w)[0],
                          what='update volume group %s' % self.vg_name)
        self._known_cached.difference_update(removed)
        if removed:
            LOG.info('Removed unused cached images: %s', ', '.join(removed))
        return removed

    def extend_boot_disk(self, instance, size_gb):
        """Grow the boot VDisk (1 GET + 1 POST; none when large enough).

        The volume group refuses a shrink; this never asks for one.
        """
        names = set(self.boot_disk_names(instance))
        grown = vg.edit(self.adapter, self.vios_uuid, self.vg_uuid,
                        *_grower(names, float(size_gb)),
                        what='grow disk of %s to %d GB'
                        % (instance.name, size_gb))
        if grown:
            LOG.info('Grew disk %(disk)s to %(gb)d GB.',
                     {'disk': grown, 'gb': size_gb}, instance=instance)
        return grown


def _grower(names, size_gb):
    """Grow the first VDisk named in ``names`` to ``size_gb``.

    :returns: ``(apply, collect)`` for ``volume_group.edit``.
    """
    state = {}

    def apply(vg_w):
        for vdisk in vg_w.virtual_disks:
            if vg.short_name(vdisk) in names:
                if vdisk.capacity >= size_gb:
                    state['grown'] = None
                    return False
                vdisk.capacity = size_gb
                state['grown'] = vg.short_name(vdisk)
                return True
        raise nova_exc.DiskNotFound(location=', '.join(sorted(names)))
    return apply, lambda vg_w: state['grown']
