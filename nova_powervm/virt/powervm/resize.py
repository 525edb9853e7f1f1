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
"""Helpers of the move operations: checks, power off, partition resize.

The flows that use them are in ``move.py``; the tasks in ``tasks/move.py``.
"""

import json
import time

from nova import exception as nova_exc
from oslo_log import log as logging
from pypowervm.utils import lpar_builder as pvm_lb
from pypowervm.utils import retry as pvm_retry

from nova_powervm import conf as pvm_conf
from nova_powervm import exception as exc
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import lpar_builder
from nova_powervm.virt.powervm import power
from nova_powervm.virt.powervm.tasks import vm as tf_vm
from nova_powervm.virt.powervm import vm

LOG = logging.getLogger(__name__)
CONF = pvm_conf.CONF

# Version of the disk_info document migrate_disk_and_power_off returns.
DISK_INFO_VERSION = 1


def refuse(reason):
    """The fault of a move refused before anything changed.

    nova puts the server back in its state (``InstanceFaultRollback``)
    and records the inner ``MigrationPreCheckError`` as its fault.

    :param reason: text naming the problem.
    :returns: ``InstanceFaultRollback`` to raise.
    """
    return nova_exc.InstanceFaultRollback(
        inner_exception=nova_exc.MigrationPreCheckError(reason=reason))


def check_flavor_change(ctx, instance, new_flavor, same_host,
                        from_volume=False):
    """Refuse, before anything changes, what a move cannot do here.

    The new flavor's ``powervm:*`` extra specs must be valid on this host
    (same host) or at least valid (another host checks its own); the root
    disk may only grow; ephemeral and swap sizes cannot change; a move to
    another host needs shared storage, or a server that boots from a
    volume and has no ephemeral or swap disk (its config drive is made
    again on the destination).

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance`` (its current flavor).
    :param new_flavor: nova ``Flavor`` asked for.
    :param same_host: the destination is this host.
    :param from_volume: the server boots from a Cinder volume: it has no
                        local root disk (nothing to grow or shrink).
    :raises InstanceFaultRollback: wrapping ``MigrationPreCheckError``.
    """
    old = instance.flavor
    dvr = ctx.disk_dvr
    shared = bool(dvr.capabilities.get('shared_storage'))
    if not same_host and not shared and from_volume and (
            old.ephemeral_gb or old.swap):
        raise refuse(
            'this server boots from a volume but has ephemeral or swap '
            'disks in a volume group of this host (localdisk): the '
            'PowerVM driver cannot move them to another host; resize it '
            'on its host')
    if not same_host and not shared and not from_volume:
        raise refuse(
            'the PowerVM driver moves servers to another host only on '
            'shared storage ([powervm] disk_driver = ssp); this server\'s '
            'disks are in a volume group of this host (localdisk): resize '
            'it on its host, or evacuate it (its disk is then rebuilt from '
            'its image)')
    try:
        lpar_builder.validate_extra_specs(
            new_flavor, tf_vm.static_host_wrapper(ctx) if same_host
            else None)
    except exc.InvalidExtraSpec as error:
        raise refuse(error.format_message())
    # A server that boots from a volume has no local root disk: the
    # flavor's root_gb sizes nothing here.
    if not from_volume and new_flavor.root_gb < old.root_gb:
        raise refuse('the root disk cannot shrink (flavor %s has %d GB, '
                     'the server\'s disk %d GB)'
                     % (new_flavor.name, new_flavor.root_gb, old.root_gb))
    for field, unit in (('ephemeral_gb', 'GB'), ('swap', 'MB')):
        if getattr(new_flavor, field) != getattr(old, field):
            raise refuse('the PowerVM driver cannot change the size of '
                         'ephemeral or swap disks (%s: %s %s -> %s %s)'
                         % (field, getattr(old, field), unit,
                            getattr(new_flavor, field), unit))
    if (not from_volume and new_flavor.root_gb > old.root_gb and
            not dvr.capabilities.get('extend_boot_disk')):
        raise refuse('the root disk cannot grow on this disk driver yet')


def stop_partition(ctx, instance, lpar_w, timeout=0, retry_interval=0):
    """Power a partition off for a move; nothing when it is off.

    With ``timeout`` the guest is asked to shut down, again every
    ``retry_interval`` seconds (each request is a soft power off job
    given that long), until ``timeout`` seconds have passed; then the
    partition is powered off hard.  Without, hard at once.  2 round trips
    when the first attempt works.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param lpar_w: the partition's wrapper, recently read.
    :param timeout: seconds the guest has in all.
    :param retry_interval: seconds between requests (0: one request).
    :returns: True when the partition was running.
    :raises InstancePowerOffFailure: when the hard power off fails.
    """
    if lpar_w.state in power.DOWN_STATES:
        return False
    if timeout:
        deadline = time.monotonic() + timeout
        step = retry_interval if 0 < retry_interval < timeout else timeout
        first = True
        while first or time.monotonic() < deadline:
            first = False
            left = max(1, int(min(step, deadline - time.monotonic())))
            try:
                power.stop(ctx, lpar_w, power._soft_steps(lpar_w, False)[0],
                           timeout=left)
                return True
            except exc.PowerVMJobTimedOut:
                LOG.info('The guest did not shut down within %d seconds; '
                         'asking again.', left, instance=instance)
            except exc.PowerVMJobFailed as error:
                LOG.warning('Soft power off failed (%s); powering off '
                            'hard.', error.format_message(),
                            instance=instance)
                break
    power.power_off(ctx, instance, lpar_w=lpar_w, force_immediate=True)
    return True


def resize_lpar(ctx, instance, flavor, lpar_w=None):
    """Give a partition the memory, processors and extra specs of a flavor.

    1 POST (If-Match), plus 1 GET when ``lpar_w`` is not given.  The host
    refuses values a running partition cannot take (outside its minimum
    and maximum); the move flows stop it first.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param flavor: nova ``Flavor`` to apply.
    :param lpar_w: the partition's wrapper, recently read (optional).
    :returns: the updated wrapper.
    :raises InvalidExtraSpec: for a bad ``powervm:*`` extra spec.
    :raises LPARBuildFailed: when pypowervm rejects the combination.
    """
    host_w = tf_vm.static_host_wrapper(ctx)
    if lpar_w is None:
        lpar_w = vm.get_instance_wrapper(ctx.adapter, instance)
    attrs = lpar_builder.build_attrs(ctx.adapter, host_w, instance,
                                     flavor=flavor)
    stdz = pvm_lb.DefaultStandardize(
        host_w, proc_units_factor=CONF.powervm.proc_units_factor,
        uncapped_weight=CONF.powervm.uncapped_proc_weight)
    try:
        pvm_lb.LPARBuilder(ctx.adapter, attrs, stdz).rebuild(lpar_w)
    except (pvm_lb.LPARBuilderException, ValueError) as error:
        raise exc.LPARBuildFailed(instance=instance.name, reason=error)
    what = 'resize partition (%d vCPUs, %d MB)' % (flavor.vcpus,
                                                   flavor.memory_mb)
    with errors.translate(what, instance=None):
        updated = _update(lpar_w, ctx.adapter, attrs, stdz)
    LOG.info('Partition now has %(vcpus)d vCPUs and %(mem)d MB.',
             {'vcpus': flavor.vcpus, 'mem': flavor.memory_mb},
             instance=instance)
    return updated


@pvm_retry.retry(argmod_func=pvm_retry.refresh_wrapper, tries=5)
def _update(lpar_w, adapter, attrs, stdz):
    """POST the partition; on an etag mismatch re-read, rebuild, redo."""
    pvm_lb.LPARBuilder(adapter, attrs, stdz).rebuild(lpar_w)
    return lpar_w.update()


def disk_info(was_running, same_host):
    """The ``disk_info`` document handed from source to destination.

    :param was_running: the partition ran before the move.
    :param same_host: a resize on this host.
    :returns: JSON text.
    """
    return json.dumps({'version': DISK_INFO_VERSION,
                       'was_running': bool(was_running),
                       'same_host': bool(same_host)})


def read_disk_info(text):
    """Decode :func:`disk_info` (an empty or foreign one: defaults)."""
    try:
        data = json.loads(text) if text else {}
    except (TypeError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    data.setdefault('was_running', True)
    return data
