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
"""TaskFlow graphs of the driver's multi-step operations.

Builders are pure: they read only their arguments and configuration and
make no REST call, so a test can inspect the graph of each case.  The
runners build and run a graph; on a failure TaskFlow reverts the tasks
that ran, in reverse order, and re-raises the original exception.

REST cost of each step is listed in ``doc/source/devref/flows.rst``.
"""

from nova.compute import task_states
from nova.compute import vm_states
from nova import exception as nova_exc
from nova import objects
from nova.virt import driver as nova_driver
from oslo_log import log as logging
from taskflow import engines as tf_eng
from taskflow.patterns import linear_flow as tf_lf
from taskflow.persistence.backends import impl_memory as tf_memory

from nova_powervm import conf as pvm_conf
from nova_powervm import exception as exc
from nova_powervm.virt.powervm.disk import base as dvr_base
from nova_powervm.virt.powervm import image
from nova_powervm.virt.powervm import mapping
from nova_powervm.virt.powervm import media
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


def build_spawn(ctx, context, instance, image_meta, injected_files,
                admin_password, network_info, block_device_info=None,
                power_on=True):
    """The spawn graph (no I/O while building).

    Validate the flavor, create the partition, plug the VIFs (and the RMC
    management adapter), make the boot disk from the image and the blank
    ephemeral and swap disks, build and upload the config drive when
    required, map disks and media in one VIOS update, and power on when
    asked.

    :param ctx: ``HostContext``.
    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance``.
    :param image_meta: nova ``ImageMeta``.
    :param injected_files: list of ``(path, contents)``.
    :param admin_password: admin password or None.
    :param network_info: nova ``NetworkInfo``.
    :param block_device_info: nova block device info; its ephemeral and
                              swap disks are created and its Cinder volumes
                              connected (the boot volume first).
    :param power_on: power the partition on at the end.
    :returns: a TaskFlow linear flow.
    :raises nova.exception.InvalidInput: for block devices this driver
                                         cannot create yet, or a VIF of a
                                         type it cannot plug.
    :raises UnsupportedImageFormat: for an image that is not raw.
    """
    check_block_devices(instance, block_device_info, volumes_ok=True)
    pvm_vif.check_vif_types(network_info)
    vol_infos = volume_infos(block_device_info)
    for info in vol_infos:
        # An unknown protocol fails before anything is made.
        volume.get_connector(ctx, instance, info)
    from_volume = boots_from_volume(block_device_info)
    if not from_volume:
        image.check_format(image_meta)
    local_disks = ctx.disk_dvr.local_disks(instance, block_device_info)
    flow = tf_lf.Flow('spawn_%s' % instance.uuid)
    flow.add(tf_vm.ValidateFlavor(ctx, instance),
             tf_vm.CreateLPAR(ctx, instance, image_meta))
    if ctx.nvram is not None and _restores_nvram(instance):
        flow.add(tf_move.RestoreNVRAM(ctx, instance))
    if network_info:
        # Tagged interfaces go in the config drive and metadata service.
        flow.add(tf_net.PlugVifs(ctx, instance, network_info),
                 tf_net.UpdateDeviceMetadata(instance, context))
    with_mgmt = CONF.powervm.use_rmc_mgmt_vif
    if with_mgmt:
        flow.add(tf_net.PlugMgmtVif(ctx, instance))
    if not from_volume:
        flow.add(tf_stg.CreateDiskForImg(ctx, instance, context,
                                         image_meta))
    if local_disks:
        flow.add(tf_stg.CreateLocalDisks(ctx, instance, local_disks))
    with_media = media.required(instance)
    if with_media:
        flow.add(tf_stg.CreateConfigDrive(ctx, instance, context,
                                          injected_files, admin_password,
                                          network_info, with_mgmt))
    if vol_infos:
        # The boot volume first: the firmware boots the first disk.
        flow.add(tf_vol.ConnectVolumes(ctx, instance, vol_infos))
    if with_media or local_disks or not from_volume:
        flow.add(tf_stg.ConnectStorage(ctx, instance, with_media,
                                       bool(local_disks),
                                       with_boot=not from_volume))
    if power_on:
        flow.add(tf_vm.PowerOn(ctx, instance))
    return flow


def volume_infos(block_device_info):
    """The Cinder connection infos of ``block_device_info``'s volumes.

    The boot volume (boot index 0) first, then in boot index order.
    """
    bdms = nova_driver.block_device_info_get_mapping(block_device_info)
    ordered = sorted(bdms, key=lambda b: (
        b.get('boot_index') is None or b.get('boot_index') < 0,
        b.get('boot_index') or 0))
    return [b['connection_info'] for b in ordered
            if b.get('connection_info')]


def boots_from_volume(block_device_info):
    """Whether a volume of ``block_device_info`` is the boot disk."""
    return any(b.get('boot_index') == 0 for b in
               nova_driver.block_device_info_get_mapping(block_device_info))


def _restores_nvram(instance):
    """Whether a spawn re-creates a server that had a partition.

    Unshelve (of an offloaded server) and the spawn of a rebuild or an
    evacuation from its image get the NVRAM the store kept.
    """
    return (instance.vm_state == vm_states.SHELVED_OFFLOADED or
            instance.task_state == task_states.REBUILD_SPAWNING)


def check_block_devices(instance, block_device_info, volumes_ok=False):
    """Refuse what spawn cannot build yet, rather than ignore it.

    The image-backed boot disk, ephemeral and swap disks and the config
    drive are created, and (``volumes_ok``: spawn) Cinder volumes are
    connected.  Elsewhere (rebuild) volumes fail with a message the user
    can read, and nova does not reschedule it.

    :param instance: nova ``Instance``.
    :param block_device_info: nova block device info (or None).
    :param volumes_ok: volumes are connected by the caller.
    :raises nova.exception.InvalidInput: naming what is unsupported.
    """
    if volumes_ok:
        return
    if nova_driver.block_device_info_get_mapping(block_device_info):
        raise nova_exc.InvalidInput(
            reason='The PowerVM driver cannot rebuild in place a server '
                   'with volumes yet.')


def build_destroy(ctx, instance, destroy_disks=True, block_device_info=None,
                  network_info=None):
    """The destroy graph.

    Power off at once, close the console, remove the mappings of the
    instance's disks and config drive, delete the config drive and (unless
    ``destroy_disks`` is false) the disks, and delete the partition, which
    takes its network adapters with it.  The ``lpar_wrap`` input is the
    partition's wrapper, or None when the partition is gone: the storage
    that belongs to the instance is still found by name and removed.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param destroy_disks: delete the boot disk.
    :param block_device_info: nova block device info; its volumes are
        unmapped and their hdisks removed (Cinder keeps the volumes).
    :param network_info: nova ``NetworkInfo``: ``ovs`` VIFs also have a
                         trunk adapter on the NovaLink partition and an
                         OVS port, removed after the partition.
    :returns: a TaskFlow linear flow.
    """
    flow = tf_lf.Flow('destroy_%s' % instance.uuid)
    flow.add(tf_vm.PowerOff(ctx, instance),
             tf_vm.CloseConsole(ctx, instance),
             tf_stg.DisconnectStorage(ctx, instance))
    vol_infos = volume_infos(block_device_info)
    if vol_infos:
        flow.add(tf_vol.DisconnectVolumes(ctx, instance, vol_infos,
                                          remap_on_failure=False))
    if (CONF.powervm.fc_attach_strategy == 'npiv' and not any(
            i.get('driver_volume_type') == 'fibre_channel'
            for i in vol_infos)):
        # The adapters of a server without FC volumes left (a failed
        # attach, a volume gone behind nova's back) go too.
        flow.add(tf_vol.RemoveNPIVAdapters(ctx, instance))
    flow.add(tf_stg.DeleteStorage(ctx, instance, destroy_disks),
             tf_vm.DeleteLPAR(ctx, instance))
    if any(v.get('type') == pvm_vif.VIF_TYPE_OVS
           for v in network_info or ()):
        flow.add(tf_net.RemoveOvsTrunks(ctx, instance))
    return flow


class _RunBackend(tf_memory.MemoryBackend):
    """TaskFlow's in-memory store of one flow run, on one connection.

    The stock backend opens a new connection, which re-creates its
    directory tree, for each of the ~40 state saves of a spawn: about a
    fifth of the engine's CPU.  One run is one thread (serial engine).
    Its saves are shallow copies: the stock store deep-copies every atom
    detail on each read and write (the tasks' results are pypowervm
    wrappers, whose XML trees then get copied many times per spawn), to
    imitate a database this run never has.  The tasks get the objects
    the earlier tasks returned, as with a plain function call.
    """

    def __init__(self):
        super().__init__(conf={'deep_copy': False})
        self._conn = None

    def get_connection(self):
        if self._conn is None:
            self._conn = super().get_connection()
        return self._conn


def run(flow, store=None):
    """Run a flow with the serial engine; failures revert and re-raise.

    :param flow: a TaskFlow flow.
    :param store: initial values of the flow's inputs.
    :returns: the flow's results by name.
    """
    return tf_eng.run(flow, engine='serial', store=store or {},
                      backend=_RunBackend())


def spawn(ctx, context, instance, image_meta, injected_files,
          admin_password, network_info, block_device_info=None,
          power_on=True):
    """Build and run the spawn flow (parameters as :func:`build_spawn`)."""
    run(build_spawn(ctx, context, instance, image_meta, injected_files,
                    admin_password, network_info, block_device_info,
                    power_on))


def destroy(ctx, context, instance, network_info, block_device_info=None,
            destroy_disks=True):
    """Destroy an instance: its partition and what belongs to it.

    A partition that vanished behind nova's back is no error: its disks,
    config drive and their mappings are removed all the same.

    :param ctx: ``HostContext``.
    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance``.
    :param network_info: nova ``NetworkInfo`` (adapters go with the
                         partition).
    :param block_device_info: nova block device info.
    :param destroy_disks: delete the boot disk.
    """
    try:
        lpar_w = vm.get_instance_wrapper(ctx.adapter, instance)
    except nova_exc.InstanceNotFound:
        LOG.info('Partition not found; removing what is left of the '
                 'instance.', instance=instance)
        lpar_w = None
    run(build_destroy(ctx, instance, destroy_disks, block_device_info,
                      network_info),
        store={'lpar_wrap': lpar_w})


# hw_rescue_device / hw_rescue_bus values PowerVM can honour: the rescue
# disk is a virtual SCSI disk.
RESCUE_DEVICES = ('disk',)
RESCUE_BUSES = ('scsi',)


def check_rescue(image_meta):
    """Refuse rescue image properties PowerVM cannot honour (no I/O).

    :param image_meta: nova ``ImageMeta`` of the rescue image.
    :raises nova.exception.InvalidInput: naming the property and value.
    """
    if not image_meta.obj_attr_is_set('properties'):
        return
    props = image_meta.properties
    for key, allowed in (('hw_rescue_device', RESCUE_DEVICES),
                         ('hw_rescue_bus', RESCUE_BUSES)):
        value = props.get(key) if props.obj_attr_is_set(key) else None
        if value is not None and value not in allowed:
            raise nova_exc.InvalidInput(
                reason='The PowerVM driver rescues from a virtual SCSI '
                       'disk: %s=%s is not supported (use %s).'
                       % (key, value, ' or '.join(allowed)))


def build_rescue(ctx, context, instance, image_meta):
    """The rescue graph: boot a rescue disk, the boot disk attached second.

    Stop the partition (nova has normally done it), copy the rescue image
    into the rescue disk, map it beside the boot disk and power on from
    it (the PowerOn job's bootstring names it).  Every step reverts: a
    failed rescue leaves the partition off with its own disks only.

    :param ctx: ``HostContext``.
    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance``.
    :param image_meta: nova ``ImageMeta`` of the rescue image.
    """
    check_rescue(image_meta)
    image.check_format(image_meta)
    flow = tf_lf.Flow('rescue_%s' % instance.uuid)
    flow.add(tf_vm.StopForChange(ctx, instance, force=True),
             tf_stg.CreateRescueDisk(ctx, instance, context, image_meta),
             tf_stg.ConnectRescueDisk(ctx, instance),
             tf_vm.PowerOn(ctx, instance, boot_from=True))
    return flow


def rescue(ctx, context, instance, image_meta):
    """Rescue an instance (parameters as :func:`build_rescue`).

    1 GET of the partition plus the flow's requests (see flows.rst).
    nova's compute manager always names the rescue image; given none (an
    ``ImageMeta`` without id), the server's own image is read from Glance.
    """
    if not image_meta.obj_attr_is_set('id'):
        image_meta = objects.ImageMeta.from_dict(
            image.image_api().get(context, instance.image_ref))
    flow = build_rescue(ctx, context, instance, image_meta)
    run(flow, store={'lpar_wrap': vm.get_instance_wrapper(ctx.adapter,
                                                          instance)})


def build_unrescue(ctx, instance):
    """The unrescue graph: back to the boot disk.

    Power off at once, unmap and delete the rescue disk (and a boot disk a
    failed rebuild left unmapped), power on from the mapped boot disk.  It
    only goes forward and each step copes with its work being done
    already, so a failed unrescue is simply run again; the driver's hard
    reboot of a server in ERROR runs it too.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    """
    flow = tf_lf.Flow('unrescue_%s' % instance.uuid)
    flow.add(tf_vm.StopForChange(ctx, instance, force=True),
             tf_stg.DisconnectRescueDisk(ctx, instance),
             tf_stg.DeleteLeftoverDisks(ctx, instance),
             tf_vm.PowerOn(ctx, instance, boot_from=True))
    return flow


def unrescue(ctx, instance):
    """Unrescue an instance (1 GET of the partition plus the flow's)."""
    run(build_unrescue(ctx, instance),
        store={'lpar_wrap': vm.get_instance_wrapper(ctx.adapter, instance)})


def build_rebuild(ctx, context, instance, image_meta, injected_files,
                  admin_password, network_info, old_boot, new_boot,
                  block_device_info=None, preserve_ephemeral=False):
    """The rebuild graphs: a new boot disk, the same partition.

    Two flows, run one after the other.  The first stops the partition,
    copies the new image into a new boot disk beside the old one, and
    swaps them in one VIOS update (which also unmaps the config drive
    and, unless preserved, the ephemeral disks); every step reverts, so a
    failure there leaves the server as it was, running again if it ran.
    The second deletes what was replaced, makes blank ephemeral disks
    again (unless preserved) and a new config drive, maps them and powers
    on from the new boot disk; a failure there leaves the server on its
    new boot disk, and a rebuild run again completes it.  The partition,
    its adapters, its swap disk and its UUID stay.

    :param ctx: ``HostContext``.
    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance``.
    :param image_meta: nova ``ImageMeta`` of the new image.
    :param injected_files: list of ``(path, contents)``.
    :param admin_password: admin password or None.
    :param network_info: nova ``NetworkInfo``.
    :param old_boot: name of the current boot disk (None when missing).
    :param new_boot: name of the new boot disk.
    :param block_device_info: nova block device info.
    :param preserve_ephemeral: keep the ephemeral disks as they are.
    :returns: ``(swap flow, finish flow)``.
    """
    check_block_devices(instance, block_device_info)
    image.check_format(image_meta)
    dvr = ctx.disk_dvr
    ephemerals = [] if preserve_ephemeral else [
        d for d in dvr.local_disks(instance, block_device_info)
        if d.kind == 'ephemeral']
    replaced = ([old_boot] if old_boot else []) + (
        [] if preserve_ephemeral else
        [dvr.ephemeral_disk_name(instance, i)
         for i in range(dvr_base.MAX_EPHEMERALS)])
    swap = tf_lf.Flow('rebuild_swap_%s' % instance.uuid)
    swap.add(tf_vm.StopForChange(ctx, instance),
             tf_stg.CreateBootDisk(ctx, instance, context, image_meta,
                                   new_boot),
             tf_stg.SwapBootDisk(ctx, instance, replaced, new_boot))
    finish = tf_lf.Flow('rebuild_finish_%s' % instance.uuid)
    finish.add(tf_stg.DeleteReplacedStorage(ctx, instance, replaced))
    if ephemerals:
        finish.add(tf_stg.CreateLocalDisks(ctx, instance, ephemerals))
    with_media = media.required(instance)
    if with_media:
        finish.add(tf_stg.CreateConfigDrive(ctx, instance, context,
                                            injected_files, admin_password,
                                            network_info))
    if ephemerals or with_media:
        finish.add(tf_stg.ConnectMore(ctx, instance, with_media,
                                      bool(ephemerals)))
    finish.add(tf_vm.PowerOn(ctx, instance, boot_from=True))
    return swap, finish


def rebuild(ctx, context, instance, image_meta, injected_files,
            admin_password, network_info, block_device_info=None,
            preserve_ephemeral=False):
    """Rebuild an instance on its partition (see :func:`build_rebuild`).

    Reads the partition and the instance's disks (2 GETs) to find the
    boot disk's current name; the new one takes the other.  Both exist
    only after a rebuild that failed in its second flow: the unmapped one
    is then left over (1 more GET to tell).
    """
    dvr = ctx.disk_dvr
    lpar_w = vm.get_instance_wrapper(ctx.adapter, instance)
    existing = dvr.existing_disk_names(instance)
    names = dvr.boot_disk_names(instance)
    old = [name for name in names if name in existing]
    leftover = []
    if len(old) == len(names):
        mapped = mapping.mapped_names(ctx.adapter, lpar_w.uuid)
        old = [name for name in names if name in mapped][:1] or names[:1]
        leftover = [name for name in names if name not in old]
    new = [name for name in names if name not in old][0]
    swap, finish = build_rebuild(
        ctx, context, instance, image_meta, injected_files, admin_password,
        network_info, old[0] if old else None, new, block_device_info,
        preserve_ephemeral)
    store = {'lpar_wrap': lpar_w}
    if leftover:
        # The new boot disk takes the left-over disk's name: delete it.
        dvr.delete_disks_named(instance, leftover)
    results = run(swap, store=store)
    store['boot_string'] = results['boot_string']
    run(finish, store=store)


def build_unplug(ctx, instance, network_info):
    """The graph of ``unplug_vifs``: delete the VIFs' adapters.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param network_info: nova ``NetworkInfo``.
    """
    flow = tf_lf.Flow('unplug_%s' % instance.uuid)
    flow.add(tf_net.UnplugVifs(ctx, instance, network_info))
    return flow


def build_plug(ctx, instance, network_info):
    """The graph of ``plug_vifs``: adapters for VIFs that lack one.

    The ``lpar_wrap`` input is the partition's wrapper.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param network_info: nova ``NetworkInfo``.
    """
    flow = tf_lf.Flow('plug_%s' % instance.uuid)
    flow.add(tf_net.PlugVifs(ctx, instance, network_info,
                             new_lpar=False, wait=False))
    return flow


def cleanup(ctx, context, instance, network_info, block_device_info=None,
            destroy_disks=True, migrate_data=None, destroy_vifs=True):
    """Remove what is left of an instance (nova's ``cleanup``).

    Our destroy leaves nothing behind and copes with a partition that is
    gone, so this is a destroy.

    :param ctx: ``HostContext``.
    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance``.
    :param network_info: nova ``NetworkInfo``.
    :param block_device_info: nova block device info.
    :param destroy_disks: delete the boot disk.
    :param migrate_data: nova ``LiveMigrateData`` (unused).
    :param destroy_vifs: the adapters go with the partition in any case.
    """
    destroy(ctx, context, instance, network_info, block_device_info,
            destroy_disks)


def plug_vifs(ctx, instance, network_info):
    """Create the adapters of VIFs that have none (no event wait).

    2 GETs (partition, its adapters) plus 1 PUT per missing adapter.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param network_info: nova ``NetworkInfo``.
    :raises VirtualInterfacePlugException: when the partition is missing
        or an adapter cannot be created.
    """
    try:
        lpar_w = vm.get_instance_wrapper(ctx.adapter, instance)
    except nova_exc.InstanceNotFound:
        raise nova_exc.VirtualInterfacePlugException(
            'partition of instance %s not found' % instance.uuid)
    run(build_plug(ctx, instance, network_info), store={'lpar_wrap': lpar_w})


def unplug_vifs(ctx, instance, network_info):
    """Delete the adapters of the given VIFs (absent ones are fine).

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param network_info: nova ``NetworkInfo``.
    """
    if network_info:
        run(build_unplug(ctx, instance, network_info))


def manage_image_cache(ctx, context, all_instances):
    """Let the disk adapter drop cached images no instance uses.

    :param ctx: ``HostContext``.
    :param context: nova ``RequestContext``.
    :param all_instances: instances nova knows on this host.
    :returns: names of the removed cache entries.
    """
    if not ctx.disk_dvr.capabilities.get('has_imagecache'):
        return []
    return ctx.disk_dvr.manage_image_cache(context, all_instances)


def _hotplug_wrapper(ctx, instance, action):
    """The partition's wrapper, if its adapters can change now (1 GET).

    A stopped partition always can; a running one needs an active RMC
    connection and the I/O DLPAR capability.

    :raises InstanceNotFound: when the partition does not exist.
    :raises InterfaceHotplugNotPossible: naming the reason.
    """
    lpar_w = vm.get_instance_wrapper(ctx.adapter, instance)
    capable, reason = lpar_w.can_modify_io()
    if not capable:
        raise exc.InterfaceHotplugNotPossible(
            action=action, instance=instance.uuid, reason=reason)
    return lpar_w


def build_attach_interface(ctx, context, instance, vif):
    """The graph of ``attach_interface``: plug one VIF, tell the agents.

    The ``lpar_wrap`` input is the partition's wrapper.  When telling the
    agents or recording the interface's tag fails, the new adapter is
    deleted again.

    :param ctx: ``HostContext``.
    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance``.
    :param vif: nova ``VIF``.
    :raises VirtualInterfacePlugException: for an unsupported VIF type
        (before anything is created).
    """
    reason = pvm_vif.unsupported_message(vif)
    if reason:
        raise nova_exc.VirtualInterfacePlugException(reason)
    flow = tf_lf.Flow('attach_interface_%s' % instance.uuid)
    flow.add(tf_net.PlugVifs(ctx, instance, [vif], new_lpar=False,
                             wait=False),
             tf_net.NotifyAgents(ctx, instance, 'plug'),
             tf_net.UpdateDeviceMetadata(instance, context))
    return flow


def attach_interface(ctx, context, instance, vif):
    """Hot-plug (or, when stopped, add) one VIF's adapter.

    At most 5 round trips: GET partition, GET its adapters, GET the
    virtual switches (first use on the host only), PUT adapter, PUT event.

    :param ctx: ``HostContext``.
    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance``.
    :param vif: nova ``VIF``.
    """
    flow = build_attach_interface(ctx, context, instance, vif)
    lpar_w = _hotplug_wrapper(ctx, instance, 'attach')
    run(flow, store={'lpar_wrap': lpar_w})


def build_detach_interface(ctx, context, instance, vif):
    """The graph of ``detach_interface``: delete the adapter, tell agents.

    The interface's tag leaves the device metadata first (no REST call),
    so a failed delete puts it back.  A failure to tell the agents after
    the delete is only logged.

    :param ctx: ``HostContext``.
    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance``.
    :param vif: nova ``VIF``.
    """
    flow = tf_lf.Flow('detach_interface_%s' % instance.uuid)
    flow.add(tf_net.UpdateDeviceMetadata(instance, context,
                                         without_macs=[vif['address']]),
             tf_net.UnplugVifs(ctx, instance, [vif]),
             tf_net.NotifyAgents(ctx, instance, 'unplug'))
    return flow


def detach_interface(ctx, context, instance, vif):
    """Hot-unplug (or, when stopped, remove) one VIF's adapter.

    At most 4 round trips: GET partition, GET its adapters, DELETE
    adapter, PUT event.  An adapter that is already gone is success.

    :param ctx: ``HostContext``.
    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance``.
    :param vif: nova ``VIF``.
    """
    flow = build_detach_interface(ctx, context, instance, vif)
    lpar_w = _hotplug_wrapper(ctx, instance, 'detach')
    run(flow, store={'lpar_wrap': lpar_w})
