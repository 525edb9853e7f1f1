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

import functools
import io
import os

import netaddr
from nova.api.metadata import base as instance_metadata
from nova import exception as nova_exc
from nova.network import model as network_model
from nova.virt import configdrive
from oslo_log import log as logging
import pycdlib
from pypowervm.tasks import storage as pvm_stg_tasks
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm import conf as pvm_conf
from nova_powervm import exception as exc
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import mapping
from nova_powervm.virt.powervm import volume_group as vg

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


@functools.lru_cache(maxsize=1024)
def _iso_name(name, is_dir):
    """An ISO 9660 (level 4) name for one path component.

    Cached: every config drive has the same few dozen names.
    """
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
                with errors.translate('create media repository'):
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
    with errors.translate('find media repository'):
        vioses = pvm_vios.VIOS.get(adapter)
    vgs_by_vios = {}
    for vios_w in vioses:
        vgs_by_vios[vios_w.uuid] = vg.list_on(adapter, vios_w.uuid)
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
    with errors.translate('upload config drive %s' % name):
        vopt, leftover = pvm_stg_tasks.upload_vopt(
            adapter, vios_uuid, io.BytesIO(data), name, f_size=len(data))
    if leftover is not None:
        # pypowervm's one DELETE of the upload descriptor failed (and was
        # only logged): one more try, or the File stays on the host.
        try:
            with errors.translate('delete upload descriptor of %s' % name):
                with errors.ignore_missing():
                    adapter.delete(leftover.schema_type,
                                   root_id=leftover.uuid, service='web')
        except nova_exc.NovaException:
            LOG.warning('The upload descriptor of %s could not be '
                        'deleted.', name)
    return vopt


def create(adapter, cache, instance, data):
    """Upload an instance's config drive into the media repository.

    4 round trips (3 for the upload; the repository's place is cached).

    :param adapter: pypowervm ``Adapter``.
    :param cache: the host's ``cache.HostCache``.
    :param instance: nova ``Instance``.
    :param data: the ISO as bytes.
    :returns: ``(vios_uuid, VOptMedia reference)``.
    """
    vios_uuid, _vg = find_repo(adapter, cache)
    return vios_uuid, upload(adapter, vios_uuid, vopt_name(instance), data)


def connect(mappings, lpar_uuid, vopt):
    """Map config drive media to a partition (in the operation's update).

    :param mappings: the operation's ``mapping.VIOSMappings``.
    :param lpar_uuid: PowerVM UUID of the partition.
    :param vopt: ``(vios_uuid, VOptMedia)`` from :func:`create`.
    """
    vios_uuid, media = vopt
    mappings.add_vscsi(vios_uuid, lpar_uuid, media)


def disconnect(mappings, instance, lpar_uuid=None):
    """Remove the mapping of an instance's config drive media.

    :param mappings: the operation's ``mapping.VIOSMappings``.
    :param instance: nova ``Instance``.
    :param lpar_uuid: only the mapping to this partition (None: any
                      client, for a partition that vanished).
    """
    names = mapping.storage_named([vopt_name(instance)])
    mappings.remove_vscsi(
        lambda stg: isinstance(stg, pvm_stg.VOptMedia) and names(stg),
        lpar_uuid=lpar_uuid)


def delete_media(adapter, cache, names):
    """Delete virtual optical media from the repository (GET + POST VG).

    Through the host's batching writer of the repository's volume group:
    concurrent deletes share the GET and the POST.

    :param adapter: pypowervm ``Adapter``.
    :param cache: the host's ``cache.HostCache``.
    :param names: media names; absent ones are ignored.
    :returns: the names that were deleted.
    """
    vios_uuid, vg_uuid = find_repo(adapter, cache)
    try:
        return vg.remove_batched(adapter, vios_uuid, vg_uuid,
                                 vopt_names=names,
                                 what='delete media %s' % ', '.join(names))[1]
    except exc.PowerVMNotFound:
        cache.forget_repo()
        return []


def delete(adapter, cache, instance):
    """Delete an instance's config drive media, if there is one.

    :param adapter: pypowervm ``Adapter``.
    :param cache: the host's ``cache.HostCache``.
    :param instance: nova ``Instance``.
    :returns: the names that were deleted.
    """
    return delete_media(adapter, cache, [vopt_name(instance)])
