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
"""Atom rendering: entries and feeds as bytes, group filters, errors.

The one renderer of the simulator.  Documents are assembled from byte
templates around serialized object elements; the serialized bodies of
objects whose served form depends only on the object itself are cached by
(object, etag, groups), so feeds of hundreds of partitions cost string
joins instead of tree copies.  Every element is serialized by lxml, so
what a client reads is well-formed whatever the text holds.
"""

import datetime
import hashlib
import uuid as uuidlib
from xml.sax import saxutils

from lxml import etree

from nova_powervm.simulator import registry
from nova_powervm.simulator import templates
from nova_powervm.simulator import xmlutil as xu

GENERATOR = 'IBM Power Systems Management Console'
MAX_CACHE = 20000
_SERVICES = {xu.UOM: 'uom', xu.WEB: 'web', xu.PCM: 'pcm'}
_ENTRY = ('<entry xmlns="%s"><id>%%s</id><title>%%s</title>'
          '<published>%%s</published><link rel="SELF" href=%%s/>'
          '<author><name>%s</name></author>%%s'
          '<content type="application/vnd.ibm.powervm.%%s+xml; type=%%s">'
          % (xu.ATOM, GENERATOR)).encode()
_ETAG = ('<etag:etag xmlns:etag="%s">%%s</etag:etag>' % xu.UOM).encode()
_FEED = ('<feed xmlns="%s"><id>%%s</id><updated>%%s</updated>'
         '<link rel="SELF" href=%%s/><generator>%s</generator>'
         % (xu.ATOM, GENERATOR)).encode()


def now_iso():
    """Current time in the Atom format NovaLink uses."""
    stamp = datetime.datetime.now(datetime.timezone.utc)
    return stamp.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (
        stamp.microsecond // 1000)


def parse_groups(query_groups):
    """Turn the ``group`` query value into a filter set.

    :param query_groups: the raw ``group`` value, or None when absent.
    :returns: None (include everything) or a set of included groups.
    """
    if query_groups is None:
        return None
    groups = set(g for g in query_groups.split(',') if g)
    if 'All' in groups:
        return None
    return groups


def filter_groups(elem, groups):
    """Copy of ``elem`` without the group-tagged parts not requested.

    :param elem: the object element.
    :param groups: result of :func:`parse_groups`.
    """
    out = xu.deepcopy(elem)
    if groups is None:
        return out
    for node in list(out.iter()):
        grp = node.get('group')
        if grp is not None and grp not in groups and node is not out:
            parent = node.getparent()
            if parent is not None:
                parent.remove(node)
    return out


def _entry(body, uuid, title, self_href, etag, service, kind):
    head = _ENTRY % (uuid.encode(), title.encode(), now_iso().encode(),
                     saxutils.quoteattr(self_href).encode(),
                     _ETAG % etag.encode() if etag else b'',
                     service.encode(), kind.encode())
    return head + body + b'</content></entry>'


def entry(elem, uuid, etag, self_href, title):
    """An Atom ``<entry>`` document (bytes) around any element.

    :param elem: the (already filtered) object element.
    :param uuid: the entry id.
    :param etag: the etag text or None.
    :param self_href: absolute SELF href (with query).
    :param title: the entry title (the kind).
    """
    service = _SERVICES.get(etree.QName(elem).namespace, 'uom')
    return _entry(xu.tostring(elem), uuid, title, self_href, etag, service,
                  xu.local(elem.tag))


def _cacheable(handler):
    return type(handler).view is registry.Resource.view


def body_bytes(sim, obj, groups):
    """Serialized, group-filtered object element (cached when possible).

    :param sim: the Simulator.
    :param obj: the :class:`Obj`.
    :param groups: parsed group filter.
    """
    handler = sim.registry.get(obj.kind)
    key = None
    if _cacheable(handler):
        key = (obj.key, obj.etag, None if groups is None
               else tuple(sorted(groups)))
        hit = sim.render_cache.get(key)
        if hit is not None:
            return hit
    data = xu.tostring(filter_groups(handler.view(sim, obj), groups))
    if key is not None:
        if len(sim.render_cache) >= MAX_CACHE:
            sim.render_cache.clear()
        sim.render_cache[key] = data
    return data


def object_entry(sim, obj, self_href, groups):
    """The ``<entry>`` document (bytes) of a stored object.

    :param sim: the Simulator.
    :param obj: the :class:`Obj`.
    :param self_href: absolute SELF href (with query).
    :param groups: parsed group filter.
    """
    return _entry(body_bytes(sim, obj, groups), obj.uuid, obj.kind,
                  self_href, obj.etag, obj.service, obj.kind)


def feed(entries, self_href, feed_id=None):
    """An Atom ``<feed>`` document (bytes) around entry documents.

    :param entries: list of entry documents (bytes).
    :param self_href: absolute SELF href of the feed.
    :param feed_id: the feed id (a random UUID when None).
    """
    head = _FEED % ((feed_id or str(uuidlib.uuid4())).encode(),
                    now_iso().encode(),
                    saxutils.quoteattr(self_href).encode())
    return head + b''.join(entries) + b'</feed>'


def error_entry(status, uri, message, reason='Unknown internal error.',
                headers=''):
    """An Atom entry (bytes) holding a ``{WEB}HttpErrorResponse``.

    :param status: HTTP status code.
    :param uri: the request URI.
    :param message: the message text.
    :param reason: the reason code text.
    :param headers: a (secret-free) rendering of the request headers.
    """
    err = templates.capture_kind('HttpErrorResponse')
    for path, val in (('HTTPStatus', status), ('RequestURI', uri),
                      ('ReasonCode', reason), ('Message', message),
                      ('RequestBody', None),
                      ('RequestHeaders', headers or None)):
        xu.set_text(err, path, val, ns=xu.WEB)
    return entry(err, str(uuidlib.uuid4()), None,
                 'http://localhost/rest/api/web/HttpErrorResponse',
                 'HttpErrorResponse')


def feed_etag(entries):
    """A feed ETag derived from the entry etags.

    :param entries: list of (uuid, etag).
    """
    digest = hashlib.md5(repr(entries).encode()).hexdigest()
    return str(int(digest[:8], 16) - 2 ** 31)
