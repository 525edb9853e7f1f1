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

Disk counters are not in the phyp sample: it only names the partition's
client storage adapters, and the Virtual I/O Servers' samples carry their
counters.  ``diagnostics`` reads, besides, the sample of each VIOS that
serves the partition's disks (1 for a partition on one VIOS), and none for
a partition without disks.  The reading and joining is
``nova_powervm.telemetry.stats``, which the ceilometer pollsters share.
"""

from nova.compute import power_state
from nova.objects import diagnostics as diag_obj
from oslo_log import log as logging
from oslo_utils import timeutils
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import monitor as pvm_mon

from nova_powervm.telemetry import stats as pvm_stats
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import media
from nova_powervm.virt.powervm import vif as pvm_vif
from nova_powervm.virt.powervm import vm

LOG = logging.getLogger(__name__)

#: ``hypervisor`` of the diagnostics.  (nova 34's ``driver`` enum and the
#: API's response schema know no PowerVM value, so ``driver`` stays unset.)
HYPERVISOR = 'powervm'
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


def lpar_stats(adapter, host_uuid, lpar_uuid):
    """The newest figures of one partition, or None.

    2 GETs (LTM feed, phyp sample), +1 per VIOS serving the partition's
    disks.

    :param adapter: pypowervm ``Adapter``.
    :param host_uuid: UUID of the managed system.
    :param lpar_uuid: PowerVM UUID of the partition.
    :returns: ``nova_powervm.telemetry.stats.LparStats`` or None when there
              is no sample yet (or the monitor is off: the feed answers
              204), or the sample does not have the partition.
    """
    with errors.translate('read performance metrics'):
        sample = pvm_stats.read(adapter, host_uuid, lpar_uuids=[lpar_uuid],
                                rmc=False)
    return pvm_stats.lpar_stats(sample, lpar_uuid)


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


def _add_cpus(diags, figures):
    # PHYP counts cycles per partition, not per virtual processor: each
    # virtual processor gets an equal share of the partition's time.
    util = int(round(figures.cpu_util))
    for cpu in range(figures.vcpus):
        diags.add_cpu(id=cpu, time=figures.cpu_time_ns // figures.vcpus,
                      utilisation=util)


def _add_nics(diags, figures, instance):
    macs = _macs_by_vlan(instance)
    for nic in figures.nics:
        if nic.vlan == pvm_vif.MGMT_PVID:
            continue  # the RMC adapter is no nova interface
        found = macs.get(nic.vlan) or [None]
        diags.add_nic(mac_address=found.pop(0),
                      rx_octets=nic.rx_bytes, rx_packets=nic.rx_packets,
                      rx_drop=nic.rx_drop, rx_errors=nic.rx_errors,
                      tx_octets=nic.tx_bytes, tx_packets=nic.tx_packets,
                      tx_drop=nic.tx_drop, tx_errors=nic.tx_errors)


def _add_disks(diags, figures):
    for disk in figures.disks:
        diags.add_disk(read_bytes=disk.read_bytes,
                       read_requests=disk.read_requests,
                       write_bytes=disk.write_bytes,
                       write_requests=disk.write_requests)


def _uptime(instance):
    if not instance.launched_at:
        return None
    launched = timeutils.normalize_time(instance.launched_at)
    return int(max((timeutils.utcnow() - launched).total_seconds(), 0))


def diagnostics(ctx, instance):
    """nova ``Diagnostics`` of an instance from the newest PCM sample.

    2 round trips (LTM feed, phyp sample), +1 per VIOS serving the
    instance's disks.  CPU (time and utilisation of the entitlement since
    the monitor started, shared evenly among the virtual processors),
    memory (maximum and backing physical memory, MB), virtual Ethernet
    counters matched to the instance's ports by VLAN, and one disk entry
    per client storage adapter (vSCSI: all the disks behind it; virtual
    FC: its port).  A partition the sample does not have yet (created
    within the last 30 seconds) gets nova's power state and no figures.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :returns: ``nova.objects.diagnostics.Diagnostics``.
    """
    figures = lpar_stats(ctx.adapter, ctx.host_uuid,
                         vm.get_pvm_uuid(instance))
    if figures is not None:
        state = _STATES.get((figures.state or '').lower(), 'shutdown')
    else:
        state = power_state.STATE_MAP.get(instance.power_state, 'pending')
    diags = diag_obj.Diagnostics(
        state=state, hypervisor=HYPERVISOR,
        config_drive=media.required(instance), uptime=_uptime(instance))
    if figures is None:
        LOG.debug('No performance sample of the partition yet.',
                  instance=instance)
        return diags
    if figures.memory_mb is not None:
        diags.memory_details = diag_obj.MemoryDiagnostics(
            maximum=figures.memory_mb, used=figures.memory_backed_mb)
    _add_cpus(diags, figures)
    _add_nics(diags, figures, instance)
    _add_disks(diags, figures)
    return diags
