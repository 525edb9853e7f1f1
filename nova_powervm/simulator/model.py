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
"""The simulator's object store: XML elements kept per object.

Every REST object (a ManagedSystem, an LPAR, a VIOS, a volume group, ...)
is one :class:`Obj` holding the object's root element exactly as it is
served (without the Atom envelope), its kind, UUID, parent and etag.  One
re-entrant lock guards the whole store; nobody sleeps while holding it.
"""

import itertools
import json
import threading
import time

from lxml import etree

from nova_powervm.simulator import xmlutil as xu


class Obj(object):
    """One REST object.

    :param kind: the REST type name, e.g. ``LogicalPartition``.
    :param uuid: the UUID exactly as served (case included).
    :param elem: the object's root element.
    :param parent: ``(kind, uuid)`` of the owning object or None.
    :param service: ``uom`` or ``web``.
    """

    def __init__(self, kind, uuid, elem, parent=None, service='uom'):
        self.kind = kind
        self.uuid = uuid
        self.elem = elem
        self.parent = parent
        self.service = service
        self.etag = None
        self.extra = {}

    @property
    def key(self):
        return self.uuid.lower()

    def __repr__(self):
        return '<Obj %s %s>' % (self.kind, self.uuid)


class Store(object):
    """All objects, indexed by kind and UUID, guarded by one lock.

    A store can hand some kinds to a ``shared`` store (the objects of a
    storage pool several simulated hosts serve, see
    :mod:`nova_powervm.simulator.pool`): objects of the ``shared_kinds``
    are added to, found in and removed from that one; both then use the
    same lock.

    :param lock: the lock to use (a new re-entrant lock when None).
    """

    def __init__(self, lock=None):
        self.lock = lock or threading.RLock()
        self._by_kind = {}
        self._by_key = {}
        self._etags = itertools.count(int(time.time() * 1000) % 10 ** 9)
        self.dirty = threading.Event()
        self.shared = None
        self.shared_kinds = frozenset()

    def share(self, shared, kinds):
        """Route ``kinds`` to another store and use its lock.

        :param shared: the shared :class:`Store`.
        :param kinds: the REST kinds that live there.
        """
        self.shared = shared
        self.shared_kinds = frozenset(kinds)
        self.lock = shared.lock

    def _home(self, kind):
        if self.shared is not None and kind in self.shared_kinds:
            return self.shared
        return self

    def add(self, obj):
        """Add an object (and give it a fresh etag).

        :param obj: the :class:`Obj`.
        """
        home = self._home(obj.kind)
        if home is not self:
            return home.add(obj)
        with self.lock:
            self._by_key[obj.key] = obj
            self._by_kind.setdefault(obj.kind, {})[obj.key] = obj
            self.touch(obj)
        return obj

    def remove(self, obj):
        """Remove an object and, recursively, its children.

        :param obj: the :class:`Obj`.
        """
        home = self._home(obj.kind)
        with self.lock:
            for child in self.children_of(obj):
                self.remove(child)
            if home is not self:
                return home.remove(obj)
            self._by_key.pop(obj.key, None)
            self._by_kind.get(obj.kind, {}).pop(obj.key, None)
            self.dirty.set()

    def touch(self, obj):
        """Bump the etag of an object after a change.

        :param obj: the :class:`Obj`.
        """
        home = self._home(obj.kind)
        obj.etag = str(next(home._etags))
        home.dirty.set()
        self.dirty.set()

    def get(self, uuid, kind=None):
        """Object by UUID (case-insensitive), optionally checking the kind.

        :param uuid: the UUID.
        :param kind: expected kind or None.
        """
        obj = self._by_key.get((uuid or '').lower())
        if obj is None and self.shared is not None:
            obj = self.shared._by_key.get((uuid or '').lower())
        if obj is not None and kind is not None and obj.kind != kind:
            return None
        return obj

    def all(self, kind):
        """All objects of a kind, in creation order.

        :param kind: the kind.
        """
        return list(self._home(kind)._by_kind.get(kind, {}).values())

    def children(self, kind, parent_uuid):
        """Objects of ``kind`` whose parent has ``parent_uuid``.

        :param kind: the child kind.
        :param parent_uuid: the parent's UUID (any case).
        """
        pkey = parent_uuid.lower()
        return [o for o in self.all(kind)
                if o.parent and o.parent[1].lower() == pkey]

    def children_of(self, obj):
        """Every object whose parent is ``obj``.

        :param obj: the parent :class:`Obj`.
        """
        objs = list(self._by_key.values())
        if self.shared is not None:
            objs += list(self.shared._by_key.values())
        return [o for o in objs
                if o.parent and o.parent[1].lower() == obj.key]

    def first(self, kind):
        """The first object of a kind or None.

        :param kind: the kind.
        """
        objs = self.all(kind)
        return objs[0] if objs else None

    # Persistence -----------------------------------------------------
    def dump(self):
        """Serialize every object into one XML document (bytes)."""
        root = etree.Element('SimulatorState')
        with self.lock:
            for obj in self._by_key.values():
                node = etree.SubElement(
                    root, 'Obj', kind=obj.kind, uuid=obj.uuid,
                    service=obj.service, etag=obj.etag or '')
                if obj.parent:
                    node.set('pkind', obj.parent[0])
                    node.set('puuid', obj.parent[1])
                for key, val in obj.extra.items():
                    etree.SubElement(node, 'Extra',
                                     name=key).text = json.dumps(val)
                node.append(xu.deepcopy(obj.elem))
        return etree.tostring(root)

    def load(self, data):
        """Replace the content with a document made by :meth:`dump`.

        :param data: bytes from :meth:`dump`.
        """
        root = etree.fromstring(data)
        with self.lock:
            self._by_kind.clear()
            self._by_key.clear()
            top = 0
            for node in root:
                parent = None
                if node.get('pkind'):
                    parent = (node.get('pkind'), node.get('puuid'))
                elems = [c for c in node if c.tag != 'Extra']
                obj = Obj(node.get('kind'), node.get('uuid'),
                          xu.clean(elems[0]), parent, node.get('service'))
                for ext in node.findall('Extra'):
                    obj.extra[ext.get('name')] = json.loads(ext.text)
                self._by_key[obj.key] = obj
                self._by_kind.setdefault(obj.kind, {})[obj.key] = obj
                obj.etag = node.get('etag')
                if obj.etag.lstrip('-').isdigit():
                    top = max(top, int(obj.etag))
            self._etags = itertools.count(top + 1)
