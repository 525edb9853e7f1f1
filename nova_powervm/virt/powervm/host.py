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
"""The NovaLink host: discovery at start, then resources and traits.

``discover`` reads what ``init_host`` needs (ManagedSystem, VIOSes waited
for until active, management partition: 2-3 REST round trips).  The
reporting functions below it are pure functions of wrappers and numbers.

Units: PowerVM shares physical cores between partitions in processing
units; nova's VCPU inventory is the host's configurable cores and the
allocation ratio (nova's ``cpu_allocation_ratio``) says how many virtual
processors a core may carry.  Memory is in MB, disk in GB.
"""

import dataclasses
import math
import threading
import time

from nova import exception as nova_exc
from nova.objects import fields as obj_fields
import os_resource_classes as orc
import os_traits
from oslo_log import log as logging
from pypowervm.wrappers import base_partition as pvm_bp
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm import exception as exc
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import session

LOG = logging.getLogger(__name__)

# Seconds between VIOS readiness checks at start.
VIOS_POLL_INTERVAL = 5.0

HYPERVISOR_TYPE = obj_fields.HVType.PHYP
# nova stores an int; NovaLink 1.0.0.x -> 1
HYPERVISOR_VERSION = 1

SUPPORTED_INSTANCES = [
    (obj_fields.Architecture.PPC64, HYPERVISOR_TYPE, obj_fields.VMMode.HVM),
    (obj_fields.Architecture.PPC64LE, HYPERVISOR_TYPE,
     obj_fields.VMMode.HVM),
]

_ARCH_TRAITS = (os_traits.HW_ARCH_PPC64, os_traits.HW_ARCH_PPC64LE,
                os_traits.COMPUTE_ARCH_PPC64LE)
_CPU_TRAITS = {
    'POWER8': os_traits.HW_CPU_PPC64LE_POWER8,
    'POWER9': os_traits.HW_CPU_PPC64LE_POWER9,
}


@dataclasses.dataclass(frozen=True)
class Reserved:
    """What the platform partitions (NovaLink, VIOSes) and firmware take.

    :param cores: processing units of the NovaLink and VIOS partitions.
    :param memory_mb: their memory plus the hypervisor's.
    """

    cores: float = 0.0
    memory_mb: int = 0

    @property
    def vcpus(self):
        """Whole cores reserved (rounded up)."""
        return int(math.ceil(self.cores - 1e-9))


@dataclasses.dataclass
class Discovery:
    """What ``discover`` found.

    :param host_w: ManagedSystem wrapper.
    :param vioses: VIOS wrappers.
    :param mgmt_w: management partition wrapper (LPAR or VIOS).
    :param reserved: ``Reserved`` for the platform partitions.
    """

    host_w: object
    vioses: list
    mgmt_w: object
    reserved: Reserved


def get_host_wrapper(adapter):
    """The ManagedSystem wrapper (1 GET); primes ``adapter.sys_uuid``."""
    with errors.translate('read managed system'):
        systems = pvm_ms.System.get(adapter)
    if len(systems) != 1:
        raise exc.PowerVMAPIFailed(
            operation='read managed system',
            reason='expected one managed system, found %d' % len(systems))
    # pypowervm caches this lazily with one more GET; we have it already.
    session.prime_sys_uuid(adapter, systems[0].uuid)
    return systems[0]


def host_wrapper_getter(adapter):
    """A callable returning a fresh ManagedSystem wrapper (1 GET each)."""
    return lambda: get_host_wrapper(adapter)


def _vios_ready(vios_w):
    return vios_w.is_mgmt_partition or (
        vios_w.state == pvm_bp.LPARState.RUNNING
        and vios_w.rmc_state == pvm_bp.RMCState.ACTIVE)


def _vios_waiting(vios_w):
    """Running but without RMC yet: worth waiting for."""
    return (not _vios_ready(vios_w)
            and vios_w.state == pvm_bp.LPARState.RUNNING)


def _read_vioses(adapter):
    try:
        with errors.translate('read Virtual I/O Servers'):
            return pvm_vios.VIOS.get(adapter)
    except nova_exc.NovaException as error:
        LOG.warning('Cannot read the Virtual I/O Servers yet: %s',
                    errors.safe_text(error))
        return []


def wait_for_vioses(adapter, timeout, stop_event=None, clock=time.monotonic):
    """Wait until every running VIOS has RMC, or ``timeout`` seconds.

    1 GET per check; checks are ``VIOS_POLL_INTERVAL`` apart.

    :param adapter: pypowervm ``Adapter``.
    :param timeout: seconds to wait at most.
    :param stop_event: ``threading.Event`` that ends the wait early.
    :param clock: monotonic clock (tests).
    :returns: list of VIOS wrappers (at least one ready).
    :raises NoActiveVIOS: when none is ready in time.
    """
    stop_event = stop_event or threading.Event()
    deadline = clock() + timeout
    while True:
        vioses = _read_vioses(adapter)
        ready = [v for v in vioses if _vios_ready(v)]
        waiting = [v for v in vioses if _vios_waiting(v)]
        remaining = deadline - clock()
        if ready and (not waiting or remaining <= 0):
            if waiting:
                LOG.warning('VIOSes without RMC after %(t)d s: %(names)s',
                            {'t': timeout,
                             'names': ', '.join(v.name for v in waiting)})
            return vioses
        if remaining <= 0 or stop_event.wait(
                min(VIOS_POLL_INTERVAL, remaining)):
            raise exc.NoActiveVIOS(timeout=timeout)


def find_mgmt_partition(adapter, vioses):
    """The NovaLink management partition (0 or 1 GET).

    :param adapter: pypowervm ``Adapter``.
    :param vioses: VIOS wrappers already read (a VIOS may be it).
    :raises ManagementPartitionNotFound: unless exactly one is found.
    """
    found = [v for v in vioses if v.is_mgmt_partition]
    if not found:
        with errors.translate('read partitions'):
            found = [lpar for lpar in pvm_lpar.LPAR.get(adapter)
                     if lpar.is_mgmt_partition]
    if len(found) != 1:
        raise exc.ManagementPartitionNotFound(count=len(found))
    return found[0]


def discover(adapter, vios_timeout, stop_event=None):
    """Read what the driver needs at start (2-3 GETs when VIOSes are up).

    :param adapter: pypowervm ``Adapter``.
    :param vios_timeout: ``[powervm] vios_active_wait_timeout``.
    :param stop_event: ``threading.Event`` ending waits early.
    :returns: ``Discovery``.
    """
    host_w = get_host_wrapper(adapter)
    vioses = wait_for_vioses(adapter, vios_timeout, stop_event)
    mgmt_w = find_mgmt_partition(adapter, vioses)
    reserved = reserved_for_platform(host_w, [mgmt_w] + list(vioses))
    return Discovery(host_w=host_w, vioses=vioses, mgmt_w=mgmt_w,
                     reserved=reserved)


class Uptime:
    """Uptime of the NovaLink partition, read once and then counted on.

    ``init_host`` reads the management partition (it reads it anyway), so
    the uptime nova shows (``get_host_uptime`` and the resource stats of
    every periodic pass) costs no REST call.

    :param seconds: the partition's uptime when it was read.
    :param clock: monotonic clock (tests).
    """

    def __init__(self, seconds, clock=time.monotonic):
        self._clock = clock
        self._base = int(seconds or 0) - clock()

    def seconds(self):
        """Seconds since the NovaLink partition started."""
        return int(self._base + self._clock())

    def text(self):
        """``uptime``-like text: `` HH:MM:SS up D days, HH:MM``."""
        days, rest = divmod(self.seconds(), 86400)
        hours, rest = divmod(rest, 3600)
        now = time.strftime('%H:%M:%S')
        return ' %s up %d days, %2d:%02d' % (now, days, hours, rest // 60)


def partition_entitlement(part):
    """Processing units and memory (MB) a partition is entitled to.

    :param part: pypowervm ``LPAR`` or ``VIOS`` wrapper.
    :returns: ``(cores, memory_mb)``.
    """
    proc = part.proc_config
    if proc.has_dedicated:
        cores = float(proc.dedicated_proc_cfg.desired)
    else:
        cores = float(proc.shared_proc_cfg.desired_units)
    return cores, int(part.mem_config.desired)


def reserved_for_platform(host_w, platform_parts):
    """What nova must not hand out: NovaLink, VIOSes and hypervisor memory.

    :param host_w: pypowervm ``System`` wrapper.
    :param platform_parts: wrappers of the management partition and the
                           VIOSes (the same partition listed twice counts
                           once).
    :returns: ``Reserved``.
    """
    seen = {}
    for part in platform_parts:
        seen[part.uuid] = part
    cores = 0.0
    mem = int(host_w.firmware_memory or 0)
    for part in seen.values():
        part_cores, part_mem = partition_entitlement(part)
        cores += part_cores
        mem += part_mem
    return Reserved(cores=cores, memory_mb=mem)


def available_resources(host_w, hostname, disk_total_gb, disk_used_gb,
                        host_ip=None):
    """The dict nova's ``get_available_resource`` returns.

    :param host_w: pypowervm ``System`` wrapper.
    :param hostname: the nova node name.
    :param disk_total_gb: capacity of the disk adapter.
    :param disk_used_gb: space used on it.
    :param host_ip: the host IP nova reports.
    :returns: dict with every key nova requires.
    """
    cores_total = float(host_w.proc_units_configurable)
    cores_free = float(host_w.proc_units_avail)
    mem_total = int(host_w.memory_configurable)
    mem_free = int(host_w.memory_free)
    disk_total = int(disk_total_gb)
    disk_used = int(math.ceil(disk_used_gb))
    return {
        'vcpus': int(cores_total),
        'vcpus_used': int(math.ceil(cores_total - cores_free - 1e-9)),
        'memory_mb': mem_total,
        'memory_mb_used': mem_total - mem_free,
        'local_gb': disk_total,
        'local_gb_used': disk_used,
        'disk_available_least': max(disk_total - disk_used, 0),
        'hypervisor_type': HYPERVISOR_TYPE,
        'hypervisor_version': HYPERVISOR_VERSION,
        'hypervisor_hostname': hostname,
        'cpu_info': '',
        'numa_topology': None,
        'supported_instances': SUPPORTED_INSTANCES,
        'host_ip': host_ip,
        'stats': {
            'proc_units': '%.2f' % cores_total,
            'proc_units_used': '%.2f' % (cores_total - cores_free),
            'memory_region_size': int(host_w.memory_region_size or 0),
            'system_name': host_w.system_name,
        },
    }


def inventory(resources, reserved, ratios, reserved_disk_gb=0,
              reserved_host_cpus=0, reserved_host_memory_mb=0):
    """Placement inventory of the compute node provider.

    :param resources: dict from ``available_resources``.
    :param reserved: ``Reserved`` for the platform partitions.
    :param ratios: ``{resource class: allocation ratio}`` from nova.
    :param reserved_disk_gb: nova's ``reserved_host_disk_mb`` in GB.
    :param reserved_host_cpus: nova's ``reserved_host_cpus``.
    :param reserved_host_memory_mb: nova's ``reserved_host_memory_mb``.
    :returns: dict for ``ProviderTree.update_inventory``; a resource with
              no capacity is left out (placement refuses total 0).
    """
    rows = {
        orc.VCPU: (resources['vcpus'],
                   max(reserved.vcpus, reserved_host_cpus)),
        orc.MEMORY_MB: (resources['memory_mb'],
                        max(reserved.memory_mb, reserved_host_memory_mb)),
        orc.DISK_GB: (resources['local_gb'], reserved_disk_gb),
    }
    inv = {}
    for rclass, (total, held) in rows.items():
        if total <= 0:
            continue
        inv[rclass] = {
            'total': total,
            'reserved': min(held, total),
            'min_unit': 1,
            'max_unit': total,
            'step_size': 1,
            'allocation_ratio': ratios[rclass],
        }
    return inv


def traits(host_w):
    """Architecture and CPU traits of the host.

    :param host_w: pypowervm ``System`` wrapper.
    :returns: set of trait names.
    """
    found = set(_ARCH_TRAITS)
    modes = set(host_w.proc_compat_modes or ())
    for mode, trait in _CPU_TRAITS.items():
        if mode in modes:
            found.add(trait)
    return found


def managed_traits():
    """Every trait ``traits`` may report (to remove stale ones)."""
    return set(_ARCH_TRAITS) | set(_CPU_TRAITS.values())
