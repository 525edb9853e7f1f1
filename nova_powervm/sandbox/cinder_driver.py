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
"""A Cinder volume driver whose volumes are LUNs on the simulated SAN.

SANDBOX ONLY: loaded by the sandbox's Cinder process
(``volume_driver = nova_powervm.sandbox.cinder_driver.SimulatedSANDriver``),
never by nova.  Each volume is a LUN of the SAN the simulated NovaLink
hosts share (:mod:`nova_powervm.simulator.san`), named by the volume's
id and managed through the SAN's admin REST API (``SANClient``):

* create, delete and extend make, remove and grow the LUN;
* ``initialize_connection`` adds the connector's initiators (its FC
  WWPNs, or its iSCSI IQN with the volume's CHAP credentials) to the
  LUN's masking and returns the ``fibre_channel`` or ``iscsi``
  connection info of ``san.connection_info``, by the backend's
  ``pvm_san_protocol``; ``terminate_connection`` removes them again;
* an image is "copied" to a new volume by ``clone_image``: its bytes are
  fetched from Glance and kept in a sparse file beside the SAN (the
  simulated LUN has no data blocks), which ``copy_volume_to_image``
  uploads back.

The SAN lives in the simulators, which the sandbox starts after Cinder:
the driver reads the SAN's URL from ``pvm_san_endpoint_file`` (JSON
``{"url": ..., "token": ...}``, written by the sandbox) when it first
needs it.
"""

import json
import os
import secrets

from cinder.common import constants
from cinder import exception
from cinder import interface
from cinder.volume import driver
from oslo_config import cfg
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

PROTOCOLS = {'fibre_channel': constants.FC, 'iscsi': constants.ISCSI}

OPTS = [
    cfg.StrOpt('pvm_san_protocol', default='fibre_channel',
               choices=sorted(PROTOCOLS),
               help='Protocol of the connection info this backend returns: '
                    'fibre_channel (the connector\'s WWPNs are exported) '
                    'or iscsi (its initiator IQN, with CHAP).'),
    cfg.StrOpt('pvm_san_endpoint_file',
               default='$state_path/san.json',
               help='JSON file {"url": ..., "token": ...} naming a '
                    'simulator whose admin API serves the SAN.'),
    cfg.IntOpt('pvm_san_capacity_gb', default=1024, min=1,
               help='Capacity the backend reports to the scheduler.'),
    cfg.StrOpt('pvm_san_data_dir', default='$state_path/san-data',
               help='Where the bytes of volumes made from images are kept '
                    '(sparse files).'),
]

CHAP_PREFIX = 'CHAP'


class SANUnavailable(exception.VolumeBackendAPIException):
    message = 'The simulated SAN is not reachable: %(reason)s'


@interface.volumedriver
class SimulatedSANDriver(driver.VolumeDriver):
    """Volumes as LUNs of the sandbox's simulated SAN (FC or iSCSI)."""

    VERSION = '1.0.0'
    CI_WIKI_NAME = 'nova-powervm-sandbox'
    SUPPORTED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.configuration.append_config_values(OPTS)
        self._client = None

    # -- setup ------------------------------------------------------------
    @property
    def protocol(self):
        return self.configuration.pvm_san_protocol

    def do_setup(self, context):
        os.makedirs(self.configuration.pvm_san_data_dir, exist_ok=True)

    def check_for_setup_error(self):
        pass

    def client(self):
        """The ``SANClient`` (built on first use from the endpoint file).

        :raises SANUnavailable: while the sandbox has not written it.
        """
        if self._client is None:
            from nova_powervm.simulator import san

            path = self.configuration.pvm_san_endpoint_file
            try:
                with open(path) as f:
                    endpoint = json.load(f)
            except (OSError, ValueError) as exc:
                raise SANUnavailable(reason='no endpoint in %s (%s)'
                                     % (path, exc))
            self._client = san.SANClient(endpoint['url'],
                                         endpoint.get('token'))
        return self._client

    # -- volumes ----------------------------------------------------------
    def create_volume(self, volume):
        self.client().create_lun(volume.id, volume.size)
        update = {'provider_location': 'san:%s' % volume.id}
        if self.protocol == 'iscsi':
            # Per-volume CHAP credentials, kept by Cinder with the volume.
            update['provider_auth'] = '%s %s %s' % (
                CHAP_PREFIX, 'chap-%s' % volume.id[:8],
                secrets.token_urlsafe(12))
        return update

    def delete_volume(self, volume):
        self._delete_lun(volume.id)

    def extend_volume(self, volume, new_size):
        self.client().resize(volume.id, new_size)
        path = self._data_path(volume)
        if os.path.exists(path):
            os.truncate(path, new_size * 1024 ** 3)

    # -- snapshots and clones: LUNs of their own ---------------------------
    # The SAN has no snapshot of its own: a snapshot is a LUN named
    # ``snapshot-<id>`` of the volume's size, made when it is taken (with
    # a copy of the volume's bytes when it has any).
    @staticmethod
    def _snap_name(snapshot):
        return 'snapshot-%s' % snapshot.id

    def _copy_data(self, src, dest, size_gb):
        src_path = os.path.join(self.configuration.pvm_san_data_dir, src)
        if not os.path.exists(src_path):
            return
        dest_path = os.path.join(self.configuration.pvm_san_data_dir, dest)
        with open(src_path, 'rb') as fin, open(dest_path, 'wb') as fout:
            while True:
                block = fin.read(1024 * 1024)
                if not block:
                    break
                if block.count(0) == len(block):
                    fout.seek(len(block), os.SEEK_CUR)
                else:
                    fout.write(block)
            fout.truncate(size_gb * 1024 ** 3)

    def create_snapshot(self, snapshot):
        name = self._snap_name(snapshot)
        self.client().create_lun(name, snapshot.volume_size)
        self._copy_data(snapshot.volume_id, name, snapshot.volume_size)
        return {'provider_location': 'san:%s' % name}

    def delete_snapshot(self, snapshot):
        self._delete_lun(self._snap_name(snapshot))

    def create_volume_from_snapshot(self, volume, snapshot):
        update = self.create_volume(volume)
        self._copy_data(self._snap_name(snapshot), volume.id, volume.size)
        return update

    def create_cloned_volume(self, volume, src_vref):
        update = self.create_volume(volume)
        self._copy_data(src_vref.id, volume.id, volume.size)
        return update

    def _delete_lun(self, name):
        from nova_powervm.simulator import san

        try:
            self.client().delete(name)
        except san.SANError as exc:
            if exc.status == 404:
                LOG.info('LUN %s was already gone', name)
            elif exc.status == 409:
                raise exception.VolumeIsBusy(volume_name=name)
            else:
                raise
        try:
            os.unlink(os.path.join(self.configuration.pvm_san_data_dir,
                                   name))
        except FileNotFoundError:
            pass

    def create_export(self, context, volume, connector):
        pass

    def ensure_export(self, context, volume):
        pass

    def remove_export(self, context, volume):
        pass

    # -- connections ------------------------------------------------------
    def validate_connector(self, connector):
        if self.protocol == 'iscsi':
            if not connector.get('initiator'):
                raise exception.InvalidConnectorException(missing='initiator')
        elif not connector.get('wwpns'):
            raise exception.InvalidConnectorException(missing='wwpns')

    def _initiators(self, connector):
        if self.protocol == 'iscsi':
            return [connector['initiator']]
        return [w.lower().replace(':', '') for w in connector['wwpns']]

    def _chap(self, volume):
        auth = (volume.provider_auth or '').split()
        if self.protocol != 'iscsi' or len(auth) != 3:
            return None
        return {'username': auth[1], 'secret': auth[2]}

    def initialize_connection(self, volume, connector):
        from nova_powervm.simulator import san

        chap = self._chap(volume)
        lun = self.client().export(volume.id, self._initiators(connector),
                                   chap=chap)
        info = san.connection_info(lun, connector, self.protocol,
                                   chap_secret=chap and chap['secret'])
        LOG.info('Volume %(vol)s exported to %(host)s over %(proto)s',
                 {'vol': volume.id, 'host': connector.get('host'),
                  'proto': self.protocol})
        return info

    def terminate_connection(self, volume, connector, **kwargs):
        client = self.client()
        if connector is None:
            # A force detach: nobody may see the LUN any more.
            initiators = client.lun(volume.id)['initiators']
        else:
            initiators = self._initiators(connector)
            if self._shared_connection(volume, initiators):
                # Another attachment still reads the LUN through these
                # initiators: a multiattach volume on the same host, or
                # an NPIV server that moved (its virtual WWPNs are the
                # same on both hosts).
                return True
        if initiators:
            client.unexport(volume.id, initiators)
        return False

    def _shared_connection(self, volume, initiators):
        """Whether several attachments use the LUN through ``initiators``.

        The attachment being ended is still in the volume's list.  Any
        volume: a server attached over NPIV reports the same virtual
        WWPNs on every host, so the destination's attachment of a move
        shares the source's initiators.
        """
        wanted = set(initiators)
        users = 0
        for attach in volume.volume_attachment or ():
            conn = attach.connector
            if not conn:
                continue
            try:
                if set(self._initiators(conn)) & wanted:
                    users += 1
            except KeyError:
                continue
        return users > 1

    # -- images -----------------------------------------------------------
    def _data_path(self, volume):
        return os.path.join(self.configuration.pvm_san_data_dir, volume.id)

    def clone_image(self, context, volume, image_location, image_meta,
                    image_service):
        """Fill a new volume with an image's bytes (kept beside the SAN)."""
        size = image_meta.get('size') or 0
        if size > volume.size * 1024 ** 3:
            raise exception.ImageTooBig(image_id=image_meta['id'],
                                        reason='%d bytes in a %d GiB volume'
                                        % (size, volume.size))
        # Cinder calls this instead of create_volume: make the LUN too.
        update = self.create_volume(volume)
        path = self._data_path(volume)
        try:
            with open(path, 'wb') as f:
                image_service.download(context, image_meta['id'], data=f)
                f.truncate(volume.size * 1024 ** 3)
        except Exception:
            self.delete_volume(volume)
            raise
        return update, True

    def copy_image_to_volume(self, context, volume, image_service, image_id,
                             disable_sparse=False):
        # The volume (and its LUN) exists: only the bytes.
        with open(self._data_path(volume), 'wb') as f:
            image_service.download(context, image_id, data=f)
            f.truncate(volume.size * 1024 ** 3)

    def copy_volume_to_image(self, context, volume, image_service, image_meta):
        path = self._data_path(volume)
        if not os.path.exists(path):
            with open(path, 'wb') as f:
                f.truncate(volume.size * 1024 ** 3)
        with open(path, 'rb') as f:
            image_service.update(context, image_meta['id'], {}, f)

    # -- stats ------------------------------------------------------------
    def _update_volume_stats(self):
        conf = self.configuration
        used = 0
        try:
            used = sum(lun['size_gb'] for lun in self.client().luns())
        except Exception as exc:
            # Before the simulators start the SAN is not there yet.
            LOG.debug('SAN usage unknown: %s', exc)
        total = conf.pvm_san_capacity_gb
        self._stats = {
            'volume_backend_name': (conf.safe_get('volume_backend_name')
                                    or 'pvm-san'),
            'vendor_name': 'nova-powervm sandbox',
            'driver_version': self.VERSION,
            'storage_protocol': PROTOCOLS[self.protocol],
            'total_capacity_gb': total,
            'free_capacity_gb': max(0, total - used),
            'provisioned_capacity_gb': used,
            'reserved_percentage': 0,
            'thin_provisioning_support': True,
            'thick_provisioning_support': False,
            'multiattach': True,
            'QoS_support': False,
        }
