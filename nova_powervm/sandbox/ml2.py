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
"""An agentless ML2 mechanism driver for the sandbox's simulated hosts.

Loaded by the sandbox's Neutron process (entry point ``pvm_sim`` in the
``neutron.ml2.mechanism_drivers`` namespace); nothing else imports it.

Real PowerVM deployments bind ports with an agent on each NovaLink host
(``networking-powervm``'s SEA agent).  The simulated hosts have none, so
this driver binds a port itself when it lands on one of the sandbox's
computes: ``binding:vif_type`` is the type the sandbox was started with
(``--vif-type``), with the details that type needs (``DETAILS``):

* ``pvm_sea``: a client network adapter on the segment's VLAN;
* ``ovs``: the OVS bridge (``br-int``) and the VLAN the NovaLink's OVS
  port is tagged with;
* ``pvm_sriov``: the VLAN and the segment's physical network, which the
  vNIC's SR-IOV ports are chosen by (the simulated ports carry that
  label); ``normal`` and ``direct`` ports are bound alike.

The port goes ``ACTIVE`` at once, which makes Neutron
send nova the ``network-vif-plugged`` event.  Nova sees the port active
when it builds the server's network info, so the driver does not wait for
that event (as it would not for a port an agent had already wired).

Options, group ``[ml2_pvm_sim]``: ``hosts`` (bind only there; empty: any
host) and ``vif_type``.
"""

from neutron_lib.api.definitions import portbindings
from neutron_lib import constants
from neutron_lib.plugins.ml2 import api
from oslo_config import cfg
from oslo_log import log as logging

LOG = logging.getLogger(__name__)
GROUP = 'ml2_pvm_sim'
OPTS = [
    cfg.ListOpt('hosts', default=[],
                help='Hosts whose ports this driver binds (empty: any).'),
    cfg.StrOpt('vif_type', default='pvm_sea',
               help='binding:vif_type of the ports it binds.'),
]
cfg.CONF.register_opts(OPTS, group=GROUP)
BINDABLE = (constants.TYPE_VLAN, constants.TYPE_FLAT)
# Binding details beyond the VLAN and physical network, per vif_type.
DETAILS = {'pvm_sea': {},
           'ovs': {'bridge_name': 'br-int', 'port_filter': True},
           'pvm_sriov': {}}
# vnic_types bound, per vif_type (normal for every type).
VNIC_TYPES = {'pvm_sriov': (portbindings.VNIC_NORMAL,
                            portbindings.VNIC_DIRECT)}


def binding_details(vif_type, segment):
    """The ``binding:vif_details`` of a port bound on ``segment``.

    :param vif_type: the ``binding:vif_type``.
    :param segment: the ML2 segment dict.
    """
    details = {'vlan': segment[api.SEGMENTATION_ID],
               'physical_network': segment[api.PHYSICAL_NETWORK]}
    details.update(DETAILS.get(vif_type, {}))
    return details


class SimulatedHostMechanismDriver(api.MechanismDriver):
    """Bind ``normal`` ports on VLAN or flat segments of known hosts."""

    def initialize(self):
        self.conf = cfg.CONF[GROUP]
        LOG.info('Binding ports of hosts %s with vif_type %s',
                 self.conf.hosts or 'any', self.conf.vif_type)

    @property
    def connectivity(self):
        return portbindings.CONNECTIVITY_L2

    def bind_port(self, context):
        """Bind the first VLAN or flat segment; leave others unbound."""
        host = context.host
        if self.conf.hosts and host not in self.conf.hosts:
            LOG.debug('Not binding port %s: host %s is not simulated',
                      context.current['id'], host)
            return
        vnic = context.current.get(portbindings.VNIC_TYPE,
                                   portbindings.VNIC_NORMAL)
        if vnic not in VNIC_TYPES.get(self.conf.vif_type,
                                      (portbindings.VNIC_NORMAL,)):
            return
        for segment in context.segments_to_bind:
            if segment[api.NETWORK_TYPE] not in BINDABLE:
                continue
            details = binding_details(self.conf.vif_type, segment)
            context.set_binding(segment[api.ID], self.conf.vif_type,
                                details, status=constants.PORT_STATUS_ACTIVE)
            LOG.info('Bound port %s on %s: %s %s', context.current['id'],
                     host, self.conf.vif_type, details)
            return
