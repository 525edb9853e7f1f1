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
"""Shared storage pool: Cluster, SharedStoragePool, Tier, LogicalUnit."""

import hashlib

from nova_powervm.simulator import model
from nova_powervm.simulator import registry
from nova_powervm.simulator.resources import storage
from nova_powervm.simulator import templates as tpl
from nova_powervm.simulator import xmlutil as xu

CLUSTER_NAME = 'ssp_cluster'
SSP_NAME = 'ssp_pool'


def _hex(*parts):
    return hashlib.sha1('/'.join(parts).encode()).hexdigest()[:48]


def seed(sim, inv):
    """Create a cluster over every VIOS, its SSP and default tier.

    :param sim: the Simulator.
    :param inv: the Inventory (``ssp`` knob).
    """
    if not inv.ssp:
        return
    ssp = tpl.capture_object('ssp.txt')
    ssp_uuid = sim.uuid_for('ssp', SSP_NAME)
    tpl.set_atom_id(ssp, ssp_uuid)
    tpl.empty(ssp, 'LogicalUnits', keep=())
    xu.set_text(ssp, 'StoragePoolName', SSP_NAME)
    xu.set_text(ssp, 'Capacity', '%.2f' % 1024)
    xu.set_text(ssp, 'FreeSpace', '%.2f' % 1024)
    xu.set_text(ssp, 'UniqueDeviceID', '24' + _hex(ssp_uuid))
    ssp_obj = sim.store.add(model.Obj('SharedStoragePool', ssp_uuid, ssp))
    clu = tpl.capture_object('cluster.txt')
    clu_uuid = sim.uuid_for('cluster', CLUSTER_NAME)
    tpl.set_atom_id(clu, clu_uuid)
    xu.set_text(clu, 'ClusterName', CLUSTER_NAME)
    xu.set_text(clu, 'ClusterID', '22' + _hex(clu_uuid)[:32])
    xu.find(clu, 'ClusterSharedStoragePool').set('href', sim.href(ssp_obj))
    nodes = xu.find(clu, 'Node')
    proto = xu.find(nodes, 'Node')
    for child in list(nodes):
        if xu.local(child.tag) == 'Node':
            nodes.remove(child)
    for vios in sim.store.all('VirtualIOServer'):
        node = xu.deepcopy(proto)
        xu.set_text(node, 'HostName', xu.text(vios.elem, 'PartitionName'))
        xu.set_text(node, 'PartitionID', xu.text(vios.elem, 'PartitionID'))
        xu.find(node, 'VirtualIOServer').set('href', sim.href(vios))
        xu.set_text(node, 'State', 'Up')
        nodes.append(node)
    sim.store.add(model.Obj('Cluster', clu_uuid, clu))
    tier = tpl.capture_object('tier.txt')
    tier_uuid = sim.uuid_for('tier', SSP_NAME)
    tpl.set_atom_id(tier, tier_uuid)
    xu.set_text(tier, 'Capacity', '%.2f' % 1024)
    xu.find(tier, 'AssociatedSharedStoragePool').set('href',
                                                     sim.href(ssp_obj))
    sim.store.add(model.Obj('Tier', tier_uuid, tier,
                            ('SharedStoragePool', ssp_uuid)))


def lu_in_use(sim, udid):
    """Whether a VSCSI mapping uses an LU.

    :param sim: the Simulator.
    :param udid: the LU UniqueDeviceID.
    """
    return storage.mapped(sim, 'LogicalUnit', 'UniqueDeviceID', udid)


def _lu_view(sim, obj):
    elem = xu.deepcopy(obj.elem)
    xu.set_text(elem, 'InUse', lu_in_use(sim, xu.text(elem,
                                                      'UniqueDeviceID')))
    return elem


def resolve_lu(sim, kind, given):
    """The mapping form of an LU (by UDID, else by name).

    :param sim: the Simulator.
    :param kind: storage local name.
    :param given: the client's element.
    """
    if kind != 'LogicalUnit':
        return None
    udid = xu.text(given, 'UniqueDeviceID')
    name = xu.text(given, 'UnitName')
    for obj in sim.store.all('LogicalUnit'):
        if (udid and xu.text(obj.elem, 'UniqueDeviceID') == udid) or (
                not udid and xu.text(obj.elem, 'UnitName') == name):
            out = _lu_view(sim, obj)
            xu.set_text(out, 'InUse', True)
            return out
    return None


class Cluster(registry.Resource):
    kind = 'Cluster'
    search_keys = {'ClusterName': 'ClusterName'}


class SharedStoragePool(registry.Resource):
    kind = 'SharedStoragePool'
    search_keys = {'StoragePoolName': 'StoragePoolName'}

    def view(self, sim, obj):
        elem = xu.deepcopy(obj.elem)
        lus = xu.find(elem, 'LogicalUnits')
        used = 0.0
        for tier in sim.store.children('Tier', obj.uuid):
            for lu in sim.store.children('LogicalUnit', tier.uuid):
                lus.append(_lu_view(sim, lu))
                used += float(xu.text(lu.elem, 'UnitCapacity', 0))
        cap = float(xu.text(elem, 'Capacity'))
        xu.set_text(elem, 'FreeSpace', '%.2f' % max(cap - used, 0))
        xu.set_text(elem, 'TotalLogicalUnitSize', '%g' % used)
        return elem


class Tier(registry.Resource):
    kind = 'Tier'


class LogicalUnit(registry.Resource):
    kind = 'LogicalUnit'
    root = False

    def create(self, sim, parent, body):
        if parent is None or parent.kind != 'Tier':
            raise registry.SimError(405, 'LUs are created under a Tier')
        name = xu.text(body, 'UnitName')
        for other in sim.store.children(self.kind, parent.uuid):
            if xu.text(other.elem, 'UnitName') == name:
                raise registry.SimError(409, 'LU %s exists' % name)
        uuid = sim.new_uuid()
        udid = '27' + _hex(uuid)
        elem = tpl.capture_object('lufeed.txt')
        tpl.set_atom_id(elem, uuid)
        cap = float(xu.text(body, 'UnitCapacity', 1))
        src = xu.text(body, 'ClonedFrom')
        for field, val in (
                ('ThinDevice', xu.text(body, 'ThinDevice', 'true')),
                ('UniqueDeviceID', udid), ('UnitCapacity', '%g' % cap),
                ('LogicalUnitType', xu.text(body, 'LogicalUnitType',
                                            'VirtualIO_Disk')),
                ('InUse', 'false'), ('UnitName', name)):
            xu.set_text(elem, field, val)
        base = None
        if src:
            base = self._source(sim, src)
            xu.set_text(elem, 'ClonedFrom', '29' + src[2:])
        else:
            elem.remove(xu.find(elem, 'ClonedFrom'))
        sim.files.create_disk(udid, cap, base)
        return sim.store.add(model.Obj(self.kind, uuid, elem,
                                       (parent.kind, parent.uuid)))

    @staticmethod
    def _source(sim, src):
        for obj in sim.store.all('LogicalUnit'):
            if xu.text(obj.elem, 'UniqueDeviceID')[2:] == src[2:]:
                return xu.text(obj.elem, 'UniqueDeviceID')
        raise registry.SimError(400, 'ClonedFrom LU %s not found' % src)

    def view(self, sim, obj):
        return _lu_view(sim, obj)

    def delete(self, sim, obj):
        udid = xu.text(obj.elem, 'UniqueDeviceID')
        if lu_in_use(sim, udid):
            raise registry.SimError(409, 'LU %s is in use.' % udid)
        sim.files.delete_disk(udid)
        sim.store.remove(obj)


def state_lus(sim, out):
    """Fill ``lus`` in ``/sim/state``.

    :param sim: the Simulator.
    :param out: the state dict.
    """
    out['lus'] = [{
        'name': xu.text(o.elem, 'UnitName'), 'uuid': o.uuid,
        'udid': xu.text(o.elem, 'UniqueDeviceID'),
        'type': xu.text(o.elem, 'LogicalUnitType'),
        'capacity_gb': float(xu.text(o.elem, 'UnitCapacity', 0)),
        'cloned_from': xu.text(o.elem, 'ClonedFrom'),
        'in_use': lu_in_use(sim, xu.text(o.elem, 'UniqueDeviceID'))}
        for o in sim.store.all('LogicalUnit')]
