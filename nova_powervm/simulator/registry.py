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
"""Pluggable resource handlers, job operations and hooks.

Each REST type the simulator serves is a :class:`Resource` subclass.  A
:class:`Registry` holds one handler per type, the job operations and the
hook functions of one Simulator; the Simulator builds it from the lists in
:mod:`nova_powervm.simulator.resources` (nothing registers itself at
import).  The WSGI layer resolves a path to a kind and an object, then
calls the handler's ``create``, ``update``, ``delete``, ``view`` or
``quick``.  See ``README`` in this package for how to add one.
"""

from nova_powervm.simulator import xmlutil as xu

#: The hook names a Registry accepts, with their arguments.
HOOK_NAMES = {
    'fc_seed': '(sim, vios, ports): physical FC ports of a new VIOS',
    'fc_update': '(sim, vios, new_elem): before a VIOS update is stored',
    'ssp_seed': '(sim, inventory): at first start',
    'seed_done': '(sim, inventory): after the first-start objects',
    'resolve_storage': '(sim, kind, given): storage element or None',
    'lpar_delete': '(sim, lpar): before an LPAR is removed',
    'state': '(sim, out): add to the /sim/state dict',
    'pcm': '(sim, req, parts): a /rest/api/pcm response or None',
    'admin': '(sim, req, parts): a /sim response or None',
    'started': '(sim): the Simulator is ready',
    'closed': '(sim): the Simulator is closing',
}


class SimError(Exception):
    """An error that becomes an HTTP error response.

    :param status: the HTTP status.
    :param message: the message put in the HttpErrorResponse body.
    :param reason: the ReasonCode text.
    """

    def __init__(self, status, message, reason='Unknown internal error.'):
        super(SimError, self).__init__(message)
        self.status = status
        self.message = message
        self.reason = reason


class Registry(object):
    """What one Simulator serves: resource types, jobs and hooks.

    :param resources: :class:`Resource` subclasses (one per ``kind``).
    :param operations: ``(group, operation, function)`` triples; see
        :mod:`nova_powervm.simulator.jobs` for the function's signature.
    :param hooks: ``(hook name, function)`` pairs, run in this order (see
        :data:`HOOK_NAMES`).
    :raises ValueError: on a duplicate kind or operation, or an unknown
        hook name.
    """

    def __init__(self, resources=(), operations=(), hooks=()):
        self.resources = {}
        for cls in resources:
            if cls.kind in self.resources:
                raise ValueError('Resource type %s given twice' % cls.kind)
            self.resources[cls.kind] = cls()
        self.operations = {}
        for group, name, func in operations:
            if (group, name) in self.operations:
                raise ValueError('Job %s/%s given twice' % (group, name))
            self.operations[(group, name)] = func
        self.hooks = {}
        for name, func in hooks:
            if name not in HOOK_NAMES:
                raise ValueError('Unknown hook %s' % name)
            self.hooks.setdefault(name, []).append(func)

    def get(self, kind):
        """The handler for a kind, or raise a 404 SimError.

        :param kind: the REST type name.
        """
        try:
            return self.resources[kind]
        except KeyError:
            raise SimError(404, 'Unknown resource type %s' % kind)

    def operation(self, group, name):
        """The function of a job operation, or raise a 404 SimError.

        :param group: the root type (``LogicalPartition``...).
        :param name: the operation name (``PowerOn``...).
        """
        try:
            return self.operations[(group, name)]
        except KeyError:
            raise SimError(404, 'Unknown job %s/%s' % (group, name))

    def run_hooks(self, name, *args):
        """Call every function of a hook; return the first non-None result.

        :param name: the hook name.
        :param args: the arguments.
        """
        result = None
        for func in self.hooks.get(name, ()):
            out = func(*args)
            if result is None:
                result = out
        return result


class Resource(object):
    """Base handler: read-only objects with generic update semantics."""

    #: REST type name (the element's local name).
    kind = None
    #: ``uom`` or ``web``.
    service = 'uom'
    #: listable as ``/rest/api/{service}/{kind}``
    root = True
    #: search key -> element path (``/search/(Key=='v')``)
    search_keys = {}
    #: emit ADD/MODIFY/DELETE events for this kind
    events = True

    def create(self, sim, parent, body):
        """Create an object from a client body (PUT).

        :param sim: the Simulator.
        :param parent: parent :class:`Obj` or None (ROOT form).
        :param body: the cleaned request element.
        """
        raise SimError(405, 'Create not supported for %s' % self.kind)

    def update(self, sim, obj, body, groups):
        """Apply a POST: replace the requested groups, keep the others.

        :param sim: the Simulator.
        :param obj: the stored :class:`Obj`.
        :param body: the cleaned request element.
        :param groups: the parsed ``?group=`` filter (None = all).
        """
        obj.elem = merge_groups(obj.elem, body, groups)
        self.after_update(sim, obj)

    def after_update(self, sim, obj):
        """Hook run after :meth:`update` merged the body.

        :param sim: the Simulator.
        :param obj: the updated :class:`Obj`.
        """

    def delete(self, sim, obj):
        """Delete an object.

        :param sim: the Simulator.
        :param obj: the :class:`Obj`.
        """
        sim.store.remove(obj)

    def view(self, sim, obj):
        """The element to serve for ``obj`` (before group filtering).

        :param sim: the Simulator.
        :param obj: the :class:`Obj`.
        """
        return obj.elem

    def quick(self, sim, obj):
        """Quick properties as a dict, or raise 404.

        :param sim: the Simulator.
        :param obj: the :class:`Obj`.
        """
        raise SimError(404, 'No quick properties for %s' % self.kind)


def merge_groups(stored, body, groups):
    """Result of POSTing ``body`` under ``groups`` onto ``stored``.

    Children of ``stored`` tagged with a group that the request did not
    cover are kept; everything else comes from ``body``.

    :param stored: the current object element.
    :param body: the new element sent by the client.
    :param groups: parsed group filter; None means the body is complete.
    """
    new = xu.clean(body, xu.UOM if body.tag.startswith('{%s}' % xu.UOM)
                   else None)
    for key, val in stored.attrib.items():
        new.set(key, val)
    if groups is None:
        return new
    order = xu.child_tags(stored)
    present = set(xu.child_tags(new))
    for child in stored:
        grp = child.get('group')
        if grp and grp not in groups and xu.local(child.tag) not in present:
            xu.insert_ordered(new, xu.deepcopy(child), order)
    return new


def merge_fields(dst, src):
    """Overlay ``src``'s children onto ``dst`` recursively (for creates).

    Leaves replace leaves; containers present on both sides merge; new
    elements are inserted after the last element already placed.

    :param dst: the template element (modified in place).
    :param src: the client element.
    """
    last = None
    for child in src:
        match = dst.find(child.tag)
        if match is not None and len(match) and len(child):
            merge_fields(match, child)
            last = match
            continue
        copy = xu.deepcopy(child)
        if match is not None:
            match.addprevious(copy)
            dst.remove(match)
        elif last is not None:
            last.addnext(copy)
        else:
            dst.append(copy)
        last = copy
    return dst
