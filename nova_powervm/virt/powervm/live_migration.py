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
"""Live Partition Mobility (nova's live migration) of SSP-backed servers.

Servers with vSCSI Cinder volumes (and boot-from-volume servers on any
disk driver) move too: :mod:`lpm_volumes` discovers the volumes on the
destination first and removes the source's hdisks afterwards.  NPIV
volumes' client adapters travel with the partition: :mod:`lpm_npiv`
places them on the destination's ports of the same fabrics.

**No class of ours on the RPC wire.**  nova 34 has no PowerVM
``LiveMigrateData`` and nova-conductor, which decodes and forwards the
object, cannot load a class only the computes know.  The driver returns
nova's own ``HyperVLiveMigrateData`` with ``is_shared_instance_path=True``
and nothing else of its own: nova-conductor decodes it as for any
deployment, nova reads that field only to decide that the disks are shared
(after a success the source's ``cleanup`` keeps them; after a failure the
destination's rollback keeps them), which is the truth on a Shared Storage
Pool.  The destination's static facts (managed system name, NovaLink
address and user, processor compatibility modes, whether it can take a
live migration) are in its compute node record's ``stats``
(:func:`host_facts`, published by ``get_available_resource``); the source
reads them from the compute node record of ``migration.dest_compute``.
Everything else is exchanged between the two NovaLinks by the migrate job
itself.  See doc/source/devref/migration.rst.

Call order (nova's): destination :func:`check_destination` -> source
:func:`check_source` -> destination ``pre_live_migration`` -> source
:func:`LiveMigrations.run` on nova's live migration executor thread (the
migrate job; ``post_method`` on success, ``recover_method`` on failure or
abort) -> source ``post_live_migration(_at_source)``, ``cleanup`` ->
destination ``post_live_migration_at_destination``.
"""

import threading
import time

from nova.compute import power_state
from nova import exception as nova_exc
from nova import objects
from nova.objects import migrate_data as mig_data_obj
from oslo_log import log as logging
from pypowervm.tasks import migration as pvm_mig
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm import conf as pvm_conf
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import flows
from nova_powervm.virt.powervm import lpm_npiv
from nova_powervm.virt.powervm import lpm_volumes
from nova_powervm.virt.powervm import media
from nova_powervm.virt.powervm import vm

LOG = logging.getLogger(__name__)
CONF = pvm_conf.CONF

# Keys of the compute node stats this module publishes and reads.
STAT_SYSTEM = 'powervm_lpm_system_name'
STAT_ADDRESS = 'powervm_lpm_mgmt_address'
STAT_USER = 'powervm_lpm_mgmt_user'
STAT_COMPAT = 'powervm_lpm_proc_compat_modes'
STAT_CAPABLE = 'powervm_lpm_capable'

# VIF types whose adapters travel with the partition (nothing to plug on
# the destination: the CNA's VLAN is bridged by the destination's SEA).
MOVABLE_VIF_TYPES = ('pvm_sea',)
# A partition's MigrationState while its migrate job still runs.
MIGRATING = ('Migration_Starting', 'Migration_In_Progress',
             'Migration_Completing')


def _refuse(reason):
    return nova_exc.MigrationPreCheckError(reason=reason)


def mgmt_address():
    """What another NovaLink names to reach this host's NovaLink."""
    pvm = CONF.powervm
    if pvm.lpm_mgmt_address:
        return pvm.lpm_mgmt_address
    addr = pvm.pvm_host or CONF.my_ip
    if pvm.host_shim == 'simulator' and pvm.pvm_port:
        addr = '%s:%d' % (addr, pvm.pvm_port)
    return addr


def host_facts(host_w, address):
    """The static LPM facts of this host, for the compute node's stats.

    :param host_w: pypowervm ``System`` wrapper (already read).
    :param address: this host's :func:`mgmt_address`.
    :returns: dict of strings.
    """
    capable = bool(host_w.get_capability('active_lpar_mobility_capable'))
    return {
        STAT_SYSTEM: host_w.system_name,
        STAT_ADDRESS: address,
        STAT_USER: CONF.powervm.lpm_mgmt_user,
        STAT_COMPAT: ','.join(host_w.proc_compat_modes or ()),
        STAT_CAPABLE: 'true' if capable else 'false',
    }


def _norm_mode(mode):
    return str(mode or '').replace('+', '_Plus').lower()


def _flavor_compat(instance):
    specs = (instance.flavor.extra_specs or {}) if instance.flavor else {}
    return specs.get('powervm:processor_compatibility')


def _volume_only(instance, from_volume):
    """Whether the server has no disk but its Cinder volumes.

    It boots from a volume and its flavor has no ephemeral or swap disk:
    it can live migrate between hosts whatever their disk driver.
    """
    flavor = instance.flavor
    return bool(from_volume and flavor is not None and
                not flavor.ephemeral_gb and not flavor.swap)


def check_destination(ctx, instance, block_migration, from_volume=False):
    """:func:`_check_destination`; any failure is a pre-check failure.

    nova then tries another host or leaves the server as it was.
    """
    try:
        return _check_destination(ctx, instance, block_migration,
                                  from_volume)
    except nova_exc.MigrationPreCheckError:
        raise
    except Exception as exc:
        raise _refuse('The destination host %s could not be checked: %s'
                      % (ctx.host, exc))


def _check_destination(ctx, instance, block_migration, from_volume=False):
    """Destination checks: mobility, capacity, compat mode, MSPs, storage.

    2 GETs (the host, the VIOS feed).

    :param ctx: the destination's ``HostContext``.
    :param instance: nova ``Instance``.
    :param block_migration: nova's flag (refused: the disks are shared).
    :param from_volume: the server boots from a Cinder volume (then a
        destination without a shared storage pool will do, when the
        server has no ephemeral or swap disk).
    :returns: nova ``HyperVLiveMigrateData`` (see the module doc).
    :raises MigrationPreCheckError: naming what is missing.
    """
    if block_migration:
        raise _refuse('Block migration is not supported by the PowerVM '
                      'driver: live migration needs shared storage (SSP).')
    if not ctx.disk_dvr.capabilities.get('shared_storage') and not (
            _volume_only(instance, from_volume)):
        raise _refuse('The destination host %s keeps disks on local '
                      'storage ([powervm] disk_driver); live migration '
                      'needs a shared storage pool.' % ctx.host)
    _check_vifs(instance)
    host_w = ctx.host_wrapper()
    running = instance.power_state == power_state.RUNNING
    cap = ('active_lpar_mobility_capable' if running
           else 'inactive_lpar_mobility_capable')
    if not host_w.get_capability(cap):
        raise _refuse('The destination system %s is not capable of %s '
                      'partition mobility.' % (
                          host_w.system_name,
                          'active' if running else 'inactive'))
    data = host_w.migration_data
    if running:
        limit = data.get('active_migrations_supported')
        busy = data.get('active_migrations_in_progress') or 0
    else:
        limit = data.get('inactive_migrations_supported')
        busy = data.get('inactive_migrations_in_progress') or 0
    if limit is not None and busy >= limit:
        raise _refuse('The destination system %s already runs %d of its %d '
                      'concurrent migrations.' % (host_w.system_name, busy,
                                                  limit))
    mem = instance.flavor.memory_mb if instance.flavor else 0
    if mem and int(host_w.memory_free) < mem:
        raise _refuse('The destination system %s has %d MB of memory free; '
                      'the server needs %d MB.' % (
                          host_w.system_name, int(host_w.memory_free), mem))
    wanted = _flavor_compat(instance)
    modes = [_norm_mode(m) for m in host_w.proc_compat_modes or ()]
    if wanted and _norm_mode(wanted) != 'default' and (
            _norm_mode(wanted) not in modes):
        raise _refuse('The destination system %s does not support the '
                      'processor compatibility mode %s (it supports %s).'
                      % (host_w.system_name, wanted,
                         ', '.join(host_w.proc_compat_modes or ())))
    if running:
        _check_msps(ctx, host_w.system_name)
    lpm_npiv.check_destination(ctx, instance)
    return mig_data_obj.HyperVLiveMigrateData(is_shared_instance_path=True)


def _check_msps(ctx, system_name):
    """A running VIOS with RMC active that is a mover service partition.

    1 GET.
    """
    vioses = pvm_vios.VIOS.get(ctx.adapter, xag=[])
    ready = [v for v in vioses if v.is_mover_service_partition and
             v.state == 'running' and v.rmc_state == 'active']
    if not ready:
        raise _refuse('No Virtual I/O Server of the destination system %s '
                      'is ready as a mover service partition (running, RMC '
                      'active).' % system_name)


def _check_vifs(instance):
    """Refuse VIF types whose adapters do not travel with the partition."""
    for vif in instance.get_network_info() or ():
        if vif['type'] not in MOVABLE_VIF_TYPES:
            raise _refuse('The PowerVM driver cannot live migrate a server '
                          'with a %s network interface yet (only %s).' % (
                              vif['type'], ', '.join(MOVABLE_VIF_TYPES)))


def check_source(ctx, instance, block_device_info):
    """:func:`_check_source`; any failure is a pre-check failure."""
    try:
        _check_source(ctx, instance, block_device_info)
    except nova_exc.MigrationPreCheckError:
        raise
    except Exception as exc:
        raise _refuse('The source host %s could not be checked: %s'
                      % (ctx.host, exc))


def _check_source(ctx, instance, block_device_info):
    """Source checks, before anything changes (1 GET of the partition).

    :param ctx: the source's ``HostContext``.
    :param instance: nova ``Instance``.
    :param block_device_info: nova block device info.
    :raises MigrationPreCheckError: naming the problem.
    """
    if not ctx.disk_dvr.capabilities.get('shared_storage') and not (
            _volume_only(instance, flows.boots_from_volume(
                block_device_info))):
        raise _refuse('The server\'s disks are on the local storage of host '
                      '%s ([powervm] disk_driver = %s): only servers on a '
                      'shared storage pool (ssp) or booted from a volume '
                      'without ephemeral or swap disks can be live '
                      'migrated.' % (
                          ctx.host, CONF.powervm.disk_driver))
    lpm_volumes.check(ctx, instance, block_device_info)
    if media.required(instance):
        raise _refuse('The PowerVM driver cannot live migrate a server with '
                      'a config drive yet (a virtual optical device cannot '
                      'move with the partition).')
    lpar_w = vm.get_instance_wrapper(ctx.adapter, instance)
    if lpar_w.is_mgmt_partition:
        raise _refuse('The management partition cannot be migrated.')
    state = lpar_w.state
    if state == 'running':
        if lpar_w.rmc_state != 'active':
            raise _refuse('The partition runs without an active RMC '
                          'connection (RMC is %s): PowerVM cannot live '
                          'migrate it.' % lpar_w.rmc_state)
    elif state != 'not activated':
        raise _refuse('The partition is %s: only running or stopped '
                      'partitions can be migrated.' % state)
    if lpar_w.migration_state != 'Not_Migrating':
        raise _refuse('The partition is already migrating (%s).'
                      % lpar_w.migration_state)


def cleanup_source(ctx, context, instance, network_info, block_device_info):
    """Remove a partition left on a host the instance does not live on.

    Never its shared disks.  After a live migration that worked there is
    nothing: the partition left.  1 quick GET.

    :param ctx: ``HostContext``.
    """
    if instance.host == ctx.host or not vm.instance_exists(ctx.adapter,
                                                           instance):
        return
    LOG.warning('A partition of the instance was left here by a live '
                'migration: removing it (its disks stay).',
                instance=instance)
    flows.destroy(ctx, context, instance, network_info, block_device_info,
                  destroy_disks=False)


def _dest_facts(context, migration):
    node = objects.ComputeNode.get_by_host_and_nodename(
        context, migration.dest_compute, migration.dest_node)
    stats = node.stats or {}
    if not stats.get(STAT_SYSTEM):
        raise nova_exc.MigrationError(
            reason='The destination %s did not publish its PowerVM '
                   'migration facts (is it a PowerVM compute?).'
                   % migration.dest_compute)
    return stats


def _progress_of(lpar_w):
    elem = lpar_w.element.element
    total = remaining = None
    for child in elem:
        tag = child.tag.rsplit('}', 1)[-1]
        if tag == 'ProgressPartitionDataTotal' and child.text:
            total = int(child.text)
        elif tag == 'ProgressPartitionDataRemaining' and child.text:
            remaining = int(child.text)
    return total, remaining


class LiveMigrations(object):
    """The live migrations this host runs as their source (thread safe).

    :param ctx_getter: callable returning the ``HostContext``.
    """

    def __init__(self, ctx_getter):
        self._ctx = ctx_getter
        # Read once: several computes may share one process and CONF.
        self.address = mgmt_address()
        self._lock = threading.Lock()
        # instance uuid -> {'lpar': wrapper, 'aborted': bool}
        self._running = {}

    def run(self, context, instance, dest, post_method, recover_method,
            block_migration, migrate_data):
        """Run the migrate job; call nova's post or recover method.

        Runs on nova's live migration executor thread: the job runs on a
        thread of its own, this one reads the partition's progress every
        ``[powervm] lpm_progress_interval`` seconds into nova's migration
        record.

        Round trips: 1 GET of the partition, the job (template GET, PUT,
        its polls, DELETE), one GET per progress read.
        """
        ctx = self._ctx()
        migration = migrate_data.migration
        try:
            facts = _dest_facts(context, migration)
            lpar_w = vm.get_instance_wrapper(ctx.adapter, instance)
            self._check_compat(lpar_w, facts)
            # NPIV: each virtual FC adapter's port on the destination.
            fc_maps = lpm_npiv.fc_mappings(ctx, lpar_w.uuid, facts,
                                           migration.dest_compute)
            if fc_maps:
                LOG.info('Live migration to %(dest)s: virtual FC adapters '
                         'to %(maps)s.', {'dest': dest,
                                          'maps': ', '.join(fc_maps)},
                         instance=instance)
        except Exception as exc:
            LOG.error('Live migration to %s refused: %s', dest, exc,
                      instance=instance)
            recover_method(context, instance, dest, migrate_data)
            return
        entry = {'lpar': lpar_w, 'aborted': False}
        with self._lock:
            self._running[instance.uuid] = entry
        outcome = {}
        job = threading.Thread(
            target=self._job, name='lpm-%s' % instance.uuid,
            args=(lpar_w, facts, outcome, fc_maps), daemon=True)
        try:
            job.start()
            self._watch(ctx, job, instance, migration, lpar_w)
        finally:
            with self._lock:
                self._running.pop(instance.uuid, None)
        error = outcome.get('error')
        lpar_now = None
        if error is not None and not entry['aborted']:
            # The job's own poll may have failed (HTTP error, a hung
            # request) while NovaLink goes on migrating: the partition
            # decides.
            moved, lpar_now = self._settle(ctx, instance)
            if moved:
                LOG.warning('Lost track of the migrate job (%s), but the '
                            'partition has left this host: the live '
                            'migration to %s is done.', error, dest,
                            instance=instance)
                error = None
        if error is None:
            LOG.info('Live migration to %s done.', dest, instance=instance)
            post_method(context, instance, dest, block_migration,
                        migrate_data)
            return
        LOG.error('Live migration to %s %s: %s', dest,
                  'aborted' if entry['aborted'] else 'failed', error,
                  instance=instance)
        self._recover(ctx, instance, lpar_now)
        recover_method(context, instance, dest, migrate_data,
                       migration_status=('cancelled' if entry['aborted']
                                         else 'failed'))

    @staticmethod
    def _check_compat(lpar_w, facts):
        wanted = _norm_mode(lpar_w.pending_proc_compat_mode)
        modes = [_norm_mode(m) for m in
                 (facts.get(STAT_COMPAT) or '').split(',') if m]
        if wanted and wanted != 'default' and modes and wanted not in modes:
            raise nova_exc.MigrationError(
                reason='the destination does not support the partition\'s '
                       'processor compatibility mode %s'
                       % lpar_w.pending_proc_compat_mode)

    @staticmethod
    def _job(lpar_w, facts, outcome, fc_maps=None):
        try:
            with errors.translate('live migration', lpar_w.uuid):
                pvm_mig.migrate_lpar(
                    lpar_w, facts[STAT_SYSTEM],
                    tgt_mgmt_svr=facts.get(STAT_ADDRESS),
                    tgt_mgmt_usr=facts.get(STAT_USER),
                    virtual_fc_mappings=fc_maps,
                    timeout=CONF.powervm.lpm_timeout)
        except Exception as exc:
            outcome['error'] = exc

    def _watch(self, ctx, job, instance, migration, lpar_w):
        interval = CONF.powervm.lpm_progress_interval
        last = None
        while True:
            job.join(interval)
            if not job.is_alive():
                break
            try:
                fresh = vm.get_instance_wrapper(ctx.adapter, instance)
            except Exception:
                continue
            total, remaining = _progress_of(fresh)
            if total is None or remaining is None or (
                    (total, remaining) == last):
                continue
            last = (total, remaining)
            if total == remaining:
                continue  # nothing copied yet
            # nova's API shows positive sizes or nothing.
            migration.memory_total = total or None
            migration.memory_remaining = remaining or None
            migration.memory_processed = (total - remaining) or None
            try:
                migration.save()
            except Exception as exc:
                LOG.warning('Could not save the live migration progress: '
                            '%s', exc, instance=instance)

    @staticmethod
    def _settle(ctx, instance):
        """Wait until the partition is no longer being migrated.

        1 GET when the job really ended; while the partition still shows
        a migration in progress, one GET a second (or every ``[powervm]
        lpm_progress_interval`` seconds if shorter), for at most
        ``[powervm] lpm_timeout`` seconds.

        :returns: ``(True, None)`` when the partition left this host,
                  ``(False, wrapper or None)`` otherwise (None: it could
                  not be read).
        """
        deadline = time.monotonic() + CONF.powervm.lpm_timeout
        while True:
            try:
                lpar_w = vm.get_instance_wrapper(ctx.adapter, instance)
            except nova_exc.InstanceNotFound:
                return True, None
            except Exception as exc:
                LOG.warning('Could not read the partition after its migrate '
                            'job failed: %s', exc, instance=instance)
                return False, None
            if (lpar_w.migration_state not in MIGRATING or
                    time.monotonic() >= deadline):
                return False, lpar_w
            time.sleep(min(1.0, CONF.powervm.lpm_progress_interval))

    @staticmethod
    def _recover(ctx, instance, lpar_w=None):
        """MigrateRecover when the partition is left in a migration state.

        1 GET (none when ``lpar_w`` is given), plus the job when needed.
        """
        if lpar_w is None:
            try:
                lpar_w = vm.get_instance_wrapper(ctx.adapter, instance)
            except nova_exc.InstanceNotFound:
                return
        if lpar_w.migration_state == 'Not_Migrating':
            return
        try:
            with errors.translate('live migration recovery', instance):
                pvm_mig.migrate_recover(lpar_w, force=True)
        except Exception as exc:
            LOG.error('Could not recover the partition after a failed live '
                      'migration: %s', exc, instance=instance)

    def abort(self, instance):
        """Abort the migrate job of a running live migration.

        The job then fails, :meth:`run` calls nova's recover method with
        ``cancelled``: the partition stays on this host, running.

        Nothing to abort (the job just ended, or it ran on another host):
        a warning, as nova has already accepted the request.
        """
        with self._lock:
            entry = self._running.get(instance.uuid)
            if entry is not None:
                entry['aborted'] = True
        if entry is None:
            LOG.warning('No live migration of the instance runs on this '
                        'host: nothing to abort.', instance=instance)
            return
        try:
            with errors.translate('live migration abort', instance):
                pvm_mig.migrate_abort(entry['lpar'])
        except Exception:
            entry['aborted'] = False
            raise

    def running(self, instance_uuid):
        """Whether a live migration of the instance runs here."""
        with self._lock:
            return instance_uuid in self._running
