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
"""The Cinder volumes of a live migration (vSCSI over FC, iSCSI, NPIV).

A vSCSI volume's mappings travel with the partition: the migrate job
recreates them on the destination VIOSes that see a disk with the same
UDID (PowerVM places them by UDID; the driver passes no
``VirtualSCSIMappings``).  So the driver only has to make the disk seen
there first, and to remove the hdisks left behind:

* source pre-check (:func:`check`): every volume has a vSCSI connector
  (``fibre_channel`` with ``fc_attach_strategy = vscsi``, ``iscsi``) or
  the NPIV one (its client adapters and WWPNs travel with the partition,
  placed by :mod:`lpm_npiv`); another protocol is refused before
  anything changes.
* destination ``pre_live_migration`` (:func:`discover`): each volume's
  hdisk is discovered on the destination VIOSes with the destination's
  connection info (LUA recovery, or the iSCSI login), without a mapping.
  The UDID lands in the connection info (``data.pvm_udid``), which nova
  saves with the destination's attachment.  A failure removes what was
  discovered (and nova's own detach then finds nothing).
* source ``post_live_migration`` (:func:`release_unmapped`, the source's
  connection infos): the hdisks nothing maps any more are removed (iSCSI:
  logged out).
* destination rollback: nova detaches each volume from the partition that
  is not there (``remove_volume_connection``); the driver's detach then
  removes the hdisks nothing maps (:func:`release_unmapped`).
"""

from nova import exception as nova_exc
from nova import objects
from oslo_log import log as logging
from oslo_serialization import jsonutils
from pypowervm import const as pvm_const
from pypowervm.tasks import scsi_mapper as pvm_smap
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm import conf as pvm_conf
from nova_powervm import exception as exc
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import flows
from nova_powervm.virt.powervm import volume
from nova_powervm.virt.powervm.volume import npiv
from nova_powervm.virt.powervm.volume import vscsi

LOG = logging.getLogger(__name__)
CONF = pvm_conf.CONF


def check(ctx, instance, block_device_info):
    """Refuse volumes a live migration cannot carry yet (no I/O).

    :param ctx: the source's ``HostContext``.
    :param instance: nova ``Instance``.
    :param block_device_info: nova block device info.
    :raises MigrationPreCheckError: naming the volume and the reason.
    """
    for info in flows.volume_infos(block_device_info):
        try:
            conn = volume.get_connector(ctx, instance, info)
        except exc.VolumeProtocolNotSupported as error:
            raise nova_exc.MigrationPreCheckError(
                reason=error.format_message())
        if not isinstance(conn, (vscsi.VscsiConnector,
                                 npiv.NPIVConnector)):
            raise nova_exc.MigrationPreCheckError(
                reason='The PowerVM driver cannot live migrate volume %s: '
                       'only vSCSI (Fibre Channel, iSCSI) and NPIV '
                       'volumes move.' % conn.volume_id)


def discover(ctx, instance, block_device_info):
    """Make the destination VIOSes see each volume's hdisk (no mapping).

    Round trips: 1 GET of the VIOSes (first time on the host) and the
    protocol's discovery job (3) per VIOS and volume.

    :param ctx: the destination's ``HostContext``.
    :param instance: nova ``Instance``.
    :param block_device_info: nova block device info with the
        destination's connection infos (their ``data.pvm_udid`` is set).
    :raises VolumeAttachFailed: naming the volume; the hdisks found for
        the volumes before it are removed again.
    """
    done = []
    try:
        for info in flows.volume_infos(block_device_info):
            conn = volume.get_connector(ctx, instance, info)
            if not isinstance(conn, vscsi.VscsiConnector):
                # NPIV: the partition's own adapters log in; nothing to
                # discover on the VIOSes.
                continue
            conn.discover()
            done.append(conn)
            LOG.info('Volume %(vol)s seen by %(n)d VIOS(es) for the live '
                     'migration.', {'vol': conn.volume_id,
                                    'n': len(conn.found)},
                     instance=instance)
    except Exception:
        for conn in done:
            conn.release_unused()
        raise
    return done


def saved_udids(context, instance):
    """``{volume id: UDID}`` from the instance's saved connection infos.

    A disk has one UDID on every host: after a live migration the
    destination's connection infos (nova saved them with the UDID its
    ``pre_live_migration`` found) name the disks the source must remove,
    where the source's own info lacks it (a boot volume connected by
    spawn, whose info nova saved before).  Database reads only.

    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance``.
    """
    found = {}
    for bdm in objects.BlockDeviceMappingList.get_by_instance_uuid(
            context, instance.uuid):
        if not bdm.is_volume or not bdm.connection_info:
            continue
        try:
            data = jsonutils.loads(bdm.connection_info).get('data') or {}
        except ValueError:
            continue
        if data.get(vscsi.UDID_KEY):
            found[bdm.volume_id] = data[vscsi.UDID_KEY]
    return found


def release_unmapped(ctx, instance, connection_infos, udids=None):
    """Remove the volumes' hdisks that nothing maps on this host.

    The source after the partition left, the destination after a failed
    migration.  Failures are logged (the migration's outcome stands).
    1 GET of the VIOSes (storage and mappings), then one removal job (3
    round trips) per VIOS and volume whose hdisk is unmapped.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param connection_infos: the volumes' connection infos on this host.
    :param udids: ``{volume id: UDID}`` for infos without one
        (:func:`saved_udids`).
    :returns: ``[(vios uuid, hdisk name)]`` removed.
    """
    conns = []
    for info in connection_infos:
        try:
            conn = volume.get_connector(ctx, instance, info)
        except exc.VolumeProtocolNotSupported:
            continue
        if isinstance(conn, vscsi.VscsiConnector):
            conns.append(conn)
    if not conns:
        return []
    try:
        with errors.translate('read the Virtual I/O Servers'):
            wraps = pvm_vios.VIOS.get(ctx.adapter, xag=[
                pvm_const.XAG.VIO_STOR, pvm_const.XAG.VIO_SMAP])
    except Exception as error:
        LOG.warning('Could not read the VIOSes to remove the hdisks of the '
                    'volumes: %s', error, instance=instance)
        return []
    removed = []
    for conn in conns:
        udid = conn.udid or (udids or {}).get(conn.volume_id)
        if udid is None:
            LOG.warning('Volume %s has no known UDID here: its hdisks, if '
                        'any, stay.', conn.volume_id, instance=instance)
            continue
        match = vscsi.match_udid(udid)
        for vios_w in wraps:
            if pvm_smap.find_maps(vios_w.scsi_mappings, match_func=match,
                                  include_orphans=True):
                continue
            for pvol in vios_w.phys_vols:
                if pvol.udid != udid:
                    continue
                try:
                    with errors.translate('remove hdisk %s of volume %s'
                                          % (pvol.name, conn.volume_id)):
                        conn._release_on(vios_w.uuid, pvol.name)
                    removed.append((vios_w.uuid, pvol.name))
                except Exception as error:
                    LOG.warning('Could not remove hdisk %(name)s of volume '
                                '%(vol)s from %(vios)s: %(err)s',
                                {'name': pvol.name, 'vol': conn.volume_id,
                                 'vios': vios_w.name, 'err': error},
                                instance=instance)
    return removed
