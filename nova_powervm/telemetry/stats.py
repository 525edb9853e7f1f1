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
"""Per-partition figures from the PCM long-term monitor (no nova here).

The long-term monitor (LTM) writes, every 30 seconds, one JSON document
per source, all listed in one Atom feed:

* ``phyp``: per partition, cumulative processor cycles, memory, virtual
  Ethernet counters, and *which* client storage adapters it has (VIOS id
  and server slot for vSCSI, WWPNs for virtual FC);
* ``vios_<id>``: the counters of that VIOS's adapters, among them the
  vSCSI server adapters (``vhostN``) and the virtual FC ports;
* ``lpar``: each partition's own memory view, through RMC.

``read`` fetches the feed and the newest documents (1 GET each);
``lpar_stats`` joins them into an ``LparStats`` for one partition.
"""

import dataclasses
import datetime

from pypowervm import adapter as pvm_adpt
from pypowervm.tasks.monitor import util as pvm_mon_util
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import monitor as pvm_mon
from pypowervm.wrappers.pcm import lpar as pvm_lpar
from pypowervm.wrappers.pcm import phyp as pvm_phyp
from pypowervm.wrappers.pcm import vios as pvm_vios

PHYP = 'phyp'
LPAR = 'lpar'
VIOS_PREFIX = 'vios_'
NS = 10 ** 9
#: Seconds between two LTM samples.
INTERVAL = 30
#: The PVID of the driver's RMC management adapter, which is no nova
#: interface (``nova_powervm.virt.powervm.vif.MGMT_PVID``; not imported:
#: that module needs nova).
MGMT_PVID = 4094


@dataclasses.dataclass
class Nic:
    """Counters of one virtual Ethernet adapter of a partition.

    ``vlan`` is None for an SR-IOV logical port.
    """

    location: str
    vlan: int
    rx_bytes: int
    tx_bytes: int
    rx_packets: int
    tx_packets: int
    rx_drop: int
    rx_errors: int = 0
    tx_errors: int = 0
    tx_drop: int = 0


@dataclasses.dataclass
class Disk:
    """Counters of one client storage adapter (vSCSI or virtual FC).

    ``location`` is the client adapter's location code (the partition
    side); the counters come from the VIOS's server adapter or port.
    """

    location: str
    kind: str
    read_requests: int
    read_bytes: int
    write_requests: int
    write_bytes: int


@dataclasses.dataclass
class LparStats:
    """What one sample says about one partition."""

    uuid: str
    name: str
    state: str
    time: datetime.datetime
    vcpus: int
    cpu_time_ns: int
    cpu_util: float
    memory_mb: int
    memory_backed_mb: int
    memory_used_mb: int = None
    nics: list = dataclasses.field(default_factory=list)
    disks: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Sample:
    """The newest documents of one sample time."""

    time: datetime.datetime
    phyp: pvm_phyp.PhypInfo
    vioses: dict
    lpars: pvm_lpar.LparInfo = None


def _feed(adapter, host_uuid):
    resp = adapter.read_by_path(pvm_adpt.Adapter.build_path(
        pvm_mon.PCM_SERVICE, pvm_ms.System.schema_type, root_id=host_uuid,
        child_type=pvm_mon_util.RAW_METRICS,
        child_id=pvm_mon.LONG_TERM_MONITOR, xag=[]))
    if resp.status == 204 or resp.feed is None:
        return []
    return pvm_mon.LTMMetrics.wrap(resp)


def _newest(entries, category):
    found = [m for m in entries if m.category == category]
    return max(found, key=lambda m: m.updated_datetime) if found else None


def _vios_ids(phyp, lpar_uuids):
    ids = set()
    for lpar in phyp.sample.lpars:
        if (lpar.uuid or '').upper() not in lpar_uuids or not lpar.storage:
            continue
        ids.update(a.vios_id for a in lpar.storage.v_stor_adpts)
        ids.update(a.vios_id for a in lpar.storage.v_fc_adpts)
    return {int(i) for i in ids if i is not None}


def read(adapter, host_uuid, lpar_uuids=None, rmc=True):
    """The newest sample: 2 GETs, +1 per VIOS read, +1 for RMC data.

    :param adapter: pypowervm ``Adapter``.
    :param host_uuid: UUID of the managed system.
    :param lpar_uuids: when given, only the VIOS documents that hold these
                       partitions' storage counters are read; None reads
                       every VIOS document.
    :param rmc: whether to read the ``lpar`` (RMC memory) document.
    :returns: ``Sample``, or None when the monitor has no sample (it is
              off, or was turned on less than 30 seconds ago).
    """
    entries = _feed(adapter, host_uuid)
    newest = _newest(entries, PHYP)
    if newest is None:
        return None
    phyp = pvm_phyp.PhypInfo(adapter.read_by_href(newest.link, xag=[]).body)
    wanted = None
    if lpar_uuids is not None:
        wanted = _vios_ids(phyp, {u.upper() for u in lpar_uuids})
    vioses = {}
    for entry in entries:
        if (not entry.category.startswith(VIOS_PREFIX)
                or entry.updated_datetime != newest.updated_datetime):
            continue
        vid = entry.category[len(VIOS_PREFIX):]
        if wanted is not None and (not vid.isdigit()
                                   or int(vid) not in wanted):
            continue
        info = pvm_vios.ViosInfo(
            adapter.read_by_href(entry.link, xag=[]).body)
        vioses[info.sample.id] = info
    lpars = None
    rmc_entry = _newest(entries, LPAR) if rmc else None
    if rmc_entry is not None:
        lpars = pvm_lpar.LparInfo(
            adapter.read_by_href(rmc_entry.link, xag=[]).body)
    return Sample(time=newest.updated_datetime, phyp=phyp, vioses=vioses,
                  lpars=lpars)


def _wwpn(value):
    if isinstance(value, str):
        return int(value.replace(':', ''), 16)
    return int(value)


def _vscsi_counters(vios, slot):
    storage = vios.sample.storage if vios is not None else None
    suffix = '-C%d' % int(slot)
    for adpt in (storage.virt_adpts if storage else ()):
        if (adpt.physical_location or '').endswith(suffix):
            return adpt
    return None


def _vfc_counters(vios, wwpns):
    storage = vios.sample.storage if vios is not None else None
    wanted = {_wwpn(w) for w in wwpns}
    for port in (storage.fc_adpts if storage else ()):
        for vfc in port.ports or ():
            if vfc.wwpn is not None and _wwpn(vfc.wwpn) in wanted:
                return vfc
    return None


def _disks(sample, storage):
    disks = []
    if storage is None:
        return disks
    for adpt in storage.v_stor_adpts:
        counters = _vscsi_counters(sample.vioses.get(adpt.vios_id),
                                   adpt.vios_slot)
        if counters is not None:
            disks.append(_disk(adpt.physical_location, 'vscsi', counters))
    for adpt in storage.v_fc_adpts:
        counters = _vfc_counters(sample.vioses.get(adpt.vios_id),
                                 adpt.wwpn_pair)
        if counters is not None:
            disks.append(_disk(adpt.physical_location, 'vfc', counters))
    return disks


def _disk(location, kind, counters):
    return Disk(location=location, kind=kind,
                read_requests=counters.num_reads or 0,
                read_bytes=counters.read_bytes or 0,
                write_requests=counters.num_writes or 0,
                write_bytes=counters.write_bytes or 0)


def _nics(network):
    nics = []
    for vea in (network.veas if network else ()):
        nics.append(Nic(location=vea.physical_location, vlan=vea.vlan_id,
                        rx_bytes=vea.received_bytes or 0,
                        tx_bytes=vea.sent_bytes or 0,
                        rx_packets=vea.received_packets or 0,
                        tx_packets=vea.sent_packets or 0,
                        rx_drop=vea.dropped_packets or 0))
    for port in (network.sriov_ports if network else ()):
        # (pypowervm spells the received bytes attribute "recevied".)
        nics.append(Nic(location=port.physical_location, vlan=None,
                        rx_bytes=getattr(port, 'recevied_bytes', 0) or 0,
                        tx_bytes=port.sent_bytes or 0,
                        rx_packets=port.received_packets or 0,
                        tx_packets=port.sent_packets or 0,
                        rx_drop=port.dropped_received_packets or 0,
                        tx_drop=port.dropped_sent_packets or 0,
                        rx_errors=port.error_in or 0,
                        tx_errors=port.error_out or 0))
    return nics


def _memory_used(sample, lpar_uuid, logical_mb):
    if sample.lpars is None:
        return None
    rmc = sample.lpars.find(lpar_uuid)
    if rmc is None:
        for util in sample.lpars.lpars_util:
            if (util.uuid or '').upper() == lpar_uuid.upper():
                rmc = util
    free = rmc.memory.pct_real_mem_free if rmc is not None else None
    if free is None or logical_mb is None:
        return None
    return int(round(logical_mb * (100 - free) / 100.0))


def lpar_stats(sample, lpar_uuid):
    """The figures of one partition, or None when the sample lacks it.

    CPU time is the partition's used cycles (capped and uncapped) over the
    processor's cycles per second; utilisation is used over entitled
    cycles, in percent (above 100 when uncapped capacity was borrowed).

    :param sample: ``Sample`` from ``read``.
    :param lpar_uuid: PowerVM UUID of the partition.
    :returns: ``LparStats`` or None.
    """
    if sample is None:
        return None
    found = None
    for lpar in sample.phyp.sample.lpars:
        if (lpar.uuid or '').upper() == lpar_uuid.upper():
            found = lpar
    if found is None:
        return None
    proc = found.processor
    per_sec = (sample.phyp.sample.processor.proc_cycles_per_sec
               if sample.phyp.sample.processor else None)
    used = entitled = 0
    vcpus = 1
    if proc is not None:
        used = (proc.util_cap_proc_cycles or 0) + (
            proc.util_uncap_proc_cycles or 0)
        entitled = proc.entitled_proc_cycles or 0
        vcpus = max(int(proc.virt_procs or 1), 1)
    mem = found.memory
    logical = mem.logical_mem if mem is not None else None
    return LparStats(
        uuid=found.uuid, name=found.name, state=found.state,
        time=sample.time, vcpus=vcpus,
        cpu_time_ns=int(used * NS / per_sec) if per_sec else 0,
        cpu_util=round(100.0 * used / entitled, 2) if entitled else 0.0,
        memory_mb=logical,
        memory_backed_mb=mem.backed_physical_mem if mem is not None else None,
        memory_used_mb=_memory_used(sample, lpar_uuid, logical),
        nics=_nics(found.network), disks=_disks(sample, found.storage))
