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
"""Ceilometer compute pollsters for PowerVM, with their PCM inspector.

Ceilometer 27 loads one hypervisor inspector only, chosen by the
deprecated ``[DEFAULT] hypervisor_inspector`` option, whose only choice
is ``libvirt``.  So these pollsters bring their own inspector: they are
ceilometer's own compute pollster classes (the same meter names, units,
types, resource ids and metadata), registered under the
``ceilometer.poll.compute`` entry point with names of their own
(``powervm.cpu``, ``powervm.network.incoming.bytes``, ...), whose
``setup_environment`` hands them one ``PowerVMInspector`` per process.
An operator selects them in ``polling.yaml`` (``meters: [powervm.*]``).

The inspector logs on to the NovaLink REST API with the ``[powervm]``
connection options of nova-compute (the same names, registered in
ceilometer's configuration), reads the long-term monitor's newest sample
(``nova_powervm.telemetry.stats``) at most once per ``pcm_refresh``
seconds, and answers every instance of the poll from it.

This module imports ceilometer, never nova: the polling agent runs in
ceilometer's own virtualenv.
"""

import threading
import time

from ceilometer.compute.pollsters import disk as ceilo_disk
from ceilometer.compute.pollsters import instance_stats as ceilo_stats
from ceilometer.compute.pollsters import net as ceilo_net
from ceilometer.compute.virt import inspector as virt_inspector
from ceilometer.polling import plugin_base
from oslo_log import log as logging
from pypowervm import adapter as pvm_adpt
from pypowervm.utils import uuid as pvm_uuid
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import network as pvm_net

from nova_powervm.telemetry import conf as pvm_conf
from nova_powervm.telemetry import stats

LOG = logging.getLogger(__name__)
_RUNNING = 'running'


class _Session(pvm_adpt.Session):
    """pypowervm Session that verifies TLS with a CA bundle when given."""

    def __init__(self, ca_bundle=None, **kwargs):
        self._ca_bundle = ca_bundle
        super().__init__(**kwargs)

    def request(self, method, path, *args, **kwargs):
        if self._ca_bundle and self.protocol == 'https':
            kwargs['verify'] = self._ca_bundle
        return super().request(method, path, *args, **kwargs)


class PowerVMStats(virt_inspector.InstanceStats):
    """ceilometer's ``InstanceStats`` plus the CPU utilisation."""

    fields = virt_inspector.InstanceStats.fields + ['cpu_util']


class PowerVMInspector(virt_inspector.Inspector):
    """Answers ceilometer's inspector calls from PCM samples.

    :param conf: ceilometer's ``ConfigOpts`` (with ``[powervm]``).
    :param clock: monotonic clock (tests).
    """

    def __init__(self, conf, clock=time.monotonic):
        super().__init__(conf)
        pvm_conf.register_opts(conf)
        self._clock = clock
        self._lock = threading.Lock()
        self._adapter = None
        self._host_uuid = None
        self._sample = None
        self._previous = None
        self._read_at = None
        self._error = None

    def _connect(self):
        grp = self.conf.powervm
        where = '%s:%s' % (grp.pvm_host, grp.pvm_port or 'default port')
        try:
            session = _Session(
                ca_bundle=grp.pvm_certpath, host=grp.pvm_host,
                username=grp.pvm_user, password=grp.pvm_password,
                protocol=grp.pvm_protocol, port=grp.pvm_port,
                certpath=None, conn_tries=1)
            adapter = pvm_adpt.Adapter(session)
            host = pvm_ms.System.get(adapter)[0]
        except Exception as error:
            # Only the error's type: the password is in no pypowervm error,
            # but nothing else here needs to be trusted with it either.
            raise virt_inspector.NoDataException(
                'cannot log on to the NovaLink REST API at %s (%s)'
                % (where, type(error).__name__))
        LOG.info('PowerVM pollsters logged on to the NovaLink REST API at '
                 '%s.', where)
        self._adapter, self._host_uuid = adapter, host.uuid

    def _current(self):
        """The newest sample (read at most once per ``pcm_refresh``).

        A failure is remembered as long as a sample would be: one poll of
        every meter and instance makes one attempt, not one each.
        """
        with self._lock:
            now = self._clock()
            if (self._read_at is not None
                    and now - self._read_at < self.conf.powervm.pcm_refresh):
                if self._error is not None:
                    raise self._error
                return self._sample, self._previous
            self._read_at, self._error = now, None
            try:
                if self._adapter is None:
                    self._connect()
                try:
                    sample = stats.read(self._adapter, self._host_uuid)
                except Exception as error:
                    self.close()  # log on again next time
                    raise virt_inspector.NoDataException(
                        'cannot read the PowerVM performance metrics (%s)'
                        % type(error).__name__)
            except virt_inspector.NoDataException as error:
                self._error = error
                raise
            if (self._sample is not None and sample is not None
                    and sample.time > self._sample.time):
                self._previous = self._sample
            self._sample = sample
            return self._sample, self._previous

    def close(self):
        """Log off (best effort); the next read logs on again."""
        adapter, self._adapter = self._adapter, None
        if adapter is not None:
            try:
                adapter.session._logoff()
            except Exception as error:
                LOG.debug('PowerVM log off failed: %s', error)

    def _figures(self, instance, need_running=True):
        lpar_uuid = pvm_uuid.convert_uuid_to_pvm(instance.id).upper()
        sample, previous = self._current()
        if sample is None:
            raise virt_inspector.NoDataException(
                'The PowerVM long-term monitor has no sample: nova-compute '
                'turns it on at start, and it samples every 30 seconds.')
        figures = stats.lpar_stats(sample, lpar_uuid)
        if figures is None:
            raise virt_inspector.InstanceNotFoundException(
                'No partition %s in the PowerVM performance sample'
                % lpar_uuid)
        if need_running and (figures.state or '').lower() != _RUNNING:
            raise virt_inspector.InstanceShutOffException(
                'Partition %s is %s' % (lpar_uuid, figures.state))
        return figures, stats.lpar_stats(previous, lpar_uuid)

    def inspect_instance(self, instance, duration=None):
        figures, _prev = self._figures(instance)
        return PowerVMStats(
            cpu_number=figures.vcpus, cpu_time=figures.cpu_time_ns,
            cpu_util=figures.cpu_util, memory_actual=figures.memory_mb,
            memory_usage=figures.memory_used_mb)

    def _macs(self, lpar_uuid):
        """MAC address of each client network adapter by location code."""
        try:
            cnas = pvm_net.CNA.get(self._adapter, parent_type=pvm_lpar.LPAR,
                                   parent_uuid=lpar_uuid)
        except Exception as error:
            LOG.debug('No MAC addresses of %s: %s', lpar_uuid, error)
            return {}
        return {cna.loc_code: _mac(cna.mac) for cna in cnas}

    def inspect_vnics(self, instance, duration=None):
        figures, _prev = self._figures(instance)
        macs = self._macs(figures.uuid)
        for nic in _nova_nics(figures):
            yield virt_inspector.InterfaceStats(
                name=_nic_name(nic), mac=macs.get(nic.location), fref=None,
                parameters={'vlan': nic.vlan, 'location': nic.location},
                rx_bytes=nic.rx_bytes, tx_bytes=nic.tx_bytes,
                rx_packets=nic.rx_packets, tx_packets=nic.tx_packets,
                rx_drop=nic.rx_drop, tx_drop=nic.tx_drop,
                rx_errors=nic.rx_errors, tx_errors=nic.tx_errors,
                rx_bytes_delta=None, tx_bytes_delta=None)

    def inspect_vnic_rates(self, instance, duration=None):
        figures, previous = self._figures(instance)
        if previous is None:
            raise virt_inspector.NoDataException(
                'Rates need two PowerVM performance samples.')
        seconds = (figures.time - previous.time).total_seconds()
        before = {nic.location: nic for nic in previous.nics}
        macs = self._macs(figures.uuid)
        for nic in _nova_nics(figures):
            old = before.get(nic.location)
            if old is None or seconds <= 0:
                continue
            yield virt_inspector.InterfaceRateStats(
                name=_nic_name(nic), mac=macs.get(nic.location), fref=None,
                parameters={'vlan': nic.vlan, 'location': nic.location},
                rx_bytes_rate=(nic.rx_bytes - old.rx_bytes) / seconds,
                tx_bytes_rate=(nic.tx_bytes - old.tx_bytes) / seconds)

    def inspect_disks(self, instance, duration=None):
        figures, _prev = self._figures(instance)
        for disk in figures.disks:
            yield virt_inspector.DiskStats(
                device=_disk_name(disk), read_bytes=disk.read_bytes,
                read_requests=disk.read_requests,
                write_bytes=disk.write_bytes,
                write_requests=disk.write_requests, errors=0,
                wr_total_times=None, rd_total_times=None)


def _nova_nics(figures):
    """The adapters of nova's ports: all but the RMC management one."""
    return [nic for nic in figures.nics if nic.vlan != stats.MGMT_PVID]


def _mac(raw):
    raw = (raw or '').lower().replace(':', '')
    return ':'.join(raw[i:i + 2] for i in range(0, len(raw), 2)) or None


def _slot(location):
    """``V4-C3`` of ``U8247.22L.2125D4A-V4-C3`` (unique on the host)."""
    parts = (location or '').split('-')
    return '-'.join(parts[-2:]) if len(parts) >= 3 else location


def _nic_name(nic):
    return 'pvm-%s' % _slot(nic.location)


def _disk_name(disk):
    return '%s-%s' % (disk.kind, _slot(disk.location))


_INSPECTOR = {}
_INSPECTOR_LOCK = threading.Lock()


def inspector(conf):
    """The process's one ``PowerVMInspector`` for ``conf``.

    :param conf: ceilometer's ``ConfigOpts``.
    """
    with _INSPECTOR_LOCK:
        found = _INSPECTOR.get(id(conf))
        if found is None or found.conf is not conf:
            found = _INSPECTOR[id(conf)] = PowerVMInspector(conf)
        return found


def close_all():
    """Log every inspector of the process off and forget them."""
    with _INSPECTOR_LOCK:
        found = list(_INSPECTOR.values())
        _INSPECTOR.clear()
    for each in found:
        each.close()


class _PowerVMPollster(object):
    """Gives a ceilometer compute pollster the PowerVM inspector.

    ``GenericComputePollster.setup_environment`` would look up (and cache
    on the base class, for every compute pollster) the configured
    hypervisor inspector; this one skips that lookup.
    """

    def setup_environment(self):
        plugin_base.PollsterBase.setup_environment(self)
        self.inspector = inspector(self.conf)


class CPUPollster(_PowerVMPollster, ceilo_stats.CPUPollster):
    pass


class CPUUtilPollster(_PowerVMPollster, ceilo_stats.InstanceStatsPollster):
    """``cpu_util``: utilisation of the partition's entitlement, in %."""

    sample_name = 'cpu_util'
    sample_unit = '%'
    sample_stats_key = 'cpu_util'


class VCPUsPollster(_PowerVMPollster, ceilo_stats.VCPUsPollster):
    pass


class MemoryPollster(_PowerVMPollster, ceilo_stats.MemoryPollster):
    pass


class MemoryUsagePollster(_PowerVMPollster, ceilo_stats.MemoryUsagePollster):
    pass


class IncomingBytesPollster(_PowerVMPollster, ceilo_net.IncomingBytesPollster):
    pass


class IncomingPacketsPollster(_PowerVMPollster,
                              ceilo_net.IncomingPacketsPollster):
    pass


class OutgoingBytesPollster(_PowerVMPollster, ceilo_net.OutgoingBytesPollster):
    pass


class OutgoingPacketsPollster(_PowerVMPollster,
                              ceilo_net.OutgoingPacketsPollster):
    pass


class IncomingDropPollster(_PowerVMPollster, ceilo_net.IncomingDropPollster):
    pass


class OutgoingDropPollster(_PowerVMPollster, ceilo_net.OutgoingDropPollster):
    pass


class IncomingErrorsPollster(_PowerVMPollster,
                             ceilo_net.IncomingErrorsPollster):
    pass


class OutgoingErrorsPollster(_PowerVMPollster,
                             ceilo_net.OutgoingErrorsPollster):
    pass


class IncomingBytesRatePollster(_PowerVMPollster,
                                ceilo_net.IncomingBytesRatePollster):
    pass


class OutgoingBytesRatePollster(_PowerVMPollster,
                                ceilo_net.OutgoingBytesRatePollster):
    pass


class ReadBytesPollster(_PowerVMPollster,
                        ceilo_disk.PerDeviceReadBytesPollster):
    pass


class ReadRequestsPollster(_PowerVMPollster,
                           ceilo_disk.PerDeviceReadRequestsPollster):
    pass


class WriteBytesPollster(_PowerVMPollster,
                         ceilo_disk.PerDeviceWriteBytesPollster):
    pass


class WriteRequestsPollster(_PowerVMPollster,
                            ceilo_disk.PerDeviceWriteRequestsPollster):
    pass
