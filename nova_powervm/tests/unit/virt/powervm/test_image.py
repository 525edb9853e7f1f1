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
"""Glance streaming: chunks flow through a bounded queue."""

import threading

from nova import exception as nova_exc
from nova import test

from nova_powervm.virt.powervm import image


class FakeImageAPI:
    """nova's image API ``download`` writing ``count`` chunks."""

    def __init__(self, count, size=1000, fail_after=None):
        self.count = count
        self.size = size
        self.fail_after = fail_after
        self.written = 0
        self.done = threading.Event()

    def chunk(self, i):
        return bytes([i % 256]) * self.size

    def download(self, context, image_id, data=None, dst_path=None,
                 trusted_certs=None):
        try:
            for i in range(self.count):
                if self.fail_after is not None and i == self.fail_after:
                    raise nova_exc.ImageNotFound(image_id=image_id)
                data.write(self.chunk(i))
                self.written += 1
        finally:
            self.done.set()


class TestImageStream(test.NoDBTestCase):

    def test_all_bytes_in_order(self):
        api = FakeImageAPI(50)
        with image.stream(None, 'img', api=api) as chunks:
            got = b''.join(chunks)
        self.assertEqual(b''.join(api.chunk(i) for i in range(50)), got)
        self.assertEqual(50 * 1000, chunks.bytes_read)

    def test_never_more_than_the_queue_ahead(self):
        api = FakeImageAPI(200)
        ahead = []
        with image.stream(None, 'img', api=api) as chunks:
            for n, _chunk in enumerate(chunks, 1):
                # Give the writer every chance to run ahead.
                api.done.wait(0.001)
                ahead.append(api.written - n)
        self.assertLessEqual(max(ahead), image._QUEUE_CHUNKS + 1)
        self.assertEqual(200, api.written)

    def test_download_error_raised_to_reader(self):
        api = FakeImageAPI(10, fail_after=3)
        with image.stream(None, 'img', api=api) as chunks:
            got = []
            self.assertRaises(nova_exc.ImageNotFound,
                              lambda: [got.append(c) for c in chunks])
        self.assertEqual(3, len(got))

    def test_reader_leaving_stops_the_download(self):
        api = FakeImageAPI(10000)
        with image.stream(None, 'img', api=api) as chunks:
            next(iter(chunks))
            thread = chunks._thread
        self.assertFalse(thread.is_alive())
        self.assertLess(api.written, 10000)
