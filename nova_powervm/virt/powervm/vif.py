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
VIF's ``type`` (Neutron's ``binding:vif_type``).  Only the Shared Ethernet
Adapter type (``pvm_sea``, bound by networking-powervm's SEA agent)
exists so far: the VIF becomes a client network adapter (CNA) on a
virtual switch, with the network's VLAN as its port VLAN id.  The SEA on
the VIOS bridges that VLAN to the physical network.  ``check_vif_types``
refuses a VIF of any other type before anything is created.

Virtual switches almost never change on a host, so their hrefs are read
once per host (one feed GET) and kept in the host's cache
(``cache.HostCache``); a switch that is not in the cache causes one
refresh.
"""

import abc

from nova import exception as nova_exc
from oslo_log import log as logging
from pypowervm.wrappers import event as pvm_event
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import network as pvm_net

from nova_powervm.virt.powervm import errors

LOG = logging.getLogger(__name__)

VIF_TYPE_PVM_SEA = 'pvm_sea'
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
    """

    #: Neutron's ``binding:vif_type`` the class handles.
    vif_type = None

    def __init__(self, adapter, cache, vif):
        self.adapter = adapter
        self.cache = cache
        self.vif = vif

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
    def unplug(self, cnas):
        """Delete the VIF's adapter among ``cnas``, if there.

        :param cnas: the partition's ``CNA`` wrappers.
        :returns: the deleted wrapper or None.
        """


class SeaVif(PowerVif):
    """A ``pvm_sea`` VIF: a CNA on a virtual switch with the VLAN as PVID."""

    vif_type = VIF_TYPE_PVM_SEA

    def vlan(self):
        """The port VLAN id: the VIF details' ``vlan``, else the network's.

        :raises VirtualInterfacePlugException: when the VIF carries none.
        """
        details = self.vif.get('details') or {}
        meta = (self.vif.get('network') or {}).get('meta') or {}
        vlan = details.get('vlan', meta.get('vlan'))
        if vlan is None:
            raise nova_exc.VirtualInterfacePlugException(
                'VIF %s has no VLAN for a Shared Ethernet Adapter network'
                % self.vif['id'])
        return int(vlan)

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

    def unplug(self, cnas):
        """Delete the partition's CNA with the VIF's MAC, if any.

        :param cnas: list of the partition's ``CNA`` wrappers.
        :returns: the deleted wrapper or None.
        """
        for cna_w in cnas:
            if norm_mac(cna_w.mac) == self.mac:
                delete_cna(cna_w)
                return cna_w
        return None


#: The VIF classes keyed by Neutron's ``vif_type``.
VIF_TYPES = {cls.vif_type: cls for cls in (SeaVif,)}


def unsupported_message(vif):
    """Why a VIF cannot be plugged, or None when its type is supported.

    :param vif: nova ``VIF``.
    """
    if vif.get('type') in VIF_TYPES:
        return None
    return ('VIF type %s (port %s) is not supported by the PowerVM driver '
            '(supported: %s)' % (vif.get('type'), vif.get('id'),
                                 ', '.join(sorted(VIF_TYPES))))


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


def get_vif(adapter, cache, vif):
    """The VIF object for a nova VIF, by its ``type``.

    :param adapter: pypowervm ``Adapter``.
    :param cache: the host's ``cache.HostCache``.
    :param vif: nova ``VIF``.
    :raises VirtualInterfacePlugException: for an unsupported VIF type.
    """
    reason = unsupported_message(vif)
    if reason:
        raise nova_exc.VirtualInterfacePlugException(reason)
    return VIF_TYPES[vif['type']](adapter, cache, vif)


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
