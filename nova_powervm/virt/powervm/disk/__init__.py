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
"""Disk adapters, chosen by ``[powervm] disk_driver``."""

from nova import exception as nova_exc
from oslo_utils import importutils

from nova_powervm import conf as pvm_conf

CONF = pvm_conf.CONF

# [powervm] disk_driver -> the adapter class; imported on demand.
ADAPTERS = {
    'localdisk': 'nova_powervm.virt.powervm.disk.localdisk.LocalStorage',
    'ssp': 'nova_powervm.virt.powervm.disk.ssp.SSPDiskAdapter',
}


def get_disk_adapter(adapter, host_uuid, mgmt_uuid, vioses=None):
    """Build the disk adapter selected by ``[powervm] disk_driver``.

    :param adapter: pypowervm ``Adapter``.
    :param host_uuid: ManagedSystem UUID.
    :param mgmt_uuid: UUID of the NovaLink management partition.
    :param vioses: VIOS wrappers already read by the caller (saves a GET).
    :returns: a ``disk.base.DiskAdapter``.
    :raises nova.exception.InvalidInput: for an unavailable driver.
    """
    name = CONF.powervm.disk_driver.lower()
    if name not in ADAPTERS:
        raise nova_exc.InvalidInput(
            reason='[powervm] disk_driver=%s is not available' % name)
    cls = importutils.import_class(ADAPTERS[name])
    return cls(adapter, host_uuid, mgmt_uuid, vioses=vioses)
