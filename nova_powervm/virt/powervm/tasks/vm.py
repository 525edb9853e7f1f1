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
"""Flow tasks about the partition itself."""

import copy

from oslo_log import log as logging
from pypowervm import const as pvm_const
from pypowervm.tasks import power as pvm_power
from pypowervm.tasks import power_opts as pvm_popts
from pypowervm.wrappers import base_partition as pvm_bp
from pypowervm.wrappers import job as pvm_job

from nova_powervm import conf as pvm_conf
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import lpar_builder
from nova_powervm.virt.powervm.tasks import base
from nova_powervm.virt.powervm import vm

LOG = logging.getLogger(__name__)
CONF = pvm_conf.CONF

_DOWN = frozenset((pvm_bp.LPARState.NOT_ACTIVATED,
                   pvm_bp.LPARState.MIGRATING_NOT_ACTIVE))


def _job_timeout():
    return CONF.pypowervm_job_request_timeout


def static_host_wrapper(ctx):
    """The host's ManagedSystem wrapper, kept in the host's cache.

    Re-read every ``cache.HOST_WRAPPER_TTL`` seconds.  Only for static
    properties (partition creation and flavor checks).

    :param ctx: ``HostContext``.
    """
    return ctx.cache.host_wrapper(ctx.host_wrapper)


def job_template(cache, part, suffix):
    """A fresh copy of a partition job's request template.

    The template (``GET .../do/<suffix>``) is the same for every partition
    of a type, so it is read once per host and copied afterwards.

    :param cache: the host's ``cache.HostCache``.
    :param part: partition wrapper (its adapter and type are used).
    :param suffix: job name (``PowerOn``, ``PowerOff``).
    :returns: ``Job`` wrapper ready for ``run_job``.
    """
    entry = cache.job_template(
        (part.schema_type, suffix),
        lambda: part.adapter.read(
            part.schema_type, part.uuid,
            suffix_type=pvm_const.SUFFIX_TYPE_DO, suffix_parm=suffix).entry)
    return pvm_job.Job.wrap(copy.deepcopy(entry))


class PowerOp(pvm_power.PowerOp):
    """pypowervm's power operations with the host's cached job templates.

    Use ``PowerOp.on(cache).start(...)``.  Saves the template GET of each
    job: 2 round trips per job instead of 3.
    """

    host_cache = None

    @classmethod
    def on(cls, cache):
        """The power operations bound to one host's cache.

        :param cache: the host's ``cache.HostCache``.
        """
        return type(cls.__name__, (cls,), {'host_cache': cache})

    @classmethod
    def _run(cls, part, opts, timeout, synchronous=True):
        jwrap = job_template(cls.host_cache, part, opts.JOB_SUFFIX)
        jwrap.run_job(part.uuid, job_parms=opts.bld_jparms(),
                      timeout=timeout, synchronous=synchronous)


def hard_power_off(cache, lpar_w, instance):
    """Power a partition off at once unless it is off (2 round trips).

    :param cache: the host's ``cache.HostCache``.
    :param lpar_w: ``LPAR`` wrapper, recently read.
    :param instance: nova ``Instance``.
    """
    if lpar_w.state in _DOWN:
        return
    with errors.translate('power off', instance=instance):
        PowerOp.on(cache).stop(
            lpar_w, opts=pvm_popts.PowerOffOpts().vsp_hard(),
            timeout=_job_timeout())


class ValidateFlavor(base.PowerVMTask):
    """Check every ``powervm:*`` extra spec before anything is created.

    Hands the host's wrapper on (``host_wrapper``), read at most every
    ``cache.HOST_WRAPPER_TTL`` seconds.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    """

    def __init__(self, ctx, instance):
        super().__init__(instance, 'validate_flavor',
                         provides='host_wrapper')
        self.ctx = ctx

    def execute(self):
        host_w = static_host_wrapper(self.ctx)
        lpar_builder.validate_extra_specs(self.instance.flavor, host_w)
        return host_w

    def revert(self, *args, **kwargs):
        """Nothing was created."""


class CreateLPAR(base.PowerVMTask):
    """Create the partition (1 PUT); revert deletes it.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param image_meta: nova ``ImageMeta``.
    """

    def __init__(self, ctx, instance, image_meta):
        super().__init__(instance, 'create_lpar', provides='lpar_wrap',
                         requires=['host_wrapper'])
        self.ctx = ctx
        self.image_meta = image_meta

    def execute(self, host_wrapper):
        return vm.create_lpar(self.ctx.adapter, host_wrapper, self.instance,
                              self.image_meta)

    def revert(self, result, flow_failures, **kwargs):
        # Also when the PUT itself failed: a create that timed out on our
        # side may still have happened; the delete is idempotent.
        self.best_effort('delete partition', vm.delete_lpar,
                         self.ctx.adapter, self.instance)


class PowerOn(base.PowerVMTask):
    """Power the new partition on (the 2 round trips of the job).

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    """

    def __init__(self, ctx, instance):
        super().__init__(instance, 'power_on', requires=['lpar_wrap'])
        self.ctx = ctx

    def execute(self, lpar_wrap):
        with errors.translate('power on', instance=self.instance):
            PowerOp.on(self.ctx.cache).start(lpar_wrap,
                                             timeout=_job_timeout())

    def revert(self, lpar_wrap, result, flow_failures, **kwargs):
        self.best_effort('power off', vm.power_off, self.ctx.adapter,
                         self.instance, force_immediate=True)


class PowerOff(base.PowerVMTask):
    """Power the partition off at once (destroy); nothing to revert.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    """

    def __init__(self, ctx, instance):
        super().__init__(instance, 'power_off', requires=['lpar_wrap'])
        self.ctx = ctx

    def execute(self, lpar_wrap):
        hard_power_off(self.ctx.cache, lpar_wrap, self.instance)

    def revert(self, *args, **kwargs):
        """A powered-off partition is left off; destroy is retried."""


class CloseConsole(base.PowerVMTask):
    """Close the partition's VNC terminal on the host (destroy).

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    """

    def __init__(self, ctx, instance):
        super().__init__(instance, 'close_console', requires=['lpar_wrap'])
        self.ctx = ctx

    def execute(self, lpar_wrap):
        self.ctx.shim.close_vnc_console(self.ctx.adapter, lpar_wrap.uuid)

    def revert(self, *args, **kwargs):
        """A closed terminal is reopened on demand."""


class DeleteLPAR(base.PowerVMTask):
    """Delete the partition (1 DELETE; its network adapters go with it).

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    """

    def __init__(self, ctx, instance):
        super().__init__(instance, 'delete_lpar')
        self.ctx = ctx

    def execute(self):
        vm.delete_lpar(self.ctx.adapter, self.instance)

    def revert(self, *args, **kwargs):
        """A deleted partition cannot come back; nothing to do."""
