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
"""The demo's volume rows: Cinder volumes on the simulated SAN.

For each volume type of the sandbox's Cinder (``fc``, ``iscsi``): create
a volume, attach it to the running demo server, extend it while
attached, detach it; then boot a server from a volume made of the image,
and delete everything.  Each row checks the SAN too (the LUN, its size,
who it is exported to and which VIOSes see it), and the last one that no
LUN is left.  Inserted before the demo's final ``delete`` by
``insert_steps``; when the sandbox cannot run them (``--lite``, nova's
fake driver, a PowerVM driver without volume connectors) a single row
says why: "not available".
"""

import json
import logging
import time

import requests

from nova_powervm.sandbox import demo
from nova_powervm.sandbox import images

LOG = logging.getLogger(__name__)
WAIT_TIMEOUT = 90.0
POLL = 0.1
# The volume API microversion: 3.42 lets an attached volume be extended.
VOLUME_API_VERSION = 'volume 3.60'
DEMO_SERVER = 'sandbox-demo'
PROTOCOLS = (('fc', 'fibre_channel'), ('iscsi', 'iscsi'))
STEP_NAMES = ('volume create', 'volume attach', 'volume extend',
              'volume detach')


StepFailed = demo.StepFailed


def unavailable_reason(cloud):
    """Why the volume rows cannot run on this cloud, or None."""
    if cloud.services is None or not getattr(cloud.services, 'cinder',
                                             False):
        return 'no Cinder (--lite)'
    if cloud.driver != 'powervm':
        return 'no simulated SAN with nova\'s fake driver'
    try:
        from nova_powervm.simulator import san  # noqa: F401
    except ImportError:
        return 'the simulator has no SAN yet'
    from nova_powervm.virt.powervm import volume

    missing = [p for _t, p in PROTOCOLS if p not in volume.CONNECTORS]
    if missing:
        return 'no %s connector in the driver' % '/'.join(missing)
    from nova_powervm.sandbox import describe

    drv = next(iter(cloud.computes.values())).manager.driver
    if not describe.implements(drv, 'attach_volume', 'detach_volume'):
        return 'the driver does not attach volumes yet'
    return None


class VolumeClient(demo.JSONClient):
    """The few block-storage v3 calls the demo makes, over HTTP.

    :param url: Cinder's ``/v3`` endpoint.
    :param token: keystone token of the demo user.
    """

    def __init__(self, url, token):
        session = requests.Session()
        session.headers.update({
            'X-Auth-Token': token, 'Accept': 'application/json',
            'OpenStack-API-Version': VOLUME_API_VERSION})
        super().__init__(url, session)

    def volume(self, volume_id):
        """GET one volume, or None once it is gone."""
        resp = self.session.get('%s/volumes/%s' % (self.url, volume_id),
                                timeout=30)
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise StepFailed('GET volume -> %d' % resp.status_code)
        return resp.json()['volume']

    def wait(self, volume_id, status, timeout=WAIT_TIMEOUT, size=None):
        """Poll until the volume has ``status`` (None: until it is gone).

        :raises StepFailed: on an error status, or when time runs out.
        """
        deadline = time.monotonic() + timeout
        vol = None
        while time.monotonic() < deadline:
            vol = self.volume(volume_id)
            if vol is None:
                if status is None:
                    return None
                raise StepFailed('volume gone while waiting for %s' % status)
            if vol['status'].startswith('error') and \
                    not (status or '').startswith('error'):
                raise StepFailed('volume %s is %s' % (volume_id,
                                                      vol['status']))
            if vol['status'] == status and (size is None
                                            or vol['size'] == size):
                return vol
            time.sleep(POLL)
        raise StepFailed('timed out waiting for volume %s (it is %s)'
                         % (status or 'deletion',
                            vol and vol['status']))


def wait_action(client, server_id, action, seen, timeout=WAIT_TIMEOUT):
    """Wait for nova's new ``action`` on a server to finish.

    Cinder tells nova of an extended volume with an external event
    (``volume-extended``), which the server's compute handles after
    Cinder already shows the new size.

    :param seen: request ids of earlier such actions (appended to).
    :returns: the result of the action's event (``Success``).
    :raises StepFailed: when it does not finish, or fails.
    """
    deadline = time.monotonic() + timeout
    path = '/servers/%s/os-instance-actions' % server_id
    while time.monotonic() < deadline:
        for act in client.call('GET', path)['instanceActions']:
            if act['action'] != action or act['request_id'] in seen:
                continue
            resp = client.reader.get(
                '%s%s/%s' % (client.url, path, act['request_id']),
                timeout=30)
            events = resp.json()['instanceAction'].get('events') or []
            if events and all(e.get('finish_time') for e in events):
                seen.append(act['request_id'])
                failed = [e for e in events if e.get('result') != 'Success']
                if failed:
                    raise StepFailed('%s: %s' % (action, failed))
                return events[-1]['result']
        time.sleep(POLL)
    raise StepFailed('nova did not finish %s' % action)


def san_client(cloud):
    """A ``SANClient`` on the simulator the sandbox's Cinder uses."""
    from nova_powervm.simulator import san

    with open(cloud.services.san_endpoint_file) as f:
        endpoint = json.load(f)
    return san.SANClient(endpoint['url'], endpoint.get('token'))


def volume_steps(cloud, client, network='none'):
    """The volume rows as ``(name, callable)``.

    :param cloud: the running ``Cloud``.
    :param client: the demo's ``ComputeClient`` (its tokens are reused).
    :param network: ``networks`` of the boot-from-volume server.
    """
    reason = unavailable_reason(cloud)
    if reason is not None:
        return [('volumes', lambda: 'not available: %s' % reason)]
    token = client.session.headers['X-Auth-Token']
    cinder = VolumeClient(cloud.volume_url, token)
    san = san_client(cloud)
    state = {'volumes': {}}

    def server_id():
        if 'server' not in state:
            found = client.call('GET', '/servers?name=^%s$' % DEMO_SERVER)
            if not found['servers']:
                raise StepFailed('no %s server to attach to' % DEMO_SERVER)
            state['server'] = found['servers'][0]['id']
        return state['server']

    def lun(volume_id):
        return san.lun(volume_id)

    def create(vtype):
        def run():
            vol = cinder.call('POST', '/volumes', {'volume': {
                'name': 'sandbox-demo-%s' % vtype, 'size': 1,
                'volume_type': vtype}})['volume']
            state['volumes'][vtype] = vol['id']
            vol = cinder.wait(vol['id'], 'available')
            doc = lun(vol['id'])
            if doc['size_gb'] != 1:
                raise StepFailed('LUN of %d GB' % doc['size_gb'])
            return 'available, LUN %s of 1 GB' % doc['udid'][-12:]
        return run

    def attach(vtype):
        def run():
            vol_id = state['volumes'][vtype]
            client.call('POST', '/servers/%s/os-volume_attachments'
                        % server_id(),
                        {'volumeAttachment': {'volumeId': vol_id}})
            cinder.wait(vol_id, 'in-use')
            doc = lun(vol_id)
            if vtype == 'fc' and cloud.fc_attach_strategy == 'npiv':
                # The partition's own virtual FC ports see the LUN, through
                # the VIOSes' virtual FC mappings; no VIOS hdisk.
                maps = sum(len(v.get('fc_mappings', []))
                           for sim in cloud.simulators.values()
                           for v in sim.state()['vioses'])
                if not doc['initiators'] or not maps:
                    raise StepFailed('LUN exported to %s, %d VFC mappings'
                                     % (doc['initiators'], maps))
                return 'in-use, NPIV: %d virtual WWPNs, %d VFC mappings' % (
                    len(doc['initiators']), maps)
            if not doc['initiators'] or not doc['visible_on']:
                raise StepFailed('LUN exported to %s, seen by %s'
                                 % (doc['initiators'], doc['visible_on']))
            return 'in-use, seen by %s' % ', '.join(doc['visible_on'])
        return run

    def extend(vtype):
        def run():
            vol_id = state['volumes'][vtype]
            cinder.call('POST', '/volumes/%s/action' % vol_id,
                        {'os-extend': {'new_size': 2}})
            cinder.wait(vol_id, 'in-use', size=2)
            doc = lun(vol_id)
            if doc['size_gb'] != 2:
                raise StepFailed('LUN still %d GB' % doc['size_gb'])
            result = wait_action(client, server_id(), 'extend_volume',
                                 state.setdefault('extended', []))
            return 'in-use, 2 GB on the SAN, nova: %s' % result
        return run

    def detach(vtype):
        def run():
            vol_id = state['volumes'][vtype]
            client.call('DELETE', '/servers/%s/os-volume_attachments/%s'
                        % (server_id(), vol_id))
            cinder.wait(vol_id, 'available')
            doc = lun(vol_id)
            if doc['initiators'] or doc['visible_on']:
                raise StepFailed('LUN still exported to %s, seen by %s'
                                 % (doc['initiators'], doc['visible_on']))
            return 'available, unexported, no VIOS sees it'
        return run

    def boot_from_volume():
        body = {'server': {
            'name': 'sandbox-demo-bfv', 'flavorRef': '1',
            'networks': network, 'imageRef': '',
            'block_device_mapping_v2': [{
                'boot_index': 0, 'uuid': images.DEFAULT_IMAGE_ID,
                'source_type': 'image', 'destination_type': 'volume',
                'volume_size': 1, 'delete_on_termination': True}]}}
        note = ''
        if cloud.fc_attach_strategy == 'npiv':
            # The root volume is an FC LUN the partition's own virtual
            # ports see (WWPNs allocated before spawn); microversion 2.67
            # names the root volume's type.
            body['server']['block_device_mapping_v2'][0][
                'volume_type'] = 'fc'
            note = ' (NPIV)'
        state['bfv'] = client.call('POST', '/servers', body)['server']['id']
        srv = client.wait(state['bfv'], 'ACTIVE', timeout=WAIT_TIMEOUT)
        attached = srv.get('os-extended-volumes:volumes_attached') or []
        if len(attached) != 1:
            raise StepFailed('volumes attached: %s' % attached)
        state['bfv_volume'] = attached[0]['id']
        vol = cinder.wait(attached[0]['id'], 'in-use')
        if not vol.get('bootable') in (True, 'true'):
            raise StepFailed('root volume not bootable')
        return 'ACTIVE on %s, root volume in-use%s' % (srv.get(
            'OS-EXT-SRV-ATTR:host'), note)

    def delete():
        if 'bfv' in state:
            client.call('DELETE', '/servers/%s' % state['bfv'])
            client.wait(state['bfv'], None, timeout=WAIT_TIMEOUT)
        ids = list(state['volumes'].values())
        for vol_id in ids:
            cinder.call('DELETE', '/volumes/%s' % vol_id)
        if 'bfv_volume' in state:
            # Deleted with its server (delete_on_termination).
            ids.append(state['bfv_volume'])
        for vol_id in ids:
            cinder.wait(vol_id, None)
        left = [d['name'] for d in san.luns()]
        if left:
            raise StepFailed('LUNs left on the SAN: %s' % left)
        return '%d volume(s) gone, no LUN on the SAN' % len(ids)

    steps = []
    for vtype, _protocol in PROTOCOLS:
        steps += [('volume create %s' % vtype, create(vtype)),
                  ('volume attach %s' % vtype, attach(vtype)),
                  ('volume extend %s' % vtype, extend(vtype)),
                  ('volume detach %s' % vtype, detach(vtype))]
    steps += [('boot from volume', boot_from_volume),
              ('volume delete', delete)]
    return steps


def insert_steps(cloud, client, steps, network='none'):
    """The demo's steps with the volume rows before the final delete.

    :param steps: the lifecycle's ``(name, callable)`` list.
    """
    steps = list(steps)
    at = len(steps)
    for i, (name, _step) in enumerate(steps):
        if name == 'delete':
            at = i
    try:
        rows = volume_steps(cloud, client, network)
    except Exception as exc:
        LOG.exception('volume rows unavailable')
        rows = [('volumes', _raiser(exc))]
    return steps[:at] + rows + steps[at:]


def _raiser(exc):
    def run():
        raise exc
    return run
