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
"""The volume connector interface.

A connector attaches one Cinder volume to one partition through the
Virtual I/O Servers, in the protocol its connection info names.  Like the
disk adapters, it adds its VIOS mapping changes to the operation's
``mapping.VIOSMappings``, so the volumes of a spawn, the boot disk and
the config drive share one VIOS update.
"""

import abc

from nova_powervm.virt.powervm import volume


class VolumeConnector(metaclass=abc.ABCMeta):
    """Base class of the volume connectors.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param connection_info: Cinder's connection info of the attachment.
    """

    #: The ``driver_volume_type`` this connector serves.
    protocol = None
    #: Set by destroy: the partition goes with everything mapped to it.
    destroying = False

    def __init__(self, ctx, instance, connection_info):
        self.ctx = ctx
        self.instance = instance
        self.connection_info = connection_info

    @property
    def volume_id(self):
        """The Cinder volume id."""
        return volume.volume_id(self.connection_info)

    @property
    def data(self):
        """The protocol data of the connection info (a dict)."""
        return self.connection_info.get('data') or {}

    @abc.abstractmethod
    def connect(self, mappings, lpar_uuid):
        """Make the volume visible to the VIOSes and map it to a partition.

        Discovery (and login, for iSCSI) happens here; the mappings are
        added to ``mappings``, which the caller executes.

        :param mappings: the operation's ``mapping.VIOSMappings``.
        :param lpar_uuid: PowerVM UUID of the partition.
        """

    @abc.abstractmethod
    def disconnect(self, mappings, lpar_uuid):
        """Remove this volume's mappings to a partition.

        Devices that nothing maps any more are removed from the VIOSes
        after ``mappings`` ran (:meth:`cleanup`).

        :param mappings: the operation's ``mapping.VIOSMappings``.
        :param lpar_uuid: PowerVM UUID of the partition.
        """

    def cleanup(self):
        """Remove what :meth:`disconnect` left unused (after the update)."""

    def attached(self, lpar_uuid):
        """Whether the volume is still mapped to the partition.

        :param lpar_uuid: PowerVM UUID of the partition.
        """
        return True

    def extend(self):
        """Make the VIOSes see the volume's new size."""
        raise NotImplementedError()
