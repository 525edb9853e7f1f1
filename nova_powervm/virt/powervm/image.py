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
"""Streaming images in from Glance, never holding a whole image in memory.

nova's image API writes an image into a file-like object chunk by chunk.
:func:`stream` runs that download on a native thread that writes into a
small bounded queue, and hands the caller an iterator of chunks, which
pypowervm sends as a chunked HTTP upload.  At most ``_QUEUE_CHUNKS``
chunks are buffered, whatever the image size.
"""

import contextlib
import queue
import threading

from nova.image import glance
from oslo_log import log as logging

from nova_powervm import exception as exc

LOG = logging.getLogger(__name__)

_QUEUE_CHUNKS = 8
_POLL = 0.1
_EOF = object()

_API = None


def image_api():
    """nova's Glance image API (built once)."""
    global _API
    if _API is None:
        _API = glance.API()
    return _API


class _Stopped(Exception):
    """The consumer went away; the download thread stops writing."""


class _QueueWriter:
    """The file-like object nova's download writes into."""

    def __init__(self, chunks, stop):
        self._chunks = chunks
        self._stop = stop

    def write(self, data):
        """Queue one chunk, waiting while the queue is full.

        :param data: bytes.
        :raises _Stopped: when the reader has stopped.
        """
        if not data:
            return
        while True:
            if self._stop.is_set():
                raise _Stopped()
            try:
                self._chunks.put(bytes(data), timeout=_POLL)
                return
            except queue.Full:
                continue

    def flush(self):
        """Nothing to flush (file protocol)."""

    def truncate(self, size=0):
        """Nothing to truncate: chunks already left (file protocol)."""

    def close(self):
        """Nothing to close (file protocol)."""


class ImageStream:
    """Iterator of the chunks of a Glance image being downloaded.

    :param context: nova ``RequestContext``.
    :param image_id: the Glance image id.
    :param api: image API (nova's Glance API by default).
    """

    def __init__(self, context, image_id, api=None):
        self.image_id = image_id
        self.bytes_read = 0
        self._api = api or image_api()
        self._context = context
        self._chunks = queue.Queue(maxsize=_QUEUE_CHUNKS)
        self._stop = threading.Event()
        self._error = None
        self._thread = threading.Thread(
            target=self._download, name='image-%s' % image_id, daemon=True)

    def _download(self):
        try:
            self._api.download(self._context, self.image_id,
                               data=_QueueWriter(self._chunks, self._stop))
        except _Stopped:
            pass
        except Exception as exc:
            # Handed to the reader, which raises it in the caller's thread.
            self._error = exc
        finally:
            self._put(_EOF)

    def _put(self, item):
        while not self._stop.is_set():
            try:
                self._chunks.put(item, timeout=_POLL)
                return
            except queue.Full:
                continue

    def start(self):
        """Start the download thread."""
        self._thread.start()

    def __iter__(self):
        while True:
            item = self._chunks.get()
            if item is _EOF:
                break
            self.bytes_read += len(item)
            yield item
        if self._error is not None:
            raise self._error

    def close(self):
        """Stop the download (if still running) and wait for its thread."""
        self._stop.set()
        while True:
            try:
                self._chunks.get_nowait()
            except queue.Empty:
                break
        if self._thread.is_alive():
            self._thread.join()


@contextlib.contextmanager
def stream(context, image_id, api=None):
    """Download a Glance image as an iterator of byte chunks.

    :param context: nova ``RequestContext``.
    :param image_id: the Glance image id.
    :param api: image API (nova's Glance API by default).
    :returns: context manager yielding an :class:`ImageStream`.
    """
    img = ImageStream(context, image_id, api=api)
    img.start()
    try:
        yield img
    finally:
        img.close()


# Disk formats a boot disk can be written from: the bytes are copied as
# they are, so only raw images (the driver's supports_image_type_*
# capabilities say the same to the scheduler).
SUPPORTED_DISK_FORMATS = ('raw',)


def check_format(image_meta):
    """Refuse an image whose bytes cannot be copied to a disk as they are.

    :param image_meta: nova ``ImageMeta``.
    :raises UnsupportedImageFormat: naming the format, for anything but
        raw (an image without a disk format is taken as raw).
    """
    fmt = (image_meta.disk_format
           if image_meta.obj_attr_is_set('disk_format') else None)
    if fmt and fmt not in SUPPORTED_DISK_FORMATS:
        raise exc.UnsupportedImageFormat(
            image_id=image_meta.id if image_meta.obj_attr_is_set('id')
            else '(unknown)',
            disk_format=fmt, supported=', '.join(SUPPORTED_DISK_FORMATS))
