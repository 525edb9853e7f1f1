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
"""Shared storage pool: Cluster, SharedStoragePool, Tier, LogicalUnit.

The objects live in the Simulator's :class:`~nova_powervm.simulator.pool.
SharedPool`, which every simulated host given the same pool directory
serves: an LU made through one host is listed by the others, and its
``InUse`` reflects the mappings of every host's VIOSes.  The cluster's
nodes are the VIOSes of every member host (with the serving host's
hrefs, as a real NovaLink shows them).

LUs are thin unless created thick; a linked clone (``ClonedFrom``) shares
its base's blocks (copy on write, see :mod:`nova_powervm.simulator.files`).
The pool's free space is its capacity less what the LUs hold: the full
size of a thick LU, the blocks written to a thin one (a clone counts
only its own).  An LU with linked clones cannot be deleted.
"""

import hashlib
import uuid as uuidlib

from nova_powervm.simulator import model
from nova_powervm.simulator import registry
from nova_powervm.simulator.resources import storage
from nova_powervm.simulator import templates as tpl
from nova_powervm.simulator import xmlutil as xu

CLUSTER_NAME = 'ssp_cluster'
SSP_NAME = 'ssp_pool'
CAPACITY_GB = 1024
_NS = uuidlib.UUID('6f1c2a4e-5d3b-4c8e-9a7f-0b1d2e3f4a5b')


def _hex(*parts):
    return hashlib.sha1('/'.join(parts).encode()).hexdigest()[:48]


def _pool_uuid(kind):
    return str(uuidlib.uuid5(_NS, '%s/%s' % (kind, CLUSTER_NAME)))


def seed(sim, inv):
    """Create the cluster, its SSP and default tier (once per pool).

    A host joining a pool that already has them adds nothing: its VIOSes
    are nodes of the cluster because it is a member of the pool.

    :param sim: the Simulator.
    :param inv: the Inventory (``ssp`` knob).
    """
    if not inv.ssp or sim.store.first('Cluster') is not None:
        return
    ssp = tpl.capture_object('ssp.txt')
    ssp_uuid = _pool_uuid('ssp')
    tpl.set_atom_id(ssp, ssp_uuid)
    tpl.empty(ssp, 'LogicalUnits', keep=())
    xu.set_text(ssp, 'StoragePoolName', SSP_NAME)
    xu.set_text(ssp, 'Capacity', '%.2f' % CAPACITY_GB)
    xu.set_text(ssp, 'FreeSpace', '%.2f' % CAPACITY_GB)
    xu.set_text(ssp, 'UniqueDeviceID', '24' + _hex(ssp_uuid))
    sim.store.add(model.Obj('SharedStoragePool', ssp_uuid, ssp))
    clu = tpl.capture_object('cluster.txt')
    clu_uuid = _pool_uuid('cluster')
    tpl.set_atom_id(clu, clu_uuid)
    xu.set_text(clu, 'ClusterName', CLUSTER_NAME)
    xu.set_text(clu, 'ClusterID', '22' + _hex(clu_uuid)[:32])
    nodes = xu.find(clu, 'Node')
    # The first captured node is the model of those the view lists.
    for child in [c for c in nodes if xu.local(c.tag) == 'Node'][1:]:
        nodes.remove(child)
    sim.store.add(model.Obj('Cluster', clu_uuid, clu))
    tier = tpl.capture_object('tier.txt')
    tier_uuid = _pool_uuid('tier')
    tpl.set_atom_id(tier, tier_uuid)
    xu.set_text(tier, 'Capacity', '%.2f' % CAPACITY_GB)
    sim.store.add(model.Obj('Tier', tier_uuid, tier,
                            ('SharedStoragePool', ssp_uuid)))


def _members(sim):
    pool = getattr(sim, 'pool', None)
    members = pool.members if pool is not None else []
    return members or [sim]


def lu_in_use(sim, udid):
    """Whether a VSCSI mapping uses an LU.

    :param sim: the Simulator.
    :param udid: the LU UniqueDeviceID.
    """
    return any(storage.mapped(member, 'LogicalUnit', 'UniqueDeviceID', udid)
               for member in _members(sim))


def lu_used_gb(sim, elem):
    """What an LU takes from the pool, in GB.

    :param sim: the Simulator.
    :param elem: the LU element.
    """
    if xu.text(elem, 'ThinDevice', 'true') == 'false':
        return float(xu.text(elem, 'UnitCapacity', 0))
    return sim.files.allocated_gb(xu.text(elem, 'UniqueDeviceID'))


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


def _node(sim, proto, member, vios):
    node = xu.deepcopy(proto)
    xu.set_text(node, 'HostName', xu.text(vios.elem, 'PartitionName'))
    xu.set_text(node, 'PartitionID', xu.text(vios.elem, 'PartitionID'))
    mtm, serial = member.inventory.mtms.split('*')
    mtms = xu.find(node, 'MachineTypeModelAndSerialNumber')
    xu.set_text(mtms, 'MachineType', mtm.split('-')[0])
    xu.set_text(mtms, 'Model', mtm.split('-')[1])
    xu.set_text(mtms, 'SerialNumber', serial)
    xu.find(node, 'VirtualIOServer').set(
        'href', '%s/rest/api/uom/ManagedSystem/%s/VirtualIOServer/%s' % (
            sim.base_url, member.sys_uuid, vios.uuid))
    xu.set_text(node, 'State', 'Up')
    return node


class Cluster(registry.Resource):
    kind = 'Cluster'
    search_keys = {'ClusterName': 'ClusterName'}

    def view(self, sim, obj):
        elem = xu.deepcopy(obj.elem)
        ssp_obj = sim.store.first('SharedStoragePool')
        xu.find(elem, 'ClusterSharedStoragePool').set('href',
                                                      sim.href(ssp_obj))
        nodes = xu.find(elem, 'Node')
        proto = xu.find(nodes, 'Node')
        nodes.remove(proto)
        members = sorted(_members(sim), key=lambda m: m is not sim)
        for member in members:
            for vios in member.store.all('VirtualIOServer'):
                nodes.append(_node(sim, proto, member, vios))
        return elem


class SharedStoragePool(registry.Resource):
    kind = 'SharedStoragePool'
    search_keys = {'StoragePoolName': 'StoragePoolName'}

    def view(self, sim, obj):
        elem = xu.deepcopy(obj.elem)
        lus = xu.find(elem, 'LogicalUnits')
        used = size = 0.0
        for tier in sim.store.children('Tier', obj.uuid):
            for lu in sim.store.children('LogicalUnit', tier.uuid):
                lus.append(_lu_view(sim, lu))
                used += lu_used_gb(sim, lu.elem)
                size += float(xu.text(lu.elem, 'UnitCapacity', 0))
        cap = float(xu.text(elem, 'Capacity'))
        xu.set_text(elem, 'FreeSpace', '%.2f' % max(cap - used, 0))
        xu.set_text(elem, 'OverCommitSpace', '%.2f' % max(size - cap, 0))
        xu.set_text(elem, 'TotalLogicalUnitSize', '%g' % size)
        return elem


class Tier(registry.Resource):
    kind = 'Tier'

    def view(self, sim, obj):
        elem = xu.deepcopy(obj.elem)
        xu.find(elem, 'AssociatedSharedStoragePool').set(
            'href', sim.href(sim.store.get(obj.parent[1])))
        return elem


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
        pool_files = sim.pool.files if sim.pool else sim.files
        if src:
            base = self._source(sim, src)
            xu.set_text(elem, 'ClonedFrom', '29' + src[2:])
            pool_files.create_clone(udid, max(cap, self._capacity(
                sim, base)), base)
        else:
            elem.remove(xu.find(elem, 'ClonedFrom'))
            pool_files.create_disk(udid, cap)
        return sim.store.add(model.Obj(self.kind, uuid, elem,
                                       (parent.kind, parent.uuid)))

    def update(self, sim, obj, body, groups):
        """Grow an LU (``lu -resize`` on a VIOS): only its capacity.

        A smaller capacity is refused, and so is growth of a thick LU
        beyond the pool's free space; other fields are not changed.
        """
        old = float(xu.text(obj.elem, 'UnitCapacity', 0))
        new = float(xu.text(body, 'UnitCapacity', old))
        name = xu.text(obj.elem, 'UnitName')
        if new < old:
            raise registry.SimError(
                409, 'HSCLA3F1 The logical unit %s cannot shrink from '
                '%g GB to %g GB.' % (name, old, new))
        if new == old:
            return
        thick = xu.text(obj.elem, 'ThinDevice', 'true') == 'false'
        if thick:
            pool = sim.store.get(_pool_uuid('ssp'))
            free = float(xu.text(
                SharedStoragePool().view(sim, pool), 'FreeSpace', 0))
            if new - old > free:
                raise registry.SimError(
                    409, 'HSCLA3F2 The pool has %.2f GB free; logical '
                    'unit %s cannot grow by %g GB.' % (free, name,
                                                       new - old))
        udid = xu.text(obj.elem, 'UniqueDeviceID')
        sim.files.resize_disk(udid, new)
        xu.set_text(obj.elem, 'UnitCapacity', '%g' % new)

    @staticmethod
    def _capacity(sim, udid):
        for obj in sim.store.all('LogicalUnit'):
            if xu.text(obj.elem, 'UniqueDeviceID') == udid:
                return float(xu.text(obj.elem, 'UnitCapacity', 0))
        return 0.0

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
        if sim.files.locate(udid).clones_of(udid):
            raise registry.SimError(
                409, 'LU %s has linked clones.' % udid)
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
