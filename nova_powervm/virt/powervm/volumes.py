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
"""Cinder volumes: the driver's connector, attach, detach and extend.

The protocol work is the connectors' (``volume/``); the flows here run
them with real reverts (``tasks/volume.py``).  REST cost per operation is
in ``doc/source/devref/flows.rst``.
"""

from nova import exception as nova_exc
from oslo_concurrency import lockutils
from oslo_log import log as logging
from taskflow.patterns import linear_flow as tf_lf

from nova_powervm import conf as pvm_conf
from nova_powervm import exception as exc
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import flows
from nova_powervm.virt.powervm import lpm_volumes
from nova_powervm.virt.powervm.tasks import volume as tf_vol
from nova_powervm.virt.powervm import vm
from nova_powervm.virt.powervm import volume
from nova_powervm.virt.powervm.volume import iscsi
from nova_powervm.virt.powervm.volume import npiv
from nova_powervm.virt.powervm.volume import vscsi

LOG = logging.getLogger(__name__)
CONF = pvm_conf.CONF


def _volumes_lock(instance):
    """One volume change of an instance at a time.

    nova serializes attach and detach, but handles Cinder's
    ``volume-extended`` event on another thread: an extend's rescan must
    not run into a detach (it would find the LUN again and leave its
    hdisk behind).
    """
    return lockutils.lock('powervm-volumes-%s' % instance.uuid)


def connector_properties(ctx, instance):
    """The volume connector Cinder exports volumes to.

    The VIOSes' active physical FC port WWPNs (vSCSI over FC; with NPIV
    the instance's virtual WWPNs instead), the first
    VIOS's iSCSI initiator (``initiators`` lists every VIOS's),
    ``ip`` = ``[DEFAULT] my_block_storage_ip`` and ``host`` = the nova
    host name.  Learned once per host: 1 GET of the VIOSes, plus one
    initiator query job per VIOS (3 round trips each); nothing after.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance`` (the same for every instance with
        vSCSI).
    """
    vioses = vscsi.vioses(ctx)
    iqns = iscsi.initiators(ctx)
    props = {'ip': CONF.my_block_storage_ip, 'host': ctx.host,
             'platform': 'ppc64', 'os_type': 'linux',
             'multipath': CONF.powervm.volume_use_multipath,
             'do_local_attach': False,
             'wwpns': sorted({w for v in vioses for w in v.fc_wwpns})}
    ordered = [iqns[v.uuid] for v in vioses if iqns.get(v.uuid)]
    if ordered:
        props['initiator'] = ordered[0]
        props['initiators'] = ordered
    if CONF.powervm.fc_attach_strategy == 'npiv':
        props['wwpns'] = _npiv_wwpns(ctx, instance, props['wwpns'])
    if not props['wwpns']:
        del props['wwpns']
    return props


def _npiv_wwpns(ctx, instance, ports):
    """The instance's virtual WWPNs (allocated the first time), or [].

    They exist before the partition does (boot from an NPIV volume):
    kept in the instance's system metadata, see ``npiv.connector_wwpns``.
    """
    if instance is None:
        return []
    return npiv.connector_wwpns(ctx, instance, ports)


def _check_encryption(connection_info, encryption):
    if encryption and encryption.get('provider'):
        raise exc.NotSupportedYet(
            operation='encrypted volumes (volume %s)'
            % volume.volume_id(connection_info))


def _io_wrapper(ctx, instance, connection_info, attach=True):
    """The partition's wrapper, if its I/O can change now (1 GET).

    :raises VolumeAttachFailed/VolumeDetachFailed: naming the volume,
        when the partition runs without RMC (no DLPAR).
    """
    lpar_w = vm.get_instance_wrapper(ctx.adapter, instance)
    capable, reason = lpar_w.can_modify_io()
    if not capable:
        cls = (nova_exc.VolumeAttachFailed if attach
               else nova_exc.VolumeDetachFailed)
        raise cls(volume_id=volume.volume_id(connection_info),
                  reason='partition %s cannot change its I/O now: %s'
                         % (lpar_w.name, reason))
    return lpar_w


def build_attach(ctx, context, instance, connection_info):
    """The attach graph: connect the volume, then record its tag.

    :param ctx: ``HostContext``.
    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance``.
    :param connection_info: Cinder's connection info.
    """
    flow = tf_lf.Flow('attach_volume_%s' % instance.uuid)
    flow.add(tf_vol.ConnectVolumes(ctx, instance, [connection_info],
                                   name='connect_volume'),
             tf_vol.UpdateVolumeMetadata(instance, context))
    return flow


def attach(ctx, context, connection_info, instance, encryption=None):
    """Attach a volume to a running or stopped instance.

    At most 7 round trips with one VIOS (see flows.rst): GET partition,
    GET the VIOSes (first time on the host only), one discovery job per
    VIOS (3), GET + POST of the VIOS mappings.
    """
    _check_encryption(connection_info, encryption)
    volume.get_connector(ctx, instance, connection_info)  # protocol check
    with _volumes_lock(instance):
        lpar_w = _io_wrapper(ctx, instance, connection_info)
        flows.run(build_attach(ctx, context, instance, connection_info),
                  store={'lpar_wrap': lpar_w})


def build_detach(ctx, context, instance, connection_info):
    """The detach graph: drop the tag, unmap and remove the hdisks.

    :param ctx: ``HostContext``.
    :param context: nova ``RequestContext``.
    :param instance: nova ``Instance``.
    :param connection_info: Cinder's connection info.
    """
    flow = tf_lf.Flow('detach_volume_%s' % instance.uuid)
    flow.add(tf_vol.UpdateVolumeMetadata(
        instance, context,
        without_volumes=[volume.volume_id(connection_info)]),
        tf_vol.DisconnectVolumes(ctx, instance, [connection_info]))
    return flow


def detach(ctx, context, connection_info, instance):
    """Detach a volume from a running or stopped instance.

    At most 7 round trips with one VIOS: GET partition, GET + POST of the
    VIOS mappings, one RemoveDevice job (3) per VIOS whose hdisk nothing
    else maps.  A partition that is gone is no error (nothing is mapped
    to it any more); when the connection info knows the volume's UDID
    (a live migration's destination after a failure) the hdisks of the
    volume that nothing maps are removed: 1 GET of the VIOSes, one
    removal job per VIOS.
    """
    volume.get_connector(ctx, instance, connection_info)  # protocol check
    with _volumes_lock(instance):
        try:
            lpar_w = _io_wrapper(ctx, instance, connection_info,
                                 attach=False)
        except nova_exc.InstanceNotFound:
            LOG.info('Partition gone: volume %s is detached already.',
                     volume.volume_id(connection_info), instance=instance)
            if vscsi.UDID_KEY in (connection_info.get('data') or {}):
                # A live migration that failed or never came: hdisks the
                # destination discovered for it are mapped to nothing.
                lpm_volumes.release_unmapped(ctx, instance,
                                             [connection_info])
            return
        flows.run(build_detach(ctx, context, instance, connection_info),
                  store={'lpar_wrap': lpar_w})


def extend(ctx, connection_info, instance, requested_size):
    """Make the VIOSes see a volume's new size (bytes).

    :raises ExtendVolumeNotSupported: for a protocol that cannot.
    :raises VolumeAttachFailed: when a VIOS still sees a smaller disk.
    """
    conn = volume.get_connector(ctx, instance, connection_info)
    with _volumes_lock(instance), errors.translate(
            'extend volume %s' % conn.volume_id, instance=instance):
        if not conn.attached(vm.get_pvm_uuid(instance)):
            # Detached while nova's event waited: nothing to rescan.
            LOG.info('Volume %s is no longer attached; not rescanning it.',
                     conn.volume_id, instance=instance)
            return
        size_mb = conn.extend()
    want_mb = requested_size // (1024 * 1024)
    if size_mb is not None and size_mb < want_mb:
        raise nova_exc.VolumeAttachFailed(
            volume_id=conn.volume_id,
            reason='the Virtual I/O Servers see %d MB, %d MB expected'
                   % (size_mb, want_mb))
    LOG.info('Volume %(vol)s is %(size)s MB on the VIOSes.',
             {'vol': conn.volume_id, 'size': size_mb}, instance=instance)
