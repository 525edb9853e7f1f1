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
"""An in-process image service that holds real image bytes.

Nova's ``GlanceFixture`` keeps image metadata but hands back empty data.
This one serves a default raw image whose bytes a spawn streams to the
simulated disk, and keeps the bytes a snapshot uploads: in a (sparse)
file per image, written and read back in chunks, so a snapshot of a
multi-GB disk is never whole in memory.
"""

import hashlib
import os

import fixtures
from nova.tests import fixtures as nova_fixtures

# Stable id, so scripts and docs can name the default image.
DEFAULT_IMAGE_ID = '8d3f2a6e-5b1c-4e0a-9c55-0b1e2d3c4f5a'
DEFAULT_IMAGE_NAME = 'powervm-raw'
# A second image (same bytes), for tempest's image_ref_alt.
ALT_IMAGE_ID = '3c1e9b7a-0f4d-4d2b-8e6a-7a5b4c3d2e1f'
ALT_IMAGE_NAME = 'powervm-raw-alt'
CHUNK = 64 * 1024


def make_image_bytes(size):
    """Deterministic, non-trivial image content of ``size`` bytes.

    :param size: number of bytes.
    :returns: bytes (a repeating SHA-256 chain, not all zeroes, so a
              truncated or misplaced copy is detectable).
    """
    block = b''.join(hashlib.sha256(b'%d' % i).digest() for i in range(2048))
    reps, rest = divmod(size, len(block))
    return block * reps + block[:rest]


def _chunks(data):
    """Chunks of a file-like object, bytes, or an iterator of chunks."""
    if isinstance(data, bytes):
        for pos in range(0, len(data), CHUNK):
            yield data[pos:pos + CHUNK]
    elif hasattr(data, 'read'):
        for buf in iter(lambda: data.read(CHUNK), b''):
            yield buf
    else:
        for buf in data:
            yield buf


class ImageServiceFixture(nova_fixtures.GlanceFixture):
    """``GlanceFixture`` with one real raw image and real snapshot data.

    :param test: the owner providing ``useFixture``/``stub_out``.
    :param image_size: bytes of the default image.
    :param properties: properties of the default image (the scheduler
                       matches ``architecture`` and ``hypervisor_type``
                       against the computes).
    """

    def __init__(self, test, image_size=4 * 1024 * 1024, properties=None):
        super().__init__(test)
        self.image_size = image_size
        self.properties = dict(properties or {})

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        # image id -> file holding the bytes of an uploaded image.
        self._files = {}
        # Nova's sample images claim sizes they do not hold and most are
        # x86_64; keep only ours so every image can really boot here.
        self.images.clear()
        data = make_image_bytes(self.image_size)
        meta = {
            'id': DEFAULT_IMAGE_ID, 'name': DEFAULT_IMAGE_NAME,
            'status': 'active', 'visibility': 'public', 'is_public': True,
            'container_format': 'bare', 'disk_format': 'raw',
            'size': len(data), 'min_ram': 0, 'min_disk': 0,
            'protected': False, 'tags': [],
            'checksum': hashlib.md5(data, usedforsecurity=False).hexdigest(),
            'properties': dict(self.properties),
        }
        self.create(None, meta)
        self._imagedata[DEFAULT_IMAGE_ID] = data

    def image_data(self, image_id):
        """The bytes stored for an image (b'' when it has none).

        Whole in memory: for small images; see :meth:`image_chunks`.

        :param image_id: image UUID.
        """
        return b''.join(self.image_chunks(image_id))

    def image_chunks(self, image_id):
        """The bytes stored for an image, as an iterator of chunks.

        :param image_id: image UUID.
        """
        path = self._files.get(image_id)
        if path is None:
            return _chunks(self._imagedata.get(image_id, b''))
        return self._read_file(path)

    @staticmethod
    def _read_file(path):
        with open(path, 'rb') as fil:
            for buf in iter(lambda: fil.read(CHUNK), b''):
                yield buf

    def download(self, context, image_id, data=None, dst_path=None,
                 trusted_certs=None):
        """Like glance: an iterator of chunks when no destination is given.

        :param context: request context.
        :param image_id: image UUID.
        :param data: optional file object to write into.
        :param dst_path: optional path to write into.
        :param trusted_certs: ignored.
        """
        self.show(context, image_id)
        if data is not None:
            for buf in self.image_chunks(image_id):
                data.write(buf)
            return None
        if dst_path is not None:
            with open(dst_path, 'wb') as fil:
                for buf in self.image_chunks(image_id):
                    fil.write(buf)
            return None
        return self.image_chunks(image_id)

    def create(self, context, metadata, data=None):
        """Create an image; ``data`` may be a file, bytes or an iterator."""
        # Nova's fixture invents a size for images created without one; an
        # image here has the size of the bytes it holds (none yet: 0).
        metadata = dict(metadata)
        metadata.setdefault('size', 0)
        image = super().create(context, metadata)
        if data is not None:
            self._store(image['id'], data)
            image = self.images[image['id']]
        return image

    def update(self, context, image_id, metadata, data=None,
               purge_props=False):
        """Update an image; snapshots upload their bytes here."""
        image = super().update(context, image_id, metadata,
                               purge_props=purge_props)
        if data is not None:
            self._store(image_id, data)
            image = self.images[image_id]
        return image

    def delete(self, context, image_id):
        """Delete an image and its bytes."""
        super().delete(context, image_id)
        self._imagedata.pop(image_id, None)
        path = self._files.pop(image_id, None)
        if path:
            os.unlink(path)

    def _store(self, image_id, data):
        """Write an upload to the image's file, chunk by chunk.

        Zero chunks are seeked over (the file stays sparse).  The image is
        left as glance leaves a failed upload (``queued``, no size) when
        reading ``data`` fails.
        """
        path = os.path.join(self.dir, image_id)
        md5 = hashlib.md5(usedforsecurity=False)
        sha512 = hashlib.sha512()
        size = 0
        try:
            with open(path, 'wb') as fil:
                for buf in _chunks(data):
                    md5.update(buf)
                    sha512.update(buf)
                    if buf.count(0) == len(buf):
                        fil.seek(len(buf), os.SEEK_CUR)
                    else:
                        fil.write(buf)
                    size += len(buf)
                fil.truncate(size)
        except Exception:
            os.unlink(path)
            self.images[image_id].update(status='queued', size=0)
            self._files.pop(image_id, None)
            raise
        self._imagedata.pop(image_id, None)
        self._files[image_id] = path
        self.images[image_id].update(
            size=size, status='active', checksum=md5.hexdigest(),
            os_hash_algo='sha512', os_hash_value=sha512.hexdigest())
