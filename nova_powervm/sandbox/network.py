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
"""Nova's fake network service, made usable by any project."""

import copy

from nova.tests import fixtures as nova_fixtures

# How ports bind, per driver: the PowerVM driver plugs ``pvm_sea`` VIFs
# (a client network adapter on the VLAN); nova's fake driver takes ``ovs``.
VIF_BINDING = {
    'powervm': {'vif_type': 'pvm_sea', 'vif_details': {'vlan': 100}},
    'fake': {'vif_type': 'ovs', 'vif_details': {}}}

# How ports bind with the PowerVM driver, per ``--vif-type`` (the details
# each type needs: the VLAN, OVS's bridge, SR-IOV's physical network,
# which the simulated SR-IOV ports are labelled with).
VIF_TYPE_BINDING = {
    'pvm_sea': {'vif_type': 'pvm_sea', 'vif_details': {'vlan': 100}},
    'ovs': {'vif_type': 'ovs',
            'vif_details': {'vlan': 100, 'bridge_name': 'br-int',
                            'port_filter': True}},
    'pvm_sriov': {'vif_type': 'pvm_sriov',
                  'vif_details': {'vlan': 100,
                                  'physical_network': 'default'}}}


class SandboxNeutronFixture(nova_fixtures.NeutronFixture):
    """Nova's fake neutron, shared with every project, binding our VIFs.

    Nova's fixture owns its network by one fixed project, so servers of any
    other project would get no port; here the network is shared.  Ports
    bind with ``vif_type`` (``pvm_sea`` on VLAN 100 for the PowerVM driver,
    nova's ``ovs`` for the fake one).

    :param test: the owner providing ``stub_out``/``flags``.
    :param vif_type: binding ``vif_type`` of every port.
    :param vif_details: binding ``vif_details`` of every port.
    """

    def __init__(self, test, vif_type='ovs', vif_details=None):
        super().__init__(test)
        net = copy.deepcopy(self.network_1)
        net['shared'] = True
        self._networks = {net['id']: net}
        binding = {'binding:vif_type': vif_type,
                   'binding:vif_details': dict(vif_details or {})}
        self.default_port = copy.deepcopy(self.port_2)
        self.default_port.update(copy.deepcopy(binding))
        for port in self._ports.values():
            port.update(copy.deepcopy(binding))

    def create_port(self, body=None):
        """Create a port owned by the requesting project.

        Nova's fixture gives every port its own fixed project.
        """
        result = super().create_port(body)
        asked = (body or {}).get('port', {})
        owner = asked.get('project_id') or asked.get('tenant_id')
        if owner:
            port = self._ports[result['port']['id']]
            port['project_id'] = port['tenant_id'] = owner
            result['port'].update(project_id=owner, tenant_id=owner)
        return result

    def rebind(self, vif_type, vif_details=None):
        """Bind every port, and those created later, another way.

        :param vif_type: binding ``vif_type``.
        :param vif_details: binding ``vif_details``.
        """
        binding = {'binding:vif_type': vif_type,
                   'binding:vif_details': dict(vif_details or {})}
        self.default_port.update(copy.deepcopy(binding))
        for port in self._ports.values():
            port.update(copy.deepcopy(binding))
