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
"""The PowerVM compute driver.

The driver is thin: it validates, then delegates to the modules beside it
(``flows`` for the TaskFlow graphs, ``vm``, ``host``, ``disk``, ``vif``,
``media``, ``event``).  See ``doc/source/devref/architecture.rst``.
"""

import threading
import time

from nova.compute import task_states
from nova.compute import utils as compute_utils
from nova.compute import vm_states
from nova import context as nova_context
from nova import exception as nova_exc
from nova import objects
from nova.virt import driver
from nova.virt import hardware
from oslo_log import log as logging
from oslo_utils import excutils

from nova_powervm import conf as pvm_conf
from nova_powervm import exception as exc
from nova_powervm.virt.powervm import context as pvm_context
from nova_powervm.virt.powervm import disk
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import event
from nova_powervm.virt.powervm import flows
from nova_powervm.virt.powervm import host as pvm_host
from nova_powervm.virt.powervm import host_shim
from nova_powervm.virt.powervm import image
from nova_powervm.virt.powervm import live_migration
from nova_powervm.virt.powervm import lpm_npiv
from nova_powervm.virt.powervm import lpm_volumes
from nova_powervm.virt.powervm import metrics
from nova_powervm.virt.powervm import move
from nova_powervm.virt.powervm import nvram
from nova_powervm.virt.powervm import power
from nova_powervm.virt.powervm import recovery
from nova_powervm.virt.powervm import session
from nova_powervm.virt.powervm import snapshot as pvm_snapshot
from nova_powervm.virt.powervm import vif as pvm_vif
from nova_powervm.virt.powervm import vm
from nova_powervm.virt.powervm import volumes

CONF = pvm_conf.CONF
LOG = logging.getLogger(__name__)

# Seconds a get_available_resource result is reused by update_provider_tree
# (the resource tracker calls both in one periodic pass).
_RESOURCE_REUSE_SECONDS = 30


@errors.translating
class PowerVMDriver(driver.ComputeDriver):
    """PowerVM implementation of nova's ``ComputeDriver``.

    Every public method runs inside ``errors.translate`` (the class
    decorator), so no pypowervm exception reaches nova untranslated.
    """

    # Every key nova knows is listed, so the dict states plainly what works.
    capabilities = {
        'has_imagecache': False,  # set from the disk adapter at init_host
        'supports_evacuate': True,
        'supports_migrate_to_same_host': False,
        'supports_attach_interface': True,
        'supports_device_tagging': True,
        'supports_tagged_attach_interface': True,
        'supports_tagged_attach_volume': True,
        'supports_extend_volume': True,
        'supports_multiattach': True,
        'supports_trusted_certs': False,
        'supports_pcpus': False,
        'supports_accelerators': False,
        'supports_bfv_rescue': False,
        'supports_vtpm': False,
        'supports_secure_boot': False,
        'supports_socket_pci_numa_affinity': False,
        'supports_remote_managed_ports': False,
        'supports_address_space_passthrough': False,
        'supports_address_space_emulated': False,
        'supports_virtio_fs': False,
        'supports_mem_backing_file': False,
        'supports_ephemeral_encryption': False,
        'supports_ephemeral_encryption_luks': False,
        'supports_ephemeral_encryption_plain': False,
        'supports_image_type_aki': False,
        'supports_image_type_ami': False,
        'supports_image_type_ari': False,
        'supports_image_type_iso': False,
        'supports_image_type_qcow2': False,
        'supports_image_type_raw': True,
        'supports_image_type_vdi': False,
        'supports_image_type_vhd': False,
        'supports_image_type_vhdx': False,
        'supports_image_type_vmdk': False,
        'supports_image_type_ploop': False,
    }

    # Seconds between a partition state change and its lifecycle event.
    event_delay = event.DEFAULT_DELAY

    def __init__(self, virtapi):
        super().__init__(virtapi)
        # Fail fast: an invalid [powervm] value stops the service here.
        pvm_conf.validate()
        self.capabilities = dict(self.capabilities)
        self._ctx = None
        self._nodename = None
        self._conn = None
        self._events = None
        self._reserved = pvm_host.Reserved()
        self._uptime = None
        self._resolver = event.UUIDResolver()
        self._stop = threading.Event()
        self._last_resources = (0.0, None, None)
        self._maintenance = False
        self._lpm = live_migration.LiveMigrations(self._host_ctx)

    # ------------------------------------------------------------------
    # Service lifecycle (the node identity is nova's: one per process)
    # ------------------------------------------------------------------
    def init_host(self, host):
        """Connect to NovaLink and get ready (about 8 REST round trips).

        :param host: the nova host name of this compute service.
        """
        pvm_conf.validate()
        if self._ctx is not None:
            # A second init_host (tests, restarts in one process) replaces
            # the first connection instead of leaking its event thread.
            self.cleanup_host(self._ctx.host)
        self._stop.clear()
        self._conn = session.ConnectionInfo.from_conf()
        adapter = session.connect(self._conn, self._stop)
        try:
            found = pvm_host.discover(
                adapter, CONF.powervm.vios_active_wait_timeout, self._stop)
            self._reserved = found.reserved
            self._uptime = pvm_host.Uptime(found.mgmt_w.uptime)
            disk_dvr = disk.get_disk_adapter(
                adapter, found.host_w.uuid, found.mgmt_w.uuid,
                vioses=found.vioses)
            self.capabilities['has_imagecache'] = bool(
                disk_dvr.capabilities.get('has_imagecache'))
            shim = host_shim.get_shim(
                CONF.powervm.host_shim, self._conn.dest,
                CONF.vnc.server_proxyclient_address,
                certpath=self._conn.certpath)
            self._ctx = pvm_context.HostContext(
                host=host, adapter=adapter, host_uuid=found.host_w.uuid,
                mgmt_uuid=found.mgmt_w.uuid, disk_dvr=disk_dvr, shim=shim,
                virtapi=self.virtapi,
                host_wrapper=pvm_host.host_wrapper_getter(adapter),
                nvram=nvram.manager(adapter))
            # Spawns read the host's static properties from the cache: the
            # wrapper just read saves the first spawn a GET.
            self._ctx.cache.remember_host(found.host_w)
            power.prime_templates(self._ctx, found.mgmt_w)
            metrics.enable_ltm(adapter, found.host_w.uuid)
            self._cleanup_vif_orphans()
            self._nodename = host
            self._start_events(adapter, self._ctx.cache.lpar_states)
            if self._ctx.nvram is not None:
                # NVRAM events feed the store; the handler never blocks.
                self._events._listener.subscribe(
                    nvram.NvramEventHandler(self._ctx.nvram))
        except Exception:
            with excutils.save_and_reraise_exception():
                self._ctx, self._events = None, None
                session.close(adapter)
        LOG.info('PowerVM driver ready on %(host)s (managed system %(ms)s).',
                 {'host': host, 'ms': found.host_w.system_name})

    def process_instances_at_startup(self, context, instances):
        """Resolve what a stopped service left (see ``recovery``)."""
        return recovery.recover(self._host_ctx(), context, instances)

    def _cleanup_vif_orphans(self):
        """Remove OVS trunks whose partition is gone (logged, not fatal)."""
        try:
            pvm_vif.cleanup_orphans(self._ctx)
        except nova_exc.NovaException as error:
            LOG.warning('Could not clean up orphan trunk adapters: %s',
                        error.format_message())

    def _start_events(self, adapter, states):
        handler = event.LifecycleHandler(adapter, self.emit_event,
                                         self._resolver,
                                         delay=self.event_delay,
                                         states=states)
        self._events = event.EventMonitor(adapter, handler)
        self._events.start()

    def cleanup_host(self, host):
        """Stop the event listener, drop the host's cache and log off.

        :param host: the nova host name.
        """
        self._stop.set()
        monitor, self._events = self._events, None
        ctx, self._ctx = self._ctx, None
        try:
            if monitor is not None and not monitor.stop():
                LOG.warning('The PowerVM event poll did not stop in time.')
        finally:
            if ctx is not None:
                if ctx.nvram is not None:
                    ctx.nvram.stop()
                ctx.cache.clear()
                session.close(ctx.adapter)

    def _host_ctx(self):
        if self._ctx is None:
            raise nova_exc.VirtDriverNotReady()
        return self._ctx

    @property
    def adapter(self):
        """The pypowervm ``Adapter`` (after ``init_host``)."""
        return self._host_ctx().adapter

    def get_available_nodes(self, refresh=False):
        """The one node of this driver: the host name from ``init_host``."""
        return [self._nodename] if self._nodename else []

    def get_host_ip_addr(self):
        """The IP nova uses for this host (``[DEFAULT] my_ip``)."""
        return CONF.my_ip

    def get_host_uptime(self):
        """Uptime of the NovaLink partition, ``uptime`` style (no REST).

        Read with the management partition at ``init_host``.
        """
        self._host_ctx()
        return self._uptime.text()

    def node_is_available(self, nodename):
        """Whether ``nodename`` is this driver's node and NovaLink is up.

        No REST call: the node is available while the driver holds a
        session (from ``init_host`` to ``cleanup_host``).
        """
        return self._ctx is not None and nodename == self._nodename

    # ------------------------------------------------------------------
    # Host status (os-hosts API, microversions up to 2.42)
    # ------------------------------------------------------------------
    def set_host_enabled(self, enabled):
        """Accept new instances or not.

        nova itself marks the compute node provider with the
        ``COMPUTE_STATUS_DISABLED`` trait, which keeps the scheduler away;
        the PowerVM host needs nothing more.

        :returns: ``"enabled"`` or ``"disabled"``.
        """
        return 'enabled' if enabled else 'disabled'

    def host_maintenance_mode(self, host, mode):
        """Enter or leave maintenance mode.

        In maintenance mode this host refuses new instances (spawn fails
        before anything is created and nova reschedules the build to
        another host); the partitions already here keep running, as the
        driver cannot live-migrate them away yet.

        :param host: the nova host name (this host).
        :param mode: True to enter, False to leave.
        :returns: ``"on_maintenance"`` or ``"off_maintenance"``.
        """
        self._maintenance = bool(mode)
        LOG.info('PowerVM host %(host)s %(what)s maintenance mode.',
                 {'host': host, 'what': 'entered' if mode else 'left'})
        return 'on_maintenance' if mode else 'off_maintenance'

    # ------------------------------------------------------------------
    # Resources
    # ------------------------------------------------------------------
    def get_available_resource(self, nodename):
        """Resources of the host (1 GET + the disk adapter's usage read).

        :param nodename: the node name (ignored: there is one).
        """
        ctx = self._host_ctx()
        host_w = ctx.host_wrapper()
        total_gb, used_gb = ctx.disk_dvr.disk_usage()
        res = pvm_host.available_resources(host_w, ctx.host, total_gb,
                                           used_gb, host_ip=CONF.my_ip)
        # What the hypervisors API shows as uptime from microversion 2.88.
        res['stats']['uptime'] = self._uptime.text()
        res['stats'].update(
            live_migration.host_facts(host_w, self._lpm.address))
        res['stats'].update(lpm_npiv.host_stats(ctx))
        self._last_resources = (time.monotonic(), res, host_w)
        return res

    def _fresh_resources(self, nodename):
        stamp, res = self._last_resources[:2]
        if res is None or time.monotonic() - stamp > _RESOURCE_REUSE_SECONDS:
            res = self.get_available_resource(nodename)
        return res, self._last_resources[2]

    def update_provider_tree(self, provider_tree, nodename, allocations=None):
        """Inventory and traits of the compute node provider.

        Reuses the resources read by the resource tracker's
        ``get_available_resource`` call of the same pass (no REST then).
        """
        res, host_w = self._fresh_resources(nodename)
        data = provider_tree.data(nodename)
        ratios = self._get_allocation_ratios(data.inventory)
        inv = pvm_host.inventory(
            res, self._reserved, ratios,
            reserved_disk_gb=self._get_reserved_host_disk_gb_from_config(),
            reserved_host_cpus=CONF.reserved_host_cpus,
            reserved_host_memory_mb=CONF.reserved_host_memory_mb)
        provider_tree.update_inventory(nodename, inv)
        wanted = pvm_host.traits(host_w)
        stale = (pvm_host.managed_traits() - wanted) & set(data.traits)
        if stale:
            provider_tree.remove_traits(nodename, *stale)
        provider_tree.add_traits(nodename, *wanted)

    # ------------------------------------------------------------------
    # Instances and their state
    # ------------------------------------------------------------------
    def list_instances(self):
        """Names of the partitions of nova instances (1 GET).

        Partitions whose names nova's ``instance_name_template`` cannot
        produce (made outside OpenStack) are left out.
        """
        return [lpar.name for lpar in vm.instance_lpars(self._host_ctx())]

    def list_instance_uuids(self):
        """nova UUIDs the instance partitions may belong to (1 GET).

        PowerVM clears the top bit of the instance UUID, so each partition
        gives two candidates; nova only uses them to filter its database.
        """
        uuids = []
        for lpar in vm.instance_lpars(self._host_ctx()):
            uuids.extend(vm.nova_uuid_candidates(lpar.uuid))
        return uuids

    def instance_exists(self, instance):
        """Whether the instance's partition exists (1 GET)."""
        return vm.instance_exists(self.adapter, instance)

    def get_info(self, instance, use_cache=True):
        """Power state of an instance.

        With ``use_cache`` (nova's periodic power state sync) the state
        comes from the host's partition state snapshot: one LPAR feed GET
        serves every call for ``cache.LPAR_STATE_TTL`` seconds, and events
        mark changed partitions stale, which are then read alone (1 GET).
        Without it, one quick property GET.

        :raises InstanceNotFound: when the partition does not exist.
        """
        self._resolver.remember(instance)
        if not use_cache:
            return hardware.InstanceInfo(
                state=vm.get_power_state(self.adapter, instance))
        return hardware.InstanceInfo(
            state=vm.to_nova_state(vm.cached_state(self._host_ctx(),
                                                   instance)))

    def _changed(self, instance):
        """The driver changed a partition: its cached state is stale."""
        if self._ctx is not None:
            self._ctx.cache.lpar_states.invalidate(vm.get_pvm_uuid(instance))

    # ------------------------------------------------------------------
    # Spawn, destroy, VIFs and image cache (TaskFlow graphs in flows.py)
    # ------------------------------------------------------------------
    def spawn(self, context, instance, image_meta, injected_files,
              admin_password, allocations, network_info=None,
              block_device_info=None, power_on=True, accel_info=None):
        """Create and (when ``power_on``) start an instance.

        :raises ComputeResourcesUnavailable: in maintenance mode (nova
            reschedules the build).
        """
        if self._maintenance:
            raise nova_exc.ComputeResourcesUnavailable(
                reason='host %s is in maintenance mode' % self._nodename)
        self._resolver.remember(instance)
        try:
            flows.spawn(self._host_ctx(), context, instance, image_meta,
                        injected_files, admin_password, network_info,
                        block_device_info, power_on)
        finally:
            self._changed(instance)

    def destroy(self, context, instance, network_info, block_device_info=None,
                destroy_disks=True, destroy_secrets=True):
        """Remove an instance; a missing partition is success.

        The ``destroy`` nova sends while reverting a resize on this same
        host is skipped: the partition is the server's, and
        ``finish_revert_migration`` sizes it back.  On shared storage the
        disks of an instance that nova places on another host now (an
        evacuated one) are kept whatever ``destroy_disks`` says.
        """
        ctx = self._host_ctx()
        if move.keeps_partition(context, instance, ctx.host):
            LOG.info('Same-host resize revert: the partition stays.',
                     instance=instance)
            return
        if (destroy_disks and instance.host and instance.host != ctx.host
                and ctx.disk_dvr.capabilities.get('shared_storage')):
            LOG.info('The instance lives on host %s now: its shared disks '
                     'stay.', instance.host, instance=instance)
            destroy_disks = False
        if (ctx.nvram is not None and
                instance.task_state == task_states.SHELVING_OFFLOADING):
            ctx.nvram.store(instance)
        try:
            flows.destroy(self._host_ctx(), context, instance, network_info,
                          block_device_info, destroy_disks)
        finally:
            self._changed(instance)
        if ctx.nvram is not None and (
                instance.task_state == task_states.DELETING or
                instance.deleted):
            ctx.nvram.remove(instance)

    def cleanup(self, context, instance, network_info, block_device_info=None,
                destroy_disks=True, migrate_data=None, destroy_vifs=True,
                destroy_secrets=True):
        """Clean up what is left of an instance whose partition is gone."""
        if migrate_data is not None:
            # After a live migration: the partition left with its adapters
            # and mappings; the shared disks stay.
            live_migration.cleanup_source(self._host_ctx(), context,
                                          instance, network_info,
                                          block_device_info)
            return
        flows.cleanup(self._host_ctx(), context, instance, network_info,
                      block_device_info, destroy_disks, migrate_data,
                      destroy_vifs)

    def plug_vifs(self, instance, network_info):
        """Make sure the instance's network adapters exist."""
        flows.plug_vifs(self._host_ctx(), instance, network_info)

    def unplug_vifs(self, instance, network_info):
        """Remove the instance's network adapters."""
        flows.unplug_vifs(self._host_ctx(), instance, network_info)

    def attach_interface(self, context, instance, image_meta, vif):
        """Add a network adapter to a running or stopped instance.

        At most 5 REST round trips (see ``flows.attach_interface``).
        """
        flows.attach_interface(self._host_ctx(), context, instance, vif)

    def detach_interface(self, context, instance, vif):
        """Remove a network adapter from a running or stopped instance.

        At most 4 REST round trips (see ``flows.detach_interface``).
        """
        flows.detach_interface(self._host_ctx(), context, instance, vif)

    def manage_image_cache(self, context, all_instances):
        """Remove cached images no instance uses."""
        flows.manage_image_cache(self._host_ctx(), context, all_instances)

    def cache_image(self, context, image_id):
        """Upload an image into the host's image cache before a boot.

        nova's image pre-cache API (aggregate ``cache-images``) calls this.
        Images of a format the driver cannot boot are refused.

        :returns: True when the image was uploaded, False when it was
                  cached already.
        :raises NotImplementedError: when the disk driver has no cache
                                     (nova reports ``unsupported``).
        """
        meta = objects.ImageMeta.from_dict(
            image.image_api().get(context, image_id))
        image.check_format(meta)
        return self._host_ctx().disk_dvr.cache_image(context, meta)

    # ------------------------------------------------------------------
    # Snapshot (and shelve, which nova builds on it)
    # ------------------------------------------------------------------
    def snapshot(self, context, instance, image_id, update_task_state):
        """Upload the boot disk as the image ``image_id`` (raw).

        The partition keeps running.  1 REST round trip when the
        management partition is the VIOS that serves the disk; otherwise
        4 (the disk is mapped to the management partition for the read
        and unmapped after it).  See ``doc/source/devref/flows.rst``.
        """
        pvm_snapshot.snapshot(self._host_ctx(), context, instance, image_id,
                              update_task_state)

    # ------------------------------------------------------------------
    # Rescue and rebuild (TaskFlow graphs in flows.py)
    # ------------------------------------------------------------------
    def rescue(self, context, instance, network_info, image_meta,
               rescue_password, block_device_info, share_info):
        """Boot the instance from a disk made from the rescue image.

        The instance's own disks stay attached after it.  Image properties
        ``hw_rescue_device``/``hw_rescue_bus`` other than ``disk``/``scsi``
        are refused before anything changes.  The rescue password is not
        applied (no rescue config drive).  About 7 REST round trips with
        the rescue image cached (see ``devref/flows.rst``).
        """
        self._resolver.remember(instance)
        try:
            flows.rescue(self._host_ctx(), context, instance, image_meta)
        finally:
            self._changed(instance)

    def unrescue(self, context, instance):
        """Back to the instance's own boot disk; the rescue disk goes.

        A failed unrescue is simply run again.  About 9 REST round trips
        (10 on a Shared Storage Pool of two VIOSes).
        """
        self._resolver.remember(instance)
        try:
            flows.unrescue(self._host_ctx(), instance)
        finally:
            self._changed(instance)

    def rebuild(self, context, instance, image_meta, injected_files,
                admin_password, allocations, bdms, detach_block_devices,
                attach_block_devices, network_info=None, evacuate=False,
                block_device_info=None, preserve_ephemeral=False,
                accel_uuids=None, reimage_boot_volume=False):
        """Replace the boot disk from the new image on the same partition.

        The partition, its network adapters, its UUID and (with
        ``preserve_ephemeral``) its ephemeral disks stay.  Walks nova's
        task states (``REBUILDING`` -> ``REBUILD_BLOCK_DEVICE_MAPPING`` ->
        ``REBUILD_SPAWNING``) as the compute manager expects, with its
        block device callbacks around the disk change.

        With ``evacuate`` (the server's host is down) the partition is
        re-created here: on a Shared Storage Pool with the server's own
        disks, otherwise (a volume group of the dead host) with a new boot
        disk from the image, as nova does for storage that is not shared.
        """
        if evacuate:
            self._evacuate(context, instance, image_meta, injected_files,
                           admin_password, bdms, detach_block_devices,
                           attach_block_devices, network_info,
                           block_device_info)
            return
        if flows.volume_infos(block_device_info):
            # Before any change: nova then runs its own rebuild (destroy,
            # its block device callbacks, spawn with the volumes; a
            # volume-backed server's root volume re-imaged by Cinder).
            raise exc.NotSupportedYet(
                operation='rebuild in place of a server with volumes')
        self._resolver.remember(instance)
        ctx = self._host_ctx()
        if not ctx.disk_dvr.can_rebuild():
            # Before any change: nova then runs its own rebuild (destroy
            # and spawn).
            raise exc.NotSupportedYet(
                operation='rebuild on this disk driver')
        flows.check_block_devices(instance, block_device_info)
        block_device_info = _remap_block_devices(
            context, instance, bdms, detach_block_devices,
            attach_block_devices)
        try:
            flows.rebuild(ctx, context, instance, image_meta, injected_files,
                          admin_password, network_info, block_device_info,
                          preserve_ephemeral)
        finally:
            self._changed(instance)

    def _evacuate(self, context, instance, image_meta, injected_files,
                  admin_password, bdms, detach_block_devices,
                  attach_block_devices, network_info, block_device_info):
        """Re-create an evacuated server on this host (see ``rebuild``)."""
        self._resolver.remember(instance)
        ctx = self._host_ctx()
        on_disk = move.instance_on_disk(ctx, instance)
        block_device_info = _remap_block_devices(
            context, instance, bdms, detach_block_devices,
            attach_block_devices)
        try:
            if on_disk:
                move.recreate(ctx, context, instance, image_meta,
                              injected_files, admin_password, network_info,
                              block_device_info=block_device_info)
            else:
                flows.spawn(ctx, context, instance, image_meta,
                            injected_files, admin_password, network_info,
                            block_device_info)
        finally:
            self._changed(instance)

    # ------------------------------------------------------------------
    # Resize and cold migration (move.py)
    # ------------------------------------------------------------------
    def migrate_disk_and_power_off(self, context, instance, dest, flavor,
                                   network_info, block_device_info=None,
                                   timeout=0, retry_interval=0):
        """Check a resize or cold migration, then stop the partition.

        What cannot be done (a move to another host off shared storage, a
        smaller root disk, other ephemeral or swap sizes, bad extra
        specs) is refused before anything changes; nova keeps the server
        as it was.  The guest gets ``timeout`` seconds to shut down,
        asked again every ``retry_interval`` seconds.  3 REST round trips.

        :returns: the ``disk_info`` text for ``finish_migration``.
        :raises InstanceFaultRollback: with the reason.
        """
        try:
            return move.migrate_disk_and_power_off(
                self._host_ctx(), context, instance, dest, flavor,
                block_device_info, timeout, retry_interval)
        finally:
            self._changed(instance)

    def finish_migration(self, context, migration, instance, disk_info,
                         network_info, image_meta, resize_instance,
                         allocations, block_device_info=None, power_on=True,
                         share_info=None):
        """Give the partition its new size (same host) or create it here.

        A stopped server stays stopped (``power_on`` false).  Same host:
        at most 6 REST round trips (see ``devref/flows.rst``).
        """
        self._resolver.remember(instance)
        try:
            move.finish_migration(self._host_ctx(), context, migration,
                                  instance, disk_info, network_info,
                                  image_meta, block_device_info, power_on)
        finally:
            self._changed(instance)

    def confirm_migration(self, context, migration, instance, network_info):
        """Confirm: on another host, delete the source partition.

        The disks stay (the destination uses them); nothing on one host.
        """
        try:
            move.confirm_migration(self._host_ctx(), context, migration,
                                   instance, network_info)
        finally:
            self._changed(instance)

    def finish_revert_migration(self, context, instance, network_info,
                                migration, block_device_info=None,
                                power_on=True, share_info=None):
        """The server as it was: old size, started only if it ran."""
        self._resolver.remember(instance)
        try:
            move.finish_revert_migration(
                self._host_ctx(), context, instance, network_info,
                migration, block_device_info, power_on)
        finally:
            self._changed(instance)

    def instance_on_disk(self, instance):
        """Whether the instance's boot disk is on this host's storage.

        True on a Shared Storage Pool that holds it (1 GET): nova then
        evacuates with the server's own disks.
        """
        return move.instance_on_disk(self._host_ctx(), instance)

    def check_instance_shared_storage_local(self, context, instance):
        """What identifies this host's storage (no REST)."""
        return {'storage': self._host_ctx().disk_dvr.storage_id()}

    def check_instance_shared_storage_remote(self, context, data):
        """Whether another host's storage is this host's (no REST)."""
        return (data or {}).get('storage') == (
            self._host_ctx().disk_dvr.storage_id())

    def check_instance_shared_storage_cleanup(self, context, data):
        """Nothing was created by the check."""

    def delete_instance_files(self, instance):
        """Delete the stopped partition a failed move left on this host.

        nova calls it on the source of a migration that ended in error,
        once the instance is deleted or lives on another host.  Its disks
        stay (shared storage; a deleted instance's were deleted with it).

        :returns: True.
        """
        return move.remove_leftover(self._host_ctx(),
                                    nova_context.get_admin_context(),
                                    instance)

    # ------------------------------------------------------------------
    # Power
    # ------------------------------------------------------------------
    def power_off(self, instance, timeout=0, retry_interval=0):
        """Power off; with ``timeout`` > 0 the OS is asked first.

        The guest has ``timeout`` seconds to shut down before the partition
        is powered off hard.  pypowervm's job polling replaces nova's
        ``retry_interval``.  At most 4 REST round trips when the first
        attempt works (1 GET and the job's 2).

        nova powers a server off itself before some operations (rescue,
        the snapshot of a shelve); one the driver does not implement would
        be refused here, before the partition is touched
        (``_UNSUPPORTED_TASKS``: none today).
        """
        _refuse_unsupported(instance)
        try:
            power.power_off(self._host_ctx(), instance,
                            force_immediate=not timeout,
                            timeout=timeout or None)
        finally:
            self._changed(instance)

    def power_on(self, context, instance, network_info,
                 block_device_info=None, accel_info=None, share_info=None):
        """Power on (at most 4 REST round trips)."""
        self._resolver.remember(instance)
        try:
            power.power_on(self._host_ctx(), instance)
        finally:
            self._changed(instance)

    def reboot(self, context, instance, network_info, reboot_type,
               block_device_info=None, bad_volumes_callback=None,
               accel_info=None, share_info=None):
        """Reboot: ``HARD`` restarts at once, ``SOFT`` asks the OS first.

        A hard reboot of a server in ERROR (what nova leaves after a failed
        rescue, unrescue or rebuild) runs the unrescue flow instead: a
        left-over rescue disk is removed and the partition boots its own
        boot disk (about 9 REST round trips instead of 4).
        """
        try:
            if reboot_type == 'HARD' and instance.vm_state == vm_states.ERROR:
                flows.unrescue(self._host_ctx(), instance)
                return
            power.reboot(self._host_ctx(), instance,
                         hard=(reboot_type == 'HARD'),
                         timeout=CONF.shutdown_timeout)
        finally:
            self._changed(instance)

    def trigger_crash_dump(self, instance):
        """Make the guest OS dump and restart; the server stays up.

        At most 3 REST round trips (GET partition, the job's 2).

        :raises InstanceNotRunning: when the partition is not running.
        """
        try:
            power.crash_dump(self._host_ctx(), instance)
        finally:
            self._changed(instance)

    def resume_state_on_host_boot(self, context, instance, network_info,
                                  share_info, block_device_info=None):
        """Start an instance that was running before the host went down."""
        self.power_on(context, instance, network_info, block_device_info)

    # ------------------------------------------------------------------
    # Cinder volumes (volumes.py; protocols in volume/)
    # ------------------------------------------------------------------
    def get_volume_connector(self, instance):
        """The VIOSes' FC ports and iSCSI initiators, ``ip``, ``host``.

        Learned once per host (see ``volumes.connector_properties``).
        """
        return volumes.connector_properties(self._host_ctx(), instance)

    def attach_volume(self, context, connection_info, instance, mountpoint,
                      disk_bus=None, device_type=None, encryption=None):
        """Map a Cinder volume to a running or stopped instance."""
        volumes.attach(self._host_ctx(), context, connection_info, instance,
                       encryption)

    def detach_volume(self, context, connection_info, instance, mountpoint,
                      encryption=None):
        """Unmap a Cinder volume; remove its hdisks nothing else uses."""
        volumes.detach(self._host_ctx(), context, connection_info, instance)

    def extend_volume(self, context, connection_info, instance,
                      requested_size):
        """Rescan an attached volume that Cinder made bigger."""
        volumes.extend(self._host_ctx(), connection_info, instance,
                       requested_size)

    # ------------------------------------------------------------------
    # Live migration (live_migration.py)
    # ------------------------------------------------------------------
    def check_can_live_migrate_destination(self, context, instance,
                                           src_compute_info,
                                           dst_compute_info,
                                           block_migration=False,
                                           disk_over_commit=False):
        """Destination checks (2 GETs); nova's own migrate-data object."""
        ctx = self._host_ctx()
        from_volume = False
        if context is not None and not ctx.disk_dvr.capabilities.get(
                'shared_storage'):
            # Without a pool only a server booting from a volume may go.
            from_volume = compute_utils.is_volume_backed_instance(
                context, instance)
        return live_migration.check_destination(
            ctx, instance, block_migration, from_volume=from_volume)

    def cleanup_live_migration_destination_check(self, context,
                                                 dest_check_data):
        """Nothing to undo: the destination check changes nothing."""

    def check_can_live_migrate_source(self, context, instance,
                                      dest_check_data,
                                      block_device_info=None):
        """Source checks before anything changes (1 GET)."""
        live_migration.check_source(self._host_ctx(), instance,
                                    block_device_info)
        return dest_check_data

    def pre_live_migration(self, context, instance, block_device_info,
                           network_info, disk_info, migrate_data):
        """Destination: make the VIOSes see the Cinder volumes' hdisks.

        The SEA adapters travel with the partition (the destination's SEA
        bridges their VLANs) and the pool's logical units are already
        visible here; the volumes' mappings come with the migrate job.
        See ``lpm_volumes.discover``.
        """
        lpm_volumes.discover(self._host_ctx(), instance, block_device_info)
        return migrate_data

    def live_migration(self, context, instance, dest, post_method,
                       recover_method, block_migration=False,
                       migrate_data=None):
        """Run the migrate job on nova's executor thread.

        See ``live_migration.LiveMigrations.run``.
        """
        self._lpm.run(context, instance, dest, post_method, recover_method,
                      block_migration, migrate_data)

    def live_migration_abort(self, instance):
        """Abort the running migrate job: the server stays here."""
        self._lpm.abort(instance)

    def post_live_migration(self, context, instance, block_device_info,
                            migrate_data=None):
        """Source, after the job: remove the volumes' unmapped hdisks.

        The partition and its mappings left with the job; the hdisks (and
        iSCSI sessions) of its Cinder volumes stay until this runs.  See
        ``lpm_volumes.release_unmapped``.
        """
        infos = flows.volume_infos(block_device_info)
        if infos:
            lpm_volumes.release_unmapped(
                self._host_ctx(), instance, infos,
                udids=lpm_volumes.saved_udids(context, instance))

    def post_live_migration_at_source(self, context, instance,
                                      network_info):
        """Source: the adapters left with the partition."""

    def post_live_migration_at_destination(self, context, instance,
                                           network_info,
                                           block_migration=False,
                                           block_device_info=None):
        """Destination: the partition arrived with its adapters."""
        self._changed(instance)

    def rollback_live_migration_at_destination(self, context, instance,
                                               network_info,
                                               block_device_info,
                                               destroy_disks=True,
                                               migrate_data=None):
        """Destination: remove a stray partition (never the shared disks).

        The job never leaves a partition here when it fails.
        """
        live_migration.cleanup_source(self._host_ctx(), context, instance,
                                      network_info, block_device_info)
        self._changed(instance)

    def get_instance_diagnostics(self, instance):
        """Diagnostics from PowerVM's performance metrics (2 GETs).

        See ``metrics.diagnostics``.
        """
        return metrics.diagnostics(self._host_ctx(), instance)

    # ------------------------------------------------------------------
    # Console
    # ------------------------------------------------------------------
    def get_vnc_console(self, context, instance):
        """Open the partition's VNC terminal through the host shim."""
        ctx = self._host_ctx()
        return ctx.shim.open_vnc_console(ctx.adapter,
                                         vm.get_pvm_uuid(instance), instance)


# Task states of operations that nova starts with a power off and that
# this driver does not implement yet, with their names for the fault.
_UNSUPPORTED_TASKS = {}


def _refuse_unsupported(instance):
    """Refuse, before the partition is touched, what cannot be done yet.

    :param instance: nova ``Instance``.
    :raises NotSupportedYet: naming the operation.
    """
    operation = _UNSUPPORTED_TASKS.get(instance.task_state)
    if operation:
        raise exc.NotSupportedYet(operation=operation)


def _remap_block_devices(context, instance, bdms, detach_block_devices,
                         attach_block_devices):
    """Walk nova's rebuild task states through its block device callbacks.

    :returns: the block device info after the volumes were attached again.
    """
    detach_block_devices(context, bdms)
    instance.task_state = task_states.REBUILD_BLOCK_DEVICE_MAPPING
    instance.save(expected_task_state=[task_states.REBUILDING])
    block_device_info = attach_block_devices(context, instance, bdms)
    instance.task_state = task_states.REBUILD_SPAWNING
    instance.save(
        expected_task_state=[task_states.REBUILD_BLOCK_DEVICE_MAPPING])
    return block_device_info
