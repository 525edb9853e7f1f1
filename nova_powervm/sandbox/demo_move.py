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
"""The demo's move rows: resize and revert, cold migration, evacuation.

On a Shared Storage Pool (``--disk-driver ssp``) every row runs: resize
(and revert), cold migrate (and confirm), evacuate after the source
compute is stopped (and the old host's clean-up when it starts again).
On ``localdisk`` the resize runs on the server's own host (the other
computes are disabled meanwhile) and the cross-host rows say why they are
skipped.  With one compute only the resize runs.
"""

import time

from nova_powervm.sandbox import demo
from nova_powervm.sandbox import hosts
from nova_powervm.sandbox import images

BIG_FLAVOR = {'name': 'sandbox-demo-big', 'ram': 1024, 'vcpus': 2,
              'disk': 1}


def _admin(client, method, path, body=None, version='latest'):
    """A compute API call with the admin token (migrate, evacuate)."""
    resp = client.reader.request(
        method, client.url + path, json=body, timeout=30,
        headers={'OpenStack-API-Version': 'compute %s' % version})
    if resp.status_code not in (200, 201, 202, 204):
        raise demo.StepFailed('%s %s -> %d %s' % (
            method, path, resp.status_code, resp.text[:300]))
    return resp.json() if resp.content else None


def _host(srv):
    return srv.get('OS-EXT-SRV-ATTR:host')


def _size(cloud, host, server_id):
    """``(memory MB, vCPUs, state)`` of the server's partition on host."""
    sim = cloud.simulators.get(host)
    if sim is None:
        return None
    for lpar in sim.state()['lpars']:
        if lpar['uuid'].lower()[1:] == server_id.lower()[1:]:
            return lpar['memory_mb'], lpar['vcpus'], lpar['state']
    return None


def steps(cloud, client, network='none'):
    """The move rows as ``(name, callable)``; the callables share state.

    :param cloud: the running ``Cloud``.
    :param client: ``demo.ComputeClient``.
    :param network: ``networks`` value for the boot.
    """
    state = {}
    shared = cloud.disk_driver == 'ssp'
    several = len(cloud.computes) > 1

    def wait_host(want_not=None):
        deadline = time.monotonic() + demo.WAIT_TIMEOUT
        while time.monotonic() < deadline:
            srv = client.server(state['id'])
            if _host(srv) != want_not:
                return srv
            time.sleep(demo.POLL)
        raise demo.StepFailed('the server stayed on %s' % want_not)

    def boot():
        flavors = _admin(client, 'GET', '/flavors')['flavors']
        found = [f['id'] for f in flavors if f['name'] == BIG_FLAVOR['name']]
        state['big'] = found[0] if found else _admin(
            client, 'POST', '/flavors', {'flavor': BIG_FLAVOR})['flavor']['id']
        body = {'server': {'name': 'sandbox-demo-move',
                           'imageRef': images.DEFAULT_IMAGE_ID,
                           'flavorRef': '1', 'networks': network}}
        state['id'] = client.call('POST', '/servers', body)['server']['id']
        srv = client.wait(state['id'], 'ACTIVE')
        state['host'] = _host(srv)
        return 'ACTIVE on %s, %s' % (state['host'], _size(
            cloud, state['host'], state['id']))

    def services(enabled, but=None):
        for svc in _admin(client, 'GET', '/os-services?binary=nova-compute'
                          )['services']:
            if svc['host'] != but:
                _admin(client, 'PUT', '/os-services/%s' % svc['id'],
                       {'status': 'enabled' if enabled else 'disabled'})

    def resize():
        cloud.flags(allow_resize_to_same_host=True)
        if not shared:
            # Only the server's own host can take it: the others rest.
            services(False, but=state['host'])
        try:
            client.call('POST', '/servers/%s/action' % state['id'],
                        {'resize': {'flavorRef': state['big']}})
            srv = client.wait(state['id'], 'VERIFY_RESIZE')
        finally:
            if not shared:
                services(True)
        state['host'] = _host(srv)
        size = _size(cloud, state['host'], state['id'])
        if size[:2] != (1024, 2):
            raise demo.StepFailed('partition is %s' % (size,))
        return 'VERIFY_RESIZE on %s, %s' % (state['host'], size)

    def revert():
        client.call('POST', '/servers/%s/action' % state['id'],
                    {'revertResize': None})
        srv = client.wait(state['id'], 'ACTIVE')
        state['host'] = _host(srv)
        size = _size(cloud, state['host'], state['id'])
        if size[:2] != (512, 1) or size[2] != 'running':
            raise demo.StepFailed('partition is %s' % (size,))
        return 'ACTIVE on %s, %s' % (state['host'], size)

    def migrate():
        _admin(client, 'POST', '/servers/%s/action' % state['id'],
               {'migrate': None})
        srv = client.wait(state['id'], 'VERIFY_RESIZE')
        if _host(srv) == state['host']:
            raise demo.StepFailed('still on %s' % state['host'])
        state['source'], state['host'] = state['host'], _host(srv)
        return '%s -> %s, source partition %s' % (
            state['source'], state['host'],
            _size(cloud, state['source'], state['id'])[2])

    def confirm():
        client.call('POST', '/servers/%s/action' % state['id'],
                    {'confirmResize': None})
        client.wait(state['id'], 'ACTIVE')
        left = _size(cloud, state['source'], state['id'])
        if left is not None:
            raise demo.StepFailed('source partition left: %s' % (left,))
        return 'ACTIVE on %s, nothing left on %s' % (state['host'],
                                                     state['source'])

    def evacuate():
        down = state['host']
        svc = cloud.computes[down]
        svc.stop()
        sid = [s['id'] for s in _admin(
            client, 'GET', '/os-services?binary=nova-compute&host=%s'
            % down)['services']][0]
        _admin(client, 'PUT', '/os-services/%s' % sid,
               {'forced_down': True})
        state['down'] = down, sid
        _admin(client, 'POST', '/servers/%s/action' % state['id'],
               {'evacuate': {}})
        srv = wait_host(want_not=down)
        # From microversion 2.95 an evacuated server arrives stopped.
        srv = client.wait(state['id'], 'SHUTOFF')
        state['host'] = _host(srv)
        client.call('POST', '/servers/%s/action' % state['id'],
                    {'os-start': None})
        client.wait(state['id'], 'ACTIVE')
        return '%s (stopped) -> %s, %s' % (
            down, state['host'], _size(cloud, state['host'], state['id']))

    def restart_old_host():
        down, sid = state.pop('down')
        _restart_compute(cloud, down)
        _admin(client, 'PUT', '/os-services/%s' % sid,
               {'forced_down': False})
        left = _size(cloud, down, state['id'])
        if left is not None:
            raise demo.StepFailed('partition left on %s' % down)
        return '%s back, its partition deleted, disks kept' % down

    def delete():
        client.call('DELETE', '/servers/%s' % state['id'])
        client.wait(state['id'], None)
        return 'gone'

    def skipped(why):
        return lambda: 'skipped: %s' % why

    rows = [('move: boot', boot), ('resize', resize),
            ('revert resize', revert)]
    if shared and several:
        rows += [('cold migrate', migrate), ('confirm migration', confirm),
                 ('evacuate (source stopped)', evacuate),
                 ('old host starts again', restart_old_host)]
    else:
        why = ('needs two computes' if not several else
               'localdisk servers do not move across hosts (use '
               '--disk-driver ssp)')
        rows += [('cold migrate', skipped(why)),
                 ('evacuate (source stopped)', skipped(why))]
    return rows + [('move: delete', delete)]


def _restart_compute(cloud, host):
    """Start a stopped compute again on its own simulator.

    As ``Cloud.start_compute`` does, without a new simulator: nova's
    ``init_host`` then deletes the partitions of servers evacuated away.
    """
    from nova.compute import rpcapi as compute_rpcapi
    from nova.tests import fixtures as nova_fixtures

    from nova_powervm.sandbox import cloud as sandbox_cloud

    sim = cloud.simulators[host]
    cloud.flags(group='powervm', disk_driver=cloud.disk_driver,
                **sim.driver_flags())
    cloud.flags(host=host)
    cell = cloud.cell_mappings[sandbox_cloud.CELL1]
    try:
        with hosts.node_identity(host):
            svc = cloud.useFixture(nova_fixtures.ServiceFixture(
                'compute', host, cell=cell,
                topic_alt=compute_rpcapi.RPC_TOPIC_ALT)).service
        hosts.pin_node_identity(svc, host)
        cloud.computes[host] = svc
    finally:
        cloud.flags(host=sandbox_cloud.CONTROLLER_HOST)
    return svc


def run(cloud, client, rows, network='none'):
    """Append the move rows to the demo's table (stop at a failure).

    :returns: True when every row passed.
    """
    for name, step in steps(cloud, client, network):
        rows.append(demo._timed(cloud, name, step))
        if rows[-1][1].startswith('FAILED'):
            return False
    return True
