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
"""Flow tasks about Cinder volumes: connect, disconnect, device tags.

Each task runs the volume's connector (``volume.get_connector``) with a
``mapping.VIOSMappings`` of its own, so a volume's mappings take one VIOS
update; reverts undo exactly what ran: a failed attach leaves no
mapping, hdisk or iSCSI session, a failed detach maps the volume again.
"""

from oslo_log import log as logging
from pypowervm.tasks import hdisk as pvm_hdisk
from pypowervm.tasks import scsi_mapper as pvm_smap
from pypowervm.wrappers import storage as pvm_stor

from nova_powervm.virt.powervm import device_metadata
from nova_powervm.virt.powervm import mapping
from nova_powervm.virt.powervm.tasks import base
from nova_powervm.virt.powervm import vm
from nova_powervm.virt.powervm import volume
from nova_powervm.virt.powervm.volume import npiv
from nova_powervm.virt.powervm.volume import vscsi

LOG = logging.getLogger(__name__)


def _lpar_uuid(lpar_wrap, instance):
    return lpar_wrap.uuid if lpar_wrap is not None else vm.get_pvm_uuid(
        instance)


class ConnectVolumes(base.PowerVMTask):
    """Discover volumes on the VIOSes and map them to the partition.

    One VIOS update for all of them.  Revert removes the mappings made
    and the hdisks (and iSCSI sessions) nothing else uses.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param connection_infos: Cinder connection infos, in mapping order.
    :param name: task name.
    """

    def __init__(self, ctx, instance, connection_infos,
                 name='connect_volumes'):
        super().__init__(instance, name, requires=['lpar_wrap'])
        self.ctx = ctx
        self.connection_infos = list(connection_infos)
        self.connectors = []

    def execute(self, lpar_wrap):
        self.connectors = []
        mappings = mapping.VIOSMappings(self.ctx.adapter, 'map_volumes',
                                        self.instance)
        for info in self.connection_infos:
            conn = volume.get_connector(self.ctx, self.instance, info)
            self.connectors.append(conn)
            conn.connect(mappings, lpar_wrap.uuid)
        mappings.execute()

    def revert(self, lpar_wrap, result, flow_failures, **kwargs):
        if not self.connectors:
            return
        undo = mapping.VIOSMappings(self.ctx.adapter, 'unmap_volumes',
                                    self.instance)
        for conn in self.connectors:
            if getattr(conn, 'made', False):
                # NPIV adapters this connect made go, whatever else the
                # instance has attached.
                conn.destroying = True
                conn.disconnect(undo, lpar_wrap.uuid)
            elif conn.udid:
                conn.disconnect(undo, lpar_wrap.uuid)
        self.best_effort('remove volume mappings', undo.execute)
        for conn in self.connectors:
            self.best_effort('remove hdisks', conn.release_unused)
        self.connectors = []


def _disconnected(conn, mappings, lpar_uuid):
    conn.disconnect(mappings, lpar_uuid)
    return True


def _physical_volume(storage):
    return isinstance(storage, pvm_stor.PV)


def _still_mapped(mappings, vios_uuid, udid):
    for vios_w in mappings.vioses:
        if vios_w.uuid == vios_uuid and pvm_smap.find_maps(
                vios_w.scsi_mappings, match_func=vscsi.match_udid(udid),
                include_orphans=True):
            return True
    return False


class DisconnectVolumes(base.PowerVMTask):
    """Unmap volumes from the partition; remove hdisks nothing maps.

    One VIOS update, then a removal job per VIOS and unused hdisk.
    Revert (a removal failed) maps the volumes again, so the attachment
    stays whole and the detach can be retried.  Works with a partition
    that is gone (``lpar_wrap`` None): its orphan mappings are removed.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param connection_infos: Cinder connection infos.
    :param remap_on_failure: map again when the removal fails (detach);
        false for destroy, which goes on whatever happens.
    """

    def __init__(self, ctx, instance, connection_infos,
                 remap_on_failure=True):
        super().__init__(instance, 'disconnect_volumes',
                         requires=['lpar_wrap'])
        self.ctx = ctx
        self.connection_infos = list(connection_infos)
        self.remap_on_failure = remap_on_failure
        self.connectors = []

    def execute(self, lpar_wrap):
        lpar_uuid = _lpar_uuid(lpar_wrap, self.instance)
        self.connectors = [volume.get_connector(self.ctx, self.instance, i)
                           for i in self.connection_infos]
        leaving = frozenset(c.volume_id for c in self.connectors)
        for conn in self.connectors:
            # Destroy: the partition goes, with everything mapped to it.
            conn.destroying = not self.remap_on_failure
            # The volumes that go together (a move's source: all of
            # them): NPIV adapters go with the last one.
            conn.leaving = leaving
        mappings = mapping.VIOSMappings(self.ctx.adapter, 'unmap_volumes',
                                        self.instance)
        lost = False
        for conn in self.connectors:
            if self.remap_on_failure:
                conn.disconnect(mappings, lpar_uuid)
            else:
                # Destroy goes on: a volume it cannot find is not mapped.
                lost |= not self.best_effort(
                    'find volume %s' % conn.volume_id,
                    _disconnected, conn, mappings, lpar_uuid)
        if lost:
            # A volume this host no longer reaches (after an evacuation
            # nova hands the old host the new host's connection infos):
            # the partition goes, and every physical volume still mapped
            # to it with it, in the same update.
            mappings.remove_vscsi(_physical_volume, lpar_uuid)
        mappings.execute()
        if lost:
            self._remove_lost_hdisks(mappings)
        for conn in self.connectors:
            if self.remap_on_failure:
                conn.cleanup()
            else:
                self.best_effort('remove hdisks of volume %s'
                                 % conn.volume_id, conn.cleanup)
            # A connection info without the volume's UDID (refreshed by
            # nova after a move) made the connector discover the hdisk
            # again; one nothing maps (a partition never mapped it: a
            # failed move's destination) goes too.
            release = getattr(conn, 'release_unmapped', None)
            if release is not None:
                self.best_effort('remove unmapped hdisks of volume %s'
                                 % conn.volume_id, release)

    def _remove_lost_hdisks(self, mappings):
        """Remove the hdisks the sweep unmapped that nothing maps now.

        A job (3 round trips) per VIOS and hdisk; the hdisks of the
        volumes that were found are their connectors' to remove.
        """
        owned = set()
        for conn in self.connectors:
            owned.update(getattr(conn, 'removed', lambda: ())())
        for vios_uuid, stg in mappings.removed:
            if (not isinstance(stg, pvm_stor.PV) or
                    (vios_uuid, stg.name) in owned or
                    _still_mapped(mappings, vios_uuid, stg.udid)):
                continue
            self.best_effort('remove hdisk %s' % stg.name,
                             pvm_hdisk.remove_hdisk, self.ctx.adapter, None,
                             stg.name, vios_uuid)

    def revert(self, lpar_wrap, result, flow_failures, **kwargs):
        if not self.remap_on_failure or lpar_wrap is None:
            return
        for conn in self.connectors:
            self.best_effort('map volume %s again' % conn.volume_id,
                             conn.remap, lpar_wrap.uuid)


class UpdateVolumeMetadata(base.PowerVMTask):
    """Set the device metadata (tagged interfaces and volumes).

    No REST call (database reads); the instance is saved, since nova
    does not save it after a volume attach or detach.  Revert puts the
    previous value back.

    :param instance: nova ``Instance``.
    :param context: nova ``RequestContext``.
    :param without_volumes: ids of volumes being detached.
    """

    def __init__(self, instance, context, without_volumes=()):
        super().__init__(instance, 'update_volume_metadata')
        self.context = context
        self.without_volumes = tuple(without_volumes)
        self.previous = None
        self.done = False

    def execute(self):
        self.previous = device_metadata.update(
            self.context, self.instance,
            without_volumes=self.without_volumes)
        self.done = True
        self.instance.save()

    def revert(self, *args, **kwargs):
        if self.done:
            self.instance.device_metadata = self.previous
            self.best_effort('save device metadata', self.instance.save)
            self.done = False


class RemoveNPIVAdapters(base.PowerVMTask):
    """Remove the partition's virtual FC (NPIV) mappings before it goes.

    PowerVM leaves the server adapters of a deleted partition behind, so
    destroy removes them first, Fibre Channel volumes or not (1 GET, 1
    POST per VIOS that has one).  Nothing to revert: destroy goes on.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    """

    def __init__(self, ctx, instance):
        super().__init__(instance, 'remove_npiv_adapters',
                         requires=['lpar_wrap'])
        self.ctx = ctx

    def execute(self, lpar_wrap):
        self.best_effort('remove the NPIV adapters', npiv.remove_adapters,
                         self.ctx, self.instance,
                         _lpar_uuid(lpar_wrap, self.instance))
