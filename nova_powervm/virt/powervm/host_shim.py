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
"""Operations done on the NovaLink operating system rather than over REST.

pypowervm runs ``mkvterm``/``rmvterm`` on the NovaLink partition to open
and close the VNC terminal of a partition, and a snapshot reads a disk
that the management partition sees as a block device.  ``LocalShim`` does
exactly that; ``SimulatorShim`` asks the NovaLink REST simulator's
``/sim/host/`` endpoints instead, so the rest of the driver is the same in
both cases.  ``[powervm] host_shim`` picks one (``get_shim``).
"""

import abc
import contextlib
import dataclasses
import glob
import json
import os
import re
import time
import typing

from nova.console import type as ctype
from nova import exception as nova_exc
from oslo_concurrency import processutils
from oslo_config import cfg
from oslo_log import log as logging
from pypowervm.tasks import vterm as pvm_vterm
import requests

from nova_powervm import exception as exc
from nova_powervm.virt.powervm import errors

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Seconds allowed to one simulator shim HTTP request.
SIM_TIMEOUT = 10
# Seconds a mapped disk may take to appear as a block device, and to go.
DEVICE_TIMEOUT = 300
DEVICE_GONE_TIMEOUT = 30
DEVICE_POLL = 0.25
# Bytes per read of a disk.  Devices are opened unbuffered: a buffered
# reader copies every large read once more (about 15 times slower).
CHUNK = 1024 * 1024
# Bytes the kernel is asked to read ahead of the reader (asynchronously):
# the disk keeps reading while the chunk just read goes to the image
# service.
READ_AHEAD = 16 * 1024 * 1024
# Virtual SCSI client adapters show in sysfs as 0x30000000 + slot number.
_VSCSI_SLOT_BASE = 0x30000000
# Seconds a new trunk adapter's network device may take to appear.
NETDEV_TIMEOUT = 60
# Seconds ovs-vsctl may wait for the OVS database.
OVS_TIMEOUT = 120


@dataclasses.dataclass
class DiskDevice:
    """A disk the management partition can read, and how to find it.

    :param udid: UniqueDeviceID of the storage (VDisk, LU...).
    :param name: the storage's name (messages).
    :param size: bytes to read (the disk's capacity).
    :param backing_path: ``ServerAdapter/BackingDeviceName`` when the
                         management partition is the VIOS that serves the
                         disk: the device is local to it.
    :param client_slot: virtual slot number of the management partition's
                        client adapter when the disk was mapped to it.
    """

    udid: str
    name: str
    size: int
    backing_path: typing.Optional[str] = None
    client_slot: typing.Optional[int] = None


class DiskReader:
    """A read-only file of the first ``size`` bytes of a device.

    Read in chunks (``read(n)`` or iteration), never whole.  ``short``
    turns true when the device ended before ``size`` bytes.

    :param fil: the open binary file.
    :param size: bytes to serve.
    :param chunk: bytes per iteration step.
    """

    def __init__(self, fil, size, chunk=CHUNK):
        self._fil = fil
        self.size = size
        self.left = size
        self.chunk = chunk
        self.short = False
        # Offset up to which read-ahead was asked for (None: not possible).
        self._ahead = 0
        self._advise(0, 0, 'POSIX_FADV_SEQUENTIAL')

    def _advise(self, offset, length, advice):
        """posix_fadvise on the file; read-ahead off when unsupported."""
        if self._ahead is None:
            return
        try:
            os.posix_fadvise(self._fil.fileno(), offset, length,
                             getattr(os, advice))
        except (AttributeError, OSError, ValueError):
            # Not a real file (tests), or no such call on this platform.
            self._ahead = None

    def _read_ahead(self):
        pos = self.size - self.left
        if self._ahead is not None and pos + READ_AHEAD // 2 >= self._ahead:
            start = max(pos, self._ahead)
            self._ahead = pos + READ_AHEAD
            self._advise(start, self._ahead - start, 'POSIX_FADV_WILLNEED')

    def read(self, size=-1):
        """Up to ``size`` bytes (a chunk when negative), b'' at the end."""
        if size is None or size < 0:
            size = self.chunk
        size = min(size, self.left)
        if size <= 0:
            return b''
        self._read_ahead()
        data = self._fil.read(size)
        if not data:
            # The device ended before its size.
            self.short = True
        self.left -= len(data)
        return data

    def __iter__(self):
        while True:
            data = self.read(self.chunk)
            if not data:
                return
            yield data

    def __len__(self):
        return self.size


class HostShim(abc.ABC):
    """What the driver needs from the NovaLink host's operating system."""

    @abc.abstractmethod
    def open_vnc_console(self, adapter, lpar_uuid, instance=None):
        """Open the VNC terminal of a partition.

        :param adapter: pypowervm ``Adapter``.
        :param lpar_uuid: PowerVM UUID of the partition.
        :param instance: nova ``Instance`` (for messages).
        :returns: nova ``ConsoleVNC``.
        :raises VNCConsoleFailed: when the terminal cannot be opened.
        """

    @abc.abstractmethod
    def close_vnc_console(self, adapter, lpar_uuid):
        """Close the VNC terminal of a partition; closed is success.

        :param adapter: pypowervm ``Adapter``.
        :param lpar_uuid: PowerVM UUID of the partition.
        """

    @abc.abstractmethod
    def open_disk(self, device):
        """Open a disk the management partition sees, for reading.

        A context manager: the device is released on exit (a discovered
        block device is removed again), even when the caller failed.

        :param device: a :class:`DiskDevice`.
        :returns: context manager yielding a :class:`DiskReader`.
        :raises DiskNotReadable: when the device cannot be found or read.
        """

    # Open vSwitch of the NovaLink partition (``ovs`` VIFs).  Not abstract:
    # a shim without OVS refuses ``ovs`` VIFs with a clear message.
    def plug_ovs_port(self, bridge, dev_name, external_ids, mtu=None,
                      tag=None):
        """Attach a trunk adapter's device to an OVS bridge.

        :param bridge: the bridge (``br-int``).
        :param dev_name: the device name the trunk adapter was given.
        :param external_ids: dict of the interface's external ids.
        :param mtu: MTU, or None.
        :param tag: access VLAN, or None.
        :returns: the port name.
        :raises VirtualInterfacePlugException: when it cannot.
        """
        raise nova_exc.VirtualInterfacePlugException(
            'this host shim cannot plug Open vSwitch ports')

    def unplug_ovs_port(self, name):
        """Remove an OVS port; one that is gone is success.

        :param name: the port (device) name.
        """

    def list_ovs_ports(self):
        """The OVS ports: list of ``{'name', 'external_ids'}`` dicts."""
        return []


class LocalShim(HostShim):
    """Runs pypowervm's vterm support (mkvterm/rmvterm) on this partition.

    Disks are read as block devices: a disk served by this partition
    (management partition = VIOS) is opened at its backing device; a disk
    mapped to this partition is discovered through sysfs (a SCSI scan of
    the client adapter's host, then ``/dev/disk/by-id``), read, and its
    block device deleted again.  Writes to sysfs and opening a device owned
    by root go through nova's privsep helpers when plain access is denied.

    :param local_ip: address nova's VNC proxy reaches this host at
                     (``[vnc] server_proxyclient_address``).
    :param sys_root: where sysfs is mounted (tests use a directory).
    :param dev_root: where device nodes live (tests use a directory).
    """

    def __init__(self, local_ip, sys_root='/sys', dev_root='/dev'):
        self.local_ip = local_ip
        self.sys_root = sys_root
        self.dev_root = dev_root
        self.device_timeout = DEVICE_TIMEOUT
        self.gone_timeout = DEVICE_GONE_TIMEOUT
        self.poll = DEVICE_POLL

    def open_vnc_console(self, adapter, lpar_uuid, instance=None):
        grp = CONF.powervm
        try:
            with errors.translate('open VNC terminal', instance=instance):
                port = pvm_vterm.open_remotable_vnc_vterm(
                    adapter, lpar_uuid, self.local_ip, vnc_path=lpar_uuid,
                    use_x509_auth=grp.vnc_use_x509_auth,
                    ca_certs=grp.vnc_ca_certs,
                    server_cert=grp.vnc_server_cert,
                    server_key=grp.vnc_server_key)
        except nova_exc.InstanceNotFound:
            raise
        except nova_exc.NovaException as error:
            raise exc.VNCConsoleFailed(instance=lpar_uuid,
                                       reason=error.format_message())
        return ctype.ConsoleVNC(host=self.local_ip, port=port,
                                internal_access_path=lpar_uuid)

    def close_vnc_console(self, adapter, lpar_uuid):
        try:
            with errors.translate('close VNC terminal'):
                pvm_vterm.close_vterm(adapter, lpar_uuid)
        except nova_exc.NovaException as error:
            LOG.warning('Could not close the terminal of %(lpar)s: %(err)s',
                        {'lpar': lpar_uuid, 'err': error.format_message()})

    @contextlib.contextmanager
    def open_disk(self, device):
        if device.client_slot is None:
            path = device.backing_path or ''
            if not os.path.isabs(path):
                path = os.path.join(self.dev_root, path)
            with self._open(path, device) as fil:
                yield DiskReader(fil, device.size)
            return
        dev = self._discover(device)
        try:
            with self._open(dev, device) as fil:
                yield DiskReader(fil, device.size)
        finally:
            self._remove_device(dev)

    @contextlib.contextmanager
    def _open(self, path, device):
        try:
            try:
                fil = open(path, 'rb', buffering=0)
            except PermissionError:
                _privsep_chown(path)
                fil = open(path, 'rb', buffering=0)
        except OSError as error:
            raise exc.DiskNotReadable(disk=device.name,
                                      reason=errors.safe_text(error))
        with fil:
            yield fil

    def _discover(self, device):
        """Scan the client adapter's SCSI host; wait for the disk's node."""
        slot = '%x' % (_VSCSI_SLOT_BASE | int(device.client_slot))
        scans = glob.glob(os.path.join(
            self.sys_root, 'bus', 'vio', 'devices', slot, 'host*',
            'scsi_host', 'host*', 'scan'))
        if not scans:
            raise exc.DiskNotReadable(
                disk=device.name,
                reason='no SCSI host for virtual slot 0x%s' % slot)
        for scan in scans:
            _write_sysfs(scan, '- - -')
        pattern = os.path.join(self.dev_root, 'disk', 'by-id',
                               '*' + device.udid[-32:])
        deadline = time.monotonic() + self.device_timeout
        while True:
            found = glob.glob(pattern)
            if found:
                return os.path.realpath(found[0])
            if time.monotonic() > deadline:
                raise exc.DiskNotReadable(
                    disk=device.name,
                    reason='no block device appeared for UDID %s within '
                           '%d s' % (device.udid, self.device_timeout))
            time.sleep(self.poll)

    def _remove_device(self, dev):
        """Delete the SCSI device of a block device node and wait for it."""
        delete = os.path.join(self.sys_root, 'block', os.path.basename(dev),
                              'device', 'delete')
        try:
            _write_sysfs(delete, '1')
        except Exception as error:
            LOG.warning('Could not delete block device %(dev)s: %(err)s',
                        {'dev': dev, 'err': errors.safe_text(error)})
            return
        deadline = time.monotonic() + self.gone_timeout
        while os.path.exists(dev):
            if time.monotonic() > deadline:
                LOG.warning('Block device %s is still present.', dev)
                return
            time.sleep(self.poll)

    # -- Open vSwitch -----------------------------------------------------
    def _vsctl(self, *args):
        try:
            out, _err = processutils.execute(
                'ovs-vsctl', '--timeout=%d' % OVS_TIMEOUT, *args)
        except (processutils.ProcessExecutionError, OSError) as error:
            raise nova_exc.VirtualInterfacePlugException(
                'ovs-vsctl %s failed: %s'
                % (' '.join(args), errors.safe_text(error)))
        return out

    def plug_ovs_port(self, bridge, dev_name, external_ids, mtu=None,
                      tag=None):
        """``ovs-vsctl add-port`` once the trunk's device exists."""
        path = os.path.join(self.sys_root, 'class', 'net', dev_name)
        deadline = time.monotonic() + NETDEV_TIMEOUT
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                raise nova_exc.VirtualInterfacePlugException(
                    'network device %s of the trunk adapter did not '
                    'appear within %d s' % (dev_name, NETDEV_TIMEOUT))
            time.sleep(self.poll)
        args = ['--', '--may-exist', 'add-port', bridge, dev_name]
        if tag:
            args.append('tag=%d' % int(tag))
        args += ['--', 'set', 'Interface', dev_name]
        args += ['external-ids:%s=%s' % kv
                 for kv in sorted(external_ids.items())]
        if mtu:
            args.append('mtu_request=%d' % int(mtu))
        self._vsctl(*args)
        return dev_name

    def unplug_ovs_port(self, name):
        try:
            self._vsctl('--', '--if-exists', 'del-port', name)
        except nova_exc.VirtualInterfacePlugException as error:
            LOG.warning('Could not remove OVS port %(name)s: %(err)s',
                        {'name': name, 'err': error.format_message()})

    def list_ovs_ports(self):
        try:
            out = self._vsctl('--format=json', '--columns=name,external_ids',
                              'list', 'Interface')
        except nova_exc.VirtualInterfacePlugException as error:
            LOG.warning('Could not list OVS ports: %s',
                        error.format_message())
            return []
        ports = []
        for name, ext in json.loads(out or '{"data": []}')['data']:
            # OVSDB JSON: ext is ["map", [[key, value], ...]].
            ports.append({'name': name, 'external_ids': dict(ext[1])})
        return ports


def _write_sysfs(path, text):
    """Write a sysfs control file (through privsep when denied)."""
    try:
        with open(path, 'w') as fil:
            fil.write(text)
    except PermissionError:
        from nova.privsep import path as priv_path

        priv_path.writefile(path, 'w', text)


def _privsep_chown(path):
    """Give the nova user a root-owned device node (privsep)."""
    from nova.privsep import path as priv_path

    priv_path.chown(path, uid=os.getuid())


class SimulatorShim(HostShim):
    """Asks the NovaLink REST simulator's host endpoints.

    :param base_url: ``protocol://host:port`` of the simulator.
    :param certpath: CA bundle to verify an https simulator with
                     (``[powervm] pvm_certpath``), or None for the system
                     trust store.
    """

    def __init__(self, base_url, certpath=None):
        self.base_url = base_url.rstrip('/')
        # As the REST session does: the bundle applies to https only.
        https = self.base_url.lower().startswith('https:')
        self._verify = certpath if certpath and https else True

    def _url(self, lpar_uuid):
        return '%s/sim/host/vterm/%s' % (self.base_url, lpar_uuid)

    def open_vnc_console(self, adapter, lpar_uuid, instance=None):
        try:
            resp = requests.post(self._url(lpar_uuid), timeout=SIM_TIMEOUT,
                                 verify=self._verify)
        except requests.RequestException as error:
            raise exc.VNCConsoleFailed(instance=lpar_uuid,
                                       reason=errors.safe_text(error))
        if resp.status_code == 404:
            raise nova_exc.InstanceNotFound(
                instance_id=getattr(instance, 'uuid', lpar_uuid))
        if resp.status_code >= 300:
            raise exc.VNCConsoleFailed(
                instance=lpar_uuid,
                reason='simulator answered HTTP %d' % resp.status_code)
        body = resp.json()
        return ctype.ConsoleVNC(host=body['host'], port=int(body['port']))

    def close_vnc_console(self, adapter, lpar_uuid):
        try:
            requests.delete(self._url(lpar_uuid), timeout=SIM_TIMEOUT,
                            verify=self._verify)
        except requests.RequestException as error:
            LOG.warning('Could not close the simulated terminal of '
                        '%(lpar)s: %(err)s',
                        {'lpar': lpar_uuid, 'err': errors.safe_text(error)})

    @contextlib.contextmanager
    def open_disk(self, device):
        """Ask the simulator where the device's bytes are, and open them.

        The simulator answers only for a disk the management partition
        sees (it serves it, or the disk is mapped to it), as a host would.
        The simulator shares this machine's file system (tests, sandbox).
        """
        url = '%s/sim/host/device/%s' % (self.base_url, device.udid)
        try:
            resp = requests.get(url, timeout=SIM_TIMEOUT, verify=self._verify)
        except requests.RequestException as error:
            raise exc.DiskNotReadable(disk=device.name,
                                      reason=errors.safe_text(error))
        if resp.status_code >= 300:
            raise exc.DiskNotReadable(
                disk=device.name,
                reason='simulator answered HTTP %d: %s' % (
                    resp.status_code, resp.text[:200]))
        path = resp.json()['path']
        try:
            fil = open(path, 'rb', buffering=0)
        except OSError as error:
            raise exc.DiskNotReadable(disk=device.name,
                                      reason=errors.safe_text(error))
        with fil:
            yield DiskReader(fil, device.size)

    # -- Open vSwitch (the simulator's /sim/host/ovs) ----------------------
    def plug_ovs_port(self, bridge, dev_name, external_ids, mtu=None,
                      tag=None):
        url = '%s/sim/host/ovs' % self.base_url
        body = {'bridge': bridge, 'name': dev_name,
                'external_ids': external_ids, 'mtu': mtu, 'tag': tag}
        try:
            resp = requests.post(url, json=body, timeout=SIM_TIMEOUT,
                                 verify=self._verify)
        except requests.RequestException as error:
            raise nova_exc.VirtualInterfacePlugException(
                'could not plug OVS port %s: %s'
                % (dev_name, errors.safe_text(error)))
        if resp.status_code >= 300:
            found = re.search(r'<(?:\w+:)?Message[^>]*>([^<]*)<', resp.text)
            raise nova_exc.VirtualInterfacePlugException(
                'could not plug OVS port %s: %s'
                % (dev_name, found.group(1) if found else resp.text[:300]))
        return resp.json()['name']

    def unplug_ovs_port(self, name):
        try:
            requests.delete('%s/sim/host/ovs/%s' % (self.base_url, name),
                            timeout=SIM_TIMEOUT, verify=self._verify)
        except requests.RequestException as error:
            LOG.warning('Could not remove OVS port %(name)s: %(err)s',
                        {'name': name, 'err': errors.safe_text(error)})

    def list_ovs_ports(self):
        try:
            resp = requests.get('%s/sim/host/ovs' % self.base_url,
                                timeout=SIM_TIMEOUT, verify=self._verify)
            resp.raise_for_status()
        except requests.RequestException as error:
            LOG.warning('Could not list OVS ports: %s',
                        errors.safe_text(error))
            return []
        return [{'name': p['name'], 'external_ids': p['external_ids']}
                for p in resp.json()]


def get_shim(kind, dest, local_ip, certpath=None):
    """Build the host shim chosen by ``[powervm] host_shim``.

    :param kind: ``local`` or ``simulator``.
    :param dest: ``protocol://host:port`` of the REST server.
    :param local_ip: VNC address of this host (local shim).
    :param certpath: CA bundle verifying an https REST server, or None.
    :returns: a ``HostShim``.
    """
    if kind == 'simulator':
        return SimulatorShim(dest, certpath=certpath)
    return LocalShim(local_ip)
