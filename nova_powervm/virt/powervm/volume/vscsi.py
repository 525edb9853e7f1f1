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
"""What the vSCSI volume connectors share: an hdisk per VIOS, mapped.

A vSCSI volume (Fibre Channel seen by the VIOSes' own ports, or iSCSI
logged in by the VIOSes) becomes an hdisk on every Virtual I/O Server
that reaches it; each of those VIOSes maps its hdisk to the partition,
and the partition's multipath driver sees one disk with several paths.

The protocol modules (``fcvscsi``, ``iscsi``) only say how a VIOS finds
the hdisk (:meth:`VscsiConnector._find_on`) and how it lets it go
(:meth:`VscsiConnector._release_on`).  This module does the rest:
discovery on each VIOS, retried while fewer than
``[powervm] vscsi_vios_connections_required`` VIOSes found it, the
mappings (through the operation's ``mapping.VIOSMappings``), and removal
of an hdisk once nothing maps it any more.

The VIOSes and their FC ports are read once per host (the host cache);
the volume's UDID is kept in the connection info (``data.pvm_udid``),
which nova saves with the attachment, so a detach finds the hdisk in the
VIOS feed it reads anyway.
"""

import collections
import threading
import time

from nova import exception as nova_exc
from oslo_log import log as logging
from pypowervm import const as pvm_const
from pypowervm.tasks import partition as pvm_part
from pypowervm.tasks import scsi_mapper as pvm_smap
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm import conf as pvm_conf
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import mapping
from nova_powervm.virt.powervm.volume import base

LOG = logging.getLogger(__name__)
CONF = pvm_conf.CONF

#: Discovery passes over the VIOSes that did not find the volume.
DISCOVERY_ATTEMPTS = 3
#: Seconds between discovery passes.
DISCOVERY_DELAY = 2.0
#: Key of the VIOS facts in the host cache.
VIOS_KEY = ('volume', 'vioses')
#: Key of the UDID in the connection info's data.
UDID_KEY = 'pvm_udid'

#: What the connectors know of a VIOS: UUID, name, the WWPNs of its
#: active physical FC ports (lower case), and (learned when first
#: needed) its iSCSI initiator name.
VIOSFacts = collections.namedtuple('VIOSFacts', 'uuid name fc_wwpns')
#: An hdisk found on a VIOS; ``in_use`` when another mapping used it.
Found = collections.namedtuple('Found', 'vios_uuid vios_name name udid '
                                        'in_use')


def vioses(ctx, refresh=False):
    """The active VIOSes and their FC ports (1 GET, once per host).

    :param ctx: ``HostContext``.
    :param refresh: read them again.
    :returns: list of :data:`VIOSFacts`.
    """
    def load():
        with errors.translate('read the Virtual I/O Servers'):
            wraps = pvm_part.get_active_vioses(
                ctx.adapter, xag=[pvm_const.XAG.VIO_STOR])
        return [VIOSFacts(v.uuid, v.name,
                          tuple(p.wwpn.lower() for p in v.pfc_ports
                                if p.wwpn and (p.npiv_total_ports or 0) > 0))
                for v in wraps]
    return ctx.cache.learned(VIOS_KEY, load, refresh=refresh)


class Missed(Exception):
    """A VIOS did not find the volume (the message says why)."""


def match_udid(udid):
    """A match function for the mapped physical volume with this UDID."""
    def match(stg):
        return isinstance(stg, pvm_stg.PV) and stg.udid == udid
    return match


class VscsiConnector(base.VolumeConnector):
    """A volume seen by the VIOSes as an hdisk, mapped over vSCSI.

    Subclasses implement :meth:`_candidates`, :meth:`_find_on` and
    :meth:`_release_on`.
    """

    def __init__(self, ctx, instance, connection_info):
        super().__init__(ctx, instance, connection_info)
        self.found = []
        self._mappings = None
        # (vios_uuid, hdisk name) of the mappings disconnect's update
        # removed from a VIOS wrapper, POSTed or not (see remap).
        self._unmapping = set()
        self._lock = threading.Lock()

    # -- protocol hooks ---------------------------------------------------
    def _candidates(self):
        """The VIOSes worth asking (list of :data:`VIOSFacts`)."""
        raise NotImplementedError()

    def _find_on(self, vios):
        """Discover the hdisk on a VIOS.

        :returns: :data:`Found`.
        :raises Missed: (or a pypowervm error) when it is not there.
        """
        raise NotImplementedError()

    def _release_on(self, vios_uuid, name):
        """Remove an unmapped hdisk from a VIOS (and log out, iSCSI)."""
        raise NotImplementedError()

    # -- shared behaviour -----------------------------------------------
    @property
    def udid(self):
        """The volume's UDID once known (None before)."""
        return self.data.get(UDID_KEY)

    def fail(self, reason, attach=True):
        """The fault naming the volume and the reason."""
        cls = (nova_exc.VolumeAttachFailed if attach else
               nova_exc.VolumeDetachFailed)
        return cls(volume_id=self.volume_id, reason=reason)

    def discover(self):
        """Find the hdisk on the VIOSes, retrying the ones that missed it.

        :returns: list of :data:`Found`, at least the required number.
        :raises VolumeAttachFailed: naming the volume and each VIOS's
            reason when too few VIOSes found it; hdisks it found are
            removed again first.
        """
        required = CONF.powervm.vscsi_vios_connections_required
        todo = list(self._candidates())
        if not todo:
            raise self.fail('no Virtual I/O Server has a path to it')
        found, reasons = [], {}
        for attempt in range(DISCOVERY_ATTEMPTS):
            if attempt:
                time.sleep(DISCOVERY_DELAY)
            missed = []
            for vios in todo:
                try:
                    found.append(self._find_on(vios))
                except Missed as error:
                    reasons[vios.name] = str(error)
                    missed.append(vios)
                except Exception as error:
                    if not errors.is_pypowervm_error(error):
                        raise
                    reasons[vios.name] = errors.safe_text(error)
                    missed.append(vios)
            todo = missed
            if (len(found) >= required or not todo or
                    attempt == DISCOVERY_ATTEMPTS - 1):
                break
            LOG.warning('Volume %(vol)s found on %(n)d VIOS(es) of '
                        '%(req)d required; trying again.',
                        {'vol': self.volume_id, 'n': len(found),
                         'req': required}, instance=self.instance)
        if len(found) < required or not found:
            self.found = found
            self.release_unused()
            raise self.fail(
                'found on %d Virtual I/O Server(s), %d required (%s)' % (
                    len(found), required, '; '.join(
                        '%s: %s' % item for item in sorted(reasons.items()))))
        for item in found:
            if item.udid != found[0].udid:
                raise self.fail('the VIOSes found different disks (%s, %s)'
                                % (found[0].udid, item.udid))
        self.found = found
        self.data[UDID_KEY] = found[0].udid
        return found

    def connect(self, mappings, lpar_uuid):
        """Discover the hdisk on the VIOSes and map it on each.

        Cost: 1 GET of the VIOSes the first time on a host, then the
        protocol's discovery (3 round trips a job) per VIOS.
        """
        for item in self.discover():
            mappings.add_vscsi(item.vios_uuid, lpar_uuid, pvm_stg.PV.bld(
                self.ctx.adapter, item.name, udid=item.udid))

    def disconnect(self, mappings, lpar_uuid):
        """Remove this volume's mappings to the partition.

        No REST call here: ``mappings`` removes them in its one update,
        then :meth:`cleanup` removes the hdisks nothing else maps.
        """
        udid = self.udid
        if udid is None:
            # Attached before the UDID was kept: find the disk again.
            udid = self.discover()[0].udid
        mappings.add_subtask(self._unmap_on, lpar_uuid, match_udid(udid))
        self._mappings = mappings

    def _unmap_on(self, vios_w, lpar_uuid, match):
        """Subtask of :meth:`disconnect` on one VIOS wrapper.

        What it removes is also noted for :meth:`remap`: when the update
        of another VIOS fails, the VIOSes already updated must map the
        volume again (their hdisk would be left unmapped and forgotten).
        """
        removed = pvm_smap.remove_maps(vios_w, lpar_uuid, match_func=match,
                                       include_orphans=True)
        with self._lock:
            self._unmapping.update(
                (vios_w.uuid, m.backing_storage.name) for m in removed
                if isinstance(m.backing_storage, pvm_stg.PV))
        return removed

    def removed(self):
        """``(vios_uuid, name)`` of this volume's hdisks unmapped."""
        udid = self.udid
        if self._mappings is None:
            return []
        return sorted({(vios_uuid, stg.name)
                       for vios_uuid, stg in self._mappings.removed
                       if isinstance(stg, pvm_stg.PV) and stg.udid == udid})

    def _still_mapped(self, vios_uuid):
        for vios_w in self._mappings.vioses:
            if vios_w.uuid == vios_uuid and pvm_smap.find_maps(
                    vios_w.scsi_mappings, match_func=match_udid(self.udid),
                    include_orphans=True):
                return True
        return False

    def cleanup(self):
        """Remove the hdisks that nothing maps any more (after the update).

        3 round trips (a job) per VIOS whose hdisk went unused; an hdisk
        another partition still maps (multi-attach) stays.
        """
        for vios_uuid, name in self.removed():
            if self._still_mapped(vios_uuid):
                LOG.info('hdisk %(name)s of volume %(vol)s is still mapped '
                         'to another partition; keeping it.',
                         {'name': name, 'vol': self.volume_id},
                         instance=self.instance)
                continue
            with errors.translate('remove hdisk %s of volume %s'
                                  % (name, self.volume_id)):
                self._release_on(vios_uuid, name)

    def release_unmapped(self):
        """Remove hdisks a disconnect discovered again that nothing maps.

        For a disconnect whose connection info had no UDID (nova
        refreshed it after a move) and a partition that never mapped the
        volume (a failed move's destination): the discovery made the
        hdisks, nothing else removes them.  Run after the update; hdisks
        :meth:`cleanup` handled, reported in use, or still mapped to any
        partition on the VIOS stay.  3 round trips (a job) per VIOS.
        """
        if self._mappings is None:
            return
        removed = set(self.removed())
        for item in self.found:
            if (item.in_use or (item.vios_uuid, item.name) in removed or
                    self._still_mapped(item.vios_uuid)):
                continue
            with errors.translate('remove hdisk %s of volume %s'
                                  % (item.name, self.volume_id)):
                self._release_on(item.vios_uuid, item.name)

    def release_unused(self):
        """Remove the hdisks :meth:`discover` found that nothing maps.

        For a failed attach; failures are logged.
        """
        for item in self.found:
            if item.in_use:
                continue
            try:
                self._release_on(item.vios_uuid, item.name)
            except Exception:
                LOG.warning('Could not remove hdisk %(name)s of volume '
                            '%(vol)s from %(vios)s.',
                            {'name': item.name, 'vol': self.volume_id,
                             'vios': item.vios_name}, exc_info=True,
                            instance=self.instance)

    def remap(self, lpar_uuid):
        """Map again what :meth:`disconnect` unmapped (a failed detach).

        :param lpar_uuid: PowerVM UUID of the partition.
        """
        again = mapping.VIOSMappings(self.ctx.adapter, 'remap_volume',
                                     self.instance)
        # A failed update keeps no result: every VIOS it meant to change
        # (a mapping still there is not added twice).
        for vios_uuid, name in sorted(set(self.removed()) |
                                      self._unmapping):
            again.add_vscsi(vios_uuid, lpar_uuid, pvm_stg.PV.bld(
                self.ctx.adapter, name, udid=self.udid))
        again.execute()

    def attached(self, lpar_uuid):
        """Whether a VIOS still maps the volume's hdisk to the partition.

        1 GET of the VIOSes' mappings; True when the UDID is not known
        (attached before it was kept: the rescan then decides).
        """
        if self.udid is None:
            return True
        with errors.translate('read the mappings of volume %s'
                              % self.volume_id):
            wraps = pvm_vios.VIOS.get(self.ctx.adapter,
                                      xag=[pvm_const.XAG.VIO_SMAP])
        return any(pvm_smap.find_maps(
            vios_w.scsi_mappings, client_lpar_id=lpar_uuid,
            match_func=match_udid(self.udid)) for vios_w in wraps)

    def extend(self):
        """Make the VIOSes see the volume's new size.

        Discovery again (it rescans the hdisk on each VIOS), then 1 GET
        of the VIOSes' storage.

        :returns: the smallest size a VIOS reports, in MB (None when
            none reports the disk).
        """
        self.discover()
        with errors.translate('read the size of volume %s' % self.volume_id):
            wraps = pvm_vios.VIOS.get(self.ctx.adapter,
                                      xag=[pvm_const.XAG.VIO_STOR])
        sizes = [pvol.capacity for vios_w in wraps
                 for pvol in vios_w.phys_vols if pvol.udid == self.udid]
        return min(sizes) if sizes else None
