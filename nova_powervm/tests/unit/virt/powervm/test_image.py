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

import os
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

    def test_each_iteration_is_the_whole_image(self):
        # A retried request iterates again: the image from its start,
        # downloaded again, whether the first try stopped midway or
        # read it all.
        api = FakeImageAPI(50)
        whole = b''.join(api.chunk(i) for i in range(50))
        with image.stream(None, 'img', api=api, chunk=3000) as chunks:
            first = iter(chunks)
            self.assertEqual(whole[:3000], next(first))
            self.assertEqual(whole, b''.join(chunks))
            self.assertEqual(whole, b''.join(chunks))
            self.assertEqual(3, chunks.downloads)
            self.assertEqual(len(whole), chunks.bytes_read)
            # The abandoned first download was stopped.
            self.assertTrue(all(not t.is_alive() for t in threading.enumerate()
                                if t.name == 'image-img'
                                and t is not chunks._thread))

    def test_never_more_than_the_queue_ahead(self):
        # Chunks of 2 pieces: the writer is at most the queue and the
        # chunk it is filling ahead of the reader.
        api = FakeImageAPI(200)
        ahead = []
        with image.stream(None, 'img', api=api, chunk=2000) as chunks:
            for n, _chunk in enumerate(chunks, 1):
                # Give the writer every chance to run ahead.
                api.done.wait(0.001)
                ahead.append(api.written * 1000 - chunks.bytes_read)
        self.assertLessEqual(max(ahead), (image._QUEUE_CHUNKS + 2) * 2000)
        self.assertEqual(200, api.written)
        self.assertEqual(200 * 1000, chunks.bytes_read)

    def test_pieces_gathered_into_chunks(self):
        # glanceclient's 64 KiB pieces become 1 MiB chunks (fewer
        # hand-offs and HTTP chunks); the last one holds the rest.
        api = FakeImageAPI(40, size=64 * 1024 + 1)
        with image.stream(None, 'img', api=api) as chunks:
            sizes = [len(c) for c in chunks]
        total = 40 * (64 * 1024 + 1)
        self.assertEqual(total, sum(sizes))
        self.assertTrue(all(image.CHUNK <= size < image.CHUNK + 64 * 1024 + 1
                            for size in sizes[:-1]), sizes)
        self.assertEqual(total // sizes[0], len(sizes) - 1)

    def test_odd_sizes_byte_identical(self):
        data = os.urandom(3 * 1024 * 1024 + 7)

        class API:
            def download(self, context, image_id, data=None, **kwargs):
                view = memoryview(src)
                pos = 0
                for size in (1, 65536, 4096 * 3 + 5, 2 * 1024 * 1024):
                    data.write(view[pos:pos + size])
                    pos += size
                while pos < len(src):
                    data.write(bytes(view[pos:pos + 65536]))
                    pos += 65536

        src = data
        with image.stream(None, 'img', api=API()) as chunks:
            got = b''.join(chunks)
        self.assertEqual(data, got)

    def test_download_error_raised_to_reader(self):
        api = FakeImageAPI(10, fail_after=3)
        with image.stream(None, 'img', api=api, chunk=1000) as chunks:
            got = []
            self.assertRaises(nova_exc.ImageNotFound,
                              lambda: [got.append(c) for c in chunks])
        self.assertEqual(3, len(got))

    def test_download_error_after_a_partial_chunk(self):
        # What the failed download wrote is never handed over as if the
        # image had ended there: the reader gets the error.
        api = FakeImageAPI(10, fail_after=3)
        with image.stream(None, 'img', api=api) as chunks:
            got = []
            self.assertRaises(nova_exc.ImageNotFound,
                              lambda: [got.append(c) for c in chunks])
        self.assertEqual([], got)

    def test_reader_leaving_stops_the_download(self):
        api = FakeImageAPI(10000)
        with image.stream(None, 'img', api=api) as chunks:
            next(iter(chunks))
            thread = chunks._thread
        self.assertFalse(thread.is_alive())
        self.assertLess(api.written, 10000)
