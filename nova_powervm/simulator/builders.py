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
"""Nova-side builders for driving a PowerVM driver against the simulator.

The tests, the sandbox and the benchmark (``tools/bench_env.py``) build
the same things: nova Instances with a flavor of their own (no database),
instances ready for spawn with a config drive, and a network_info with
one SEA VIF.  Only this module of the simulator package imports nova.
"""

import datetime
import itertools

from nova.network import model as net_model
from nova import objects
from oslo_utils import uuidutils

from nova_powervm.virt.powervm import vif as pvm_vif

#: ``/sim/stats`` pattern of the event feed GETs: a running event listener
#: long-polls it all the time, whatever the driver does.
EVENT_POLL = 'GET /rest/api/uom/Event'
MAC = 'fa:16:3e:00:00:01'

_IDS = itertools.count(1)
# Values of optional (lazy-loaded) Instance fields asked for with
# ``expected_attrs``: empty, as for a new server.
_OPTIONAL = {
    'metadata': dict,
    'system_metadata': dict,
    'info_cache': lambda: None,
    'security_groups': lambda: objects.SecurityGroupList(objects=[]),
    'pci_devices': lambda: objects.PciDeviceList(objects=[]),
    'tags': lambda: objects.TagList(objects=[]),
    'numa_topology': lambda: None,
    'pci_requests': lambda: None,
    'vcpu_model': lambda: None,
    'device_metadata': lambda: None,
    'trusted_certs': lambda: None,
}


def _column_defaults():
    """Every non-optional Instance field: None, or its default."""
    optional = set(objects.instance.INSTANCE_OPTIONAL_ATTRS)
    values = {}
    for name, field in objects.Instance.fields.items():
        if name in optional:
            continue
        if field.nullable:
            values[name] = None
        elif field.default != objects.fields.UnspecifiedDefault:
            values[name] = field.default
    return values


def make_instance(ctx, vcpus=2, memory_mb=2048, extra_specs=None,
                  root_gb=1, expected_attrs=(), **updates):
    """A nova Instance (not in a database) with its own flavor.

    :param ctx: nova ``RequestContext``.
    :param vcpus: flavor vCPUs.
    :param memory_mb: flavor memory.
    :param extra_specs: flavor extra specs.
    :param root_gb: flavor root disk.
    :param expected_attrs: optional fields to set (empty), as nova loads
        them with the instance (``system_metadata``, ``info_cache``...).
    :param updates: Instance fields to set.
    """
    flavor = objects.Flavor(
        id=1, name='m1.test', memory_mb=memory_mb, vcpus=vcpus,
        root_gb=root_gb, ephemeral_gb=0, flavorid='1', swap=0,
        rxtx_factor=1.0, vcpu_weight=1, disabled=False, is_public=True,
        extra_specs=dict(extra_specs or {}), projects=[])
    values = _column_defaults()
    values.update(
        id=next(_IDS), uuid=uuidutils.generate_uuid(), deleted=False,
        user_id='fake-user', project_id='fake-project', host='fake-host',
        created_at=datetime.datetime(2026, 1, 1,
                                     tzinfo=datetime.timezone.utc),
        root_gb=0, ephemeral_gb=0, vcpus=vcpus, memory_mb=memory_mb,
        instance_type_id=flavor.id)
    for name in expected_attrs:
        values[name] = _OPTIONAL[name]()
    values.update(updates)
    inst = objects.Instance(ctx, **values)
    inst.flavor = flavor
    inst.old_flavor = None
    inst.new_flavor = None
    inst.keypairs = objects.KeyPairList(objects=[])
    if 'tags' not in inst:
        inst.tags = objects.TagList(objects=[])
    inst.resources = None
    inst.migration_context = None
    inst.obj_reset_changes(recursive=True)
    return inst


def spawnable_instance(ctx, image_meta, config_drive=True, **kwargs):
    """A nova Instance ready for spawn (config drive data included).

    :param ctx: nova ``RequestContext``.
    :param image_meta: the ImageMeta it boots from.
    :param config_drive: whether it has a config drive.
    :param kwargs: flavor and instance fields (see :func:`make_instance`).
    """
    inst = make_instance(
        ctx, config_drive='True' if config_drive else '',
        expected_attrs=['system_metadata', 'info_cache'], **kwargs)
    inst.image_ref = image_meta.id
    inst.ec2_ids = objects.EC2Ids(instance_id='i-1', ami_id='ami-1',
                                  kernel_id=None, ramdisk_id=None)
    inst.device_metadata = None
    inst.numa_topology = None
    inst.metadata = {}
    inst.user_data = None
    inst.hostname = 'vm-%d' % inst.id
    return inst


def sea_network_info(vlan=100, active=False, mac=MAC):
    """One ``pvm_sea`` VIF on VLAN ``vlan`` with an IPv4 subnet.

    :param vlan: the VLAN.
    :param active: the VIF's ``active`` flag.
    :param mac: its MAC address.
    """
    subnet = net_model.Subnet(
        cidr='10.0.0.0/24', gateway=net_model.IP('10.0.0.1'),
        ips=[net_model.FixedIP(address='10.0.0.5')],
        dns=[net_model.IP('10.0.0.2')], routes=[])
    network = net_model.Network(
        id=uuidutils.generate_uuid(), label='net', bridge=None,
        subnets=[subnet], injected=False)
    vif = net_model.VIF(
        id=uuidutils.generate_uuid(), address=mac, network=network,
        type=pvm_vif.VIF_TYPE_PVM_SEA, details={'vlan': vlan},
        active=active)
    return net_model.NetworkInfo([vif])


def ovs_network_info(vlan=100, mtu=1450, mac=MAC, active=False):
    """One ``ovs`` VIF on ``br-int`` (VLAN ``vlan``, MTU ``mtu``).

    :param vlan: the network's VLAN (the OVS port's tag), or None.
    :param mtu: the network's MTU, or None.
    :param mac: its MAC address.
    :param active: the VIF's ``active`` flag.
    """
    vif = sea_network_info(vlan=vlan, active=active, mac=mac)[0]
    vif['type'] = pvm_vif.VIF_TYPE_OVS
    vif['details'] = {'port_filter': True, 'bridge_name': 'br-int'}
    if vlan is not None:
        vif['details']['vlan'] = vlan
    vif['network']['bridge'] = 'br-int'
    if mtu:
        vif['network']['meta']['mtu'] = mtu
    vif['devname'] = ('tap' + vif['id'])[:14]
    return net_model.NetworkInfo([vif])


def sriov_network_info(vlan=100, physnet='default', mac=MAC, profile=None,
                       vif_type='pvm_sriov', vnic_type='direct'):
    """One SR-IOV vNIC VIF on physical network ``physnet``.

    :param vlan: the VLAN (the vNIC's port VLAN id).
    :param physnet: the physical network (the SR-IOV ports' label).
    :param mac: its MAC address.
    :param profile: the binding profile (redundancy, capacity).
    :param vif_type: ``pvm_sriov`` or ``hw_veb``.
    :param vnic_type: the port's ``vnic_type``.
    """
    vif = sea_network_info(vlan=vlan, mac=mac)[0]
    vif['type'] = vif_type
    vif['vnic_type'] = vnic_type
    vif['details'] = {'vlan': vlan, 'physical_network': physnet}
    vif['profile'] = dict(profile or {})
    return net_model.NetworkInfo([vif])
