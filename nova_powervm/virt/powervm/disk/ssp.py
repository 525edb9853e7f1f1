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
"""Boot disks as logical units of a Shared Storage Pool (SSP).

A Shared Storage Pool is the storage of a cluster of Virtual I/O Servers
that may sit on several hosts; every host of the cluster sees every
logical unit (LU).  Each image is uploaded into the pool's default tier
once, as an image LU ``i_<image id>`` that every host uses; an instance's
boot disk ``b_<instance uuid>`` is a linked clone of it (the pool shares
the image's blocks, so a deploy copies nothing) and is mapped through
every VIOS of this host that is a node of the cluster.  A rescue disk
``r_`` and the new boot disk of a rebuild (``n_`` or ``b_``, taking
turns) are linked clones too; ephemeral (``e<n>``) and swap (``s_``)
disks are blank thin LUs.

Hosts that share the pool cannot talk to each other, so a first deploy of
an image is coordinated through the pool itself, as pypowervm's
``tasks/cluster_ssp`` does (and with its naming, so other pypowervm users
take part): a host creates a marker LU ``part<8 hex><image LU name>``,
reads the tier again, and uploads only when no image LU and no other
marker that sorts first exists; the others wait for the markers to go.
In this process, a lock per image lets one thread do that.

Image LUs stay cached for later deploys until ``manage_image_cache``
finds that no LU of the cluster is a clone of them any more.

Placement: the pool's capacity is reported by every host of the cluster
as its ``DISK_GB`` total, with the space the pool reports used (see
``doc/source/configuration.rst``).
"""

import math
import time
import uuid

from nova import exception as nova_exc
from oslo_concurrency import lockutils
from oslo_log import log as logging
from oslo_utils import excutils
from oslo_utils import units
from pypowervm.utils import retry as pvm_retry
from pypowervm.wrappers import cluster as pvm_clust
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import vios_file as pvm_file
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm import conf as pvm_conf
from nova_powervm import exception as exc
from nova_powervm.virt.powervm.disk import base
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import image

LOG = logging.getLogger(__name__)
CONF = pvm_conf.CONF

IMAGE = pvm_stg.LUType.IMAGE
DISK = pvm_stg.LUType.DISK
# Size (GB) of a marker LU, as pypowervm's cluster_ssp makes them.
MARKER_GB = 0.001
# Seconds between two looks at an upload another host is doing, and how
# long to wait for it before giving up.
POLL_SECONDS = 5.0
WAIT_SECONDS = 3600.0


def marker_prefix():
    """A new marker LU prefix: ``part`` and 8 random hex digits."""
    return 'part%s' % uuid.uuid4().hex[:8]


class SSPDiskAdapter(base.DiskAdapter):
    """Disk adapter on a Shared Storage Pool (``disk_driver = ssp``).

    Start-up reads the cluster (1 GET), its pool (1 GET) and the pool's
    tiers (1 GET).

    :param adapter: pypowervm ``Adapter``.
    :param host_uuid: ManagedSystem UUID.
    :param mgmt_uuid: UUID of the NovaLink management partition.
    :param vioses: VIOS wrappers of this host already read (saves a GET).
    :raises nova.exception.InvalidInput: when the cluster cannot be
        chosen, has no default tier, or no VIOS of this host is a node.
    """

    capabilities = dict(base.DiskAdapter.capabilities,
                        shared_storage=True, has_imagecache=True,
                        extend_boot_disk=True)

    def __init__(self, adapter, host_uuid, mgmt_uuid, vioses=None):
        super().__init__(adapter, host_uuid, mgmt_uuid)
        self.capabilities = dict(SSPDiskAdapter.capabilities)
        self.cluster = self._find_cluster(CONF.powervm.cluster_name)
        with errors.translate('read shared storage pool of cluster %s'
                              % self.cluster.name):
            self.ssp = pvm_stg.SSP.get_by_href(adapter, self.cluster.ssp_uri)
            tiers = pvm_stg.Tier.get(adapter, parent=self.ssp)
        defaults = [t for t in tiers if t.is_default]
        if not defaults:
            raise nova_exc.InvalidInput(
                reason='shared storage pool %s of cluster %s has no default '
                       'tier' % (self.ssp.name, self.cluster.name))
        self.tier = defaults[0]
        self._vios_uuids = self._member_vioses(vioses)
        # image id -> image LU wrapper, as last seen (may go stale: a clone
        # from a vanished image LU re-reads the tier).
        self._image_lus = {}

    def _find_cluster(self, name):
        with errors.translate('find shared storage pool cluster'):
            if name:
                found = pvm_clust.Cluster.search(self.adapter, name=name)
            else:
                found = pvm_clust.Cluster.get(self.adapter)
        if name and not found:
            raise nova_exc.InvalidInput(
                reason='cluster %s ([powervm] cluster_name) was not found'
                % name)
        if not found:
            raise nova_exc.InvalidInput(
                reason='disk_driver=ssp: this host sees no Shared Storage '
                       'Pool cluster')
        if len(found) > 1:
            raise nova_exc.InvalidInput(
                reason='this host sees several clusters (%s): set [powervm] '
                       'cluster_name' % ', '.join(sorted(
                           c.name for c in found)))
        return found[0]

    def _member_vioses(self, vioses):
        if vioses is None:
            with errors.translate('list Virtual I/O Servers'):
                vioses = pvm_vios.VIOS.get(self.adapter)
        here = {v.uuid.upper() for v in vioses}
        members = []
        for node in self.cluster.nodes:
            vios_uuid = node.vios_uuid
            if vios_uuid and vios_uuid.upper() in here and \
                    vios_uuid.upper() not in members:
                members.append(vios_uuid.upper())
        if not members:
            raise nova_exc.InvalidInput(
                reason='no Virtual I/O Server of this host is a node of '
                       'cluster %s' % self.cluster.name)
        return members

    @property
    def vios_uuids(self):
        """The VIOSes of this host that are nodes of the cluster."""
        return list(self._vios_uuids)

    def disk_usage(self):
        """``(total_gb, used_gb)`` of the pool (1 GET)."""
        with errors.translate('read shared storage pool %s' % self.ssp.name):
            self.ssp = self.ssp.refresh()
        total = float(self.ssp.capacity)
        return total, max(total - float(self.ssp.free_space), 0.0)

    def is_instance_disk(self, storage, instance):
        """An LU named after one of the instance's disks."""
        return (isinstance(storage, (pvm_stg.LU, pvm_stg.LUEnt)) and
                super().is_instance_disk(storage, instance))

    def connect_disk(self, mappings, lpar_uuid, disk):
        """Map the LU through every VIOS of this host in the cluster.

        Each VIOS gets its own reference element: the VIOS updates run in
        parallel, and one XML element put in two mappings would move from
        one to the other.
        """
        for vios_uuid in self.vios_uuids:
            mappings.add_vscsi(vios_uuid, lpar_uuid, pvm_stg.LU.bld_ref(
                self.adapter, disk.name, disk.udid))

    # -- Logical units ---------------------------------------------------
    def _lus(self, what='read logical units'):
        """The tier's LU feed (1 GET)."""
        with errors.translate(what):
            return pvm_stg.LUEnt.get(self.adapter, parent=self.tier)

    def _create_lu(self, name, size_gb, typ, clone=None, thin=None):
        """Create an LU in the tier (1 PUT)."""
        lu = pvm_stg.LUEnt.bld(self.adapter, name, size_gb, thin=thin,
                               typ=typ, clone=clone)
        with errors.translate('create logical unit %s' % name):
            return lu.create(parent=self.tier)

    def _delete_lu(self, lu, tries=1):
        """Delete an LU (1 DELETE); one already gone is no error.

        :param lu: the LU wrapper.
        :param tries: attempts before the error is raised (a marker LU
                      left behind would hold every host's upload up).
        :returns: True when this call deleted it.
        """
        for attempt in range(tries):
            try:
                with errors.translate('delete logical unit %s' % lu.name):
                    with errors.ignore_missing():
                        self.adapter.delete(
                            pvm_stg.Tier.schema_type, root_id=self.tier.uuid,
                            child_type=pvm_stg.LUEnt.schema_type,
                            child_id=lu.uuid)
                        return True
                return False
            except nova_exc.NovaException:
                if attempt + 1 >= tries:
                    raise
                LOG.warning('Deleting logical unit %s failed; trying again.',
                            lu.name)
        return False

    def create_disk_from_image(self, context, instance, image_meta):
        """A linked clone of the image LU (uploading it first on a miss).

        1 round trip (the clone PUT) when this process already knows the
        image LU; a first look reads the tier (+1); an upload adds the
        marker protocol and the upload (about 8).
        """
        return self.create_boot_disk(context, instance, image_meta,
                                     self.boot_disk_name(instance))

    def create_boot_disk(self, context, instance, image_meta, name):
        """A boot disk named ``name`` (rebuild): a linked clone.

        Sized as :meth:`create_disk_from_image`, at the same cost.
        """
        return self._clone_image(context, instance, image_meta, name,
                                 self.disk_size_gb(instance, image_meta))

    def create_rescue_disk(self, context, instance, image_meta):
        """The rescue disk: a linked clone of the rescue image's LU.

        The rescue image is uploaded once into the pool, as any image a
        server boots from; sized as the image (at least 1 GB), not the
        flavor's root disk.  Costs as :meth:`create_disk_from_image`.
        """
        return self._clone_image(context, instance, image_meta,
                                 self.rescue_disk_name(instance),
                                 self.disk_size_gb(None, image_meta))

    def _clone_image(self, context, instance, image_meta, name, size):
        """A linked clone ``name`` of the image's LU (1 PUT when known).

        :returns: ``(LU, created)``: ``created`` is the image LU when this
                  call uploaded it, else None.
        """
        img, created = self.get_image_lu(context, image_meta)
        try:
            disk = self._create_lu(name, size, DISK, clone=img)
        except Exception as error:
            # Another host's image cache pass may have removed the image
            # LU since this process last saw (or made) it: then read the
            # tier again (and upload again) once.
            if not self._image_lu_gone(image_meta.id, img):
                if created is not None:
                    self.delete_disks([created])
                raise
            LOG.info('Image LU %(lu)s is gone (%(err)s); reading the pool '
                     'again.', {'lu': img.name, 'err': error},
                     instance=instance)
            img, created = self.get_image_lu(context, image_meta)
            try:
                disk = self._create_lu(name, size, DISK, clone=img)
            except Exception:
                if created is not None:
                    self.delete_disks([created])
                raise
        LOG.info('Created disk %(disk)s as a linked clone of %(img)s.',
                 {'disk': disk.name, 'img': img.name}, instance=instance)
        return disk, created

    def create_blank_disks(self, instance, disks):
        """Blank thin LUs (ephemeral, swap): 1 PUT each.

        A failure deletes the LUs this call made before it.

        :param instance: nova ``Instance``.
        :param disks: list of ``base.LocalDisk``.
        :returns: the LUs, in the order of ``disks``.
        """
        created = []
        try:
            for blank in disks:
                created.append(self._create_lu(blank.name, blank.size_gb,
                                               DISK, thin=True))
        except Exception:
            with excutils.save_and_reraise_exception():
                if created:
                    try:
                        self.delete_disks(created)
                    except nova_exc.NovaException as error:
                        LOG.warning('Blank disks %(lus)s could not be '
                                    'deleted: %(err)s',
                                    {'lus': ', '.join(lu.name
                                                      for lu in created),
                                     'err': error.format_message()},
                                    instance=instance)
        if created:
            LOG.info('Created disks %s.', ', '.join(lu.name for lu in created),
                     instance=instance)
        return created

    def _image_lu_gone(self, image_id, img):
        """After a failed clone: was the remembered image LU stale?"""
        self._image_lus.pop(image_id, None)
        try:
            lus = self._lus()
        except Exception:
            return False
        return not any(lu.udid == img.udid for lu in lus)

    def get_image_lu(self, context, image_meta, fresh=False):
        """The image LU of an image, uploaded when the pool lacks it.

        :param context: nova ``RequestContext``.
        :param image_meta: nova ``ImageMeta``.
        :param fresh: read the tier even when this process knows the LU.
        :returns: ``(image LU, created)``: ``created`` is the LU when this
                  call uploaded it, else None.
        """
        image_id = image_meta.id
        with lockutils.lock('pvm-ssp-image-%s-%s' % (self.ssp.uuid,
                                                     image_id)):
            known = self._image_lus.get(image_id)
            if known is not None and not fresh:
                return known, None
            img, created = self._find_or_upload(context, image_meta)
            self._image_lus[image_id] = img
            return img, created

    def cache_image(self, context, image_meta):
        """Upload an image into the pool as its image LU, ahead of a boot.

        Reads the tier (1 GET) even when this process knows the image LU
        (another host's image cache pass may have removed it); an upload
        costs as on a first deploy (about 8 more round trips, the marker
        protocol included).  This host's image cache pass keeps a
        pre-cached image LU, unused, for ``[image_cache]
        remove_unused_original_minimum_age_seconds``; the pass of another
        host of the cluster does not know it was pre-cached.

        :param context: nova ``RequestContext``.
        :param image_meta: nova ``ImageMeta``.
        :returns: True when uploaded, False when the pool had it.
        """
        created = self.get_image_lu(context, image_meta, fresh=True)[1]
        self.remember_precached(image_meta.id)
        if created is not None:
            LOG.info('Pre-cached image %s.', image_meta.id)
        return created is not None

    def _find_or_upload(self, context, image_meta):
        luname = self.image_name(image_meta.id)
        mkr_name = marker_prefix() + luname
        deadline = time.monotonic() + WAIT_SECONDS
        first_wait = True
        while True:
            lus = [lu for lu in self._lus() if lu.lu_type == IMAGE and
                   luname in lu.name]
            done = [lu for lu in lus if lu.name == luname]
            if done and len(lus) == 1:
                return done[0], None
            if not lus:
                marker = self._create_lu(mkr_name, MARKER_GB, IMAGE)
                try:
                    img = None
                    if not self._lost_race(luname, mkr_name):
                        img = self._claim(luname, image_meta)
                    if img is not None:
                        self._upload(context, image_meta, img)
                        return img, img
                finally:
                    self._delete_lu(marker, tries=3)
            else:
                LOG.log(logging.INFO if first_wait else logging.DEBUG,
                        'Waiting for another upload of image %(img)s '
                        '(markers: %(mkr)s).',
                        {'img': image_meta.id,
                         'mkr': ', '.join(lu.name for lu in lus
                                          if lu.name != luname)})
                first_wait = False
            if time.monotonic() > deadline:
                raise exc.PowerVMAPIFailed(
                    operation='upload image %s' % image_meta.id,
                    reason='waited %ds for the markers of another upload '
                           'to go: remove the logical units whose names '
                           'end with %s if no upload is running'
                           % (WAIT_SECONDS, luname))
            time.sleep(POLL_SECONDS)

    def _lost_race(self, luname, mkr_name):
        """Another host uploads the same image: let it (1 GET)."""
        lus = [lu for lu in self._lus() if lu.lu_type == IMAGE and
               luname in lu.name]
        if any(lu.name == luname for lu in lus):
            return True
        return min([lu.name for lu in lus] + [mkr_name]) != mkr_name

    def _claim(self, luname, image_meta):
        """Create the image LU, unless another host just did (1-2 calls).

        A host that checked before this one's marker existed may have
        created it meanwhile: when the create fails and the name is
        taken, or the tier then shows two LUs of that name, this host
        lets the other upload (deleting its own LU).

        :returns: the new image LU, or None when another host has one.
        """
        size = base.image_size(image_meta)
        size_gb = max(math.ceil(size * 100.0 / units.Gi) / 100.0, 0.01)
        try:
            img = self._create_lu(luname, size_gb, IMAGE)
        except Exception:
            with excutils.save_and_reraise_exception() as ctxt:
                if any(lu.name == luname for lu in self._lus()):
                    ctxt.reraise = False
                    return None
        if any(lu.name == luname and lu.udid != img.udid
               for lu in self._lus()):
            self._delete_lu(img)
            return None
        return img

    def _upload(self, context, image_meta, img):
        """Stream the image into its LU; delete the LU on failure."""
        size = base.image_size(image_meta)
        luname = img.name
        try:
            with errors.translate('upload image %s' % image_meta.id):
                vio_file = pvm_file.File.bld(
                    self.adapter, luname, pvm_file.FileType.DISK_IMAGE,
                    self._vios_uuids[0], f_size=size,
                    tdev_udid=img.udid).create()
                try:
                    with image.stream(context, image_meta.id) as chunks:
                        self.adapter.upload_file(vio_file.element, chunks)
                finally:
                    self._delete_descriptor(vio_file)
        except Exception:
            LOG.warning('Upload of image %s failed; removing its logical '
                        'unit.', image_meta.id)
            self._delete_lu(img)
            raise
        LOG.info('Uploaded image %(img)s into logical unit %(lu)s.',
                 {'img': image_meta.id, 'lu': luname})

    def _delete_descriptor(self, vio_file):
        """Delete an upload's File descriptor; a failure is only logged.

        The bytes are in the LU either way; NovaLink drops stale
        descriptors itself.
        """
        try:
            with errors.translate('delete upload descriptor'):
                with errors.ignore_missing():
                    self.adapter.delete(vio_file.schema_type,
                                        root_id=vio_file.uuid,
                                        service='web')
        except nova_exc.NovaException as error:
            LOG.warning('The upload descriptor %(file)s could not be '
                        'deleted: %(err)s', {'file': vio_file.uuid,
                                             'err': error.format_message()})

    def delete_disks(self, disks):
        """Delete LUs (1 DELETE each); absent ones are ignored.

        :returns: the names of the deleted LUs.
        """
        deleted = []
        for lu in disks:
            if lu is None:
                continue
            if self._delete_lu(lu):
                deleted.append(lu.name)
            if lu.lu_type == IMAGE:
                self._forget(lu)
        return deleted

    def _forget(self, lu):
        for image_id, known in list(self._image_lus.items()):
            if known.udid == lu.udid:
                del self._image_lus[image_id]

    def _instance_lus(self, instance, names=None, lus=None):
        """The instance's disk LUs of the tier's LU feed.

        :param instance: nova ``Instance``.
        :param names: only these names (None: every name of
                      :meth:`disk_names`).
        :param lus: the LU feed when already read (else 1 GET).
        """
        wanted = set(self.disk_names(instance))
        if names is not None:
            wanted &= set(names)
        if lus is None:
            lus = self._lus()
        return [lu for lu in lus if lu.lu_type == DISK and lu.name in wanted]

    def existing_disk_names(self, instance, lus=None):
        """Names of the instance's LUs in the pool (1 GET).

        :param instance: nova ``Instance``.
        :param lus: the LU feed when already read (then no GET).
        """
        return sorted(lu.name for lu in self._instance_lus(instance,
                                                           lus=lus))

    def delete_disks_named(self, instance, names):
        """Delete some of the instance's LUs (GET, 1 DELETE each).

        Names that are not the instance's disks are ignored (no REST when
        none is).
        """
        if not set(names) & set(self.disk_names(instance)):
            return []
        return self.delete_disks(self._instance_lus(instance, names=names))

    def delete_instance_disks(self, instance):
        """Delete the instance's disk LUs by name (GET, 1 DELETE each)."""
        return self.delete_disks(self._instance_lus(instance))

    def manage_image_cache(self, context, all_instances):
        """Delete image LUs no LU of the cluster is a clone of.

        Clones on every host of the cluster count, and so do the images of
        this host's instances and images this host pre-cached recently
        (:meth:`cache_image`).  1 GET of the tier, 1 DELETE per image LU
        removed.
        """
        if not CONF.image_cache.remove_unused_base_images:
            return []
        in_use = self.cache_entries_in_use(all_instances)
        lus = self._lus()
        cloned = {lu.cloned_from_udid[2:] for lu in lus
                  if lu.cloned_from_udid}
        unused = [lu for lu in lus
                  if lu.lu_type == IMAGE and lu.name.startswith('i_') and
                  lu.name not in in_use and lu.udid[2:] not in cloned]
        removed = []
        for lu in unused:
            try:
                removed += self.delete_disks([lu])
            except nova_exc.NovaException as error:
                # A host cloned it meanwhile: it stays.
                LOG.info('Image LU %(lu)s stays: %(err)s',
                         {'lu': lu.name, 'err': error.format_message()})
        if removed:
            LOG.info('Removed unused image logical units: %s',
                     ', '.join(removed))
        return removed

    def storage_id(self):
        """The pool's UUID: every host of the cluster shares it."""
        return 'ssp:%s' % self.ssp.uuid

    def find_instance_disks(self, instance):
        """The instance's LUs in the pool (1 GET of the tier's LUs).

        :returns: ``(boot LU, [ephemeral LUs in order, then swap LU])``.
        :raises DiskNotFound: when the boot LU is not in the pool.
        """
        by_name = {lu.name: lu for lu in self._instance_lus(instance)}
        boot = [by_name[name] for name in self.boot_disk_names(instance)
                if name in by_name]
        if not boot:
            raise nova_exc.DiskNotFound(location='logical unit %s of pool %s'
                                        % (self.boot_disk_name(instance),
                                           self.ssp.name))
        names = [self.ephemeral_disk_name(instance, i)
                 for i in range(base.MAX_EPHEMERALS)]
        names.append(self.swap_disk_name(instance))
        return boot[0], [by_name[name] for name in names if name in by_name]

    def extend_boot_disk(self, instance, size_gb):
        """Grow the boot LU (1 GET + 1 POST; no POST when large enough).

        The VIOS grows a logical unit in place (``lu -resize``); the pool
        refuses a shrink, which this never asks for.  A linked clone keeps
        sharing its image's blocks.

        :returns: the grown LU's name, or None when it was that large.
        """
        lus = self._instance_lus(instance,
                                 names=self.boot_disk_names(instance))
        if not lus:
            raise nova_exc.DiskNotFound(location='logical unit %s of pool %s'
                                        % (self.boot_disk_name(instance),
                                           self.ssp.name))
        with errors.translate('grow logical unit %s to %d GB'
                              % (lus[0].name, size_gb)):
            grown = _grow_lu(lus[0], float(size_gb))
        if grown:
            LOG.info('Grew logical unit %(lu)s to %(gb)d GB.',
                     {'lu': grown, 'gb': size_gb}, instance=instance)
        return grown


@pvm_retry.retry(argmod_func=pvm_retry.refresh_wrapper, tries=10)
def _grow_lu(lu, size_gb):
    """Set an LU's capacity (1 POST), re-read and redone on a 412."""
    if lu.capacity >= size_gb:
        return None
    # pypowervm's LU wrapper sets its capacity only when building one;
    # the update sends the same element with the larger UnitCapacity.
    lu.set_float_gb_value('UnitCapacity', size_gb)
    lu.update()
    return lu.name
