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
"""Every VIF type through nova's API: boot, attach, detach, tags, delete.

Ports bind as ``pvm_sea``, ``ovs`` or ``pvm_sriov`` (the sandbox's
``--vif-type`` bindings); each test class runs the same scenarios and
checks what the simulated host holds: client adapters, the NovaLink's
trunk adapters and OVS ports, SR-IOV vNICs.  The REST round trips of one
attach and one detach are budgeted per type (devref/flows.rst).
"""

import json
import time

from nova.api.metadata import base as md_base
from nova.tests.fixtures import neutron as nova_neutron
from nova.tests.functional.api import client as api_client

from nova_powervm.sandbox import network
from nova_powervm.tests.functional import base

PORT = nova_neutron.NeutronFixture.port_1
PORT_MAC = PORT['mac_address'].replace(':', '').upper()
EVENT_FEED = 'GET /rest/api/uom/Event'
# The driver's event handler reads a changed partition's state on its own
# thread (quick properties), whatever the operation.
QUICK = '/quick/'


class NetworkTypeMixin(object):

    VIF_TYPE = None
    #: REST round trips of one attach / one detach on a running server.
    ATTACH_BUDGET = None
    DETACH_BUDGET = None

    def setUp(self):
        super().setUp()
        self.neutron.rebind(**network.VIF_TYPE_BINDING[self.VIF_TYPE])
        self.start_compute('host1')

    def state(self):
        return self.simulators['host1'].state()

    def adapters(self, server):
        """MACs of the server's adapters of this VIF type."""
        lpar = self.lpar_of('host1', server)
        state = self.state()
        if self.VIF_TYPE == 'pvm_sriov':
            found = [v['mac'] for v in state['vnics']
                     if v['lpar_uuid'] == lpar['uuid']]
        else:
            found = [c['mac'] for c in state['cnas']
                     if c['lpar_uuid'] == lpar['uuid']
                     and c['vswitch'] != 'MGMTSWITCH']
        return sorted(found)

    def host_side(self):
        """Trunk adapters and OVS ports of the NovaLink partition."""
        state = self.state()
        return (sorted(c['vlan'] for c in state['cnas'] if c['trunk']),
                [p['name'] for p in state['ovs_ports']])

    def wait_adapters(self, server, expected):
        deadline = time.monotonic() + base.WAIT
        while self.adapters(server) != expected:
            self.assertLess(time.monotonic(), deadline,
                            'adapters %s, not %s' % (self.adapters(server),
                                                     expected))
            time.sleep(0.05)

    def devices(self, server):
        meta = md_base.get_metadata_by_instance_id(
            server['id'], None).lookup('/openstack/latest/meta_data.json')
        return sorted((d['mac'], d['tags'])
                      for d in json.loads(meta)['devices'])

    def rest(self, func, *args):
        """Run ``func``; its NovaLink round trips (event work left out)."""
        sim = self.simulators['host1']
        sim.reset_stats()
        func(*args)
        by_pattern = sim.stats()['by_pattern']
        return sum(n for pat, n in by_pattern.items()
                   if not pat.startswith(EVENT_FEED)
                   and QUICK not in pat), by_pattern

    def attach(self, server, port_id, tag=None):
        body = {'port_id': port_id}
        if tag:
            body['tag'] = tag
        return self.api.attach_interface(server['id'],
                                         {'interfaceAttachment': body})

    def test_boot_attach_detach_tags_delete(self):
        server = self.boot(networks=[{'port': PORT['id'], 'tag': 'web'}])
        self.assertEqual([PORT_MAC], self.adapters(server))
        self.assertEqual([(PORT['mac_address'], ['web'])],
                         self.devices(server))
        if self.VIF_TYPE == 'ovs':
            trunks, ports = self.host_side()
            self.assertEqual(1, len(trunks))
            self.assertEqual(1, len(ports))
            [ovs] = self.state()['ovs_ports']
            self.assertEqual(PORT['id'], ovs['external_ids']['iface-id'])
            self.assertEqual(server['id'], ovs['external_ids']['vm-uuid'])
            # The network's MTU (Neutron's 1450) and VLAN.
            self.assertEqual((1450, 100), (ovs['mtu'], ovs['tag']))
        port2 = self.neutron.create_port(
            {'port': {'network_id': PORT['network_id']}})['port']
        mac2 = port2['mac_address'].replace(':', '').upper()
        _n, calls = self.rest(self.attach, server, port2['id'], 'db')
        self.assertEqual(sorted([PORT_MAC, mac2]), self.adapters(server))
        self.assertEqual(sorted([(PORT['mac_address'], ['web']),
                                 (port2['mac_address'], ['db'])]),
                         self.devices(server))
        self.assertLessEqual(_n, self.ATTACH_BUDGET, calls)
        _n, calls = self.rest(self.api.detach_interface, server['id'],
                              port2['id'])
        self.wait_adapters(server, [PORT_MAC])
        self.assertLessEqual(_n, self.DETACH_BUDGET, calls)
        deadline = time.monotonic() + base.WAIT
        while self.devices(server) != [(PORT['mac_address'], ['web'])]:
            self.assertLess(time.monotonic(), deadline, self.devices(server))
            time.sleep(0.05)
        # Stopped: the same, without RMC.
        server = self.action(server, {'os-stop': None}, 'SHUTOFF')
        self.attach(server, port2['id'])
        self.assertEqual(sorted([PORT_MAC, mac2]), self.adapters(server))
        self.api.detach_interface(server['id'], port2['id'])
        self.wait_adapters(server, [PORT_MAC])
        self.delete(server)
        self.assertEqual(([], []), self.host_side())
        self.assertEqual([], self.state()['vnics'])
        self.assert_sim_empty('host1')

    def test_failed_attach_leaves_nothing(self):
        server = self.boot()
        before = self.host_side()
        # The adapter exists when telling the agents fails.
        self.sim_admin('host1', 'POST', 'faults', {
            'method': 'PUT', 'path': '/uom/Event$', 'status': 500})
        error = self.assertRaises(
            api_client.OpenStackApiException, self.attach, server,
            PORT['id'])
        self.assertEqual(500, error.response.status_code)
        self.assertEqual([], self.adapters(server))
        self.assertEqual(before, self.host_side())
        self.assertEqual([], self.api.get_port_interfaces(server['id']))
        self.delete(server)
        self.assert_sim_empty('host1')

    def test_failed_attach_at_each_step_leaves_nothing(self):
        server = self.boot()
        lpar = self.lpar_of('host1', server)
        steps = {
            'pvm_sea': [('PUT', '/LogicalPartition/%s/ClientNetworkAdapter'
                         % lpar['uuid'])],
            'ovs': [('PUT', '/LogicalPartition/%s/ClientNetworkAdapter'
                     % lpar['uuid']),
                    # The trunk: an adapter of the NovaLink partition.
                    ('PUT', '/LogicalPartition/(?!%s)[^/]+/'
                     'ClientNetworkAdapter' % lpar['uuid']),
                    ('POST', '/sim/host/ovs$')],
            'pvm_sriov': [('PUT', '/LogicalPartition/%s/VirtualNICDedicated'
                           % lpar['uuid'])]}[self.VIF_TYPE]
        for method, path in steps:
            self.sim_admin('host1', 'POST', 'faults', {
                'method': method, 'path': path, 'status': 500})
            self.assertRaises(api_client.OpenStackApiException,
                              self.attach, server, PORT['id'])
            self.assertEqual([], self.adapters(server), path)
            self.assertEqual(([], []), self.host_side(), path)
        self.sim_admin('host1', 'DELETE', 'faults')
        self.attach(server, PORT['id'])
        self.assertEqual([PORT_MAC], self.adapters(server))
        self.delete(server)
        self.assert_sim_empty('host1')

    def test_hot_plug_needs_rmc(self):
        server = self.boot()
        lpar = self.lpar_of('host1', server)
        self.sim_admin('host1', 'POST', 'lpar/%s/state' % lpar['uuid'],
                       {'state': 'running', 'rmc_state': 'inactive'})
        error = self.assertRaises(
            api_client.OpenStackApiException, self.attach, server,
            PORT['id'])
        self.assertIn(error.response.status_code, (400, 409, 500))
        self.assertEqual([], self.adapters(server))
        self.assertEqual(([], []), self.host_side())
        actions = self.api.get_instance_actions(server['id'])
        attach = [a for a in actions if a['action'] == 'attach_interface']
        events = self.api.get_instance_action_details(
            server['id'], attach[0]['request_id'])['events']
        self.assertEqual('Error', events[0]['result'])
        self.sim_admin('host1', 'POST', 'lpar/%s/state' % lpar['uuid'],
                       {'state': 'running', 'rmc_state': 'active'})
        self.attach(server, PORT['id'])
        self.assertEqual([PORT_MAC], self.adapters(server))
        self.delete(server)
        self.assert_sim_empty('host1')


class TestSeaInterfaces(NetworkTypeMixin, base.PowerVMFunctionalTestCase):
    VIF_TYPE = 'pvm_sea'
    # GET partition, GET its adapters, PUT adapter, PUT event (the
    # switches were read at boot).
    ATTACH_BUDGET = 5
    # GET partition, GET its adapters, DELETE adapter, PUT event.
    DETACH_BUDGET = 4


class TestOvsInterfaces(NetworkTypeMixin, base.PowerVMFunctionalTestCase):
    VIF_TYPE = 'ovs'
    # + GET the NovaLink partition's trunks, GET the NovaLink partition
    # (pypowervm's slot choice), PUT trunk.
    ATTACH_BUDGET = 7
    # + GET the trunks, DELETE trunk.
    DETACH_BUDGET = 6


class TestSriovInterfaces(NetworkTypeMixin, base.PowerVMFunctionalTestCase):
    VIF_TYPE = 'pvm_sriov'
    # GET partition, GET its vNICs, GET system, GET VIOS feed, PUT vNIC,
    # PUT event.
    ATTACH_BUDGET = 6
    # GET partition, GET its vNICs, DELETE vNIC, PUT event.
    DETACH_BUDGET = 4
