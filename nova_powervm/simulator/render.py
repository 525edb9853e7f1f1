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
"""Atom rendering of simulator objects, group filtering and error bodies."""

import datetime
import hashlib
import uuid as uuidlib

from lxml import etree

from nova_powervm.simulator import templates
from nova_powervm.simulator import xmlutil as xu

GENERATOR = 'IBM Power Systems Management Console'


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


def _atom(parent, name, text=None, **attrs):
    return xu.sub(parent, name, text, ns=xu.ATOM, **attrs)


def entry(obj_elem, uuid, etag, self_href, title):
    """An Atom ``<entry>`` for one object.

    :param obj_elem: the (already filtered) object element.
    :param uuid: the entry id.
    :param etag: the etag text or None.
    :param self_href: absolute SELF href (with query).
    :param title: the entry title (the kind).
    """
    ent = etree.Element(xu.qn('entry', xu.ATOM), nsmap={None: xu.ATOM})
    _atom(ent, 'id', uuid)
    _atom(ent, 'title', title)
    _atom(ent, 'published', now_iso())
    _atom(ent, 'link', rel='SELF', href=self_href)
    author = _atom(ent, 'author')
    _atom(author, 'name', GENERATOR)
    if etag is not None:
        tag = etree.SubElement(ent, xu.qn('etag'),
                               nsmap={'etag': xu.UOM})
        tag.text = etag
    ns = etree.QName(obj_elem).namespace
    svc = {xu.UOM: 'uom', xu.WEB: 'web', xu.PCM: 'pcm'}.get(ns, 'uom')
    content = _atom(ent, 'content', type='application/vnd.ibm.powervm.'
                    '%s+xml; type=%s' % (svc, xu.local(obj_elem.tag)))
    content.append(obj_elem)
    return ent


def feed(entries, self_href):
    """An Atom ``<feed>`` of entries.

    :param entries: ``<entry>`` elements.
    :param self_href: absolute SELF href of the feed.
    """
    fed = etree.Element(xu.qn('feed', xu.ATOM), nsmap={None: xu.ATOM})
    _atom(fed, 'id', str(uuidlib.uuid4()))
    _atom(fed, 'updated', now_iso())
    _atom(fed, 'link', rel='SELF', href=self_href)
    _atom(fed, 'generator', GENERATOR)
    for ent in entries:
        fed.append(ent)
    return fed


def error_entry(status, uri, message, reason='Unknown internal error.',
                headers=''):
    """An Atom entry holding a ``{WEB}HttpErrorResponse``.

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
