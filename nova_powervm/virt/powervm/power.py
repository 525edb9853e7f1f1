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
"""The driver's one power path: power on, power off, reboot.

Every power operation is a NovaLink ``PowerOn`` or ``PowerOff`` job.  The
job's request template is the same for every partition of a type, so it
is read once per host and kept in the host's cache
(``HostContext.cache``): a job then costs 2 round trips (the job PUT and
its completion poll) instead of pypowervm's 3.  The driver, every flow
and every later flow (resize, migrate, rescue) power partitions through
this module.

The soft power off is progressive, as on an HMC: IBM i partitions are
asked for an OS normal, then an OS immediate shutdown, then a VSP normal
one; other partitions for an OS immediate shutdown when RMC is active
(else a VSP normal one).  Whatever does not stop the partition ends in a
hard VSP power off.  A soft step that times out goes straight to the hard
power off.

Failures surface as nova's ``InstancePowerOnFailure``,
``InstancePowerOffFailure`` and ``InstanceRebootFailure``.
"""

import copy

from nova import exception as nova_exc
from oslo_log import log as logging
from pypowervm import const as pvm_const
from pypowervm.tasks import power_opts as pvm_popts
from pypowervm.wrappers import base_partition as pvm_bp
from pypowervm.wrappers import job as pvm_job
from pypowervm.wrappers import logical_partition as pvm_lpar

from nova_powervm import conf as pvm_conf
from nova_powervm import exception as exc
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import vm

LOG = logging.getLogger(__name__)
CONF = pvm_conf.CONF

_S = pvm_bp.LPARState
# States in which a partition needs no power on.
UP_STATES = frozenset((_S.RUNNING, _S.STARTING, _S.OPEN_FIRMWARE,
                       _S.MIGRATING_RUNNING))
# States in which a partition needs no power off.
DOWN_STATES = frozenset((_S.NOT_ACTIVATED, _S.MIGRATING_NOT_ACTIVE))
# States in which an operating system runs and can be made to dump.
DUMP_STATES = frozenset((_S.RUNNING,))

# Job error codes of a partition already in the state asked for (HMC and
# NovaLink codes).
_ALREADY_ON = ('HSCL3681', 'PVME01042026')
_ALREADY_OFF = ('HSCL1558', 'PVME04000005', 'PVME01050901')


def job_timeout(timeout=None):
    """Seconds a power job may take: ``timeout`` or pypowervm's default.

    :param timeout: seconds, or None/0 for the default.
    """
    return timeout or CONF.pypowervm_job_request_timeout


def _template(ctx, part, suffix):
    """A fresh copy of the job request template (GET only on first use)."""
    entry = ctx.cache.job_template(
        (part.schema_type, suffix),
        lambda: part.adapter.read(
            part.schema_type, part.uuid,
            suffix_type=pvm_const.SUFFIX_TYPE_DO, suffix_parm=suffix).entry)
    return pvm_job.Job.wrap(copy.deepcopy(entry))


def prime_templates(ctx, part):
    """Read the power job templates of a partition type once (2 GETs).

    Called at ``init_host`` with the management partition, so the first
    spawn and destroy of the service do not pay for them.  Skipped when
    that partition is not of the client partitions' type (a VIOS).

    :param ctx: ``HostContext``.
    :param part: a partition wrapper whose type is the clients' (LPAR).
    """
    if part.schema_type != pvm_lpar.LPAR.schema_type:
        return
    with errors.translate('read power job templates'):
        for suffix in (pvm_popts.PowerOnOpts.JOB_SUFFIX,
                       pvm_popts.PowerOffOpts.JOB_SUFFIX):
            _template(ctx, part, suffix)


def run_job(ctx, part, opts, timeout=None):
    """Run a power job on a partition and wait for it (2 round trips).

    :param ctx: ``HostContext`` (adapter and cache).
    :param part: partition wrapper (LPAR or VIOS).
    :param opts: pypowervm ``PowerOnOpts`` or ``PowerOffOpts``.
    :param timeout: seconds the job may take (default: pypowervm's).
    :raises PowerVMJobFailed: when the job ends in error.
    :raises PowerVMJobTimedOut: when it does not end in time.
    """
    LOG.debug('Running %(opts)s on partition %(name)s.',
              {'opts': opts, 'name': part.name})
    with errors.translate('%s of partition %s' % (opts.JOB_SUFFIX,
                                                  part.name)):
        jwrap = _template(ctx, part, opts.JOB_SUFFIX)
        jwrap.run_job(part.uuid, job_parms=opts.bld_jparms(),
                      timeout=job_timeout(timeout))


def _says(error, codes):
    text = str(error)
    return any(code in text for code in codes)


def start(ctx, part, opts=None, timeout=None):
    """The PowerOn job; a partition already on is success.

    :raises PowerVMJobFailed: see :func:`run_job`.
    """
    try:
        run_job(ctx, part, opts or pvm_popts.PowerOnOpts(), timeout)
    except exc.PowerVMJobTimedOut:
        raise
    except exc.PowerVMJobFailed as error:
        if not _says(error, _ALREADY_ON):
            raise
        LOG.info('Partition %s was already powered on.', part.name)


def stop(ctx, part, opts, timeout=None):
    """One PowerOff job; a partition already off is success (no restart).

    :raises PowerVMJobFailed: see :func:`run_job`.
    """
    try:
        run_job(ctx, part, opts, timeout)
    except exc.PowerVMJobTimedOut:
        raise
    except exc.PowerVMJobFailed as error:
        if opts.is_restart or not _says(error, _ALREADY_OFF):
            raise
        LOG.info('Partition %s was already powered off.', part.name)


def _soft_steps(part, restart):
    """The soft power-off attempts for a partition, gentlest first."""
    def opts():
        return pvm_popts.PowerOffOpts().restart(value=restart)
    if part.env == pvm_bp.LPARType.OS400:
        return [opts().os_normal(), opts().os_immediate(),
                opts().vsp_normal()]
    steps = [opts().vsp_normal()]
    if part.rmc_state == pvm_bp.RMCState.ACTIVE:
        steps.insert(0, opts().os_immediate())
    return steps


def _soft_stop(ctx, part, restart, timeout):
    """Try the soft steps in turn; True when one of them worked."""
    for step in _soft_steps(part, restart):
        try:
            stop(ctx, part, step, timeout)
            return True
        except exc.PowerVMJobTimedOut:
            LOG.warning('Soft power off (%(step)s) of %(name)s timed out; '
                        'powering off hard.', {'step': step,
                                               'name': part.name})
            return False
        except exc.PowerVMJobFailed as error:
            LOG.warning('Soft power off (%(step)s) of %(name)s failed: '
                        '%(err)s', {'step': step, 'name': part.name,
                                    'err': error})
        # Later steps get the default timeout, as the first one used up
        # what the caller allowed.
        timeout = None
    return False


def _wrapper(ctx, instance, lpar_w):
    return lpar_w or vm.get_instance_wrapper(ctx.adapter, instance)


def power_on(ctx, instance, lpar_w=None, opts=None, timeout=None,
             known_off=False):
    """Power an instance's partition on unless it is up.

    2 round trips for the job, plus 1 GET when ``lpar_w`` is not given.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param lpar_w: the partition's wrapper, recently read (optional).
    :param opts: pypowervm ``PowerOnOpts`` (optional).
    :param timeout: job timeout in seconds (default: pypowervm's).
    :param known_off: the caller powered the partition off since
                      ``lpar_w`` was read: do not trust its state.
    :raises InstanceNotFound: when the partition does not exist.
    :raises InstancePowerOnFailure: when the job fails.
    """
    lpar_w = _wrapper(ctx, instance, lpar_w)
    if not known_off and lpar_w.state in UP_STATES:
        return
    try:
        start(ctx, lpar_w, opts, timeout)
    except exc.PowerVMJobFailed as error:
        raise nova_exc.InstancePowerOnFailure(
            reason=error.format_message()) from error


def power_off(ctx, instance, lpar_w=None, force_immediate=False,
              timeout=None):
    """Power an instance's partition off unless it is off.

    With ``force_immediate`` a hard VSP power off (2 round trips);
    otherwise the progressive soft power off, ``timeout`` seconds for the
    first step, ending hard if the partition would not stop.  Plus 1 GET
    when ``lpar_w`` is not given.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param lpar_w: the partition's wrapper, recently read (optional).
    :param force_immediate: power off at once.
    :param timeout: seconds the soft power off may take.
    :raises InstanceNotFound: when the partition does not exist.
    :raises InstancePowerOffFailure: when the last attempt fails.
    """
    lpar_w = _wrapper(ctx, instance, lpar_w)
    if lpar_w.state in DOWN_STATES:
        return
    try:
        _power_off(ctx, lpar_w, force_immediate, timeout, restart=False)
    except exc.PowerVMJobFailed as error:
        raise nova_exc.InstancePowerOffFailure(
            reason=error.format_message()) from error


def power_off_to_destroy(ctx, instance, lpar_w):
    """Power a partition off hard before it is deleted.

    A destroy must not stop at one failed job (a busy partition, a
    transient firmware refusal): nova calls it to delete a server and to
    undo a move (``revert_resize`` on the destination), and a failure
    there leaves the server in ERROR.  So a failed hard power off is
    followed by one read of the partition (it may have stopped anyway)
    and, unless it is off, a second hard power off.  2 round trips;
    after a failed job, 1 GET and 2 more.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param lpar_w: the partition's wrapper, recently read.
    :raises InstanceNotFound: when the partition went away meanwhile.
    :raises InstancePowerOffFailure: when the second attempt fails too.
    """
    try:
        power_off(ctx, instance, lpar_w=lpar_w, force_immediate=True)
        return
    except nova_exc.InstancePowerOffFailure as error:
        LOG.warning('Hard power off failed (%s); reading the partition and '
                    'trying once more.', error.format_message(),
                    instance=instance)
    power_off(ctx, instance, force_immediate=True)


def _power_off(ctx, part, force_immediate, timeout, restart):
    if not force_immediate and _soft_stop(ctx, part, restart, timeout):
        return
    stop(ctx, part,
         pvm_popts.PowerOffOpts().vsp_hard().restart(value=restart))


def reboot(ctx, instance, hard, timeout=None, lpar_w=None):
    """Restart an instance's partition; power it on when it is off.

    ``hard`` restarts at once (2 round trips); otherwise the OS is asked
    first, as in :func:`power_off`.  Plus 1 GET when ``lpar_w`` is not
    given.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param hard: restart at once.
    :param timeout: seconds the soft shutdown may take.
    :param lpar_w: the partition's wrapper, recently read (optional).
    :raises InstanceNotFound: when the partition does not exist.
    :raises InstanceRebootFailure: when the restart fails.
    """
    lpar_w = _wrapper(ctx, instance, lpar_w)
    try:
        if lpar_w.state in DOWN_STATES:
            start(ctx, lpar_w)
        else:
            _power_off(ctx, lpar_w, hard, timeout, restart=True)
    except exc.PowerVMJobFailed as error:
        raise nova_exc.InstanceRebootFailure(
            reason=error.format_message()) from error


def crash_dump(ctx, instance, lpar_w=None):
    """Make the partition's OS dump and restart (``dumprestart``).

    The PowerOff job with ``operation=dumprestart``: the firmware makes
    the operating system take a dump (IBM i: a main storage dump), then
    the partition restarts, so the server keeps running.  2 round trips
    for the job, plus 1 GET when ``lpar_w`` is not given.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param lpar_w: the partition's wrapper, recently read (optional).
    :raises InstanceNotFound: when the partition does not exist.
    :raises InstanceNotRunning: when the partition is not running (the
        job would have nothing to dump).
    :raises PowerVMJobFailed: when the job fails.
    """
    lpar_w = _wrapper(ctx, instance, lpar_w)
    if lpar_w.state not in DUMP_STATES:
        raise nova_exc.InstanceNotRunning(instance_id=instance.uuid)
    opts = pvm_popts.PowerOffOpts().operation(
        pvm_popts.PowerOffOperation.DUMPRESTART)
    run_job(ctx, lpar_w, opts)
