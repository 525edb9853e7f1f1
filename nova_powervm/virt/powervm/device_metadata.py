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
"""Device tags: the ``devices`` list of the metadata and config drive.

A user may tag a server's network interfaces (``--nic port-id=...,tag=``,
``server add port --tag``); nova keeps the tag on the interface's
``VirtualInterface`` record.  The driver turns the tagged interfaces into
``instance.device_metadata``, which the config drive and the metadata
service render as the ``devices`` list (``type: nic``, its MAC and tags).
nova saves the instance after spawn, attach and detach, so the driver
only sets the field.  A partition's virtual slots have no bus nova knows,
so devices carry none (``bus: none``).  Tagged volumes (``server add
volume --tag``, a tagged block device at boot) are listed as disks by
their Cinder volume id (``serial``).
"""

from nova import objects
from nova.objects import virt_device_metadata as md_obj


def build(context, instance, without_macs=(), without_volumes=()):
    """The device metadata of an instance's tagged interfaces and volumes.

    Two database reads (nova's ``VirtualInterface`` and block device
    mapping records); no REST.

    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance``.
    :param without_macs: MACs to leave out (an interface being detached
                         still has its record).
    :param without_volumes: volume ids to leave out (being detached).
    :returns: ``InstanceDeviceMetadata`` (possibly with no devices).
    """
    gone = {mac.lower() for mac in without_macs}
    devices = []
    for vif in objects.VirtualInterfaceList.get_by_instance_uuid(
            context, instance.uuid):
        if not vif.obj_attr_is_set('tag') or not vif.tag:
            continue
        if vif.address.lower() in gone:
            continue
        devices.append(md_obj.NetworkInterfaceMetadata(
            mac=vif.address, tags=[vif.tag]))
    devices.extend(_volumes(context, instance, without_volumes))
    return md_obj.InstanceDeviceMetadata(devices=devices)


def _volumes(context, instance, without_volumes):
    gone = set(without_volumes)
    disks = []
    for bdm in objects.BlockDeviceMappingList.get_by_instance_uuid(
            context, instance.uuid):
        if (bdm.obj_attr_is_set('tag') and bdm.tag and bdm.volume_id and
                bdm.volume_id not in gone):
            disks.append(md_obj.DiskMetadata(serial=bdm.volume_id,
                                             tags=[bdm.tag]))
    return disks


def update(context, instance, without_macs=(), without_volumes=()):
    """Set ``instance.device_metadata`` (nova saves the instance).

    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance``.
    :param without_macs: MACs to leave out.
    :param without_volumes: volume ids to leave out.
    :returns: the previous value (for a revert).
    """
    previous = (instance.device_metadata
                if instance.obj_attr_is_set('device_metadata') else None)
    instance.device_metadata = build(context, instance, without_macs,
                                     without_volumes)
    return previous
