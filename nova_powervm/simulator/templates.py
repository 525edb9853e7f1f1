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
"""Object templates taken from real NovaLink/HMC captures.

The simulator never invents an object's shape: each kind starts from the
object element of a real captured response shipped with pypowervm
(``pypowervm/tests/data``), cleaned (compact, default namespace) and
pruned of what cannot apply, then filled in by the resource handlers.
"""

import functools
import os

from lxml import etree
import pypowervm

from nova_powervm.simulator import xmlutil as xu

DATA_DIR = os.path.join(os.path.dirname(pypowervm.__file__), 'tests', 'data')

#: kind -> (capture file, entry index)
SOURCES = {
    'ManagedSystem': ('sys_with_sriov.txt', 0),
    'LogicalPartition': ('lpar.txt', 0),
    'VirtualIOServer': ('fake_vios_hosting_vios_feed.txt', 0),
    'VolumeGroup': ('get_volume_group.txt', 0),
    'ClientNetworkAdapter': ('cna_feed1.txt', 0),
    'VirtualSwitch': ('vswitch_feed.txt', 0),
    'VirtualNetwork': ('fake_virtual_network_feed.txt', 0),
    'ManagementConsole': ('managementconsole_ssh.txt', 0),
    'Event': ('event_feed.txt', 0),
    'File': ('upload_file.txt', 0),
    'JobRequest': ('job_request_power_off.txt', 0),
    'JobResponse': ('job_response_completed_ok.txt', 0),
    'HttpErrorResponse': ('fake_httperror.txt', 0),
    'VirtualSCSIMapping': ('fake_vios_ssp_npiv.txt', 0),
}


def read_capture(name):
    """Body bytes of a capture file (INFO/HEADERS/BODY format).

    :param name: file name under pypowervm's test data directory.
    """
    with open(os.path.join(DATA_DIR, name), 'r') as fil:
        lines = fil.read().splitlines()
    body, inside = [], False
    for line in lines:
        if line.startswith('BODY{'):
            inside = True
        elif line.startswith('END OF SECTION}') and inside:
            break
        elif inside:
            body.append(line)
    return '\n'.join(body).encode('utf-8')


@functools.lru_cache(maxsize=None)
def _capture_entries(name):
    root = etree.fromstring(read_capture(name),
                            etree.XMLParser(remove_blank_text=True))
    atom_entry = xu.qn('entry', xu.ATOM)
    entries = [root] if root.tag == atom_entry else root.findall(atom_entry)
    objs = []
    for ent in entries:
        content = ent.find(xu.qn('content', xu.ATOM))
        kids = [c for c in content if isinstance(c.tag, str)]
        objs.append(xu.clean(kids[0]))
    return objs


def capture_object(name, index=0):
    """A fresh copy of the object element of entry ``index`` in a capture.

    :param name: capture file name.
    :param index: entry index in the feed.
    """
    return xu.deepcopy(_capture_entries(name)[index])


def capture_kind(kind):
    """The raw (unpruned) captured object for a kind.

    :param kind: a key of :data:`SOURCES`.
    """
    name, index = SOURCES[kind]
    return capture_object(name, index)


def find_in_capture(name, local_name, index=0):
    """A copy of the ``index``-th element named ``local_name`` in a capture.

    :param name: capture file name.
    :param local_name: element local name (any namespace).
    :param index: which match.
    """
    root = etree.fromstring(read_capture(name),
                            etree.XMLParser(remove_blank_text=True))
    found = [e for e in root.iter()
             if isinstance(e.tag, str) and xu.local(e.tag) == local_name]
    return xu.clean(found[index])


def prune(elem, names):
    """Remove direct children with the given local names.

    :param elem: the element.
    :param names: iterable of local names.
    """
    for child in list(elem):
        if xu.local(child.tag) in names:
            elem.remove(child)
    return elem


def empty(elem, path, keep=('Metadata',)):
    """Remove all children of the element at ``path`` except ``keep``.

    :param elem: the element to search from.
    :param path: ``/``-separated local names.
    :param keep: local names to keep.
    """
    node = xu.find(elem, path)
    if node is not None:
        for child in list(node):
            if xu.local(child.tag) not in keep:
                node.remove(child)
    return node


def set_atom_id(elem, uuid):
    """Set ``Metadata/Atom/AtomID`` and ``AtomCreated``.

    :param elem: the object element.
    :param uuid: the object UUID.
    """
    meta = elem.find(xu.qn('Metadata', etree.QName(elem).namespace))
    ns = etree.QName(elem).namespace
    if meta is None:
        meta = etree.Element(xu.qn('Metadata', ns))
        elem.insert(0, meta)
    atom = meta.find(xu.qn('Atom', ns))
    if atom is None:
        atom = xu.sub(meta, 'Atom', ns=ns)
    for child in list(atom):
        atom.remove(child)
    xu.sub(atom, 'AtomID', uuid, ns=ns)
    xu.sub(atom, 'AtomCreated', '0', ns=ns)
