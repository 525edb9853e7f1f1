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
  changed, or just loses the task state when the partition is untouched.
"""

from nova.compute import task_states
from nova.compute import vm_states
from nova import exception as nova_exc
from nova import objects
from nova.virt import driver as nova_driver
from oslo_log import log as logging

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
    for instance in instances:
        try:
            resolve(ctx, context, instance)
        except Exception:
            LOG.exception('Start-up recovery failed; nova sets the server '
                          'to ERROR if the operation cannot go on.',
                          instance=instance)
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
