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

from oslo_log import log as logging
from pypowervm.tasks import power_opts as pvm_popts

from nova_powervm import conf as pvm_conf
from nova_powervm.virt.powervm import lpar_builder
from nova_powervm.virt.powervm import power
from nova_powervm.virt.powervm.tasks import base
from nova_powervm.virt.powervm import vm

LOG = logging.getLogger(__name__)
CONF = pvm_conf.CONF


def static_host_wrapper(ctx):
    """The host's ManagedSystem wrapper, kept in the host's cache.

    Re-read every ``cache.HOST_WRAPPER_TTL`` seconds.  Only for static
    properties (partition creation and flavor checks).

    :param ctx: ``HostContext``.
    """
    return ctx.cache.host_wrapper(ctx.host_wrapper)


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
    :param boot_from: a ``boot_string`` (Open Firmware path of the disk to
                      boot, ``mapping.boot_string``) is provided by an
                      earlier task; without it the firmware boots the
                      first disk.
    """

    def __init__(self, ctx, instance, boot_from=False):
        requires = ['lpar_wrap'] + (['boot_string'] if boot_from else [])
        super().__init__(instance, 'power_on', requires=requires)
        self.ctx = ctx
        self.boot_from = boot_from

    def execute(self, lpar_wrap, boot_string=None):
        opts = None
        if boot_string:
            opts = pvm_popts.PowerOnOpts().bootstring(boot_string)
        # After a stop for a change (rescue, rebuild) the wrapper's state
        # is stale; an already running partition is success anyway.
        power.power_on(self.ctx, self.instance, lpar_w=lpar_wrap, opts=opts,
                       known_off=self.boot_from)

    def revert(self, lpar_wrap, result, flow_failures, **kwargs):
        self.best_effort('power off', power.power_off, self.ctx,
                         self.instance, force_immediate=True)


class StopForChange(base.PowerVMTask):
    """Stop the partition for a storage change (rescue, rebuild).

    The OS is asked first (``[DEFAULT] shutdown_timeout`` seconds) unless
    ``force``.  Revert powers the partition back on when it was running,
    booting as before.  Nothing when it is off already.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param force: power off at once.
    """

    def __init__(self, ctx, instance, force=False):
        super().__init__(instance, 'stop_partition', requires=['lpar_wrap'])
        self.ctx = ctx
        self.force = force
        self.was_on = False

    def execute(self, lpar_wrap):
        self.was_on = lpar_wrap.state not in power.DOWN_STATES
        if self.was_on:
            power.power_off(self.ctx, self.instance, lpar_w=lpar_wrap,
                            force_immediate=self.force,
                            timeout=CONF.shutdown_timeout)

    def revert(self, lpar_wrap, result, flow_failures, **kwargs):
        if self.was_on:
            self.best_effort('power on again', power.power_on, self.ctx,
                             self.instance)


class PowerOff(base.PowerVMTask):
    """Power the partition off at once (destroy); nothing to revert.

    A partition that is gone (``lpar_wrap`` None) needs nothing.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    """

    def __init__(self, ctx, instance):
        super().__init__(instance, 'power_off', requires=['lpar_wrap'])
        self.ctx = ctx

    def execute(self, lpar_wrap):
        if lpar_wrap is not None:
            power.power_off_to_destroy(self.ctx, self.instance, lpar_wrap)

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
        if lpar_wrap is not None:
            self.ctx.shim.close_vnc_console(self.ctx.adapter,
                                            lpar_wrap.uuid)

    def revert(self, *args, **kwargs):
        """A closed terminal is reopened on demand."""


class DeleteLPAR(base.PowerVMTask):
    """Delete the partition (1 DELETE; its network adapters go with it).

    Nothing when the partition is already gone (``lpar_wrap`` None).

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    """

    def __init__(self, ctx, instance):
        super().__init__(instance, 'delete_lpar', requires=['lpar_wrap'])
        self.ctx = ctx

    def execute(self, lpar_wrap):
        if lpar_wrap is not None:
            vm.delete_lpar(self.ctx.adapter, self.instance)

    def revert(self, *args, **kwargs):
        """A deleted partition cannot come back; nothing to do."""
