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
"""Flow tasks of the move operations (resize, cold migration, evacuate)."""

from oslo_log import log as logging

from nova_powervm.virt.powervm import mapping
from nova_powervm.virt.powervm import power
from nova_powervm.virt.powervm import resize
from nova_powervm.virt.powervm.tasks import base

LOG = logging.getLogger(__name__)


class StopForMove(base.PowerVMTask):
    """Stop the partition before it moves or changes size.

    The guest is asked to shut down again every ``retry_interval``
    seconds for at most ``timeout`` seconds (nova's clean shutdown
    values), then the partition is powered off hard; ``timeout`` 0 powers
    off at once.  Provides ``was_running``.  Revert starts the partition
    again when it was running.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param timeout: seconds the guest has to shut down.
    :param retry_interval: seconds between shutdown requests.
    """

    def __init__(self, ctx, instance, timeout=0, retry_interval=0):
        super().__init__(instance, 'stop_for_move', provides='was_running',
                         requires=['lpar_wrap'])
        self.ctx = ctx
        self.timeout = timeout
        self.retry_interval = retry_interval

    def execute(self, lpar_wrap):
        return resize.stop_partition(self.ctx, self.instance, lpar_wrap,
                                     self.timeout, self.retry_interval)

    def revert(self, lpar_wrap, result, flow_failures, **kwargs):
        if result is True:
            self.best_effort('power on again', power.power_on, self.ctx,
                             self.instance)


class RestorePower(base.PowerVMTask):
    """First task of a finishing step: nothing to do but its revert.

    When a later step fails, the partition (back to its old size by the
    other reverts) is started again if it was running before the move,
    so the server stays usable where it is.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param was_running: the partition ran before the move.
    """

    def __init__(self, ctx, instance, was_running):
        super().__init__(instance, 'restore_power')
        self.ctx = ctx
        self.was_running = was_running

    def execute(self):
        """Nothing: this task only has a revert."""

    def revert(self, *args, **kwargs):
        if self.was_running:
            self.best_effort('power on again', power.power_on, self.ctx,
                             self.instance)


class ResizeLPAR(base.PowerVMTask):
    """Give the partition the memory and processors of a flavor (1 POST).

    Revert gives it the ``old`` flavor's values back (1 GET + 1 POST).
    An etag mismatch re-reads the partition and tries again.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param flavor: the nova ``Flavor`` to apply.
    :param old: the nova ``Flavor`` to restore on revert.
    :param fresh: read the partition again first (1 GET): an earlier
                  task changed it (stopped it) since ``lpar_wrap`` was
                  read.
    """

    def __init__(self, ctx, instance, flavor, old, fresh=False):
        super().__init__(instance, 'resize_partition',
                         requires=['lpar_wrap'])
        self.ctx = ctx
        self.flavor = flavor
        self.old = old
        self.fresh = fresh

    def execute(self, lpar_wrap):
        resize.resize_lpar(self.ctx, self.instance, self.flavor,
                           None if self.fresh else lpar_wrap)

    def revert(self, lpar_wrap, result, flow_failures, **kwargs):
        self.best_effort('restore partition size', resize.resize_lpar,
                         self.ctx, self.instance, self.old)


class GrowRootDisk(base.PowerVMTask):
    """Grow the boot disk to ``size_gb`` (storage cannot shrink).

    Nothing to revert: a grown disk stays grown (documented).

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param size_gb: the new size.
    """

    def __init__(self, ctx, instance, size_gb):
        super().__init__(instance, 'grow_root_disk')
        self.ctx = ctx
        self.size_gb = size_gb

    def execute(self):
        return self.ctx.disk_dvr.extend_boot_disk(self.instance,
                                                  self.size_gb)

    def revert(self, *args, **kwargs):
        LOG.warning('The boot disk keeps its new size: storage cannot '
                    'shrink.', instance=self.instance)


class FindDisks(base.PowerVMTask):
    """Find the instance's existing disks on shared storage (1 GET).

    Provides ``boot_disk`` and ``local_disks`` (ephemeral and swap), for
    a partition re-created on another host of the same storage (cold
    migration, evacuation).  Nothing to revert: the disks stay.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    """

    def __init__(self, ctx, instance):
        super().__init__(instance, 'find_disks',
                         provides=['boot_disk', 'local_disks'])
        self.ctx = ctx

    def execute(self):
        return self.ctx.disk_dvr.find_instance_disks(self.instance)

    def revert(self, *args, **kwargs):
        """The disks are the instance's own: they stay."""


class StartAfterMove(base.PowerVMTask):
    """Start the partition stopped earlier in the flow (the job's 2).

    The ``lpar_wrap`` input was read before the stop, so its state is not
    trusted.  Revert powers it off again.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    """

    def __init__(self, ctx, instance):
        super().__init__(instance, 'start_after_move', requires=['lpar_wrap'])
        self.ctx = ctx

    def execute(self, lpar_wrap):
        power.power_on(self.ctx, self.instance, lpar_w=lpar_wrap,
                       known_off=True)

    def revert(self, lpar_wrap, result, flow_failures, **kwargs):
        self.best_effort('power off', power.power_off, self.ctx,
                         self.instance, force_immediate=True)


class UnmapDisks(base.PowerVMTask):
    """Unmap the instance's disks from its partition here (cold migration).

    The source keeps its stopped partition for a revert, but not the
    shared disks, which the destination maps: a logical unit is then
    mapped on one host only, and a failed move leaves nothing holding it
    here.  1 GET of the VIOS feed + 1 POST per VIOS.  Revert maps them
    again.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    """

    def __init__(self, ctx, instance):
        super().__init__(instance, 'unmap_disks', requires=['lpar_wrap'])
        self.ctx = ctx

    def execute(self, lpar_wrap):
        mappings = mapping.VIOSMappings(self.ctx.adapter, 'unmap_disks',
                                        self.instance)
        self.ctx.disk_dvr.disconnect_disks(mappings, self.instance,
                                           lpar_wrap.uuid)
        mappings.execute()

    def revert(self, lpar_wrap, result, flow_failures, **kwargs):
        self.best_effort('map the disks again', map_own_disks, self.ctx,
                         self.instance, lpar_wrap.uuid)


def map_own_disks(ctx, instance, lpar_uuid):
    """Map the instance's existing disks to its partition here.

    1 GET of the disks + 1 GET of the VIOS feed + 1 POST per VIOS that
    lacks a mapping.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param lpar_uuid: PowerVM UUID of the partition.
    """
    boot, local = ctx.disk_dvr.find_instance_disks(instance)
    mappings = mapping.VIOSMappings(ctx.adapter, 'map_disks', instance)
    for disk in [boot] + list(local):
        ctx.disk_dvr.connect_disk(mappings, lpar_uuid, disk)
    mappings.execute()


class MapOwnDisks(base.PowerVMTask):
    """Map the instance's existing disks to its kept partition (revert).

    See :func:`map_own_disks`.  Revert removes the mappings of the
    instance's disks again (1 GET of the VIOS feed + 1 POST per VIOS).

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    """

    def __init__(self, ctx, instance):
        super().__init__(instance, 'map_own_disks', requires=['lpar_wrap'])
        self.ctx = ctx

    def execute(self, lpar_wrap):
        map_own_disks(self.ctx, self.instance, lpar_wrap.uuid)

    def revert(self, lpar_wrap, result, flow_failures, **kwargs):
        def unmap():
            mappings = mapping.VIOSMappings(self.ctx.adapter, 'unmap_disks',
                                            self.instance)
            self.ctx.disk_dvr.disconnect_disks(mappings, self.instance,
                                               lpar_wrap.uuid)
            mappings.execute()
        self.best_effort('unmap the disks', unmap)


class RestoreNVRAM(base.PowerVMTask):
    """Give a re-created partition its stored NVRAM before it boots.

    No REST when nothing is stored; else GET + POST.  Nothing to revert:
    the partition's own revert deletes it.

    :param ctx: ``HostContext`` (with an NVRAM store).
    :param instance: nova ``Instance``.
    """

    def __init__(self, ctx, instance):
        super().__init__(instance, 'restore_nvram', requires=['lpar_wrap'])
        self.ctx = ctx

    def execute(self, lpar_wrap):
        return self.ctx.nvram.restore(self.instance, lpar_wrap.uuid)

    def revert(self, *args, **kwargs):
        """The partition goes with CreateLPAR's revert."""
