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
"""Config drives as virtual optical media.

The ISO 9660 image (volume label ``config-2``, Rock Ridge and Joliet names)
is built in memory with pycdlib from nova's ``InstanceMetadata``: no
``genisoimage`` on the NovaLink host, no temporary files.  It is uploaded
into the media repository of a VIOS as virtual optical media and mapped
to the partition together with its boot disk.

Where the media repository lives is remembered per host (the disk adapter
records it while it looks for its volume group at start-up), so a spawn
does not search for it.
"""

import io
import os

import netaddr
from nova.api.metadata import base as instance_metadata
from nova import exception as nova_exc
from nova.network import model as network_model
from nova.virt import configdrive
from oslo_log import log as logging
import pycdlib
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import storage as pvm_stg_tasks
from pypowervm.utils import retry as pvm_retry
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm import conf as pvm_conf

LOG = logging.getLogger(__name__)
CONF = pvm_conf.CONF

VOLUME_LABEL = 'config-2'


def vopt_name(instance):
    """Name of an instance's config drive media (unique per instance).

    :param instance: nova ``Instance``.
    """
    return 'cfg_%s.iso' % instance.uuid.replace('-', '')[:28]


def required(instance):
    """Whether the instance gets a config drive.

    :param instance: nova ``Instance``.
    """
    return configdrive.required_by(instance)


def _iso_name(name, is_dir):
    """An ISO 9660 (level 4) name for one path component."""
    clean = ''.join(c if c.isalnum() or c in '_.' else '_'
                    for c in name.upper())
    return clean if is_dir else clean + ';1'


def _add_dirs(iso, seen, parts):
    for i in range(1, len(parts)):
        rel = parts[:i]
        key = '/'.join(rel)
        if key in seen:
            continue
        seen.add(key)
        iso.add_directory(
            '/' + '/'.join(_iso_name(p, True) for p in rel),
            rr_name=rel[-1], joliet_path='/' + '/'.join(rel))


def build_iso(files):
    """Build an ISO 9660 image, volume label ``config-2``.

    :param files: iterable of ``(path, data)``; data is bytes or str.
    :returns: the image as bytes.
    """
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=4, vol_ident=VOLUME_LABEL, joliet=3,
            rock_ridge='1.09')
    seen = set()
    for path, data in files:
        if isinstance(data, str):
            data = data.encode('utf-8')
        parts = [p for p in os.path.normpath(path).split(os.sep) if p]
        _add_dirs(iso, seen, parts)
        iso.add_fp(io.BytesIO(data), len(data),
                   '/' + '/'.join(_iso_name(p, i < len(parts) - 1)
                                  for i, p in enumerate(parts)),
                   rr_name=parts[-1], joliet_path='/' + '/'.join(parts))
    out = io.BytesIO()
    iso.write_fp(out)
    iso.close()
    return out.getvalue()


def mgmt_vif_model(mac):
    """The RMC management adapter as a nova VIF, for the config drive.

    Its address is the IPv6 link-local address (EUI-64) of its MAC.

    :param mac: the adapter's MAC (any notation).
    :returns: nova ``VIF``.
    """
    hexmac = mac.replace(':', '').replace('-', '').lower()
    colons = ':'.join(hexmac[i:i + 2] for i in range(0, 12, 2))
    address = str(netaddr.EUI(colons).ipv6_link_local())
    subnet = network_model.Subnet(
        cidr='fe80::/64', version=6, routes=[], dns=[],
        ips=[network_model.FixedIP(address=address, version=6)])
    network = network_model.Network(
        id='pvm-rmc-mgmt', label='rmc-mgmt', bridge=None, subnets=[subnet],
        injected=False)
    return network_model.VIF(id='pvm-rmc-%s' % hexmac, address=colons,
                             network=network, type='pvm_sea', active=True)


def config_drive_iso(instance, injected_files, admin_password,
                     network_info, request_context=None, mgmt_mac=None):
    """The config drive of an instance, as ISO bytes.

    :param instance: nova ``Instance``.
    :param injected_files: list of ``(path, contents)`` to inject.
    :param admin_password: the admin password, or None.
    :param network_info: nova ``NetworkInfo``.
    :param request_context: nova ``RequestContext`` (unused: nova's
                            ``InstanceMetadata`` uses an admin context).
    :param mgmt_mac: MAC of the RMC management adapter; with
                     ``[powervm] use_rmc_ipv6_scheme`` it is described in
                     the network data with its IPv6 link-local address.
    """
    extra_md = {}
    if admin_password:
        extra_md['admin_pass'] = admin_password
    vifs = list(network_info or ())
    if mgmt_mac and CONF.powervm.use_rmc_ipv6_scheme:
        vifs.append(mgmt_vif_model(mgmt_mac))
    md = instance_metadata.InstanceMetadata(
        instance, content=injected_files, extra_md=extra_md,
        network_info=network_model.NetworkInfo(vifs))
    return build_iso(md.metadata_for_config_drive())


def _create_repo(adapter, vioses, vgs_by_vios):
    name = CONF.powervm.vopt_media_volume_group
    for vios_w in vioses:
        if vios_w.is_mgmt_partition and len(vioses) > 1:
            continue
        for vg_w in vgs_by_vios[vios_w.uuid]:
            if vg_w.name == name:
                vg_w.vmedia_repos = [pvm_stg.VMediaRepos.bld(
                    adapter, 'vopt', CONF.powervm.vopt_media_rep_size)]
                vg_w.update()
                return vios_w.uuid, vg_w.uuid
    raise nova_exc.NovaException(
        'No media repository on the host, and volume group %s '
        '([powervm] vopt_media_volume_group) was not found to create one'
        % name)


def find_repo(adapter, cache):
    """Where the media repository is, creating it when there is none.

    Free when remembered in the host's cache; else one VIOS feed GET and
    one VG feed GET per VIOS searched.

    :param adapter: pypowervm ``Adapter``.
    :param cache: the host's ``cache.HostCache``.
    :returns: ``(vios_uuid, vg_uuid)``.
    """
    found = cache.media_repo()
    if found:
        return found
    vioses = pvm_vios.VIOS.get(adapter)
    vgs_by_vios = {}
    for vios_w in vioses:
        vgs_by_vios[vios_w.uuid] = pvm_stg.VG.get(
            adapter, parent_type=pvm_vios.VIOS, parent_uuid=vios_w.uuid)
        for vg_w in vgs_by_vios[vios_w.uuid]:
            if vg_w.vmedia_repos:
                cache.remember_repo(vios_w.uuid, vg_w.uuid)
                return vios_w.uuid, vg_w.uuid
    found = _create_repo(adapter, vioses, vgs_by_vios)
    cache.remember_repo(*found)
    return found


def upload(adapter, vios_uuid, name, data):
    """Upload ISO bytes as virtual optical media (3 round trips).

    :param adapter: pypowervm ``Adapter``.
    :param vios_uuid: the VIOS of the media repository.
    :param name: media name.
    :param data: the ISO as bytes.
    :returns: ``VOptMedia`` reference for a mapping.
    """
    vopt, leftover = pvm_stg_tasks.upload_vopt(
        adapter, vios_uuid, io.BytesIO(data), name, f_size=len(data))
    if leftover is not None:
        LOG.warning('The upload descriptor of %s could not be deleted.', name)
    return vopt


def delete_media(adapter, cache, names):
    """Delete virtual optical media from the repository (GET + POST VG).

    :param adapter: pypowervm ``Adapter``.
    :param cache: the host's ``cache.HostCache``.
    :param names: media names; absent ones are ignored.
    :returns: the names that were deleted.
    """
    vios_uuid, vg_uuid = find_repo(adapter, cache)
    try:
        vg_w = pvm_stg.VG.get(adapter, uuid=vg_uuid,
                              parent_type=pvm_vios.VIOS,
                              parent_uuid=vios_uuid)
    except pvm_exc.HttpNotFound:
        cache.forget_repo()
        return []
    return remove_from_vg(vg_w, vopt_names=names)[1]


@pvm_retry.retry(argmod_func=pvm_retry.refresh_wrapper, tries=10)
def remove_from_vg(vg_w, vdisk_udids=(), vopt_names=(), vdisk_names=()):
    """Remove VDisks (by UDID or name) and media (by name), one POST.

    On an etag mismatch (412) the VG is read again and the removal redone.

    :param vg_w: ``VG`` wrapper, fresh from a GET.
    :param vdisk_udids: UDIDs of VDisks to delete.
    :param vopt_names: names of optical media to delete.
    :param vdisk_names: names of VDisks to delete.
    :returns: ``(deleted vdisk names, deleted media names)``; no POST
              when nothing matched.
    """
    udids, names = set(vdisk_udids), set(vdisk_names)
    vds = [vd for vd in vg_w.virtual_disks
           if vd.udid in udids or vd.name.split('/')[-1] in names]
    for vd in vds:
        vg_w.virtual_disks.remove(vd)
    vopts = []
    if vg_w.vmedia_repos and vopt_names:
        media = vg_w.vmedia_repos[0].optical_media
        vopts = [m for m in media if m.name in set(vopt_names)]
        for m in vopts:
            media.remove(m)
    if vds or vopts:
        vg_w.update()
    return [vd.name for vd in vds], [m.name for m in vopts]
