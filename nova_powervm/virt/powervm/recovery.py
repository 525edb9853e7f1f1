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
"""What a compute killed mid-operation left: found and resolved at start.

nova calls the driver's ``process_instances_at_startup`` right after
``init_host``, with the instances it has on this host, and then resolves
most interrupted operations itself (``ComputeManager._init_instance``): a
build goes to ERROR, a delete is finished, a source-side resize is
reverted, reboots and power changes are retried, snapshot states are
cleared.  This module does the rest, in one partition feed GET plus the
REST calls of what it removes:

- partitions named like nova instances that nova does not have on this
  host are reported (a warning naming each), never deleted: they may be a
  server nova lost track of, or one another tool made;
- a build that was interrupted leaves its half-made partition and
  storage: they are removed as the spawn's revert would have (nova then
  sets the server to ERROR, which holds nothing on the host);
- a move interrupted on its source gets its placement allocations back
  on the source (nova reverts the partition but not placement);
- task states nova leaves as they are at start-up (a resize finishing or
  reverting on this host, rescue, unrescue, shelve, unshelve) are
  resolved: the server goes to ERROR when its partition may be half
  changed, or just loses the task state when the partition is untouched;
- a live migration this host was the source of (``migrating``): NovaLink
  runs the migrate job without nova-compute, so it may have finished, or
  still run, when the service starts again.  nova's own start-up aborts
  through the driver (which knows no job after a restart) and keeps the
  server here.  Here a job still running is aborted and waited for, so
  the partition stays on this host (and its placement allocation comes
  back from the destination); a partition that already left is
  where the server lives now: the move is finished in nova (the
  destination host and node, the migration ``completed``, the source's
  placement allocation removed, the ports bound on the destination) and
  the instance is left out of nova's own start-up processing.
"""

import time

from nova.compute import task_states
from nova.compute import vm_states
from nova import exception as nova_exc
from nova import objects
from nova.virt import driver as nova_driver
from oslo_log import log as logging
from pypowervm.tasks import migration as pvm_mig

from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import flows
from nova_powervm.virt.powervm import vm

LOG = logging.getLogger(__name__)

#: Task states of builds nova puts in ERROR at start-up: the build's
#: leftovers are removed first.
BUILD_STATES = (task_states.SCHEDULING, task_states.BLOCK_DEVICE_MAPPING,
                task_states.NETWORKING, task_states.SPAWNING)

#: Operations that change the partition: interrupted, the partition may be
#: half changed; the server goes to ERROR (it can be deleted, rebuilt or
#: reset by an administrator).
ERROR_STATES = (task_states.RESIZE_FINISH, task_states.RESIZE_REVERTING,
                task_states.RESCUING, task_states.UNRESCUING,
                task_states.UNSHELVING, task_states.SHELVING_OFFLOADING)

#: Operations that read the partition or only stop it: interrupted, the
#: server is as it was; the task state goes.
CLEAR_STATES = (task_states.SHELVING,
                task_states.SHELVING_IMAGE_PENDING_UPLOAD,
                task_states.SHELVING_IMAGE_UPLOADING)

#: How long (seconds) start-up waits for an aborted migrate job to end,
#: and how often it reads the partition meanwhile.
ABORT_WAIT = 60.0
ABORT_POLL = 0.5


def recover(ctx, context, instances):
    """Resolve what interrupted operations left on this host.

    :param ctx: ``HostContext`` (after ``init_host``).
    :param context: nova admin ``RequestContext``.
    :param instances: nova ``InstanceList`` of this host's instances (not
        the evacuated ones).
    :returns: ``instances`` (nova processes them next).
    """
    try:
        lpars = vm.instance_lpars(ctx)
    except Exception as error:   # nova's own start-up must go on
        LOG.warning('Start-up recovery could not list partitions: %s',
                    error)
        return instances
    have = {vm.get_pvm_uuid(inst) for inst in instances}
    orphans = []
    for lpar in lpars:
        if lpar.uuid.upper() in have:
            continue
        owner = _nova_owner(context, lpar)
        if _interrupted_build(ctx, owner):
            # nova has not set the host of a build it had not finished
            # claiming: the partition here says this host built it.
            try:
                remove_build_leftovers(ctx, context, owner)
            except Exception:
                LOG.exception('Could not remove what the interrupted build '
                              'made.', instance=owner)
            continue
        orphans.append((lpar, owner))
    report_orphans(ctx, orphans)
    moved = set()
    for instance in instances:
        try:
            if instance.task_state == task_states.MIGRATING:
                if resolve_live_migration(ctx, context, instance):
                    moved.add(instance.uuid)
                continue
            resolve(ctx, context, instance)
        except Exception:
            LOG.exception('Start-up recovery failed; nova sets the server '
                          'to ERROR if the operation cannot go on.',
                          instance=instance)
    if moved:
        instances = objects.InstanceList(objects=[
            inst for inst in instances if inst.uuid not in moved])
    return instances


def _interrupted_build(ctx, owner):
    """Whether ``owner`` is a build of this host that never finished."""
    return (owner is not None and not owner.deleted and
            owner.vm_state == vm_states.BUILDING and
            owner.host in (None, ctx.host))


def report_orphans(ctx, orphans):
    """Log partitions that belong to no instance nova has on this host.

    Instances deleted in nova whose partition is still here are named as
    such: nova's ``running_deleted_instance_action`` periodic handles them.

    :param ctx: ``HostContext``.
    :param orphans: ``(LPAR wrapper, nova Instance or None)`` pairs.
    """
    for lpar, owner in orphans:
        if owner is None:
            why = 'nova has no instance of that UUID'
        elif owner.deleted:
            why = ('its instance %s is deleted (nova reaps it when '
                   'running_deleted_instance_action is "reap")' % owner.uuid)
        else:
            why = 'its instance %s is on host %s' % (owner.uuid, owner.host)
        LOG.warning('Partition %(name)s (%(uuid)s) on %(host)s belongs to no '
                    'instance nova has on this host: %(why)s. It is left '
                    'as it is; delete it by hand if nobody needs it.',
                    {'name': lpar.name, 'uuid': lpar.uuid, 'host': ctx.host,
                     'why': why})


def _nova_owner(context, lpar):
    """The nova instance (deleted or not) a partition was made for."""
    for uuid in vm.nova_uuid_candidates(lpar.uuid):
        try:
            return objects.Instance.get_by_uuid(
                context.elevated(read_deleted='yes'), uuid,
                expected_attrs=['info_cache'])
        except nova_exc.InstanceNotFound:
            continue
        except Exception as error:
            LOG.debug('Could not read instance %s: %s', uuid, error)
            return None
    return None


def resolve(ctx, context, instance):
    """Resolve the interrupted operation of one instance, if any.

    :param ctx: ``HostContext``.
    :param context: nova admin ``RequestContext``.
    :param instance: nova ``Instance`` on this host.
    """
    if instance.host != ctx.host:
        return
    if (instance.vm_state == vm_states.BUILDING or
            instance.task_state in BUILD_STATES):
        remove_build_leftovers(ctx, context, instance)
    elif instance.task_state == task_states.RESIZE_MIGRATING:
        give_back_allocations(context, instance)
    elif instance.task_state in ERROR_STATES:
        LOG.warning('The service stopped during %s; the partition may be '
                    'half changed: the server goes to ERROR.',
                    instance.task_state, instance=instance)
        instance.vm_state = vm_states.ERROR
        instance.task_state = None
        instance.save()
    elif instance.task_state in CLEAR_STATES:
        LOG.warning('The service stopped during %s; the partition is '
                    'unchanged: clearing the task state.',
                    instance.task_state, instance=instance)
        instance.task_state = None
        instance.save()


def give_back_allocations(context, instance):
    """Undo the placement side of a move this source never finished.

    nova reverts the partition of a move interrupted on its source
    (``finish_revert_migration`` at start-up) but leaves placement as the
    move set it: the source's usage held by the migration, the
    destination's by the instance.  The instance gets its source
    allocation back (which frees the destination) and the migration is
    marked ``error``.

    :param context: nova admin ``RequestContext``.
    :param instance: nova ``Instance`` in ``resize_migrating``.
    """
    from nova.scheduler.client import report

    if not instance.migration_context:
        return
    migration = objects.Migration.get_by_id_and_instance(
        context, instance.migration_context.migration_id, instance.uuid)
    LOG.warning('The service stopped while moving this server away: its '
                'allocations go back to this host (migration %s).',
                migration.uuid, instance=instance)
    report.report_client_singleton().move_allocations(
        context, migration.uuid, instance.uuid)
    migration.status = 'error'
    migration.save()


def remove_build_leftovers(ctx, context, instance):
    """Remove what an interrupted build made (nova sets it to ERROR next).

    The destroy flow finds the partition, its disks, config drive,
    mappings and volume attachments by name, whatever step the build
    reached; nothing made is a no-op.

    :param ctx: ``HostContext``.
    :param context: nova admin ``RequestContext``.
    :param instance: nova ``Instance`` whose build was interrupted.
    """
    LOG.warning('The service stopped while building this server: removing '
                'its partition and storage (nova sets it to ERROR).',
                instance=instance)
    bdms = objects.BlockDeviceMappingList.get_by_instance_uuid(
        context, instance.uuid)
    block_device_info = nova_driver.get_block_device_info(instance, bdms)
    network_info = instance.get_network_info()
    flows.destroy(ctx, context, instance, network_info, block_device_info,
                  destroy_disks=True)


def resolve_live_migration(ctx, context, instance):
    """A live migration from this host that the stopped service left.

    One GET of the partition; with a job still running, its abort and a
    GET every ``ABORT_POLL`` seconds until it ends.

    :param ctx: ``HostContext``.
    :param context: nova admin ``RequestContext``.
    :param instance: nova ``Instance`` of this host in ``migrating``.
    :returns: True when the server moved away (finished in nova here; nova
        must not process it as this host's), False when it stays here
        (nova resets the task state and the migration).
    """
    if instance.host != ctx.host:
        return False
    lpar_w = _partition(ctx, instance)
    if lpar_w is not None and lpar_w.migration_state != 'Not_Migrating':
        LOG.warning('The service stopped during a live migration whose job '
                    'still runs (%s): aborting it, the server stays here.',
                    lpar_w.migration_state, instance=instance)
        lpar_w = _abort_and_wait(ctx, instance, lpar_w)
    migrations = objects.MigrationList.get_in_progress_by_instance(
        context, instance.uuid, migration_type='live-migration')
    if lpar_w is not None:
        if migrations:
            _allocations_back(context, instance, migrations[-1])
        return False
    if not migrations:
        LOG.warning('The partition of this server in live migration is not '
                    'on this host and nova has no migration of it in '
                    'progress: left to nova.', instance=instance)
        return False
    finish_live_migration(context, instance, migrations[-1])
    return True


def _allocations_back(context, instance, migration):
    """The source's allocation (held by the migration) back to the server.

    nova's start-up resets the migration and the task state but leaves
    placement as the move set it: the destination's usage held by the
    instance.
    """
    from nova.scheduler.client import report

    LOG.warning('The server stays on this host: its allocations go back '
                'here (live migration %s).', migration.uuid,
                instance=instance)
    try:
        report.report_client_singleton().move_allocations(
            context, migration.uuid, instance.uuid)
    except Exception as error:
        LOG.warning('Could not move the allocations back: %s', error,
                    instance=instance)


def _partition(ctx, instance):
    try:
        return vm.get_instance_wrapper(ctx.adapter, instance)
    except nova_exc.InstanceNotFound:
        return None


def _abort_and_wait(ctx, instance, lpar_w):
    """Abort a migrate job nobody watches; the partition after it ends.

    :returns: the partition's wrapper, or None when it left (too late to
        abort: the destination had it already).
    """
    try:
        with errors.translate('live migration abort', instance):
            pvm_mig.migrate_abort(lpar_w)
    except Exception as error:
        LOG.warning('Could not abort the live migration: %s', error,
                    instance=instance)
    deadline = time.monotonic() + ABORT_WAIT
    while True:
        lpar_w = _partition(ctx, instance)
        if lpar_w is None or lpar_w.migration_state == 'Not_Migrating':
            return lpar_w
        if lpar_w.migration_state == 'Migration_Failed':
            with errors.translate('live migration recovery', instance):
                pvm_mig.migrate_recover(lpar_w, force=True)
            continue
        if time.monotonic() > deadline:
            LOG.warning('The live migration job did not end within %d s: '
                        'left to nova.', ABORT_WAIT, instance=instance)
            return lpar_w
        time.sleep(ABORT_POLL)


def finish_live_migration(context, instance, migration):
    """Finish in nova a live migration PowerVM finished without it.

    What nova's post-migration steps would have recorded: the ports bound
    on the destination, the instance on the destination's host and node,
    the source's allocation (held by the migration) removed, the
    migration ``completed``.  The destination's compute needs nothing
    more: the partition arrived with its adapters and disks.

    :param context: nova admin ``RequestContext``.
    :param instance: nova ``Instance`` (its host still this one).
    :param migration: its live ``Migration`` in progress.
    """
    from nova.network import neutron
    from nova.scheduler.client import report

    LOG.warning('The service stopped during the live migration of this '
                'server to %s, and PowerVM finished the move meanwhile: the '
                'server now lives there (migration %s completed here).',
                migration.dest_compute, migration.uuid, instance=instance)
    try:
        network_api = neutron.API()
        network_api.migrate_instance_start(context, instance, migration)
        network_api.setup_networks_on_host(context, instance,
                                           migration.dest_compute)
        network_api.migrate_instance_finish(context, instance, migration,
                                            provider_mappings=None)
    except Exception as error:
        LOG.warning('Could not bind the ports on %s: %s',
                    migration.dest_compute, error, instance=instance)
    if instance.migration_context:
        instance.apply_migration_context()
        instance.drop_migration_context()
    node = objects.ComputeNode.get_by_host_and_nodename(
        context, migration.dest_compute, migration.dest_node)
    instance.host = migration.dest_compute
    instance.node = migration.dest_node
    instance.compute_id = node.id
    instance.task_state = None
    instance.progress = 0
    instance.save(expected_task_state=[task_states.MIGRATING])
    report.report_client_singleton().delete_allocation_for_instance(
        context, migration.uuid, consumer_type='migration', force=True)
    migration.status = 'completed'
    migration.save()
