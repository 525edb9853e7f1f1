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
"""The scripted lifecycle ``--demo`` runs through the compute API over HTTP.

Each step is timed and charged the NovaLink round trips the simulators
counted while it ran.  The run fails when a step fails or when a simulator
still holds anything of the server after the delete.
"""

import hashlib
import logging
import time

import requests

from nova_powervm.sandbox import catalog
from nova_powervm.sandbox import demo_move
from nova_powervm.sandbox import demo_network
from nova_powervm.sandbox import images

LOG = logging.getLogger(__name__)
WAIT_TIMEOUT = 60.0
POLL = 0.05


class StepFailed(Exception):
    """A demo step did not reach its expected outcome."""


class JSONClient(object):
    """Plain-HTTP JSON calls of one OpenStack API with a token.

    :param url: the API's endpoint.
    :param session: ``requests.Session`` carrying the token headers.
    """

    def __init__(self, url, session):
        self.url = url.rstrip('/')
        self.session = session

    def call(self, method, path, body=None, expect=(200, 201, 202, 204)):
        """Send one request and return its decoded JSON (or None).

        :raises StepFailed: on an unexpected status.
        """
        resp = self.session.request(method, self.url + path, json=body,
                                    timeout=30)
        if resp.status_code not in expect:
            raise StepFailed('%s %s -> %d %s' % (method, path,
                                                 resp.status_code,
                                                 resp.text[:300]))
        return resp.json() if resp.content else None


class ComputeClient(JSONClient):
    """Minimal compute API client speaking plain HTTP with a token.

    :param url: the v2.1 endpoint.
    :param token: ``user:project`` for every action.
    :param admin_token: optional admin token for reads, which then show
                        the host a server landed on.
    :param image_url: base URL of the image API (default: the ``--lite``
                      view beside the compute API).
    """

    def __init__(self, url, token, admin_token=None, image_url=None):
        super().__init__(url, self._session(token))
        self.image_url = image_url or (
            self.url.rsplit('/', 1)[0] + catalog.IMAGE_PREFIX)
        self.reader = self._session(admin_token or token)

    @staticmethod
    def _session(token):
        session = requests.Session()
        session.headers.update({
            'X-Auth-Token': token, 'Accept': 'application/json',
            'OpenStack-API-Version': 'compute latest'})
        return session

    def server(self, server_id):
        """GET one server, or None once it is gone."""
        resp = self.reader.get('%s/servers/%s' % (self.url, server_id),
                               timeout=30)
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise StepFailed('GET server -> %d' % resp.status_code)
        return resp.json()['server']

    def image(self, image_id):
        """GET an image from the sandbox's image API."""
        resp = self.reader.get('%s/v2/images/%s' % (
            self.image_url, image_id), timeout=30)
        if resp.status_code != 200:
            raise StepFailed('GET image -> %d' % resp.status_code)
        return resp.json()

    def image_chunks(self, image_id):
        """The bytes of an image from the image API, in chunks."""
        resp = self.reader.get('%s/v2/images/%s/file' % (
            self.image_url, image_id), timeout=60, stream=True)
        if resp.status_code != 200:
            raise StepFailed('GET image file -> %d' % resp.status_code)
        with resp:
            for buf in resp.iter_content(1024 * 1024):
                yield buf

    def wait(self, server_id, status, timeout=WAIT_TIMEOUT):
        """Poll until the server has ``status`` and no task in progress.

        :param status: expected status, or None to wait for deletion.
        :raises StepFailed: on ERROR, when the server vanished, or when
            time runs out.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            srv = self.server(server_id)
            if srv is None:
                if status is None:
                    return None
                raise StepFailed('server gone while waiting for %s' % status)
            if srv['status'] == 'ERROR' and status != 'ERROR':
                raise StepFailed('server in ERROR: %s' % fault_of(srv))
            elif (srv['status'] == status
                  and srv.get('OS-EXT-STS:task_state') is None):
                return srv
            time.sleep(POLL)
        raise StepFailed('timed out waiting for %s' % (status or 'deletion'))


def fault_of(server):
    """The fault message of a server, or ''."""
    return (server.get('fault') or {}).get('message', '')


def check_snapshot_bytes(client, image_id, base_id, disk_bytes):
    """Whether a snapshot holds its server's disk: image, then zeros.

    The demo server never writes to its disk, so the disk (and its
    snapshot) is the boot image's bytes followed by zeros up to the
    flavor's root disk size.  Streamed: neither is held in memory.

    :param client: ``ComputeClient``.
    :param image_id: the snapshot image.
    :param base_id: the image the server was booted from.
    :param disk_bytes: the server's root disk size in bytes.
    :returns: the snapshot's size.
    :raises StepFailed: when the bytes differ.
    """
    want, base_size = hashlib.sha256(), 0
    for buf in client.image_chunks(base_id):
        want.update(buf)
        base_size += len(buf)
    got, size, nonzero = hashlib.sha256(), 0, False
    for buf in client.image_chunks(image_id):
        head = buf[:max(0, base_size - size)]
        got.update(head)
        tail = buf[len(head):]
        if tail and tail.count(0) != len(tail):
            nonzero = True
        size += len(buf)
    if size != disk_bytes:
        raise StepFailed('snapshot has %d bytes, the disk %d'
                         % (size, disk_bytes))
    if got.hexdigest() != want.hexdigest() or nonzero:
        raise StepFailed('snapshot bytes differ from the disk')
    return size


def lifecycle_steps(client, network='none', snapshot=False, rescue=True):
    """The demo's steps as ``(name, callable)``; callables share state.

    :param client: ``ComputeClient``.
    :param network: ``networks`` value for the boot ('none' or 'auto').
    :param snapshot: whether to include the snapshot, boot from snapshot,
                     shelve and unshelve steps.
    :param rescue: whether to include the rescue and unrescue steps.
    """
    state = {}

    def boot():
        body = {'server': {'name': 'sandbox-demo',
                           'imageRef': images.DEFAULT_IMAGE_ID,
                           'flavorRef': '1', 'networks': network}}
        state['id'] = client.call('POST', '/servers', body)['server']['id']
        srv = client.wait(state['id'], 'ACTIVE')
        return 'ACTIVE on %s' % srv.get('OS-EXT-SRV-ATTR:host')

    def show():
        srv = client.server(state['id'])
        if srv['status'] != 'ACTIVE' or srv['OS-EXT-STS:power_state'] != 1:
            raise StepFailed('status %s power %s' % (
                srv['status'], srv['OS-EXT-STS:power_state']))
        ips = [a['addr'] for net in srv['addresses'].values() for a in net]
        return 'ACTIVE, running, addresses %s' % (ips or 'none')

    def action(body, status):
        def run():
            client.call('POST', '/servers/%s/action' % state['id'], body)
            srv = client.wait(state['id'], status)
            return '%s, power %d' % (status, srv['OS-EXT-STS:power_state'])
        return run

    def snap():
        resp = client.call('POST', '/servers/%s/action' % state['id'],
                           {'createImage': {'name': 'sandbox-demo-snap'}})
        client.wait(state['id'], 'ACTIVE')
        state['snap'] = resp['image_id']
        image = client.image(resp['image_id'])
        if image.get('status') != 'active':
            raise StepFailed('snapshot image is %s' % image.get('status'))
        flavor = client.call('GET', '/flavors/1')['flavor']
        size = check_snapshot_bytes(client, resp['image_id'],
                                    images.DEFAULT_IMAGE_ID,
                                    flavor['disk'] * 1024 ** 3)
        return 'image active, %d bytes = the disk' % size

    def boot_snap():
        body = {'server': {'name': 'sandbox-demo-from-snap',
                           'imageRef': state['snap'],
                           'flavorRef': '1', 'networks': network}}
        state['clone'] = client.call('POST', '/servers',
                                     body)['server']['id']
        srv = client.wait(state['clone'], 'ACTIVE')
        return 'ACTIVE on %s' % srv.get('OS-EXT-SRV-ATTR:host')

    def shelve():
        client.call('POST', '/servers/%s/action' % state['id'],
                    {'shelve': None})
        deadline = time.monotonic() + WAIT_TIMEOUT
        while time.monotonic() < deadline:
            srv = client.server(state['id'])
            if (srv['status'] in ('SHELVED', 'SHELVED_OFFLOADED')
                    and srv.get('OS-EXT-STS:task_state') is None):
                return srv['status']
            if srv['status'] == 'ERROR':
                raise StepFailed('server in ERROR: %s' % fault_of(srv))
            time.sleep(POLL)
        raise StepFailed('timed out waiting for SHELVED')

    def unshelve():
        client.call('POST', '/servers/%s/action' % state['id'],
                    {'unshelve': None})
        srv = client.wait(state['id'], 'ACTIVE')
        return 'ACTIVE on %s, power %d' % (
            srv.get('OS-EXT-SRV-ATTR:host'), srv['OS-EXT-STS:power_state'])

    def delete():
        for key in ('id', 'clone'):
            if key in state:
                client.call('DELETE', '/servers/%s' % state[key])
        for key in ('id', 'clone'):
            if key in state:
                client.wait(state[key], None)
        return 'gone'

    from nova_powervm.sandbox import demo_telem
    return ([('boot', boot), ('show', show)]
            + demo_telem.steps(client, state) + [
             ('stop', action({'os-stop': None}, 'SHUTOFF')),
             ('start', action({'os-start': None}, 'ACTIVE')),
             ('soft reboot', action({'reboot': {'type': 'SOFT'}}, 'ACTIVE')),
             ('hard reboot', action({'reboot': {'type': 'HARD'}}, 'ACTIVE'))]
            + demo_network.steps(client, state, network)
            + ([('rescue', action({'rescue': None}, 'RESCUE')),
                ('unrescue', action({'unrescue': None}, 'ACTIVE'))]
               if rescue else [])
            + [('rebuild', action({'rebuild': {
                'imageRef': images.DEFAULT_IMAGE_ID}}, 'ACTIVE'))]
            + ([('snapshot', snap), ('boot from snapshot', boot_snap),
                ('shelve', shelve), ('unshelve', unshelve)]
               if snapshot else [])
            + [('delete', delete)])


def run_demo(cloud, client, out, network='none', snapshot=False,
             rescue=True):
    """Run the lifecycle, print the table, return True when all passed.

    :param cloud: the running ``Cloud`` (round trips and leftovers).
    :param client: ``ComputeClient`` bound to its API.
    :param out: text stream for the table.
    :param network: ``networks`` value for the boot.
    :param snapshot: include a snapshot step.
    :param rescue: include the rescue and unrescue steps.
    """
    rows = []
    ok = True
    steps = lifecycle_steps(client, network, snapshot, rescue)
    # (Imported here: demo_volumes builds on this module.)
    from nova_powervm.sandbox import demo_volumes
    steps = demo_volumes.insert_steps(cloud, client, steps, network)
    for name, step in steps:
        rows.append(_timed(cloud, name, step))
        if rows[-1][1].startswith('FAILED'):
            ok = False
            break
    ok = ok and demo_move.run(cloud, client, rows, network)
    if ok:
        rows.append(_timed(cloud, 'image cache pass', lambda: (
            'ran on %d host(s)' % cloud.image_cache_pass())))
        ok = not rows[-1][1].startswith('FAILED')
    left = cloud.leftovers()
    rows.append(('leftovers', 'none' if not left else 'FAILED: %s' % left,
                 0.0, 0))
    ok = ok and not left
    usage = cloud.total_usage()
    rows.append(('placement usage', 'zero' if not usage
                 else 'FAILED: %s' % usage, 0.0, 0))
    ok = ok and not usage
    print_table(rows, out)
    return ok


def _timed(cloud, name, step):
    before, start = cloud.round_trips(), time.monotonic()
    try:
        result = step()
    except Exception as exc:
        # A failed step is the demo's verdict, not a crash: record it.
        LOG.exception('demo step %s failed', name)
        result = 'FAILED: %s' % exc
    return (name, result, time.monotonic() - start,
            cloud.round_trips() - before)


def print_table(rows, out):
    """Print ``(operation, result, seconds, round trips)`` rows."""
    width = max(len(r[0]) for r in rows)
    rwidth = min(60, max(len(r[1]) for r in rows))
    header = '%-*s  %-*s  %8s  %11s' % (width, 'operation', rwidth, 'result',
                                        'seconds', 'round trips')
    print(header, file=out)
    print('-' * len(header), file=out)
    for name, result, secs, trips in rows:
        if len(result) > rwidth:
            # The full text is in the log; keep the table readable.
            LOG.error('%s: %s', name, result)
            result = result[:rwidth - 3] + '...'
        print('%-*s  %-*s  %8.2f  %11d' % (width, name, rwidth, result,
                                           secs, trips), file=out)
