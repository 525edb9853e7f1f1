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
"""Byte-level Atom rendering with a per-object cache.

Serialized object bodies are cached by (object, etag, groups) for kinds
whose served form depends only on the object itself, so feeds of hundreds
of partitions cost string joins instead of tree copies.  The output is the
same document :mod:`render` builds with lxml.
"""

from xml.sax import saxutils

from lxml import etree

from nova_powervm.simulator import registry
from nova_powervm.simulator import render
from nova_powervm.simulator import xmlutil as xu

_ENTRY = ('<entry xmlns="%s"><id>%%s</id><title>%%s</title>'
          '<published>%%s</published><link rel="SELF" href=%%s/>'
          '<author><name>%s</name></author>%%s'
          '<content type="application/vnd.ibm.powervm.%%s+xml; type=%%s">'
          % (xu.ATOM, render.GENERATOR)).encode()
_ETAG = ('<etag:etag xmlns:etag="%s">%%s</etag:etag>' % xu.UOM).encode()
_FEED = ('<feed xmlns="%s"><id>%%s</id><updated>%%s</updated>'
         '<link rel="SELF" href=%%s/><generator>%s</generator>'
         % (xu.ATOM, render.GENERATOR)).encode()
MAX_CACHE = 20000


def _cacheable(handler):
    return type(handler).view is registry.Resource.view


def body_bytes(sim, obj, groups):
    """Serialized, group-filtered object element (cached when possible).

    :param sim: the Simulator.
    :param obj: the :class:`Obj`.
    :param groups: parsed group filter.
    """
    handler = registry.get(obj.kind)
    key = None
    if _cacheable(handler):
        key = (obj.key, obj.etag, None if groups is None
               else tuple(sorted(groups)))
        hit = sim.render_cache.get(key)
        if hit is not None:
            return hit
    elem = render.filter_groups(handler.view(sim, obj), groups)
    data = etree.tostring(elem, encoding='UTF-8')
    if key is not None:
        if len(sim.render_cache) >= MAX_CACHE:
            sim.render_cache.clear()
        sim.render_cache[key] = data
    return data


def entry_bytes(sim, obj, self_href, groups):
    """An ``<entry>`` document for an object.

    :param sim: the Simulator.
    :param obj: the :class:`Obj`.
    :param self_href: absolute SELF href (with query).
    :param groups: parsed group filter.
    """
    head = _ENTRY % (obj.uuid.encode(), obj.kind.encode(),
                     render.now_iso().encode(),
                     saxutils.quoteattr(self_href).encode(),
                     _ETAG % obj.etag.encode() if obj.etag else b'',
                     obj.service.encode(), obj.kind.encode())
    return head + body_bytes(sim, obj, groups) + b'</content></entry>'


def feed_bytes(entries, feed_id, self_href):
    """A ``<feed>`` document around entry documents.

    :param entries: list of entry bytes.
    :param feed_id: the feed id.
    :param self_href: absolute SELF href of the feed.
    """
    head = _FEED % (feed_id.encode(), render.now_iso().encode(),
                    saxutils.quoteattr(self_href).encode())
    return head + b''.join(entries) + b'</feed>'
