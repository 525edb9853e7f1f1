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
"""Backing files of disks and media (sparse), streamed in and out.

A linked clone (an SSP LU created with ``ClonedFrom``) shares its base's
blocks: its backing file is sparse and holds only the regions written to
the clone; a ``.base`` file beside it names the base disk.  Reads take
each region from the clone when it holds data there, else from the base
(recursively); a write first copies the touched ``COW_BLOCK`` regions up
from the base (copy on write), so a partial write never exposes holes.
Readers therefore go through :meth:`FileStore.read_chunks` (or the
merged device view of :meth:`FileStore.device_path`), not the raw file.
"""

import json
import os
import re
import shutil

from nova_powervm.simulator import registry

CHUNK = 1024 * 1024
# Copy-on-write granularity of linked clones (a multiple of the block size
# of any file system, so written regions are exactly the data regions).
COW_BLOCK = 1024 * 1024
GB = 1024 ** 3
_SAFE = re.compile(r'[^A-Za-z0-9_.-]')


def sparse_copy(src, dst, limit=None):
    """Copy ``src`` over ``dst`` reading only the data regions.

    :param src: source path.
    :param dst: destination path (must exist; not truncated).
    :param limit: copy only the bytes before this offset (None: all).
    """
    with open(src, 'rb') as fin, open(dst, 'r+b') as fout:
        size = os.fstat(fin.fileno()).st_size
        if limit is not None:
            size = min(size, limit)
        pos = 0
        while pos < size:
            try:
                start = os.lseek(fin.fileno(), pos, os.SEEK_DATA)
                end = os.lseek(fin.fileno(), start, os.SEEK_HOLE)
            except OSError:
                break
            end = min(end, size)
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

    def __init__(self, root, shared=None):
        self.root = os.path.join(root, 'storage')
        #: another FileStore whose disks are visible here too (the shared
        #: storage pool's), or None.
        self.shared = shared
        os.makedirs(os.path.join(self.root, 'disks'), exist_ok=True)
        os.makedirs(os.path.join(self.root, 'media'), exist_ok=True)

    def _own_path(self, udid):
        return os.path.join(self.root, 'disks', _SAFE.sub('_', udid) + '.img')

    def locate(self, udid):
        """The FileStore that holds a disk (this one or the shared one).

        :param udid: the disk UniqueDeviceID.
        """
        if (self.shared is not None and
                not os.path.exists(self._own_path(udid)) and
                os.path.exists(self.shared._own_path(udid))):
            return self.shared
        return self

    def disk_path(self, udid):
        """Absolute path of the backing file of a disk UDID.

        For a linked clone this file holds only the clone's own blocks;
        read through :meth:`read_chunks` or :meth:`device_path`.

        :param udid: the disk UniqueDeviceID.
        """
        return self.locate(udid)._own_path(udid)

    def _base_file(self, udid):
        return self.disk_path(udid)[:-len('.img')] + '.base'

    def base_of(self, udid):
        """``(base UDID, size in bytes)`` of a linked clone, or None.

        :param udid: the disk UniqueDeviceID.
        """
        try:
            with open(self._base_file(udid)) as fil:
                data = json.load(fil)
        except FileNotFoundError:
            return None
        return data['base'], data['size']

    def create_clone(self, udid, capacity_gb, base_udid):
        """Create a linked clone of a disk: no data copied.

        :param udid: the new disk's UDID.
        :param capacity_gb: its size in GB (at least the base's).
        :param base_udid: UDID of the disk it is cloned from.
        :raises SimError: when the base has no backing file.
        """
        self.check_disk(base_udid)
        path = self._own_path(udid)
        with open(path, 'wb') as fil:
            fil.truncate(int(capacity_gb * GB))
        with open(path[:-len('.img')] + '.base', 'w') as fil:
            json.dump({'base': base_udid,
                       'size': os.path.getsize(self.disk_path(base_udid))},
                      fil)
        return path

    def clones_of(self, udid):
        """UDIDs of the linked clones made from a disk (in this store).

        :param udid: the base disk's UniqueDeviceID.
        """
        out = []
        folder = os.path.join(self.root, 'disks')
        for name in os.listdir(folder):
            if not name.endswith('.base'):
                continue
            try:
                with open(os.path.join(folder, name)) as fil:
                    if json.load(fil)['base'] == udid:
                        out.append(name[:-len('.base')])
            except (OSError, ValueError):
                continue
        return out

    def allocated_gb(self, udid):
        """GB of blocks a disk's own backing file holds (its pool use).

        :param udid: the disk UniqueDeviceID.
        """
        try:
            return os.stat(self.disk_path(udid)).st_blocks * 512 / GB
        except FileNotFoundError:
            return 0.0

    def size(self, udid):
        """Size of a disk in bytes.

        :param udid: the disk UniqueDeviceID.
        """
        return os.path.getsize(self.disk_path(udid))

    def read_at(self, udid, offset, length):
        """Bytes of a disk as a client sees them (clones merged).

        :param udid: the disk UniqueDeviceID.
        :param offset: where to start.
        :param length: how many bytes at most (a chunk, not a disk).
        """
        path = self.disk_path(udid)
        size = os.path.getsize(path)
        length = max(min(length, size - offset), 0)
        base = self.base_of(udid)
        with open(path, 'rb') as fil:
            if base is None:
                fil.seek(offset)
                return fil.read(length)
            out = bytearray()
            pos, end = offset, offset + length
            while pos < end:
                try:
                    data = os.lseek(fil.fileno(), pos, os.SEEK_DATA)
                except OSError:
                    data = end
                if data > pos:
                    # A hole of the clone: the base's bytes (zeros past it).
                    stop = min(data, end)
                    chunk = b''
                    if pos < base[1]:
                        chunk = self.read_at(base[0], pos,
                                             min(stop, base[1]) - pos)
                    out += chunk + bytes(stop - pos - len(chunk))
                    pos = stop
                    continue
                hole = os.lseek(fil.fileno(), pos, os.SEEK_HOLE)
                stop = min(hole, end)
                fil.seek(pos)
                out += fil.read(stop - pos)
                pos = stop
            return bytes(out)

    def read_chunks(self, udid, size=None):
        """Yield a disk's first ``size`` bytes (clones merged), chunked.

        :param udid: the disk UniqueDeviceID.
        :param size: bytes to read (None: the whole disk).
        """
        total = self.size(udid)
        if size is not None:
            total = min(size, total)
        pos = 0
        while pos < total:
            buf = self.read_at(udid, pos, min(CHUNK, total - pos))
            if not buf:
                return
            pos += len(buf)
            yield buf

    def write_disk(self, udid, reader):
        """Write a request body stream at the start of a disk.

        A linked clone copies each block it has not written yet up from
        its base first (copy on write).

        :param udid: the disk UniqueDeviceID.
        :param reader: object with ``read(n)``.
        :returns: the number of bytes written.
        """
        path = self.disk_path(udid)
        base = self.base_of(udid)
        if base is None:
            return write_stream(path, reader, truncate=False)
        total = 0
        with open(path, 'r+b') as fil:
            while True:
                buf = reader.read(CHUNK)
                if not buf:
                    break
                self._cow_write(fil, udid, total, buf)
                total += len(buf)
        return total

    def _cow_write(self, fil, udid, offset, data):
        first = offset - offset % COW_BLOCK
        for blk in range(first, offset + len(data), COW_BLOCK):
            try:
                owned = os.lseek(fil.fileno(), blk, os.SEEK_DATA) == blk
            except OSError:
                owned = False
            if not owned:
                fil.seek(blk)
                # Written in full, even zeros: the block is now the clone's.
                block = self.read_at(udid, blk, COW_BLOCK)
                fil.write(block + bytes(COW_BLOCK - len(block)))
        fil.seek(offset)
        fil.write(data)

    def device_path(self, udid):
        """A file to read a disk from as its block device on the host.

        A plain disk's backing file; for a linked clone, a merged view
        (sparse) written now, as the host would see the device.  Only the
        data regions of the clone and of its bases are copied: a 1 GiB
        clone of a small image costs the image's size, not a pass over
        the whole gigabyte (which took longer than the host shim waits
        on a loaded machine).

        :param udid: the disk UniqueDeviceID.
        """
        if self.base_of(udid) is None:
            return self.disk_path(udid)
        view = os.path.join(self.locate(udid).root, 'devices',
                            _SAFE.sub('_', udid) + '.img')
        os.makedirs(os.path.dirname(view), exist_ok=True)
        size = self.size(udid)
        with open(view, 'wb') as fil:
            fil.truncate(size)
        self._merge_into(udid, view, size)
        return view

    def _merge_into(self, udid, view, limit):
        """Copy a disk's bytes below ``limit`` over ``view``, bases first.

        A clone's holes show its base's bytes (up to the base's size when
        the clone was made), its written blocks its own.
        """
        base = self.base_of(udid)
        if base is not None:
            self._merge_into(base[0], view, min(limit, base[1]))
        sparse_copy(self.disk_path(udid), view, limit)

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
        path = self.disk_path(udid)
        for name in (path, path[:-len('.img')] + '.base',
                     os.path.join(self.locate(udid).root, 'devices',
                                  os.path.basename(path))):
            try:
                os.unlink(name)
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
    # Straight from the request into one reused buffer, written from it
    # unbuffered: no copy in Python between the socket and the file.
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    fill = getattr(reader, 'readinto', None) or _reader_fill(reader)
    with open(path, mode, buffering=0) as fil:
        while True:
            count = fill(buf)
            if not count:
                break
            data = view[:count]
            if _all_zero(buf, count) and _is_hole(fil, total, count):
                fil.seek(total + count)
            else:
                _write_all(fil, data)
            total += count
        if truncate or os.fstat(fil.fileno()).st_size < total:
            fil.truncate(total)
    return total


def _reader_fill(reader):
    """A ``readinto`` for a reader that only has ``read``."""
    def fill(buf):
        data = reader.read(len(buf))
        buf[:len(data)] = data
        return len(data)
    return fill


def _all_zero(buf, count):
    """Whether the first ``count`` bytes of ``buf`` are all zero."""
    # The ends first: data (random or not) rarely starts and ends in 0.
    if buf[0] or buf[count - 1]:
        return False
    return buf.count(0, 0, count) == count


def _write_all(fil, data):
    """Write a memoryview to an unbuffered file, retrying short writes."""
    while len(data):
        data = data[fil.write(data):]


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
