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
"""XML helpers: namespaces, compact parsing, element building."""

import copy

from lxml import etree

ATOM = 'http://www.w3.org/2005/Atom'
UOM = 'http://www.ibm.com/xmlns/systems/power/firmware/uom/mc/2012_10/'
WEB = 'http://www.ibm.com/xmlns/systems/power/firmware/web/mc/2012_10/'
PCM = 'http://www.ibm.com/xmlns/systems/power/firmware/pcm/mc/2012_10/'

_IGNORED_ATTRS = ('ksv',)
_PARSER = etree.XMLParser(remove_blank_text=True, resolve_entities=False,
                          no_network=True, huge_tree=True)


def qn(name, ns=UOM):
    """Qualified (Clark) name of ``name`` in ``ns``.

    :param name: local element name.
    :param ns: namespace URI.
    """
    return '{%s}%s' % (ns, name)


def local(tag):
    """Local part of a Clark tag.

    :param tag: ``{ns}name`` or ``name``.
    """
    return tag.rsplit('}', 1)[-1] if isinstance(tag, str) else ''


def parse(data):
    """Parse bytes into a cleaned element (see :func:`clean`).

    :param data: XML document bytes.
    """
    return clean(etree.fromstring(data, _PARSER))


def clean(elem, ns=None):
    """Rebuild ``elem`` with the default namespace and no blank text.

    Prefixes, ``ksv`` attributes, comments and whitespace-only text are
    dropped, so that what the client sends and what the simulator stores
    serialize identically.

    :param elem: an lxml element.
    :param ns: namespace to use as default (the element's own by default).
    """
    ns = ns or etree.QName(elem).namespace
    new = etree.Element(elem.tag, nsmap={None: ns} if ns else None)
    _copy_into(elem, new)
    return new


def _copy_into(src, dst):
    for key, val in src.attrib.items():
        if key not in _IGNORED_ATTRS:
            dst.set(key, val)
    kids = [c for c in src if isinstance(c.tag, str)]
    if not kids and src.text is not None and src.text.strip():
        dst.text = src.text
    for child in kids:
        sub = etree.SubElement(dst, child.tag)
        _copy_into(child, sub)


def tostring(elem):
    """Serialize compactly (no pretty printing, no XML declaration).

    :param elem: an lxml element.
    """
    return etree.tostring(elem, encoding='UTF-8')


def sub(parent, name, text=None, ns=UOM, **attrs):
    """Append a child element.

    :param parent: the parent element.
    :param name: local name of the child.
    :param text: optional text (converted with ``str``).
    :param ns: namespace of the child.
    :param attrs: attributes.
    """
    child = etree.SubElement(parent, qn(name, ns), **attrs)
    if text is not None:
        child.text = str(text)
    return child


def find(elem, path, ns=UOM):
    """Find by a ``/``-separated path of local names in ``ns``.

    :param elem: the element to search from.
    :param path: e.g. ``'PartitionMemoryConfiguration/DesiredMemory'``.
    :param ns: namespace of every step.
    """
    return elem.find('/'.join(qn(p, ns) for p in path.split('/')))


def findall(elem, path, ns=UOM):
    """Find all by a ``/``-separated path of local names.

    :param elem: the element to search from.
    :param path: path of local names.
    :param ns: namespace of every step.
    """
    return elem.findall('/'.join(qn(p, ns) for p in path.split('/')))


def text(elem, path, default=None, ns=UOM):
    """Text of the element at ``path`` or ``default``.

    :param elem: the element to search from.
    :param path: path of local names.
    :param default: returned when missing or empty.
    :param ns: namespace of every step.
    """
    found = find(elem, path, ns)
    if found is None or found.text is None:
        return default
    return found.text.strip()


def set_text(elem, path, value, ns=UOM):
    """Set the text at ``path``, creating missing steps at the end.

    :param elem: the element to start from.
    :param path: path of local names.
    :param value: the new value (``str`` is applied; bools lower-cased).
    :param ns: namespace of every step.
    """
    node = elem
    for step in path.split('/'):
        nxt = node.find(qn(step, ns))
        if nxt is None:
            nxt = sub(node, step, ns=ns)
        node = nxt
    if isinstance(value, bool):
        value = 'true' if value else 'false'
    node.text = None if value is None else str(value)
    return node


def child_tags(elem):
    """Local names of the element children, in order.

    :param elem: the parent element.
    """
    return [local(c.tag) for c in elem if isinstance(c.tag, str)]


def deepcopy(elem):
    """Deep copy of an element.

    :param elem: the element.
    """
    return copy.deepcopy(elem)


def insert_ordered(parent, new, order):
    """Insert ``new`` among ``parent``'s children following ``order``.

    :param parent: the parent element.
    :param new: the element to insert (local name must be in ``order``).
    :param order: list of local names in schema order.
    """
    name = local(new.tag)
    rank = order.index(name) if name in order else len(order)
    for idx, child in enumerate(parent):
        cname = local(child.tag)
        if cname in order and order.index(cname) > rank:
            parent.insert(idx, new)
            return new
    parent.append(new)
    return new


def href_uuid(href):
    """The last path segment of an href (without query), or None.

    :param href: a URL or None.
    """
    if not href:
        return None
    return href.split('?', 1)[0].rstrip('/').rsplit('/', 1)[-1]
