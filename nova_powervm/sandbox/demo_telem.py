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
"""The demo's diagnostics row (``server show --diagnostics``)."""

from nova_powervm.sandbox import demo


def steps(client, state):
    """Demo steps run while the server is ACTIVE, as ``(name, callable)``.

    :param client: ``demo.ComputeClient``.
    :param state: the lifecycle's shared dict (``state['id']``).
    """

    def diagnostics():
        # An admin API (microversion 2.48 for the figures' shape).
        resp = client.reader.get(
            '%s/servers/%s/diagnostics' % (client.url, state['id']),
            headers={'OpenStack-API-Version': 'compute 2.48'}, timeout=30)
        if resp.status_code != 200:
            raise demo.StepFailed('GET diagnostics -> %d %s'
                                  % (resp.status_code, resp.text[:300]))
        diags = resp.json()
        if diags.get('hypervisor') != 'powervm':
            # (--driver fake: nova's fake driver has figures of its own.)
            return 'hypervisor %s' % diags.get('hypervisor')
        if diags.get('state') != 'running':
            raise demo.StepFailed('state %s' % diags.get('state'))
        cpu_ns = sum(c.get('time') or 0 for c in diags['cpu_details'])
        if not cpu_ns or not diags['num_disks']:
            raise demo.StepFailed('no CPU time or no disk: %s' % diags)
        reads = sum(d.get('read_requests') or 0
                    for d in diags['disk_details'])
        return 'cpu %d ms, %d disk(s) (%d reads), %d nic(s)' % (
            cpu_ns // 10 ** 6, diags['num_disks'], reads, diags['num_nics'])

    return [('diagnostics', diagnostics)]
