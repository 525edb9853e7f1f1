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

from nova import exception as nova_exc
from nova.virt import driver as nova_driver
from oslo_log import log as logging
from taskflow import engines as tf_eng
from taskflow.patterns import linear_flow as tf_lf

from nova_powervm import conf as pvm_conf
from nova_powervm.virt.powervm import image
from nova_powervm.virt.powervm import media
from nova_powervm.virt.powervm.tasks import network as tf_net
from nova_powervm.virt.powervm.tasks import storage as tf_stg
from nova_powervm.virt.powervm.tasks import vm as tf_vm
from nova_powervm.virt.powervm import vm

LOG = logging.getLogger(__name__)
CONF = pvm_conf.CONF


def build_spawn(ctx, context, instance, image_meta, injected_files,
                admin_password, network_info, block_device_info=None,
                power_on=True):
    """The spawn graph (no I/O while building).

    Validate the flavor, create the partition, plug the VIFs (and the RMC
    management adapter), make the boot disk from the image, build and
    upload the config drive when required, map disk and media in one VIOS
    update, and power on when asked.

    :param ctx: ``HostContext``.
    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance``.
    :param image_meta: nova ``ImageMeta``.
    :param injected_files: list of ``(path, contents)``.
    :param admin_password: admin password or None.
    :param network_info: nova ``NetworkInfo``.
    :param block_device_info: nova block device info; volumes, ephemeral
                              and swap disks are refused (not supported
                              yet) before anything is created.
    :param power_on: power the partition on at the end.
    :returns: a TaskFlow linear flow.
    :raises nova.exception.InvalidInput: for block devices this driver
                                         cannot create yet.
    :raises UnsupportedImageFormat: for an image that is not raw.
    """
    check_block_devices(instance, block_device_info)
    image.check_format(image_meta)
    flow = tf_lf.Flow('spawn_%s' % instance.uuid)
    flow.add(tf_vm.ValidateFlavor(ctx, instance),
             tf_vm.CreateLPAR(ctx, instance, image_meta))
    if network_info:
        flow.add(tf_net.PlugVifs(ctx, instance, network_info))
    with_mgmt = CONF.powervm.use_rmc_mgmt_vif
    if with_mgmt:
        flow.add(tf_net.PlugMgmtVif(ctx, instance))
    flow.add(tf_stg.CreateDiskForImg(ctx, instance, context, image_meta))
    with_media = media.required(instance)
    if with_media:
        flow.add(tf_stg.CreateConfigDrive(ctx, instance, context,
                                          injected_files, admin_password,
                                          network_info, with_mgmt))
    flow.add(tf_stg.ConnectStorage(ctx, instance, with_media))
    if power_on:
        flow.add(tf_vm.PowerOn(ctx, instance))
    return flow


def check_block_devices(instance, block_device_info):
    """Refuse what spawn cannot build yet, rather than ignore it.

    Only the image-backed boot disk and the config drive are created:
    Cinder volumes, ephemeral and swap disks fail the build with a message
    the user can read, and nova does not reschedule it.

    :param instance: nova ``Instance``.
    :param block_device_info: nova block device info (or None).
    :raises nova.exception.InvalidInput: naming what is unsupported.
    """
    unsupported = []
    if nova_driver.block_device_info_get_mapping(block_device_info):
        unsupported.append('volumes (boot from volume, volumes at boot)')
    if (instance.flavor.ephemeral_gb
            or nova_driver.block_device_info_get_ephemerals(
                block_device_info)):
        unsupported.append('ephemeral disks')
    swap = nova_driver.block_device_info_get_swap(block_device_info)
    if instance.flavor.swap or (swap and swap.get('swap_size')):
        unsupported.append('swap disks')
    if unsupported:
        raise nova_exc.InvalidInput(
            reason='The PowerVM driver does not support %s yet.'
            % ', '.join(unsupported))


def build_destroy(ctx, instance, destroy_disks=True):
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
    :returns: a TaskFlow linear flow.
    """
    flow = tf_lf.Flow('destroy_%s' % instance.uuid)
    flow.add(tf_vm.PowerOff(ctx, instance),
             tf_vm.CloseConsole(ctx, instance),
             tf_stg.DisconnectStorage(ctx, instance),
             tf_stg.DeleteStorage(ctx, instance, destroy_disks),
             tf_vm.DeleteLPAR(ctx, instance))
    return flow


def run(flow, store=None):
    """Run a flow with the serial engine; failures revert and re-raise.

    :param flow: a TaskFlow flow.
    :param store: initial values of the flow's inputs.
    """
    tf_eng.run(flow, engine='serial', store=store or {})


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
    run(build_destroy(ctx, instance, destroy_disks),
        store={'lpar_wrap': lpar_w})


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
