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
"""Open vSwitch on the NovaLink partition, through the host endpoints.

A trunk adapter (a ``ClientNetworkAdapter`` of the management partition
with ``TrunkPriority``) appears in the NovaLink operating system as a
network device named by its ``DeviceName`` (``pvmtrk<slot>`` when the
client gave none); the driver's host shim attaches that device to an OVS
bridge.  The simulator refuses a port for a device no trunk adapter has,
as ``ovs-vsctl`` would fail to find it on a host.

``GET /sim/host/ovs``: every port.  ``POST /sim/host/ovs`` with
``{"bridge", "name", "external_ids", "mtu", "tag"}``: attach the trunk's
device; answers the port.  ``DELETE /sim/host/ovs/{name}``: detach
(``{"deleted": bool}``).
"""

from nova_powervm.simulator import hostshim
from nova_powervm.simulator import http
from nova_powervm.simulator import registry
from nova_powervm.simulator import xmlutil as xu


def start(sim):
    """``started`` hook: the host's Open vSwitch (empty).

    :param sim: the Simulator.
    """
    sim.ovs = hostshim.Ovs()


def trunk_devices(sim):
    """Device names of the management partition's trunk adapters.

    :param sim: the Simulator.
    """
    names = set()
    for cna in sim.store.all('ClientNetworkAdapter'):
        if xu.find(cna.elem, 'TrunkPriority') is None:
            continue
        part = sim.store.get(cna.parent[1])
        if part is not None and xu.text(
                part.elem, 'IsManagementPartition') == 'true':
            names.add(xu.text(cna.elem, 'DeviceName'))
    return names


def admin_request(sim, req, parts):
    """``admin`` hook for ``/sim/host/ovs``; None for other paths.

    :param sim: the Simulator.
    :param req: the request.
    :param parts: path segments after ``/sim``.
    """
    if parts[:2] != ['host', 'ovs']:
        return None
    # Faults (``/sim/faults``) apply here too: an ovs-vsctl that fails.
    fault = sim.faults.match(req.method, req.path)
    if fault:
        raise registry.SimError(fault['status'], fault.get('message') or
                                'ovs-vsctl: injected failure')
    if len(parts) == 2 and req.method == 'GET':
        return http.json_response(sim.ovs.ports())
    if len(parts) == 2 and req.method == 'POST':
        data = req.json()
        for key in ('bridge', 'name'):
            if not data.get(key):
                raise registry.SimError(400, '%s is required' % key)
        with sim.store.lock:
            found = data['name'] in trunk_devices(sim)
        if not found:
            raise registry.SimError(
                409, 'ovs-vsctl: cannot open network device %s: no such '
                     'device (no trunk adapter of the management partition '
                     'has it)' % data['name'])
        return http.json_response(sim.ovs.add_port(
            data['bridge'], data['name'], data.get('external_ids'),
            data.get('mtu'), data.get('tag')))
    if len(parts) == 3 and req.method == 'DELETE':
        return http.json_response({'deleted': sim.ovs.del_port(parts[2])})
    raise registry.SimError(405, 'ovs: GET or POST /sim/host/ovs, '
                                 'DELETE /sim/host/ovs/{name}')


def state_ports(sim, out):
    """``state`` hook: ``ovs_ports`` in ``/sim/state``.

    :param sim: the Simulator.
    :param out: the state dict.
    """
    out['ovs_ports'] = sim.ovs.ports()
