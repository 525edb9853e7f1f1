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
"""The web ``File`` resource: uploads of disk images and ISOs, downloads.

A ``File`` object names its target (a VDisk UDID, or a VIOS for an ISO);
``PUT /rest/api/web/File/contents/{uuid}`` streams the body into the
target's backing file and ``GET`` streams it back (see
:mod:`nova_powervm.simulator.files`).
"""

import os
import time

from nova_powervm.simulator import files
from nova_powervm.simulator import http
from nova_powervm.simulator import model
from nova_powervm.simulator import registry
from nova_powervm.simulator.resources import storage
from nova_powervm.simulator import templates as tpl
from nova_powervm.simulator import xmlutil as xu

_FILE_ORDER = ['Metadata', 'Filename', 'DateModified', 'InternetMediaType',
               'FileUUID', 'SHA256', 'ExpectedFileSizeInBytes',
               'CurrentFileSizeInBytes', 'FileEnumType',
               'TargetVirtualIOServerUUID', 'TargetDeviceUniqueDeviceID']


class File(registry.Resource):
    kind = 'File'
    service = 'web'
    events = False

    def create(self, sim, parent, body):
        elem = xu.clean(body, xu.WEB)
        uuid = sim.new_uuid()
        tpl.set_atom_id(elem, uuid)
        for name, val in (('DateModified', str(int(time.time() * 1000))),
                          ('FileUUID', uuid),
                          ('CurrentFileSizeInBytes', '0')):
            node = xu.find(elem, name, ns=xu.WEB)
            if node is None:
                node = xu.insert_ordered(
                    elem, elem.makeelement(xu.qn(name, xu.WEB)), _FILE_ORDER)
            node.text = val
        obj = model.Obj('File', uuid, elem, service='web')
        return sim.store.add(obj)

    def upload(self, sim, file_uuid, reader):
        """``PUT /rest/api/web/File/contents/{uuid}``: store the body.

        :param sim: the Simulator.
        :param file_uuid: the FileUUID.
        :param reader: the body stream.
        :returns: the number of bytes written.
        """
        with sim.store.lock:
            fobj = sim.store.get(file_uuid, 'File')
            if fobj is None:
                raise registry.SimError(404, 'File %s not found' % file_uuid)
            ftype = xu.text(fobj.elem, 'FileEnumType', ns=xu.WEB)
            target = _upload_target(sim, fobj, ftype)
        if ftype == 'BROKERED_DISK_IMAGE':
            written = sim.files.write_disk(
                xu.text(fobj.elem, 'TargetDeviceUniqueDeviceID', ns=xu.WEB),
                reader)
        else:
            written = files.write_stream(target, reader, truncate=True)
        with sim.store.lock:
            xu.set_text(fobj.elem, 'CurrentFileSizeInBytes', written,
                        ns=xu.WEB)
            sim.store.touch(fobj)
            if ftype == 'BROKERED_DISK_IMAGE':
                _touch_pool(sim)
            if ftype == 'BROKERED_MEDIA_ISO':
                storage.add_uploaded_media(sim, fobj, written)
        return written

    def download(self, sim, file_uuid):
        """``GET /rest/api/web/File/contents/{uuid}``: the uploaded bytes.

        :param sim: the Simulator.
        :param file_uuid: the FileUUID.
        """
        with sim.store.lock:
            fobj = sim.store.get(file_uuid, 'File')
            if fobj is None:
                raise registry.SimError(404, 'File %s not found' % file_uuid)
            udid = xu.text(fobj.elem, 'TargetDeviceUniqueDeviceID',
                           ns=xu.WEB)
            size = int(xu.text(fobj.elem, 'CurrentFileSizeInBytes', 0,
                               ns=xu.WEB))
        path = sim.files.disk_path(udid or '')
        if not udid or not os.path.exists(path):
            raise registry.SimError(404, 'No contents for %s' % file_uuid)
        size = min(size, sim.files.size(udid))
        return http.Response(200, sim.files.read_chunks(udid, size),
                             'application/octet-stream', length=size)


def _touch_pool(sim):
    # A thin LU's data takes pool space: the pool's free space changed.
    for kind in ('Tier', 'SharedStoragePool'):
        for obj in sim.store.all(kind):
            sim.store.touch(obj)


def _upload_target(sim, fobj, ftype):
    if ftype == 'BROKERED_DISK_IMAGE':
        udid = xu.text(fobj.elem, 'TargetDeviceUniqueDeviceID', ns=xu.WEB)
        path = sim.files.disk_path(udid or '')
        if not udid or not os.path.exists(path):
            raise registry.SimError(
                400, 'No disk with UDID %s for upload.' % udid)
        return path
    if ftype == 'BROKERED_MEDIA_ISO':
        return storage.media_upload_path(sim, fobj)
    raise registry.SimError(400, 'Unsupported FileEnumType %s' % ftype)
