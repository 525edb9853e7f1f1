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
simulated disk, and keeps the bytes a snapshot uploads.
"""

import hashlib

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


def _read_all(data):
    """Bytes from a file-like object, bytes, or an iterator of chunks."""
    if data is None:
        return None
    if isinstance(data, bytes):
        return data
    if hasattr(data, 'read'):
        return data.read()
    return b''.join(data)


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

        :param image_id: image UUID.
        """
        return self._imagedata.get(image_id, b'')

    def download(self, context, image_id, data=None, dst_path=None,
                 trusted_certs=None):
        """Like glance: an iterator of chunks when no destination is given.

        :param context: request context.
        :param image_id: image UUID.
        :param data: optional file object to write into.
        :param dst_path: optional path to write into.
        :param trusted_certs: ignored.
        """
        if data is not None or dst_path is not None:
            return super().download(context, image_id, data=data,
                                    dst_path=dst_path)
        self.show(context, image_id)
        blob = self._imagedata.get(image_id, b'')
        return (blob[i:i + CHUNK] for i in range(0, len(blob), CHUNK))

    def create(self, context, metadata, data=None):
        """Create an image; ``data`` may be a file, bytes or an iterator."""
        blob = _read_all(data)
        # Nova's fixture invents a size for images created without one; an
        # image here has the size of the bytes it holds (none yet: 0).
        metadata = dict(metadata)
        metadata.setdefault('size', 0)
        image = super().create(context, metadata)
        if blob is not None:
            self._store(image['id'], blob)
        return image

    def update(self, context, image_id, metadata, data=None,
               purge_props=False):
        """Update an image; snapshots upload their bytes here."""
        blob = _read_all(data)
        image = super().update(context, image_id, metadata,
                               purge_props=purge_props)
        if blob is not None:
            self._store(image_id, blob)
        return image

    def _store(self, image_id, blob):
        self._imagedata[image_id] = blob
        image = self.images[image_id]
        image['size'] = len(blob)
        image['status'] = 'active'
