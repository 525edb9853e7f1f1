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
"""Operator features through nova's API: interface hot plug, crash dump,
diagnostics and host maintenance, on a simulated host."""

import json
import time

from nova.api.metadata import base as md_base
from nova.tests.fixtures import neutron as nova_neutron
from nova.tests.functional.api import client as api_client

from nova_powervm.tests.functional import base

PORT = nova_neutron.NeutronFixture.port_1
PORT_MAC = PORT['mac_address'].replace(':', '').upper()


class TestOperations(base.PowerVMFunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.start_compute('host1')

    def server_cnas(self, server):
        lpar = self.lpar_of('host1', server)
        return sorted((c['mac'], c['vlan'])
                      for c in self.simulators['host1'].state()['cnas']
                      if c['lpar_uuid'] == lpar['uuid']
                      and c['vswitch'] != 'MGMTSWITCH')

    def wait_cnas(self, server, expected):
        deadline = time.monotonic() + base.WAIT
        while self.server_cnas(server) != expected:
            if time.monotonic() > deadline:
                self.fail('adapters %s, not %s' % (self.server_cnas(server),
                                                   expected))
            time.sleep(0.05)

    def attach_detach(self, server):
        self.assertEqual([], self.server_cnas(server))
        att = self.api.attach_interface(
            server['id'], {'interfaceAttachment': {'port_id': PORT['id']}})
        self.assertEqual(PORT['id'], att.body['interfaceAttachment'][
            'port_id'])
        self.assertEqual([(PORT_MAC, 100)], self.server_cnas(server))
        self.assertEqual([PORT['id']], [
            i['port_id'] for i in self.api.get_port_interfaces(server['id'])])
        self.api.detach_interface(server['id'], PORT['id'])
        self.wait_cnas(server, [])
        self.assertEqual([], self.api.get_port_interfaces(server['id']))

    def test_attach_detach_running_and_stopped(self):
        server = self.boot()
        self.attach_detach(server)
        self.assertEqual('running', self.lpar_of('host1', server)['state'])
        server = self.action(server, {'os-stop': None}, 'SHUTOFF')
        self.attach_detach(server)
        self.assertEqual('not activated',
                         self.lpar_of('host1', server)['state'])
        self.delete(server)
        self.assert_sim_empty('host1')

    def test_failed_attach_leaves_no_adapter(self):
        server = self.boot()
        self.sim_admin('host1', 'POST', 'faults', {
            'method': 'PUT', 'path': '/uom/Event$', 'status': 500})
        error = self.assertRaises(
            api_client.OpenStackApiException, self.api.attach_interface,
            server['id'], {'interfaceAttachment': {'port_id': PORT['id']}})
        self.assertEqual(500, error.response.status_code)
        self.assertEqual([], self.server_cnas(server))
        self.assertEqual([], self.api.get_port_interfaces(server['id']))
        self.delete(server)
        self.assert_sim_empty('host1')

    def test_crash_dump(self):
        server = self.boot()
        self.api.microversion = '2.17'
        self.api.post_server_action(server['id'],
                                    {'trigger_crash_dump': None})
        deadline = time.monotonic() + base.WAIT
        while self.lpar_of('host1', server)['dumps'] != 1:
            self.assertLess(time.monotonic(), deadline, 'no dump')
            time.sleep(0.05)
        server = self.wait_for(server, 'ACTIVE')
        self.assertEqual('running', self.lpar_of('host1', server)['state'])
        self.assertEqual(1, server['OS-EXT-STS:power_state'])

    def test_crash_dump_of_a_partition_that_is_not_running(self):
        server = self.boot()
        # nova still believes the server runs; the partition stopped.
        lpar = self.lpar_of('host1', server)
        self.sim_admin('host1', 'POST', 'lpar/%s/state' % lpar['uuid'],
                       {'state': 'not activated'})
        self.api.microversion = '2.17'
        self.api.post_server_action(server['id'],
                                    {'trigger_crash_dump': None})
        deadline = time.monotonic() + base.WAIT
        while True:
            actions = self.api.get_instance_actions(server['id'])
            dump = [a for a in actions if a['action'] == 'trigger_crash_dump']
            details = self.api.get_instance_action_details(
                server['id'], dump[0]['request_id'])
            events = details.get('events') or []
            if events and events[0].get('finish_time'):
                break
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        self.assertEqual('Error', events[0]['result'])
        self.assertEqual(0, self.lpar_of('host1', server)['dumps'])
        # A stopped server is refused by nova's API itself (nova learns
        # of the stop from the partition's lifecycle event).
        server = self.wait_for(server, 'SHUTOFF')
        error = self.assertRaises(
            api_client.OpenStackApiException, self.api.post_server_action,
            server['id'], {'trigger_crash_dump': None})
        self.assertEqual(409, error.response.status_code)

    def test_diagnostics(self):
        # nova 34's diagnostics ``driver`` enum has no PowerVM value, so
        # the driver leaves it unset; the response schema would reject
        # that in nova's strict test mode.
        self.flags(response_validation='warn', group='api')
        server = self.boot(networks=[{'port': PORT['id']}])
        self.api.microversion = '2.48'
        diags = self.api.get_server_diagnostics(server['id'])
        self.assertEqual('powervm', diags['hypervisor'])
        self.assertIsNone(diags['driver'])
        self.assertEqual('running', diags['state'])
        flavor = self.api.get_flavor('1')
        self.assertEqual(flavor['vcpus'], diags['num_cpus'])
        self.assertEqual(flavor['ram'], diags['memory_details']['maximum'])
        self.assertEqual(1, diags['num_nics'])
        self.assertEqual(PORT['mac_address'],
                         diags['nic_details'][0]['mac_address'])
        self.assertGreaterEqual(diags['nic_details'][0]['rx_octets'], 0)
        self.assertIsInstance(diags['config_drive'], bool)
        # The boot disk's vSCSI adapter, counted by the VIOS sample.
        self.assertEqual(1, diags['num_disks'])
        self.assertGreaterEqual(diags['disk_details'][0]['read_bytes'], 0)

    def test_maintenance_mode(self):
        self.api.microversion = '2.42'
        result = self.api.api_put('/os-hosts/host1',
                                  {'maintenance_mode': 'enable'}).body
        self.assertEqual('on_maintenance', result['maintenance_mode'])
        # The only host refuses the build: it ends in ERROR, nothing made.
        self.api.microversion = 'latest'
        server = self.boot(expected='ERROR')
        self.assertEqual([], self.lpars('host1'))
        self.delete(server)
        self.api.microversion = '2.42'
        result = self.api.api_put('/os-hosts/host1',
                                  {'maintenance_mode': 'disable'}).body
        self.assertEqual('off_maintenance', result['maintenance_mode'])
        self.api.microversion = 'latest'
        server = self.boot()
        self.assertIsNotNone(self.lpar_of('host1', server))

    def test_host_uptime(self):
        hyp_id = self.api.api_get('/os-hypervisors').body[
            'hypervisors'][0]['id']
        self.api.microversion = '2.87'
        hyp = self.api.api_get('/os-hypervisors/%s/uptime' % hyp_id).body[
            'hypervisor']
        self.assertIn(' up ', hyp['uptime'])
        # From 2.88 the hypervisor shows the uptime of the resource stats.
        self.api.microversion = 'latest'
        hyp = self.api.api_get('/os-hypervisors/%s' % hyp_id).body[
            'hypervisor']
        self.assertIn(' up 13 days', hyp['uptime'])

    def devices(self, server):
        """The ``devices`` of the server's metadata (service and drive)."""
        meta = md_base.get_metadata_by_instance_id(
            server['id'], None).lookup('/openstack/latest/meta_data.json')
        return [(d['mac'], d['tags']) for d in json.loads(meta)['devices']]

    def test_device_tags(self):
        server = self.boot(networks=[{'port': PORT['id'], 'tag': 'web'}])
        self.assertEqual([(PORT['mac_address'], ['web'])],
                         self.devices(server))
        port2 = self.neutron.create_port(
            {'port': {'network_id': PORT['network_id']}})['port']
        self.api.attach_interface(server['id'], {'interfaceAttachment': {
            'port_id': port2['id'], 'tag': 'db'}})
        self.assertEqual(
            sorted([(PORT['mac_address'], ['web']),
                    (port2['mac_address'], ['db'])]),
            sorted(self.devices(server)))
        self.api.detach_interface(server['id'], port2['id'])
        self.wait_cnas(server, [(PORT_MAC, 100)])
        deadline = time.monotonic() + base.WAIT
        while self.devices(server) != [(PORT['mac_address'], ['web'])]:
            self.assertLess(time.monotonic(), deadline, self.devices(server))
            time.sleep(0.05)
        self.delete(server)
        self.assert_sim_empty('host1')
