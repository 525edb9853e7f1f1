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
"""Backing files of disks and media (sparse), streamed in and out."""

import os
import re
import shutil

from nova_powervm.simulator import registry

CHUNK = 1024 * 1024
_SAFE = re.compile(r'[^A-Za-z0-9_.-]')


def sparse_copy(src, dst):
    """Copy ``src`` over ``dst`` reading only the data regions.

    :param src: source path.
    :param dst: destination path (must exist; not truncated).
    """
    with open(src, 'rb') as fin, open(dst, 'r+b') as fout:
        size = os.fstat(fin.fileno()).st_size
        pos = 0
        while pos < size:
            try:
                start = os.lseek(fin.fileno(), pos, os.SEEK_DATA)
                end = os.lseek(fin.fileno(), start, os.SEEK_HOLE)
            except OSError:
                break
            fin.seek(start)
            fout.seek(start)
            left = end - start
            while left > 0:
                buf = fin.read(min(CHUNK, left))
                if not buf:
                    break
                fout.write(buf)
                left -= len(buf)
            pos = end


class FileStore(object):
    """Disk and media backing files under ``<state_dir>/storage``.

    :param root: the state directory.
    """

    def __init__(self, root):
        self.root = os.path.join(root, 'storage')
        os.makedirs(os.path.join(self.root, 'disks'), exist_ok=True)
        os.makedirs(os.path.join(self.root, 'media'), exist_ok=True)

    def disk_path(self, udid):
        """Absolute path of the backing file of a disk UDID.

        :param udid: the disk UniqueDeviceID.
        """
        return os.path.join(self.root, 'disks', _SAFE.sub('_', udid) + '.img')

    def check_disk(self, udid):
        """Raise unless a disk's backing file exists.

        :param udid: the disk UniqueDeviceID.
        :raises SimError: 400 (VIOS0013) when it does not.
        """
        if not os.path.exists(self.disk_path(udid)):
            raise registry.SimError(
                400, 'VIOS0013 Base image %s not found.' % udid)

    def create_disk(self, udid, capacity_gb, base_udid=None):
        """Create a sparse disk, optionally copying another disk's data.

        :param udid: the new disk's UDID.
        :param capacity_gb: size in GB.
        :param base_udid: UDID of a disk to copy from, or None.
        :raises SimError: when ``base_udid`` has no backing file (and
            then nothing is created).
        """
        if base_udid:
            self.check_disk(base_udid)
        path = self.disk_path(udid)
        with open(path, 'wb') as fil:
            fil.truncate(int(capacity_gb * 1024 ** 3))
        if base_udid:
            sparse_copy(self.disk_path(base_udid), path)
        return path

    def resize_disk(self, udid, capacity_gb):
        """Grow a disk's backing file.

        :param udid: the UDID.
        :param capacity_gb: the new size in GB.
        """
        with open(self.disk_path(udid), 'r+b') as fil:
            fil.truncate(int(capacity_gb * 1024 ** 3))

    def delete_disk(self, udid):
        """Remove a disk's backing file.

        :param udid: the UDID.
        """
        try:
            os.unlink(self.disk_path(udid))
        except FileNotFoundError:
            pass

    def media_path(self, vg, name):
        """Path of an optical media file in a volume group.

        :param vg: the VolumeGroup :class:`Obj`.
        :param name: MediaName.
        """
        folder = os.path.join(self.root, 'media', vg.uuid)
        os.makedirs(folder, exist_ok=True)
        return os.path.join(folder, _SAFE.sub('_', name))

    def create_media(self, vg, name):
        """Create an empty media file.

        :param vg: the VolumeGroup :class:`Obj`.
        :param name: MediaName.
        """
        open(self.media_path(vg, name), 'ab').close()

    def delete_media(self, vg, name):
        """Remove a media file.

        :param vg: the VolumeGroup :class:`Obj`.
        :param name: MediaName.
        """
        try:
            os.unlink(self.media_path(vg, name))
        except FileNotFoundError:
            pass

    def clear(self):
        """Remove every backing file."""
        shutil.rmtree(self.root, ignore_errors=True)
        self.__init__(os.path.dirname(self.root))


def _is_hole(fil, pos, length):
    """Whether ``length`` bytes at ``pos`` of a file read as a hole."""
    fil.flush()
    try:
        nxt = os.lseek(fil.fileno(), pos, os.SEEK_DATA)
    except OSError:
        # ENXIO: no data at or after pos.
        return True
    return nxt >= pos + length


def write_stream(path, reader, truncate):
    """Write a request body stream into a file; return the byte count.

    Zero chunks that land on a hole are skipped (seeked over), so a
    mostly empty disk image stays sparse, as the disks it goes to are.

    :param path: destination path (created if missing).
    :param reader: object with ``read(n)``.
    :param truncate: truncate the file to what was written (media).
    """
    mode = 'r+b' if os.path.exists(path) else 'wb'
    total = 0
    with open(path, mode) as fil:
        while True:
            buf = reader.read(CHUNK)
            if not buf:
                break
            if buf.count(0) == len(buf) and _is_hole(fil, total, len(buf)):
                fil.seek(total + len(buf))
            else:
                fil.write(buf)
            total += len(buf)
        fil.flush()
        if truncate or os.fstat(fil.fileno()).st_size < total:
            fil.truncate(total)
    return total


def read_chunks(path, size):
    """Yield the first ``size`` bytes of a file, one chunk at a time.

    A download of a multi-GB disk never sits whole in memory.

    :param path: the file.
    :param size: how many bytes to yield.
    """
    with open(path, 'rb') as fil:
        left = size
        while left > 0:
            buf = fil.read(min(CHUNK, left))
            if not buf:
                return
            left -= len(buf)
            yield buf
