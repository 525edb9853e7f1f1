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
"""What one driver instance knows about its NovaLink host.

Built once by ``PowerVMDriver.init_host`` and handed to flows, tasks and
helpers, so that nothing reads host identity from module globals or
nova's process-wide host option (several computes can run in one
process).
"""

import dataclasses
import typing

from nova_powervm.virt.powervm import cache as pvm_cache


@dataclasses.dataclass
class HostContext:
    """The live state of a driver bound to one NovaLink host.

    :param host: the nova host name given to ``init_host``.
    :param adapter: the ``pypowervm.adapter.Adapter`` for the REST API.
    :param host_uuid: UUID of the ManagedSystem.
    :param mgmt_uuid: UUID of the NovaLink management partition.
    :param disk_dvr: the disk adapter (``disk.base.DiskAdapter``).
    :param shim: the host shim (``host_shim.HostShim``) for the operations
                 done on the NovaLink OS itself.
    :param virtapi: nova's ``VirtAPI`` (events, instance event waits).
    :param host_wrapper: callable returning a fresh ManagedSystem wrapper
                         (``pypowervm.wrappers.managed_system.System``).
    :param cache: the host's ``cache.HostCache``; a new one (seeded with
                  the media repository the disk adapter found) when None.
    """

    host: str
    adapter: typing.Any
    host_uuid: str
    mgmt_uuid: str
    disk_dvr: typing.Any
    shim: typing.Any
    virtapi: typing.Any
    host_wrapper: typing.Callable[[], typing.Any]
    cache: typing.Optional[pvm_cache.HostCache] = None
    #: the host's ``nvram.NvramManager``, or None without an NVRAM store.
    nvram: typing.Any = None

    def __post_init__(self):
        if self.cache is None:
            self.cache = pvm_cache.HostCache(self.host_uuid)
            repo = getattr(self.disk_dvr, 'media_repo', None)
            if repo:
                self.cache.remember_repo(*repo)
