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
"""PowerVM performance metrics (PCM) and the instance diagnostics.

The hypervisor's long-term monitor (LTM) writes a JSON sample every 30
seconds; the LTM feed lists the recent ones.  The ``phyp`` sample holds,
for every partition, cumulative processor cycles, its memory and the
counters of its virtual Ethernet adapters.  ``init_host`` turns the LTM
on (``enable_ltm``); ``diagnostics`` reads the feed and the newest phyp
sample: 2 round trips.

Disk counters are not in the phyp sample: PowerVM keeps them in the
Virtual I/O Servers' samples (one more GET per VIOS), so the diagnostics
report no disks yet.
"""

from nova.compute import power_state
from nova.objects import diagnostics as diag_obj
from oslo_log import log as logging
from oslo_utils import timeutils
from pypowervm.tasks.monitor import util as pvm_mon_util
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import monitor as pvm_mon
from pypowervm.wrappers.pcm import phyp as pvm_phyp

from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import media
from nova_powervm.virt.powervm import vif as pvm_vif
from nova_powervm.virt.powervm import vm

LOG = logging.getLogger(__name__)

#: ``hypervisor`` of the diagnostics.  (nova 34's ``driver`` enum and the
#: API's response schema know no PowerVM value, so ``driver`` stays unset.)
HYPERVISOR = 'powervm'
_PHYP = 'phyp'
_NS = 10 ** 9
# PHYP partition states and nova's power state names.
_STATES = {'running': 'running', 'not activated': 'shutdown',
           'starting': 'pending', 'shutting down': 'running',
           'error': 'crashed'}


def _pref_href(adapter, host_uuid):
    return adapter.build_href(pvm_ms.System.schema_type, root_id=host_uuid,
                              child_type=pvm_mon.PREFERENCES,
                              service=pvm_mon.PCM_SERVICE)


def enable_ltm(adapter, host_uuid):
    """Turn the long-term monitor on unless it is (1 GET, +1 POST).

    A host whose metrics cannot be turned on still works: diagnostics
    then carry no figures, and a warning says why.

    :param adapter: pypowervm ``Adapter``.
    :param host_uuid: UUID of the managed system.
    :returns: True when this call turned it on.
    """
    try:
        with errors.translate('enable performance metrics'):
            resp = adapter.read_by_href(_pref_href(adapter, host_uuid))
            pref = pvm_mon.PcmPref.wrap(resp)[0]
            if pref.ltm_enabled:
                return False
            pref.ltm_enabled = True
            pref.compute_ltm_enabled = False
            adapter.update(pref.entry.element, resp.etag,
                           pvm_ms.System.schema_type, root_id=host_uuid,
                           child_type=pvm_mon.PREFERENCES,
                           service=pvm_mon.PCM_SERVICE)
    except Exception as error:
        LOG.warning('Cannot turn the PowerVM long-term monitor on; '
                    'instance diagnostics will have no figures: %s', error)
        return False
    LOG.info('Turned the PowerVM long-term monitor on.')
    return True


def latest_phyp(adapter, host_uuid):
    """The newest phyp sample, or None (feed GET + sample GET).

    :param adapter: pypowervm ``Adapter``.
    :param host_uuid: UUID of the managed system.
    :returns: pypowervm ``PhypInfo`` or None when there is no sample yet
              (or the monitor is off: the feed answers 204).
    """
    with errors.translate('read performance metrics'):
        resp = adapter.read_by_path(adapter.build_path(
            pvm_mon.PCM_SERVICE, pvm_ms.System.schema_type,
            root_id=host_uuid, child_type=pvm_mon_util.RAW_METRICS,
            child_id=pvm_mon.LONG_TERM_MONITOR, xag=[]))
        if resp.status == 204 or resp.feed is None:
            return None
        entries = [m for m in pvm_mon.LTMMetrics.wrap(resp)
                   if m.category == _PHYP]
        if not entries:
            return None
        newest = max(entries, key=lambda m: m.updated_datetime)
        body = adapter.read_by_href(newest.link, xag=[]).body
    return pvm_phyp.PhypInfo(body)


def _sample_of(phyp, lpar_uuid):
    if phyp is None:
        return None
    for sample in phyp.sample.lpars:
        if (sample.uuid or '').upper() == lpar_uuid.upper():
            return sample
    return None


def _macs_by_vlan(instance):
    """MACs of the instance's SEA VIFs by VLAN (no REST)."""
    macs = {}
    for vif in instance.get_network_info() or ():
        details = vif.get('details') or {}
        meta = (vif.get('network') or {}).get('meta') or {}
        vlan = details.get('vlan', meta.get('vlan'))
        if vlan is not None and vif.get('address'):
            macs.setdefault(int(vlan), []).append(vif['address'])
    return macs


def _add_cpus(diags, sample, cycles_per_sec):
    proc = sample.processor
    if proc is None:
        return
    used = (proc.util_cap_proc_cycles or 0) + (
        proc.util_uncap_proc_cycles or 0)
    vcpus = max(int(proc.virt_procs or 1), 1)
    seconds = used / cycles_per_sec if cycles_per_sec else 0
    entitled = proc.entitled_proc_cycles or 0
    util = int(round(100.0 * used / entitled)) if entitled else None
    # PHYP counts cycles per partition, not per virtual processor: each
    # virtual processor gets an equal share of the partition's time.
    for cpu in range(vcpus):
        diags.add_cpu(id=cpu, time=int(seconds * _NS / vcpus),
                      utilisation=util)


def _add_nics(diags, sample, instance):
    if sample.network is None:
        return
    macs = _macs_by_vlan(instance)
    for vea in sample.network.veas:
        if vea.vlan_id == pvm_vif.MGMT_PVID:
            continue  # the RMC adapter is no nova interface
        found = macs.get(vea.vlan_id) or [None]
        diags.add_nic(mac_address=found.pop(0),
                      rx_octets=vea.received_bytes,
                      rx_packets=vea.received_packets,
                      rx_drop=vea.dropped_packets,
                      tx_octets=vea.sent_bytes,
                      tx_packets=vea.sent_packets)


def _uptime(instance):
    if not instance.launched_at:
        return None
    launched = timeutils.normalize_time(instance.launched_at)
    return int(max((timeutils.utcnow() - launched).total_seconds(), 0))


def diagnostics(ctx, instance):
    """nova ``Diagnostics`` of an instance from the newest phyp sample.

    2 round trips (LTM feed, phyp sample).  CPU (time and utilisation of
    the entitlement since the monitor started, shared evenly among the
    virtual processors), memory (maximum and backing physical memory, MB)
    and virtual Ethernet counters matched to the instance's ports by
    VLAN.  A partition the sample does not have yet (created within the
    last 30 seconds) gets nova's power state and no figures.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :returns: ``nova.objects.diagnostics.Diagnostics``.
    """
    phyp = latest_phyp(ctx.adapter, ctx.host_uuid)
    sample = _sample_of(phyp, vm.get_pvm_uuid(instance))
    if sample is not None:
        state = _STATES.get((sample.state or '').lower(), 'shutdown')
    else:
        state = power_state.STATE_MAP.get(instance.power_state, 'pending')
    diags = diag_obj.Diagnostics(
        state=state, hypervisor=HYPERVISOR,
        config_drive=media.required(instance), uptime=_uptime(instance))
    if sample is None:
        LOG.debug('No performance sample of the partition yet.',
                  instance=instance)
        return diags
    if sample.memory is not None:
        diags.memory_details = diag_obj.MemoryDiagnostics(
            maximum=sample.memory.logical_mem,
            used=sample.memory.backed_physical_mem)
    proc = phyp.sample.processor
    _add_cpus(diags, sample, proc.proc_cycles_per_sec if proc else None)
    _add_nics(diags, sample, instance)
    return diags
