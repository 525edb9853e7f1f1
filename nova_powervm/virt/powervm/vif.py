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
"""Virtual network interfaces of partitions.

One class per Neutron VIF type, in the ``VIF_TYPES`` table keyed by the
VIF's ``type`` (Neutron's ``binding:vif_type``); ``check_vif_types``
refuses a VIF of any other type before anything is created.

* ``pvm_sea`` (networking-powervm's SEA agent): a client network adapter
  (CNA) on a virtual switch, with the network's VLAN as its port VLAN id;
  the Shared Ethernet Adapter on the VIOS bridges that VLAN out.
* ``ovs`` (Neutron's Open vSwitch agent on the NovaLink partition): a CNA
  on the partition and a trunk adapter on the NovaLink partition, both on
  the OVS virtual switch (``[powervm] ovs_vswitch``) with a port VLAN id
  no other pair uses there; the trunk's network device on the NovaLink
  partition becomes a port of the OVS bridge (``ovs-vsctl`` through the
  host shim) with the external ids the agent wires the port by, tagged
  with the network's VLAN when the binding gives one, at the network's
  MTU.
* ``pvm_sriov``, and ``hw_veb`` for ``vnic_type=direct`` ports: an SR-IOV
  backed vNIC whose backing devices are physical ports labelled with the
  port's physical network, as many as the redundancy asks (more than one
  gives vNIC failover), each with the given capacity; from the binding
  profile (``vnic_required_vfs``, ``capacity``, ``max_capacity``) or the
  ``[powervm]`` options of the same names.

Virtual switches almost never change on a host, so their hrefs are read
once per host (one feed GET) and kept in the host's cache
(``cache.HostCache``); a switch that is not in the cache causes one
refresh.
"""

import abc
import threading

from nova import exception as nova_exc
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import excutils
from pypowervm.tasks import sriov as pvm_sriov
from pypowervm.utils import uuid as pvm_uuid
from pypowervm.wrappers import event as pvm_event
from pypowervm.wrappers import iocard as pvm_card
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import network as pvm_net

from nova_powervm.virt.powervm import errors

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

VIF_TYPE_PVM_SEA = 'pvm_sea'
VIF_TYPE_OVS = 'ovs'
VIF_TYPE_PVM_SRIOV = 'pvm_sriov'
VIF_TYPE_HW_VEB = 'hw_veb'
VNIC_TYPE_DIRECT = 'direct'
# Port VLAN ids the OVS adapter pairs may use on their virtual switch.
OVS_PVIDS = range(2, 4094)
# Trunk adapters get the lowest priority; OVS does the bridging.
TRUNK_PRIORITY = 1
# One OVS pair at a time picks a free port VLAN id (per process).
_PVID_LOCK = threading.Lock()
# The internal switch (and PVID) of the RMC management adapters.
MGMT_VSWITCH = 'MGMTSWITCH'
MGMT_PVID = 4094


def norm_mac(mac):
    """A MAC address as PowerVM writes it: 12 upper-case hex digits.

    :param mac: MAC address in any usual notation.
    :returns: the normalised string.
    """
    return mac.replace(':', '').replace('-', '').upper()


def vswitch_hrefs(adapter, cache, refresh=False):
    """Map of virtual switch name to its href, cached per host.

    :param adapter: pypowervm ``Adapter``.
    :param cache: the host's ``cache.HostCache``.
    :param refresh: re-read the switch feed even when cached.
    :returns: dict ``{name: href}``; the default switch is also under the
              key ``None``.
    """
    def load():
        vsws = pvm_net.VSwitch.get(adapter, parent_type=pvm_ms.System,
                                   parent_uuid=cache.host_uuid)
        hrefs = {vsw.name: vsw.related_href for vsw in vsws}
        for vsw in vsws:
            if vsw.switch_id == 0:
                hrefs[None] = vsw.related_href
        return hrefs
    return cache.vswitches(load, refresh=refresh)


def find_vswitch(adapter, cache, name):
    """The href of a virtual switch (None: the default switch).

    :param adapter: pypowervm ``Adapter``.
    :param cache: the host's ``cache.HostCache``.
    :param name: switch name, or None for the default switch (id 0).
    :returns: the href, or None when the host has no such switch.
    """
    href = vswitch_hrefs(adapter, cache).get(name)
    if href is None:
        href = vswitch_hrefs(adapter, cache, refresh=True).get(name)
    return href


def get_cnas(adapter, lpar_uuid):
    """The client network adapters of a partition (one GET).

    :param adapter: pypowervm ``Adapter``.
    :param lpar_uuid: PowerVM UUID of the partition.
    :returns: list of ``CNA`` wrappers ([] when the partition is gone).
    """
    with errors.ignore_missing():
        with errors.translate('list network adapters'):
            return pvm_net.CNA.get(adapter, parent_type=pvm_lpar.LPAR,
                                   parent_uuid=lpar_uuid)
    return []


def delete_cna(cna_w):
    """Delete a CNA; one that is already gone is fine.

    :param cna_w: ``CNA`` wrapper.
    """
    with errors.ignore_missing():
        with errors.translate('delete network adapter %s' % cna_w.mac):
            cna_w.delete()


def notify_agent(adapter, lpar_w, action):
    """Tell the host's network agents that a partition's adapters changed.

    A custom event (one PUT) whose data is the partition's href, so an
    agent listening to the NovaLink event feed (networking-powervm's) looks
    at the partition's adapters at once instead of at its next scan.

    :param adapter: pypowervm ``Adapter``.
    :param lpar_w: ``LPAR`` wrapper of the partition.
    :param action: ``plug`` or ``unplug``.
    """
    with errors.translate('notify network agents (%s)' % action):
        pvm_event.Event.bld(adapter, lpar_w.href,
                            'vif_%s' % action).create()


class PowerVif(abc.ABC):
    """A VIF of one Neutron VIF type (see ``VIF_TYPES``).

    :param adapter: pypowervm ``Adapter``.
    :param cache: the host's ``cache.HostCache``.
    :param vif: nova ``VIF`` (network model dict).
    :param ctx: the ``HostContext`` (types that need the host shim or the
                NovaLink partition: ``ovs``).
    :param instance_uuid: the nova instance the VIF belongs to.
    """

    #: Neutron's ``binding:vif_type`` the class handles.
    vif_type = None

    def __init__(self, adapter, cache, vif, ctx=None, instance_uuid=None):
        self.adapter = adapter
        self.cache = cache
        self.vif = vif
        self.ctx = ctx
        self.instance_uuid = instance_uuid

    @property
    def details(self):
        """The binding's ``vif_details`` (empty dict when none)."""
        return self.vif.get('details') or {}

    @property
    def network_meta(self):
        """The network's ``meta`` (VLAN, MTU, physical network...)."""
        return (self.vif.get('network') or {}).get('meta') or {}

    def port_vlan(self):
        """The network's VLAN: details' ``vlan``, else the network's; None."""
        vlan = self.details.get('vlan', self.network_meta.get('vlan'))
        return None if vlan in (None, '') else int(vlan)

    def mtu(self):
        """The network's MTU, or None when Neutron gave none."""
        mtu = self.network_meta.get('mtu')
        return int(mtu) if mtu else None

    def remove(self, created):
        """Undo one :meth:`plug`: delete what it created.

        :param created: what ``plug`` returned.
        """
        delete_cna(created)

    @property
    def mac(self):
        """The VIF's MAC in PowerVM notation."""
        return norm_mac(self.vif['address'])

    @abc.abstractmethod
    def plug(self, lpar_w, existing=None):
        """Create the VIF's adapter on a partition unless it exists.

        :param lpar_w: ``LPAR`` wrapper of the partition.
        :param existing: the partition's ``CNA`` wrappers, or None when
                         the caller knows there are none.
        :returns: the new adapter's wrapper, or None when it existed.
        """

    @abc.abstractmethod
    def unplug(self, cnas, lpar_uuid=None):
        """Delete the VIF's adapter among ``cnas``, if there.

        :param cnas: the partition's ``CNA`` wrappers.
        :param lpar_uuid: the partition's UUID (types whose adapters are
                          not CNAs read them).
        :returns: the deleted wrapper or None.
        """


class SeaVif(PowerVif):
    """A ``pvm_sea`` VIF: a CNA on a virtual switch with the VLAN as PVID."""

    vif_type = VIF_TYPE_PVM_SEA

    def vlan(self):
        """The port VLAN id: the VIF details' ``vlan``, else the network's.

        :raises VirtualInterfacePlugException: when the VIF carries none.
        """
        vlan = self.port_vlan()
        if vlan is None:
            raise nova_exc.VirtualInterfacePlugException(
                'VIF %s has no VLAN for a Shared Ethernet Adapter network'
                % self.vif['id'])
        return vlan

    def vswitch_name(self):
        """The virtual switch: VIF details' ``vswitch``, else the default."""
        return (self.vif.get('details') or {}).get('vswitch')

    def plug(self, lpar_w, existing=None):
        """Create the CNA on a partition unless one has the VIF's MAC.

        :param lpar_w: ``LPAR`` wrapper of the partition (avoids a GET).
        :param existing: list of the partition's ``CNA`` wrappers, or None
                         when the caller knows there are none.
        :returns: the new ``CNA`` wrapper, or None when it already existed.
        """
        if any(norm_mac(c.mac) == self.mac for c in existing or ()):
            return None
        name = self.vswitch_name()
        href = find_vswitch(self.adapter, self.cache, name)
        if href is None:
            raise nova_exc.VirtualInterfacePlugException(
                'virtual switch %s not found on the host'
                % (name or 'default'))
        cna = pvm_net.CNA.bld(self.adapter, self.vlan(), href,
                              mac_addr=self.mac)
        return cna.create(parent=lpar_w)

    def unplug(self, cnas, lpar_uuid=None):
        """Delete the partition's CNA with the VIF's MAC, if any.

        :param cnas: list of the partition's ``CNA`` wrappers.
        :param lpar_uuid: unused.
        :returns: the deleted wrapper or None.
        """
        for cna_w in cnas:
            if norm_mac(cna_w.mac) == self.mac:
                delete_cna(cna_w)
                return cna_w
        return None


def parse_ext_ids(text):
    """``'a=1,b=2'`` (a trunk's ``OvsPortExternalIds``) as a dict."""
    out = {}
    for item in (text or '').split(','):
        key, sep, value = item.partition('=')
        if sep:
            out[key.strip()] = value.strip()
    return out


def get_trunks(adapter, mgmt_uuid, vswitch_href=None):
    """The NovaLink partition's trunk adapters (one GET).

    :param adapter: pypowervm ``Adapter``.
    :param mgmt_uuid: UUID of the NovaLink (management) partition.
    :param vswitch_href: only the trunks on this virtual switch.
    :returns: list of ``CNA`` wrappers with a trunk priority.
    """
    path = vswitch_href.split('?')[0].lower() if vswitch_href else None
    return [c for c in get_cnas(adapter, mgmt_uuid)
            if c.is_trunk and (
                path is None or
                (c.vswitch_uri or '').split('?')[0].lower() == path)]


class OvsVif(PowerVif):
    """An ``ovs`` VIF: a CNA paired with a trunk plugged into OVS.

    The partition's CNA and the NovaLink partition's trunk adapter share a
    port VLAN id on the OVS virtual switch, the lowest one no trunk there
    uses; the trunk carries the VIF's device name (nova's ``devname``) and
    the OVS external ids, and its device becomes a port of the bridge.
    """

    vif_type = VIF_TYPE_OVS

    def bridge(self):
        """The OVS bridge: the network's ``bridge``, else details'."""
        return ((self.vif.get('network') or {}).get('bridge') or
                self.details.get('bridge_name') or 'br-int')

    def dev_name(self):
        """The trunk's device name on the NovaLink partition."""
        name = self.vif.get('devname') or ('tap' + self.vif['id'])
        return name[:15]

    def external_ids(self, instance_uuid):
        """The OVS interface's external ids (what the agent reads)."""
        return {'iface-id': self.vif['id'], 'iface-status': 'active',
                'attached-mac': self.vif['address'].lower(),
                'vm-uuid': instance_uuid}

    def _vswitch_href(self):
        name = CONF.powervm.ovs_vswitch
        href = find_vswitch(self.adapter, self.cache, name)
        if href is None:
            raise nova_exc.VirtualInterfacePlugException(
                'virtual switch %s (the [powervm] ovs_vswitch option) not '
                'found on the host' % name)
        return href

    def plug(self, lpar_w, existing=None):
        """Create the CNA, the trunk and the OVS port.

        GET the NovaLink partition's adapters (free port VLAN id), PUT the
        CNA, GET the NovaLink partition and PUT the trunk (pypowervm),
        then the host shim's ``ovs-vsctl``.

        Half-made work is undone before the error is raised.

        :param lpar_w: ``LPAR`` wrapper of the partition.
        :param existing: the partition's ``CNA`` wrappers (None: none).
        :returns: ``(client CNA, trunk CNA, OVS port name)`` or None when
                  the partition already has the VIF's adapter.
        """
        if any(norm_mac(c.mac) == self.mac for c in existing or ()):
            return None
        href = self._vswitch_href()
        instance_uuid = self.vif_instance_uuid(lpar_w)
        ext = self.external_ids(instance_uuid)
        made = [None, None, None]
        try:
            with _PVID_LOCK:
                used = {t.pvid for t in get_trunks(
                    self.adapter, self.ctx.mgmt_uuid, href)}
                pvid = next((v for v in OVS_PVIDS if v not in used), None)
                if pvid is None:
                    raise nova_exc.VirtualInterfacePlugException(
                        'no free port VLAN id left on virtual switch %s '
                        'for OVS adapter pairs' % CONF.powervm.ovs_vswitch)
                made[0] = pvm_net.CNA.bld(
                    self.adapter, pvid, href,
                    mac_addr=self.mac).create(parent=lpar_w)
                trunk = pvm_net.CNA.bld(
                    self.adapter, pvid, href, trunk_pri=TRUNK_PRIORITY,
                    dev_name=self.dev_name(), configured_mtu=self.mtu())
                # Without OvsBridge: the host shim plugs the port, and the
                # ids name the VIF and instance for clean-up.
                trunk.ovs_ext_ids = ','.join('%s=%s' % kv
                                             for kv in sorted(ext.items()))
                # pypowervm reads the NovaLink partition (1 GET) to give
                # the trunk the next free slot rather than a high one.
                made[1] = trunk.create(
                    parent_type=pvm_lpar.LPAR,
                    parent_uuid=self.ctx.mgmt_uuid)
            made[2] = self.ctx.shim.plug_ovs_port(
                self.bridge(), made[1].dev_name or self.dev_name(),
                ext, mtu=self.mtu(), tag=self.port_vlan())
        except Exception:
            with excutils.save_and_reraise_exception():
                try:
                    self.remove(tuple(made))
                except Exception as error:
                    LOG.warning('Could not undo the half-made plug of VIF '
                                '%(vif)s: %(err)s',
                                {'vif': self.vif['id'],
                                 'err': errors.safe_text(error)})
        return tuple(made)

    def vif_instance_uuid(self, lpar_w):
        """The nova instance UUID the VIF belongs to (``vm-uuid``)."""
        return self.instance_uuid or lpar_w.uuid.lower()

    def remove(self, created):
        """Delete the OVS port, the trunk and the CNA of one plug.

        :param created: ``(client CNA, trunk CNA, port name)``; items may
                        be None.
        """
        client, trunk, port = (tuple(created) + (None, None, None))[:3]
        if port:
            self.ctx.shim.unplug_ovs_port(port)
        if trunk is not None:
            delete_cna(trunk)
        if client is not None:
            delete_cna(client)

    def unplug(self, cnas, lpar_uuid=None):
        """Delete the CNA with the VIF's MAC, its trunk and OVS port.

        :param cnas: the partition's ``CNA`` wrappers.
        :param lpar_uuid: unused.
        :returns: the deleted client CNA or None.
        """
        client = next((c for c in cnas if norm_mac(c.mac) == self.mac),
                      None)
        trunks = [t for t in get_trunks(self.adapter, self.ctx.mgmt_uuid)
                  if parse_ext_ids(t.ovs_ext_ids).get('iface-id')
                  == self.vif['id']]
        self.ctx.shim.unplug_ovs_port(self.dev_name())
        for trunk in trunks:
            if trunk.dev_name and trunk.dev_name != self.dev_name():
                self.ctx.shim.unplug_ovs_port(trunk.dev_name)
            delete_cna(trunk)
        if client is not None:
            delete_cna(client)
        return client


def get_vnics(adapter, lpar_uuid):
    """The SR-IOV vNICs of a partition (one GET; [] when it is gone).

    :param adapter: pypowervm ``Adapter``.
    :param lpar_uuid: PowerVM UUID of the partition.
    """
    with errors.ignore_missing():
        with errors.translate('list vNICs'):
            return pvm_card.VNIC.get(adapter, parent_type=pvm_lpar.LPAR,
                                     parent_uuid=lpar_uuid)
    return []


class SriovVif(PowerVif):
    """A ``pvm_sriov`` VIF: an SR-IOV vNIC on labelled physical ports."""

    vif_type = VIF_TYPE_PVM_SRIOV

    def physnet(self):
        """The port's physical network (the physical ports' label)."""
        net = (self.details.get('physical_network') or
               self.network_meta.get('physical_network'))
        if not net:
            raise nova_exc.VirtualInterfacePlugException(
                'VIF %s has no physical network to choose SR-IOV ports by'
                % self.vif['id'])
        return net

    def _profile(self, key, conf_value, kind):
        profile = self.vif.get('profile') or {}
        value = profile.get(key)
        if value is None:
            return conf_value
        try:
            return kind(value)
        except (TypeError, ValueError):
            raise nova_exc.VirtualInterfacePlugException(
                'VIF %s: binding profile %s=%r is not a valid %s'
                % (self.vif['id'], key, value, kind.__name__))

    def redundancy(self):
        """Backing devices wanted (profile ``vnic_required_vfs``)."""
        red = self._profile('vnic_required_vfs',
                            CONF.powervm.vnic_required_vfs, int)
        if red < 1:
            raise nova_exc.VirtualInterfacePlugException(
                'VIF %s: vnic_required_vfs must be at least 1, not %d'
                % (self.vif['id'], red))
        return red

    def capacities(self):
        """``(capacity, max capacity)`` fractions of each backing device."""
        cap = self._profile('capacity', CONF.powervm.vnic_vf_capacity,
                            float)
        mx = self._profile('max_capacity',
                           CONF.powervm.vnic_vf_max_capacity, float)
        for name, val in (('capacity', cap), ('max_capacity', mx)):
            if val is not None and not 0.0 < val <= 1.0:
                raise nova_exc.VirtualInterfacePlugException(
                    'VIF %s: %s must be a fraction in (0, 1], not %s'
                    % (self.vif['id'], name, val))
        if cap is not None and mx is not None and mx < cap:
            raise nova_exc.VirtualInterfacePlugException(
                'VIF %s: max_capacity %s is below capacity %s'
                % (self.vif['id'], mx, cap))
        return cap, mx

    def plug(self, lpar_w, existing=None):
        """Create the vNIC unless the partition has one with the MAC.

        GET the system (cached), GET the VIOS feed (pypowervm checks the
        VIOSes' vNIC capabilities), PUT the vNIC; one more GET of the
        partition's vNICs when it is not new.

        :param lpar_w: ``LPAR`` wrapper of the partition.
        :param existing: None for a new partition (no adapters), else
                         anything: the partition's vNICs are read.
        :returns: the new ``VNIC`` wrapper, or None when it existed.
        """
        if existing is not None and any(
                norm_mac(v.mac) == self.mac
                for v in get_vnics(self.adapter, lpar_w.uuid)):
            return None
        physnet = self.physnet()
        redundancy = self.redundancy()
        cap, max_cap = self.capacities()
        # Fresh: the ports' free capacity changes with every vNIC.
        sys_w = (self.ctx.host_wrapper() if self.ctx else
                 pvm_ms.System.get(self.adapter)[0])
        pports = [p.loc_code for a in sys_w.asio_config.sriov_adapters
                  for p in a.phys_ports if p.label == physnet]
        if not pports:
            raise nova_exc.VirtualInterfacePlugException(
                'no SR-IOV physical port is labelled %s (the physical '
                'network of VIF %s)' % (physnet, self.vif['id']))
        vnic = pvm_card.VNIC.bld(self.adapter, pvid=self.port_vlan(),
                                 mac_addr=self.mac)
        with errors.translate('choose SR-IOV ports for VIF %s'
                              % self.vif['id']):
            pvm_sriov.set_vnic_back_devs(
                vnic, pports, sys_w=sys_w, redundancy=redundancy,
                capacity=cap, max_capacity=max_cap, check_port_status=True)
        return vnic.create(parent=lpar_w)

    def unplug(self, cnas, lpar_uuid=None):
        """Delete the partition's vNIC with the VIF's MAC, if any.

        :param cnas: unused (vNICs are not CNAs).
        :param lpar_uuid: the partition's UUID.
        :returns: the deleted ``VNIC`` wrapper or None.
        """
        for vnic in get_vnics(self.adapter, lpar_uuid):
            if norm_mac(vnic.mac) == self.mac:
                with errors.ignore_missing():
                    with errors.translate('delete vNIC %s' % self.mac):
                        vnic.delete()
                return vnic
        return None

    def remove(self, created):
        with errors.ignore_missing():
            with errors.translate('delete vNIC %s' % self.mac):
                created.delete()


#: The VIF classes keyed by Neutron's ``vif_type``.
VIF_TYPES = {cls.vif_type: cls for cls in (SeaVif, OvsVif, SriovVif)}


def vif_class(vif):
    """The class for a VIF, or None when unsupported.

    ``hw_veb`` is Neutron's SR-IOV NIC agent's type: an SR-IOV vNIC when
    the port's ``vnic_type`` is ``direct``.

    :param vif: nova ``VIF``.
    """
    if (vif.get('type') == VIF_TYPE_HW_VEB and
            vif.get('vnic_type') == VNIC_TYPE_DIRECT):
        return SriovVif
    return VIF_TYPES.get(vif.get('type'))


def unsupported_message(vif):
    """Why a VIF cannot be plugged, or None when its type is supported.

    :param vif: nova ``VIF``.
    """
    if vif_class(vif) is not None:
        return None
    if vif.get('type') == VIF_TYPE_HW_VEB:
        return ('VIF type hw_veb (port %s) is supported by the PowerVM '
                'driver only with vnic_type direct, not %s'
                % (vif.get('id'), vif.get('vnic_type')))
    return ('VIF type %s (port %s) is not supported by the PowerVM driver '
            '(supported: %s)' % (vif.get('type'), vif.get('id'),
                                 ', '.join(sorted(VIF_TYPES) +
                                           ['hw_veb (direct)'])))


def check_vif_types(network_info):
    """Refuse VIFs of unsupported types before anything is created.

    :param network_info: nova ``NetworkInfo`` (or None).
    :raises nova.exception.InvalidInput: naming the first unsupported
        type (nova aborts the build with this message).
    """
    for vif in network_info or ():
        reason = unsupported_message(vif)
        if reason:
            raise nova_exc.InvalidInput(reason=reason)


def get_vif(adapter, cache, vif, ctx=None, instance=None):
    """The VIF object for a nova VIF, by its ``type``.

    :param adapter: pypowervm ``Adapter``.
    :param cache: the host's ``cache.HostCache``.
    :param vif: nova ``VIF``.
    :param ctx: the ``HostContext`` (needed by ``ovs`` and ``pvm_sriov``).
    :param instance: the nova ``Instance`` the VIF belongs to, or None.
    :raises VirtualInterfacePlugException: for an unsupported VIF type.
    """
    reason = unsupported_message(vif)
    if reason:
        raise nova_exc.VirtualInterfacePlugException(reason)
    return vif_class(vif)(adapter, cache, vif, ctx=ctx,
                          instance_uuid=getattr(instance, 'uuid', None))


def plug_mgmt_vif(adapter, cache, lpar_w, existing=None):
    """Give a partition its RMC management adapter on ``MGMTSWITCH``.

    :param adapter: pypowervm ``Adapter``.
    :param cache: the host's ``cache.HostCache``.
    :param lpar_w: ``LPAR`` wrapper of the partition.
    :param existing: the partition's ``CNA`` wrappers (None: none).
    :returns: the new ``CNA`` wrapper, or None when the host has no
              management switch or the partition already has the adapter.
    """
    href = vswitch_hrefs(adapter, cache).get(MGMT_VSWITCH)
    if href is None:
        LOG.debug('No %s switch on the host; no management VIF.',
                  MGMT_VSWITCH)
        return None
    path = href.split('?')[0].lower()
    for cna_w in existing or ():
        if cna_w.vswitch_uri.split('?')[0].lower() == path:
            return None
    cna = pvm_net.CNA.bld(adapter, MGMT_PVID, href)
    return cna.create(parent=lpar_w)


def _remove_ovs(ctx, trunks, ports, instance_uuids, why):
    """Remove the trunks and OVS ports whose ``vm-uuid`` is listed.

    :returns: names of the removed trunks' devices and ports.
    """
    gone = {u.lower() for u in instance_uuids}
    removed = []
    for trunk in trunks:
        ext = parse_ext_ids(trunk.ovs_ext_ids)
        if ext.get('vm-uuid', '').lower() not in gone:
            continue
        LOG.info('Removing trunk adapter %(dev)s (VIF %(vif)s) of %(why)s '
                 'instance %(inst)s.',
                 {'dev': trunk.dev_name, 'vif': ext.get('iface-id'),
                  'why': why, 'inst': ext.get('vm-uuid')})
        if trunk.dev_name:
            ctx.shim.unplug_ovs_port(trunk.dev_name)
            removed.append(trunk.dev_name)
        delete_cna(trunk)
    for port in ports:
        inst = (port.get('external_ids') or {}).get('vm-uuid', '')
        if inst.lower() in gone and port['name'] not in removed:
            LOG.info('Removing OVS port %(port)s of %(why)s instance '
                     '%(inst)s.', {'port': port['name'], 'why': why,
                                   'inst': inst})
            ctx.shim.unplug_ovs_port(port['name'])
            removed.append(port['name'])
    return removed


def remove_trunks(ctx, instance_uuids):
    """Remove the ``ovs`` trunks and OVS ports of instances (destroy).

    One GET of the NovaLink partition's adapters, one DELETE per trunk.

    :param ctx: ``HostContext``.
    :param instance_uuids: nova instance UUIDs.
    :returns: the removed device / port names.
    """
    return _remove_ovs(ctx, get_trunks(ctx.adapter, ctx.mgmt_uuid),
                       ctx.shim.list_ovs_ports(), instance_uuids,
                       'destroyed')


def cleanup_orphans(ctx):
    """Remove trunks and OVS ports whose instance's partition is gone.

    Run at ``init_host``: a compute that died between deleting a
    partition and removing its trunk leaves them behind.  The OVS ports
    are listed first (the host shim, no REST call): a host with no port
    of an instance has no ``ovs`` VIF, and the scan costs nothing.
    Otherwise one GET of the NovaLink partition's adapters, one GET of the
    partitions and a DELETE per orphan trunk.

    :param ctx: ``HostContext``.
    :returns: the removed device / port names.
    """
    ports = ctx.shim.list_ovs_ports()
    if not any((p.get('external_ids') or {}).get('vm-uuid') for p in ports):
        return []
    trunks = get_trunks(ctx.adapter, ctx.mgmt_uuid)
    owners = {parse_ext_ids(t.ovs_ext_ids).get('vm-uuid') for t in trunks}
    owners |= {(p.get('external_ids') or {}).get('vm-uuid') for p in ports}
    owners.discard(None)
    owners.discard('')
    if not owners:
        return []
    with errors.translate('list partitions'):
        existing = {w.uuid.upper() for w in pvm_lpar.LPAR.get(ctx.adapter)}
    orphans = [u for u in owners
               if pvm_uuid.convert_uuid_to_pvm(u).upper() not in existing]
    if not orphans:
        return []
    return _remove_ovs(ctx, trunks, ports, orphans, 'vanished')
