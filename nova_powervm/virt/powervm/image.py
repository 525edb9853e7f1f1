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

nova's image API writes an image into a file-like object chunk by chunk
(64 KiB from glanceclient).  :func:`stream` runs that download on a native
thread that gathers the pieces into ``CHUNK`` (1 MiB) chunks in a small
bounded queue, and hands the caller an iterator of chunks, which pypowervm
sends as a chunked HTTP upload.  At most ``_QUEUE_CHUNKS`` chunks are
buffered, whatever the image size (4 MiB, plus the chunk being filled).
Larger chunks mean 16 times fewer thread hand-offs, ``send`` calls and
HTTP chunk headers on both sides than glanceclient's pieces would; each
byte is copied once in Python on the way (into its chunk, allocated whole
and never grown).
"""

import contextlib
import queue
import threading

from nova.image import glance
from oslo_log import log as logging

from nova_powervm import exception as exc

LOG = logging.getLogger(__name__)

#: Bytes per chunk handed to the upload.
CHUNK = 1024 * 1024
_QUEUE_CHUNKS = 4
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
    """The file-like object nova's download writes into.

    Pieces are gathered into chunks of ``chunk`` bytes (the last one
    shorter); a full chunk is queued, waiting while the queue is full.
    """

    def __init__(self, chunks, stop, chunk=CHUNK):
        self._chunks = chunks
        self._stop = stop
        self._size = chunk
        # The chunk being filled (allocated whole: never grown) and how
        # much of it is filled.
        self._buf = None
        self._fill = 0

    def write(self, data):
        """Copy bytes into the current chunk; queue each full chunk.

        :param data: bytes (or any buffer).
        :raises _Stopped: when the reader has stopped.
        """
        view = memoryview(data).cast('B')
        while len(view):
            if self._buf is None:
                self._buf = bytearray(self._size)
                self._fill = 0
            count = min(len(view), self._size - self._fill)
            self._buf[self._fill:self._fill + count] = view[:count]
            self._fill += count
            view = view[count:]
            if self._fill == self._size:
                self._queue()

    def _queue(self):
        # A new buffer per chunk: the queued one belongs to the reader.
        buf, self._buf = self._buf, None
        del buf[self._fill:]
        while True:
            if self._stop.is_set():
                raise _Stopped()
            try:
                self._chunks.put(buf, timeout=_POLL)
                return
            except queue.Full:
                continue

    def flush(self):
        """Queue the last, partial chunk (file protocol)."""
        if self._buf is not None and self._fill:
            self._queue()

    def truncate(self, size=0):
        """Drop what is not queued yet (file protocol)."""
        self._fill = min(self._fill, size)

    def close(self):
        """Nothing to close (file protocol)."""


class ImageStream:
    """Iterator of the chunks of a Glance image being downloaded.

    Each iteration is the whole image from its first byte: iterating
    again (pypowervm's VIOS-busy helper sends an upload again with the
    same body after a 503) stops the download in progress and starts a
    new one from Glance, so a retried request never sends the rest of a
    half-consumed stream (the image's tail at the start of the disk) nor
    waits on a stream already at its end.

    :param context: nova ``RequestContext``.
    :param image_id: the Glance image id.
    :param api: image API (nova's Glance API by default).
    :param chunk: bytes per chunk (the last one shorter).
    """

    def __init__(self, context, image_id, api=None, chunk=CHUNK):
        self.image_id = image_id
        self.chunk = chunk
        #: bytes handed out by the current iteration.
        self.bytes_read = 0
        #: downloads started (1, plus one per iteration after the first).
        self.downloads = 0
        self._api = api or image_api()
        self._context = context
        self._iterated = False
        self._thread = None

    def _new_download(self):
        self._chunks = queue.Queue(maxsize=_QUEUE_CHUNKS)
        self._stop = threading.Event()
        self._error = None
        self.bytes_read = 0
        self.downloads += 1
        self._thread = threading.Thread(
            target=self._download, name='image-%s' % self.image_id,
            args=(self._chunks, self._stop), daemon=True)

    def _download(self, chunks, stop):
        try:
            writer = _QueueWriter(chunks, stop, self.chunk)
            self._api.download(self._context, self.image_id, data=writer)
            writer.flush()
        except _Stopped:
            pass
        except Exception as exc:
            # Handed to the reader, which raises it in the caller's thread.
            if not stop.is_set():
                self._error = exc
        finally:
            _put(chunks, stop, _EOF)

    def start(self):
        """Start the download thread."""
        if self._thread is None:
            self._new_download()
        self._thread.start()

    def __iter__(self):
        if self._iterated:
            # The request is sent again: the image from its start.
            LOG.info('Image %s is sent again: downloading it again from '
                     'its start.', self.image_id)
            self.close()
            self._new_download()
            self._thread.start()
        elif self._thread is None:
            self.start()
        self._iterated = True
        chunks, thread = self._chunks, self._thread
        while True:
            try:
                item = chunks.get(timeout=_POLL)
            except queue.Empty:
                if thread.is_alive() or not chunks.empty():
                    continue
                # The download ended without its end mark (a stopped
                # download): nothing more will come.
                break
            if item is _EOF:
                break
            self.bytes_read += len(item)
            yield item
        if self._error is not None:
            raise self._error

    def close(self):
        """Stop the download (if still running) and wait for its thread."""
        if self._thread is None:
            return
        self._stop.set()
        while True:
            try:
                self._chunks.get_nowait()
            except queue.Empty:
                break
        if self._thread.is_alive():
            self._thread.join()


def _put(chunks, stop, item):
    while not stop.is_set():
        try:
            chunks.put(item, timeout=_POLL)
            return
        except queue.Full:
            continue


@contextlib.contextmanager
def stream(context, image_id, api=None, chunk=CHUNK):
    """Download a Glance image as an iterator of byte chunks.

    :param context: nova ``RequestContext``.
    :param image_id: the Glance image id.
    :param api: image API (nova's Glance API by default).
    :param chunk: bytes per chunk (the last one shorter).
    :returns: context manager yielding an :class:`ImageStream`.
    """
    img = ImageStream(context, image_id, api=api, chunk=chunk)
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
