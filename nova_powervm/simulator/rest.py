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
"""REST routing for ``/rest/api/{uom,web}``: feeds, entries, jobs, events."""

import json
import re
import urllib.parse

from nova_powervm.simulator import events as sim_events
from nova_powervm.simulator import http
from nova_powervm.simulator import registry
from nova_powervm.simulator import render
from nova_powervm.simulator import xmlutil as xu

_SEARCH = re.compile(r"^\((\w+)(==|!=)'(.*)'\)$")
_UUIDISH = re.compile(r'^[0-9A-Fa-f-]{32,36}$')


def _self_href(sim, req, path):
    qry = ''
    if req.groups is not None:
        qry = '?group=' + req.groups
    return '%s%s%s' % (sim.base_url, path, qry)


def entry_of(sim, req, obj, path, groups):
    """An ``<entry>`` document (bytes) for an object (lock held).

    :param sim: the Simulator.
    :param req: the request.
    :param obj: the :class:`Obj`.
    :param path: the SELF path (no query).
    :param groups: parsed group filter.
    """
    return render.object_entry(sim, obj, _self_href(sim, req, path), groups)


def _entry_response(data, etag):
    return http.atom_response(data, etag=etag)


def _feed(sim, req, objs, path):
    groups = render.parse_groups(req.groups)
    with sim.store.lock:
        ents = [entry_of(sim, req, o, '%s/%s' % (path, o.uuid), groups)
                for o in objs]
        tags = [(o.uuid, o.etag) for o in objs]
    if not ents:
        return http.Response(204)
    data = render.feed(ents, _self_href(sim, req, path), sim.new_uuid())
    return _entry_response(data, render.feed_etag(tags))


def _resolve(sim, parts):
    """(kind, parent, obj) for a generic path.

    :param sim: the Simulator.
    :param parts: path segments after the service.
    """
    if not parts or len(parts) > 4:
        raise registry.SimError(404, 'Unsupported path')
    sim.registry.get(parts[0])
    parent = obj = None
    if len(parts) >= 2:
        parent = sim.store.get(parts[1], parts[0])
        if parent is None:
            raise registry.SimError(404, '%s %s not found' % tuple(parts[:2]))
    if len(parts) >= 3:
        sim.registry.get(parts[2])
    if len(parts) == 4:
        obj = sim.store.get(parts[3], parts[2])
        if obj is None or not obj.parent or \
                obj.parent[1].lower() != parent.key:
            raise registry.SimError(404, '%s %s not found' % tuple(parts[2:]))
        return parts[2], parent, obj
    if len(parts) == 2:
        return parts[0], None, parent
    if len(parts) == 3:
        return parts[2], parent, None
    return parts[0], None, None


def dispatch(sim, req, parts):
    """Route a uom/web request.

    :param sim: the Simulator.
    :param req: the request.
    :param parts: path segments after the service.
    """
    if not parts or not parts[0]:
        raise registry.SimError(404, 'No resource type in the path')
    if parts[0] == 'jobs':
        return _jobs(sim, req, parts[1:])
    if parts[0] == 'Event' and len(parts) == 1:
        return _event(sim, req)
    if 'do' in parts:
        return _job_request(sim, req, parts)
    if 'quick' in parts:
        return _quick(sim, req, parts)
    if len(parts) == 3 and parts[1] == 'search':
        return _search(sim, req, parts)
    kind, parent, obj = _resolve(sim, parts)
    path = req.path.rstrip('/')
    handler = sim.registry.get(kind)
    if req.method == 'GET':
        if obj is None:
            if parent is None and not handler.root:
                raise registry.SimError(404, '%s is not a root type' % kind)
            with sim.store.lock:
                objs = (sim.store.children(kind, parent.uuid) if parent
                        else sim.store.all(kind))
            return _feed(sim, req, objs, path)
        return _get_entry(sim, req, obj, path)
    if req.method == 'PUT' and obj is None:
        return _create(sim, req, handler, parent, path)
    if req.method == 'POST' and obj is not None:
        return _update(sim, req, handler, obj, path)
    if req.method == 'DELETE' and obj is not None:
        return _delete(sim, req, handler, obj)
    raise registry.SimError(405, '%s not allowed here' % req.method)


def _get_entry(sim, req, obj, path):
    groups = render.parse_groups(req.groups)
    with sim.store.lock:
        if req.header('If-None-Match') == obj.etag:
            return http.Response(304, etag=obj.etag)
        ent = entry_of(sim, req, obj, path, groups)
        etag = obj.etag
    return _entry_response(ent, etag)


def _create(sim, req, handler, parent, path):
    body = req.xml()
    with sim.store.lock:
        obj = handler.create(sim, parent, body)
        _touch_ancestors(sim, obj)
        if handler.events:
            sim.emit('ADD_URI', obj)
        ent = entry_of(sim, req, obj, '%s/%s' % (path, obj.uuid), None)
        etag = obj.etag
    return _entry_response(ent, etag)


def _touch_ancestors(sim, obj):
    # Only parents whose served content depends on their children change
    # etag: the SSP/Tier list and size their LUs, the ManagedSystem shows
    # the memory and processor units its partitions leave available.
    chain = {'LogicalUnit': ('Tier', 'SharedStoragePool'),
             'LogicalPartition': ('ManagedSystem',),
             'VirtualIOServer': ('ManagedSystem',)}.get(obj.kind, ())
    while obj is not None and obj.parent and obj.parent[0] in chain:
        obj = sim.store.get(obj.parent[1])
        if obj is not None:
            sim.store.touch(obj)


def _check_etag(req, obj):
    want = req.header('If-Match')
    if want is not None and want != obj.etag:
        raise registry.SimError(
            412, 'HSCL0004 The etag %s does not match the current etag of '
            '%s %s.' % (want, obj.kind, obj.uuid), 'Precondition Failed')


def _update(sim, req, handler, obj, path):
    body = req.xml()
    groups = render.parse_groups(req.groups)
    with sim.store.lock:
        _check_etag(req, obj)
        handler.update(sim, obj, body, groups)
        sim.store.touch(obj)
        if obj.kind == 'LogicalPartition':
            _touch_ancestors(sim, obj)
        if handler.events:
            sim.emit('MODIFY_URI', obj, 'Other')
        ent = entry_of(sim, req, obj, path, groups)
        etag = obj.etag
    return _entry_response(ent, etag)


def _delete(sim, req, handler, obj):
    with sim.store.lock:
        _check_etag(req, obj)
        href = sim.href(obj)
        _touch_ancestors(sim, obj)
        handler.delete(sim, obj)
        if handler.events:
            sim.emit('DELETE_URI', href)
    return http.Response(204)


def _search(sim, req, parts):
    handler = sim.registry.get(parts[0])
    expr = parts[2]
    if '%' in expr:
        expr = urllib.parse.unquote(expr)
    match = _SEARCH.match(expr)
    if not match or match.group(1) not in handler.search_keys:
        raise registry.SimError(400, 'Unsupported search %s' % expr)
    key, oper, value = match.groups()
    with sim.store.lock:
        objs = [o for o in sim.store.all(parts[0])
                if (xu.text(o.elem, handler.search_keys[key]) == value) ==
                (oper == '==')]
    return _feed(sim, req, objs, '/rest/api/uom/' + parts[0])


def _quick(sim, req, parts):
    idx = parts.index('quick')
    _kind, _parent, obj = _resolve(sim, parts[:idx])
    if obj is None:
        raise registry.SimError(404, 'Quick properties need an object')
    with sim.store.lock:
        props = sim.registry.get(obj.kind).quick(sim, obj)
    if len(parts) > idx + 1:
        name = parts[idx + 1]
        if name not in props:
            raise registry.SimError(404, 'No quick property %s' % name)
        return http.json_response(props[name])
    return http.json_response(props)


def _job_request(sim, req, parts):
    idx = parts.index('do')
    if len(parts) != idx + 2:
        raise registry.SimError(404, 'Bad job path')
    before, oper = parts[:idx], parts[idx + 1]
    group, uuid = before[-1], None
    if len(before) >= 2 and _UUIDISH.match(before[-1]):
        group, uuid = before[-2], before[-1]
        with sim.store.lock:
            if sim.store.get(uuid, group) is None:
                raise registry.SimError(404, '%s %s not found' % (group,
                                                                  uuid))
    if req.method == 'GET':
        elem = sim.jobs.template(group, oper)
        ent = render.entry(elem, sim.new_uuid(), None, sim.base_url +
                           req.path, 'JobRequest')
        return http.atom_response(ent)
    if req.method != 'PUT':
        raise registry.SimError(405, 'Jobs accept GET and PUT')
    elem = sim.jobs.submit(group, uuid, oper, req.xml(), req.path)
    return _job_entry(sim, elem)


def _job_entry(sim, elem):
    job_id = xu.text(elem, 'JobID', ns=xu.WEB)
    ent = render.entry(elem, job_id, None, '%s/rest/api/uom/jobs/%s' % (
        sim.base_url, job_id), 'JobResponse')
    return http.atom_response(ent)


def _jobs(sim, req, parts):
    if not parts:
        raise registry.SimError(404, 'No job id')
    if len(parts) == 2 and parts[1] == 'cancel' and req.method == 'POST':
        sim.jobs.cancel(parts[0])
        return http.Response(204)
    if req.method == 'GET':
        return _job_entry(sim, sim.jobs.get(parts[0]))
    if req.method == 'DELETE':
        sim.jobs.delete(parts[0])
        return http.Response(204)
    raise registry.SimError(405, 'Bad method for jobs')


def _event(sim, req):
    if req.method == 'PUT':
        body = req.xml()
        data = xu.text(body, 'EventData')
        detail = xu.text(body, 'EventDetail')
        sim.events.emit('CUSTOM_CLIENT_EVENT', data, detail)
        uuid, elem = sim_events.event_element('CUSTOM_CLIENT_EVENT', 0,
                                              data, detail)
        ent = render.entry(elem, uuid, '0', '%s/rest/api/uom/Event/%s' % (
            sim.base_url, uuid), 'Event')
        return http.atom_response(ent)
    if req.method != 'GET':
        raise registry.SimError(405, 'Event accepts GET and PUT')
    evts = sim.events.poll(req.query.get('QUEUE_APPLICATIONID'))
    ents = []
    for etype, eid, data, detail in evts:
        uuid, elem = sim_events.event_element(etype, eid, data, detail)
        ents.append(render.entry(elem, uuid, str(eid), '%s/rest/api/uom/'
                                 'Event/%s?group=None' % (sim.base_url, uuid),
                                 'Event'))
    return http.atom_response(render.feed(ents, sim.base_url + req.path))


def pcm(sim, req, parts):
    """PCM service: delegated to the ``pcm`` hook; 204 when absent.

    :param sim: the Simulator.
    :param req: the request.
    :param parts: path segments after ``pcm``.
    """
    resp = sim.registry.run_hooks('pcm', sim, req, parts)
    if resp is not None:
        return resp
    if req.method == 'GET':
        return http.Response(204)
    return http.Response(200, json.dumps({}).encode(), 'application/json')
