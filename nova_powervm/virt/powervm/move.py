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
"""Resize, cold migration and evacuation: their TaskFlow graphs.

**Same host** (resize): the partition stays, with its UUID, name, disks
and adapters.  ``migrate_disk_and_power_off`` stops it;
``finish_migration`` gives it the new flavor's memory, processors and
``powervm:*`` settings (the host refuses such changes of a running
partition beyond its minimum and maximum, so it is stopped first), grows
the root disk, and starts it when nova says so (a stopped server stays
stopped).  ``confirm_migration`` has nothing left to do;
``finish_revert_migration`` gives it the old flavor's values back and
starts it only if it ran before.  The ``destroy`` nova sends during a
same-host revert is skipped (:func:`keeps_partition`).

**Another host** (cold migration, on a Shared Storage Pool): the source
stops its partition and keeps it; the destination creates a partition
with the same UUID and maps the same logical units (the pool is shared);
confirm deletes the source partition without its disks; revert deletes
the destination's (nova asks the driver whether the storage is shared, so
the disks stay) and starts the source's again.  Servers on a volume group
of one host (``localdisk``) are refused before anything changes.

**Evacuate**: the destination re-creates the partition on the pool's
logical units (:func:`recreate`); when the old host's compute starts
again, nova's ``_destroy_evacuated_instances`` deletes the partition left
there, keeping the disks (the shared storage check says they are shared).

Live Partition Mobility comes later: its source and destination steps fit
beside these (the partition keeps its UUID on both hosts, as here).

**Cinder volumes** stay mapped on one host.  To another host the source
unmaps them and removes their hdisks with the partition's disks, the
destination connects them (the boot volume first) from the connection
infos nova refreshed for it, a revert connects them to the kept source
partition again.  A server that boots from a volume has no disk of its
own, so it moves without shared storage when it has no ephemeral or swap
disk.  NPIV-attached volumes move too: the partition's virtual WWPNs
are the instance's (kept in nova's database), the destination makes its
client adapters with them on its own ports of the same fabrics.
"""

from nova.compute import task_states
from nova import exception as nova_exc
from nova import objects
from oslo_log import log as logging
from taskflow.patterns import linear_flow as tf_lf

from nova_powervm import conf as pvm_conf
from nova_powervm import exception as exc
from nova_powervm.virt.powervm import flows
from nova_powervm.virt.powervm import media
from nova_powervm.virt.powervm import resize
from nova_powervm.virt.powervm.tasks import move as tf_move
from nova_powervm.virt.powervm.tasks import network as tf_net
from nova_powervm.virt.powervm.tasks import storage as tf_stg
from nova_powervm.virt.powervm.tasks import vm as tf_vm
from nova_powervm.virt.powervm.tasks import volume as tf_vol
from nova_powervm.virt.powervm import vif as pvm_vif
from nova_powervm.virt.powervm import vm
from nova_powervm.virt.powervm import volume

LOG = logging.getLogger(__name__)
CONF = pvm_conf.CONF


def same_host(migration):
    """Whether a nova ``Migration`` stays on one compute host."""
    return migration.source_compute == migration.dest_compute


def _current_migration(context, instance, status):
    try:
        return objects.Migration.get_by_instance_and_status(
            context, instance.uuid, status)
    except nova_exc.MigrationNotFoundByStatus:
        return None


def keeps_partition(context, instance, host):
    """Whether nova's ``destroy`` is the one of a same-host revert.

    During a revert nova destroys the instance on the resize's
    destination before the source takes it back; on one host both are
    the same partition, which must stay (``finish_revert_migration``
    sizes it back).  No REST; 1 database read while reverting.

    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance``.
    :param host: this compute's host name.
    """
    if instance.task_state != task_states.RESIZE_REVERTING:
        return False
    migration = _current_migration(context, instance, 'reverting')
    return (migration is not None and same_host(migration) and
            migration.source_compute == host)


# -- migrate_disk_and_power_off (source) ----------------------------------

def check_volumes(ctx, instance, vol_infos, local=True):
    """Refuse moves of volumes this driver cannot move (no I/O).

    A protocol no connector handles is refused.  Fibre Channel volumes
    attached over NPIV (``[powervm] fc_attach_strategy = npiv``) move
    like the others: the instance keeps its virtual WWPNs for life
    (``instance.system_metadata``), the source's disconnect removes the
    partition's virtual FC mappings with the last FC volume and the
    destination's connect makes the client adapters again with the same
    WWPNs, on its own physical ports of the configured fabrics.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param vol_infos: Cinder connection infos.
    :param local: a resize on this host (the volumes stay mapped).
    :raises InstanceFaultRollback: naming the volume and the reason.
    """
    for info in vol_infos:
        try:
            volume.get_connector(ctx, instance, info)
        except exc.VolumeProtocolNotSupported as error:
            raise resize.refuse(error.format_message())


def build_power_off(ctx, instance, timeout, retry_interval, local=True,
                    vol_infos=(), from_volume=False):
    """The source's graph: stop the partition (revert: start it again).

    For another host the shared disks are unmapped from the partition
    too, and the Cinder volumes (``vol_infos``) with their hdisks (nova
    then ends the volumes' connections to this host); revert maps them
    again.  The partition stays for a revert.  On one host the volumes
    stay mapped.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param timeout: seconds the guest has to shut down.
    :param retry_interval: seconds between shutdown requests.
    :param local: a resize on this host.
    :param vol_infos: Cinder connection infos of the server's volumes.
    :param from_volume: the server boots from a volume (no local disk to
                        unmap).
    """
    flow = tf_lf.Flow('migrate_power_off_%s' % instance.uuid)
    flow.add(tf_move.StopForMove(ctx, instance, timeout, retry_interval))
    if not local:
        if not from_volume:
            flow.add(tf_move.UnmapDisks(ctx, instance))
        if vol_infos:
            flow.add(tf_vol.DisconnectVolumes(ctx, instance, vol_infos))
    return flow


def migrate_disk_and_power_off(ctx, context, instance, dest, flavor,
                               block_device_info=None, timeout=0,
                               retry_interval=0):
    """Check the move, then stop the partition (source side).

    Same host or not is read from nova's migration record (status
    ``migrating``).  Everything that cannot be done is refused before the
    partition is touched; a failure while stopping starts it again.
    Either way nova gets ``InstanceFaultRollback`` and puts the server
    back as it was.  1 GET + the power off job (2) when it works at once.

    :param ctx: ``HostContext``.
    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance`` (its old flavor).
    :param dest: IP of the destination host.
    :param flavor: the new nova ``Flavor``.
    :param block_device_info: nova block device info.
    :param timeout: seconds the guest has to shut down (0: at once).
    :param retry_interval: seconds between shutdown requests.
    :returns: the ``disk_info`` JSON text for the destination.
    :raises InstanceFaultRollback: wrapping the reason.
    """
    migration = _current_migration(context, instance, 'migrating')
    if migration is not None:
        local = same_host(migration)
    else:
        local = dest in (CONF.my_ip, ctx.host)
    vol_infos = flows.volume_infos(block_device_info)
    from_volume = flows.boots_from_volume(block_device_info)
    check_volumes(ctx, instance, vol_infos, local)
    resize.check_flavor_change(ctx, instance, flavor, local, from_volume)
    try:
        lpar_w = vm.get_instance_wrapper(ctx.adapter, instance)
        results = flows.run(
            build_power_off(ctx, instance, timeout, retry_interval, local,
                            vol_infos, from_volume),
            store={'lpar_wrap': lpar_w})
    except Exception as error:
        raise nova_exc.InstanceFaultRollback(inner_exception=error)
    if ctx.nvram is not None:
        ctx.nvram.store(instance)
    LOG.info('Stopped for a %s.', 'resize' if local else 'migration',
             instance=instance)
    return resize.disk_info(results['was_running'], local)


# -- finish_migration (destination) ---------------------------------------

def build_resize(ctx, instance, flavor, old_flavor, power_on, was_running,
                 from_volume=False):
    """The same-host graph: new size, grown root disk, power.

    A failure gives the partition its old size back and starts it again
    if it ran before the resize.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param flavor: the nova ``Flavor`` to apply.
    :param old_flavor: the nova ``Flavor`` to restore on a failure.
    :param power_on: start the partition at the end.
    :param was_running: it ran before the resize.
    :param from_volume: the server boots from a volume: no root disk to
                        grow (its volumes stay mapped).
    """
    flow = tf_lf.Flow('resize_%s' % instance.uuid)
    flow.add(tf_move.RestorePower(ctx, instance, was_running),
             tf_move.ResizeLPAR(ctx, instance, flavor, old_flavor))
    if flavor.root_gb > old_flavor.root_gb and not from_volume:
        flow.add(tf_move.GrowRootDisk(ctx, instance, flavor.root_gb))
    if power_on:
        flow.add(tf_move.StartAfterMove(ctx, instance))
    return flow


def build_recreate(ctx, context, instance, image_meta, injected_files,
                   admin_password, network_info, power_on=True,
                   grow_to=None, vol_infos=(), from_volume=False):
    """The graph of a partition re-created on the instance's own disks.

    Like spawn without the image: create the partition (same UUID),
    plug the VIFs, find the disks on the shared storage, make a config
    drive when needed, connect the Cinder volumes (the boot volume
    first), map everything in one VIOS update, grow the root disk when
    asked, start.  Every step reverts what it created (a volume's
    mappings and hdisks too); the disks and volumes are never deleted.

    :param ctx: ``HostContext``.
    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance``.
    :param image_meta: nova ``ImageMeta`` (partition type).
    :param injected_files: list of ``(path, contents)``.
    :param admin_password: admin password or None.
    :param network_info: nova ``NetworkInfo``.
    :param power_on: start the partition at the end.
    :param grow_to: new root disk size in GB, or None.
    :param vol_infos: Cinder connection infos of the server's volumes,
                      the boot volume first.
    :param from_volume: the server boots from a volume: it has no local
                        disk (a localdisk or SSP server with ephemeral or
                        swap disks is refused before).
    """
    pvm_vif.check_vif_types(network_info)
    flow = tf_lf.Flow('recreate_%s' % instance.uuid)
    flow.add(tf_vm.ValidateFlavor(ctx, instance),
             tf_vm.CreateLPAR(ctx, instance, image_meta))
    if ctx.nvram is not None:
        flow.add(tf_move.RestoreNVRAM(ctx, instance))
    if network_info:
        # The ports were bound to this host before: no event to wait for.
        flow.add(tf_net.PlugVifs(ctx, instance, network_info, wait=False),
                 tf_net.UpdateDeviceMetadata(instance, context))
    with_mgmt = CONF.powervm.use_rmc_mgmt_vif
    if with_mgmt:
        flow.add(tf_net.PlugMgmtVif(ctx, instance))
    if not from_volume:
        flow.add(tf_move.FindDisks(ctx, instance))
    with_media = media.required(instance)
    if with_media:
        flow.add(tf_stg.CreateConfigDrive(ctx, instance, context,
                                          injected_files, admin_password,
                                          network_info, with_mgmt))
    if vol_infos:
        # The boot volume first: the firmware boots the first disk.
        flow.add(tf_vol.ConnectVolumes(ctx, instance, vol_infos))
    if with_media or not from_volume:
        flow.add(tf_stg.ConnectStorage(ctx, instance, with_media,
                                       not from_volume,
                                       with_boot=not from_volume))
    if grow_to and not from_volume:
        flow.add(tf_move.GrowRootDisk(ctx, instance, grow_to))
    if power_on:
        flow.add(tf_vm.PowerOn(ctx, instance))
    return flow


def recreate(ctx, context, instance, image_meta, injected_files,
             admin_password, network_info, power_on=True, grow_to=None,
             block_device_info=None):
    """Re-create the partition on shared disks (see build_recreate).

    The Cinder volumes of ``block_device_info`` (its connection infos
    for this host) are connected too.
    """
    flows.run(build_recreate(
        ctx, context, instance, image_meta, injected_files, admin_password,
        network_info, power_on, grow_to,
        flows.volume_infos(block_device_info),
        flows.boots_from_volume(block_device_info)))


def finish_migration(ctx, context, migration, instance, disk_info,
                     network_info, image_meta, block_device_info=None,
                     power_on=True):
    """The destination's half of a resize or cold migration.

    Same host: 1 GET of the partition + 1 POST (new size) + the root disk
    growth (GET + POST of the volume group) + the power on job (2).
    Another host: a spawn without the image (:func:`build_recreate`).

    :param ctx: ``HostContext``.
    :param context: nova ``RequestContext``.
    :param migration: nova ``Migration``.
    :param instance: nova ``Instance`` (the new flavor; ``old_flavor``).
    :param disk_info: what :func:`migrate_disk_and_power_off` returned.
    :param network_info: nova ``NetworkInfo``.
    :param image_meta: nova ``ImageMeta``.
    :param block_device_info: nova block device info.
    :param power_on: start the server (false for a stopped server).
    """
    info = resize.read_disk_info(disk_info)
    old = instance.old_flavor or instance.flavor
    grow_to = (instance.flavor.root_gb
               if instance.flavor.root_gb > old.root_gb else None)
    if same_host(migration):
        lpar_w = vm.get_instance_wrapper(ctx.adapter, instance)
        flows.run(build_resize(ctx, instance, instance.flavor, old,
                               power_on, info['was_running'],
                               flows.boots_from_volume(block_device_info)),
                  store={'lpar_wrap': lpar_w})
        return
    recreate(ctx, context, instance, image_meta, [], None, network_info,
             power_on, grow_to, block_device_info)


# -- confirm and revert -----------------------------------------------------

def confirm_migration(ctx, context, migration, instance, network_info):
    """Confirm: nothing on one host; else delete the source partition.

    The source partition goes with its mappings and config drive; the
    disks stay (the destination uses them).  No REST on one host.

    :param ctx: ``HostContext`` (the source host).
    :param context: nova ``RequestContext``.
    :param migration: nova ``Migration``.
    :param instance: nova ``Instance``.
    :param network_info: nova ``NetworkInfo``.
    """
    if same_host(migration):
        return
    flows.destroy(ctx, context, instance, network_info, None,
                  destroy_disks=False)


def build_revert(ctx, instance, flavor, new_flavor, power_on):
    """The same-host revert graph: stop, old size, start if it ran.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param flavor: the old nova ``Flavor`` to restore.
    :param new_flavor: the flavor it has now (restored on a failure).
    :param power_on: start the partition at the end.
    """
    flow = tf_lf.Flow('revert_resize_%s' % instance.uuid)
    flow.add(tf_move.StopForMove(ctx, instance, CONF.shutdown_timeout,
                                 CONF.compute.shutdown_retry_interval),
             tf_move.ResizeLPAR(ctx, instance, flavor, new_flavor,
                                fresh=True))
    if power_on:
        flow.add(tf_move.StartAfterMove(ctx, instance))
    return flow


def finish_revert_migration(ctx, context, instance, network_info,
                            migration, block_device_info=None,
                            power_on=True):
    """The source's half of a revert: the server as it was.

    Same host: the old memory, processors and settings back (1 GET, the
    power off job when it runs, 1 POST, the power on job when it ran).
    Another host: the kept partition gets its disks mapped again and is
    started if it ran (1 GET, the mapping's 2 + 1 per VIOS, the job).

    :param ctx: ``HostContext`` (the source host).
    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance`` (its old flavor again).
    :param network_info: nova ``NetworkInfo``.
    :param migration: nova ``Migration``.
    :param block_device_info: nova block device info.
    :param power_on: start the server (false if it was stopped).
    """
    lpar_w = vm.get_instance_wrapper(ctx.adapter, instance)
    if same_host(migration):
        new = instance.new_flavor or instance.flavor
        flows.run(build_revert(ctx, instance, instance.flavor, new,
                               power_on),
                  store={'lpar_wrap': lpar_w})
        return
    flows.run(build_revert_source(ctx, instance, power_on,
                                  flows.volume_infos(block_device_info),
                                  flows.boots_from_volume(block_device_info)),
              store={'lpar_wrap': lpar_w})


def build_revert_source(ctx, instance, power_on, vol_infos=(),
                        from_volume=False):
    """The graph of a revert to another host's kept partition.

    Map the instance's disks (none when it boots from a volume) and its
    Cinder volumes (``block_device_info`` nova refreshed for this host)
    again, start the partition if it ran.  A failure unmaps what was
    mapped: nova marks the server ERROR, a hard reboot maps it all.

    :param ctx: ``HostContext`` (the source host).
    :param instance: nova ``Instance``.
    :param power_on: start the partition at the end.
    :param vol_infos: Cinder connection infos, the boot volume first.
    :param from_volume: the server boots from a volume.
    """
    flow = tf_lf.Flow('revert_migration_%s' % instance.uuid)
    if vol_infos:
        flow.add(tf_vol.ConnectVolumes(ctx, instance, vol_infos))
    if not from_volume:
        flow.add(tf_move.MapOwnDisks(ctx, instance))
    if power_on:
        flow.add(tf_vm.PowerOn(ctx, instance))
    return flow


def remove_leftover(ctx, context, instance):
    """Delete the partition a failed move left here (not its disks).

    nova calls ``delete_instance_files`` on the source of a migration
    that ended in error once the instance is deleted or lives elsewhere.
    Nothing when there is no partition or the instance is this host's.

    :param ctx: ``HostContext``.
    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance``.
    :returns: True (nothing of the instance is left here).
    """
    if instance.host == ctx.host and not instance.deleted:
        return True
    if not vm.instance_exists(ctx.adapter, instance):
        return True
    LOG.info('Deleting the partition a failed move left on this host.',
             instance=instance)
    flows.destroy(ctx, context, instance, None, None, destroy_disks=False)
    return True


# -- evacuate ----------------------------------------------------------------

def instance_on_disk(ctx, instance):
    """Whether the instance's boot disk is on this host's storage.

    True only on shared storage holding its boot LU (1 GET).
    """
    if not ctx.disk_dvr.capabilities.get('shared_storage'):
        return False
    try:
        ctx.disk_dvr.find_instance_disks(instance)
    except nova_exc.DiskNotFound:
        return False
    return True
