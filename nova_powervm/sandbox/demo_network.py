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
"""The demo's network and operator rows (issue 13).

What the stock ``openstack`` CLI does, through the compute API:

* ``attach interface`` (``server add network``): nova creates a second
  port on the server's network and the driver plugs it, as the sandbox's
  ``--vif-type`` binds it;
* ``detach interface`` (``server remove port``): the port's adapter goes;
* ``crash dump`` (``server dump create``): the server keeps running.

The interface rows need a server with a port (``--network auto``, the
demo's default); with ``--network none`` they say so and pass.
"""

import time

from nova_powervm.sandbox import demo

CRASH_DUMP_VERSION = 'compute 2.17'


def _interfaces(client, server_id):
    return client.call('GET', '/servers/%s/os-interface'
                       % server_id)['interfaceAttachments']


def _wait_action(client, server_id, request_id):
    """Wait for an instance action's events to finish; fail on Error.

    :param client: ``demo.ComputeClient``.
    :param server_id: the server.
    :param request_id: the action's request id.
    """
    if not request_id:
        return
    url = '%s/servers/%s/os-instance-actions/%s' % (client.url, server_id,
                                                    request_id)
    deadline = time.monotonic() + demo.WAIT_TIMEOUT
    while time.monotonic() < deadline:
        resp = client.reader.get(url, timeout=30)
        if resp.status_code == 200:
            events = resp.json()['instanceAction'].get('events') or []
            if events and all(e.get('finish_time') for e in events):
                failed = [e for e in events if e.get('result') != 'Success']
                if failed:
                    raise demo.StepFailed('%s: %s' % (
                        failed[0].get('event'), failed[0].get('result')))
                return
        time.sleep(demo.POLL)
    raise demo.StepFailed('timed out waiting for action %s' % request_id)


def steps(client, state, network):
    """The rows as ``(name, callable)``, for ``demo.lifecycle_steps``.

    :param client: ``demo.ComputeClient``.
    :param state: the lifecycle's shared dict (``state['id']``: server).
    :param network: the boot's ``networks`` value.
    """

    def attach():
        if network == 'none':
            return 'skipped (--network none)'
        ports = _interfaces(client, state['id'])
        if not ports:
            raise demo.StepFailed('the server has no port to copy')
        att = client.call('POST', '/servers/%s/os-interface' % state['id'],
                          {'interfaceAttachment': {
                              'net_id': ports[0]['net_id']}})
        state['port'] = att['interfaceAttachment']['port_id']
        client.wait(state['id'], 'ACTIVE')
        now = _interfaces(client, state['id'])
        if state['port'] not in [p['port_id'] for p in now]:
            raise demo.StepFailed('port %s not attached' % state['port'])
        return '%d ports, new %s' % (len(now), state['port'][:8])

    def detach():
        if 'port' not in state:
            return 'skipped (nothing attached)'
        client.call('DELETE', '/servers/%s/os-interface/%s'
                    % (state['id'], state['port']))
        deadline = time.monotonic() + demo.WAIT_TIMEOUT
        while state['port'] in [p['port_id'] for p in
                                _interfaces(client, state['id'])]:
            if time.monotonic() > deadline:
                raise demo.StepFailed('port %s still attached'
                                      % state['port'])
            time.sleep(demo.POLL)
        client.wait(state['id'], 'ACTIVE')
        return '%d port(s) left' % len(_interfaces(client, state['id']))

    def crash_dump():
        resp = client.session.post(
            '%s/servers/%s/action' % (client.url, state['id']),
            json={'trigger_crash_dump': None},
            headers={'OpenStack-API-Version': CRASH_DUMP_VERSION},
            timeout=30)
        if resp.status_code != 202:
            raise demo.StepFailed('trigger_crash_dump -> %d %s'
                                  % (resp.status_code, resp.text[:200]))
        # nova casts the dump: wait for the action's event to finish.
        _wait_action(client, state['id'],
                     resp.headers.get('x-openstack-request-id'))
        srv = client.wait(state['id'], 'ACTIVE')
        return 'dump taken, ACTIVE, power %d' % srv['OS-EXT-STS:power_state']

    return [('attach interface', attach), ('detach interface', detach),
            ('crash dump', crash_dump)]
