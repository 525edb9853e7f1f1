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
"""Request/response plumbing shared by the REST and admin routes."""

import json
import urllib.parse

from nova_powervm.simulator import registry
from nova_powervm.simulator import xmlutil as xu

ATOM_TYPE = 'application/atom+xml'
#: Largest XML or JSON request body read (file uploads are not limited).
MAX_BODY = 32 * 1024 * 1024
_REASONS = {200: 'OK', 204: 'No Content', 304: 'Not Modified',
            400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
            404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict',
            412: 'Precondition Failed', 413: 'Content Too Large',
            415: 'Unsupported Media Type', 500: 'Internal Server Error',
            503: 'Service Unavailable', 504: 'Gateway Timeout'}


#: Largest ``read`` served through one buffer (``readinto``); larger or
#: unbounded reads (an XML body's) gather pieces instead.
_READINTO_MAX = 4 * 1024 * 1024
#: Bytes read at a time by :meth:`Request.drain`.
_DRAIN_CHUNK = 1024 * 1024


def _readinto(raw, view):
    """``raw.readinto(view)``, or a read and a copy for streams without."""
    if hasattr(raw, 'readinto'):
        return raw.readinto(view) or 0
    data = raw.read(len(view))
    view[:len(data)] = data
    return len(data)


class ChunkedReader(object):
    """Decode a ``Transfer-Encoding: chunked`` body from a raw stream.

    :param raw: a file-like object with ``read`` and ``readline``.
    """

    def __init__(self, raw):
        self.raw = raw
        self.left = 0
        self.done = False

    def _next_chunk(self):
        line = self.raw.readline(1024)
        if not line:
            # The client went away before the last (empty) chunk: the
            # body is incomplete, not shorter.
            self.done = True
            raise registry.SimError(400, 'Incomplete chunked body')
        try:
            size = int(line.split(b';', 1)[0].strip() or b'0', 16)
        except ValueError:
            raise registry.SimError(400, 'Malformed chunked body')
        if size < 0:
            raise registry.SimError(400, 'Malformed chunked body')
        if size == 0:
            while True:
                trailer = self.raw.readline(1024)
                if not trailer or trailer in (b'\r\n', b'\n'):
                    break
            self.done = True
        self.left = size

    def readinto(self, buf):
        """Read decoded bytes straight into a writable buffer.

        Fills ``buf`` unless the body ends first; no intermediate copies
        (a file upload goes from the socket into the caller's buffer).

        :param buf: a writable buffer (bytearray, memoryview).
        :returns: the number of bytes read (0 at the end).
        """
        view = memoryview(buf).cast('B')
        size = len(view)
        got = 0
        while got < size and not self.done:
            if self.left == 0:
                self._next_chunk()
                continue
            want = min(self.left, size - got)
            count = _readinto(self.raw, view[got:got + want])
            if not count:
                self.done = True
                raise registry.SimError(400, 'Incomplete chunked body')
            got += count
            self.left -= count
            if self.left == 0:
                self.raw.readline()
        return got

    def read(self, size=-1):
        """Read up to ``size`` decoded bytes (all when negative).

        :param size: maximum bytes.
        """
        if 0 <= size <= _READINTO_MAX:
            buf = bytearray(size)
            del buf[self.readinto(buf):]
            return buf
        out = []
        want = size if size >= 0 else float('inf')
        got = 0
        while got < want and not self.done:
            if self.left == 0:
                self._next_chunk()
                continue
            data = self.raw.read(int(min(self.left, want - got)))
            if not data:
                self.done = True
                raise registry.SimError(400, 'Incomplete chunked body')
            out.append(data)
            got += len(data)
            self.left -= len(data)
            if self.left == 0:
                self.raw.readline()
        return b''.join(out)


class LimitedReader(object):
    """Read at most ``length`` bytes from a stream.

    :param raw: the stream.
    :param length: the Content-Length.
    """

    def __init__(self, raw, length):
        self.raw = raw
        self.left = length

    def read(self, size=-1):
        """Read up to ``size`` bytes.

        :param size: maximum bytes (all when negative).
        """
        if self.left <= 0:
            return b''
        size = self.left if size < 0 else min(size, self.left)
        data = self.raw.read(size)
        self.left -= len(data)
        return data

    def readinto(self, buf):
        """Read straight into a writable buffer; the byte count.

        :param buf: a writable buffer (bytearray, memoryview).
        """
        view = memoryview(buf).cast('B')
        view = view[:max(0, min(len(view), self.left))]
        got = 0
        while got < len(view):
            count = _readinto(self.raw, view[got:])
            if not count:
                break
            got += count
        self.left -= got
        return got


class Request(object):
    """The parts of a WSGI environ the simulator uses.

    :param environ: the WSGI environ.
    """

    def __init__(self, environ):
        self.environ = environ
        self.method = environ['REQUEST_METHOD'].upper()
        self.path = environ.get('PATH_INFO', '/') or '/'
        self.query_string = environ.get('QUERY_STRING', '')
        self.query = dict(urllib.parse.parse_qsl(self.query_string,
                                                 keep_blank_values=True))
        scheme = environ.get('wsgi.url_scheme', 'http')
        host = environ.get('HTTP_HOST') or '%s:%s' % (
            environ.get('SERVER_NAME', 'localhost'),
            environ.get('SERVER_PORT', '12080'))
        self.base = '%s://%s' % (scheme, host)
        raw = environ.get('wsgi.input')
        #: why the request cannot be served whatever its path, or None
        #: (raised by :meth:`check` inside the application's error net).
        self.problem = None
        self.length = None
        if environ.get('HTTP_TRANSFER_ENCODING', '').lower() == 'chunked':
            self.stream = ChunkedReader(raw)
        else:
            text = (environ.get('CONTENT_LENGTH') or '0').strip()
            if not text.isdigit():
                self.problem = (400, 'Bad Content-Length')
                text = '0'
            self.length = int(text)
            self.stream = LimitedReader(raw, self.length)
        self._body = None

    def drain(self):
        """Read and drop the rest of the body; the number of bytes.

        A server answering before it read an upload's body (a fault)
        reads it first: a client sends the whole body before it reads
        the answer, and would otherwise see its connection reset instead
        of the answer.  A body that ends early is only the end.
        """
        buf = bytearray(_DRAIN_CHUNK)
        total = 0
        try:
            while True:
                count = self.stream.readinto(buf)
                if not count:
                    return total
                total += count
        except registry.SimError:
            return total

    def check(self):
        """Raise a 4xx SimError when the request is unusable."""
        if self.problem:
            raise registry.SimError(*self.problem)
        if '\x00' in self.path:
            raise registry.SimError(400, 'NUL in the path')

    def header(self, name, default=None):
        """A request header.

        :param name: header name (any case, dashes allowed).
        :param default: value when absent.
        """
        key = 'HTTP_' + name.upper().replace('-', '_')
        if name.lower() == 'content-type':
            key = 'CONTENT_TYPE'
        return self.environ.get(key, default)

    @property
    def body(self):
        """The whole request body (bytes)."""
        if self._body is None:
            if self.length is not None and self.length > MAX_BODY:
                raise registry.SimError(
                    413, 'Body of %d bytes is over the limit of %d'
                    % (self.length, MAX_BODY))
            self._body = self.stream.read(MAX_BODY + 1)
            if len(self._body) > MAX_BODY:
                raise registry.SimError(
                    413, 'Body over the limit of %d bytes' % MAX_BODY)
        return self._body

    def _media(self, want, other):
        # Lenient like NovaLink with clients that send no or a generic
        # type, strict with one that names the other format.
        ctype = (self.header('Content-Type') or '').lower()
        main = ctype.split(';', 1)[0].strip()
        if other in main:
            raise registry.SimError(415, 'Content-Type %s is not %s'
                                    % (main[:80], want))

    def xml(self):
        """The body parsed as a cleaned element.

        :raises SimError: 400 when the body is not XML, 413 when too
            large, 415 when the Content-Type says it is not XML.
        """
        self._media('XML', 'json')
        body = self.body
        if not body.strip():
            raise registry.SimError(400, 'An XML body is required')
        try:
            return xu.parse(body)
        except RecursionError:
            raise registry.SimError(400, 'XML nested too deeply')

    def json(self):
        """The body parsed as a JSON object ({} when empty).

        :raises SimError: 400 when the body is not a JSON object, 413
            when too large, 415 when the Content-Type is not JSON.
        """
        self._media('JSON', 'xml')
        try:
            data = json.loads(self.body or b'{}')
        except ValueError as exc:
            raise registry.SimError(400, 'Malformed JSON: %s' % exc)
        if not isinstance(data, dict):
            raise registry.SimError(400, 'The body must be a JSON object')
        return data

    @property
    def groups(self):
        """The raw ``group`` query value or None."""
        return self.query.get('group')


class Response(object):
    """An HTTP response.

    :param status: status code.
    :param body: bytes, or an iterable of bytes when ``length`` is given
        (streamed, never held whole).
    :param ctype: Content-Type (None for no body).
    :param etag: ETag header value.
    :param headers: extra ``(name, value)`` pairs.
    :param length: Content-Length of an iterable body.
    """

    def __init__(self, status=200, body=b'', ctype=None, etag=None,
                 headers=None, length=None):
        self.status = status
        self.body = body
        self.ctype = ctype
        self.etag = etag
        self.headers = list(headers or [])
        self.length = len(body) if length is None else length

    def wsgi(self, start_response):
        """Send through a WSGI ``start_response``; return the body list.

        :param start_response: the WSGI callable.
        """
        headers = [('X-MC-Type', 'PVM'),
                   ('X-HMC-Schema-Version', 'V1_3_0'),
                   ('Content-Length', str(self.length))]
        if self.ctype:
            headers.append(('Content-Type', self.ctype))
        if self.etag is not None:
            headers.append(('ETag', self.etag))
        headers.extend(self.headers)
        start_response('%d %s' % (self.status,
                                  _REASONS.get(self.status, 'Unknown')),
                       headers)
        if isinstance(self.body, bytes):
            return [self.body]
        return self.body


def json_response(data, status=200):
    """A JSON response.

    :param data: JSON-able data.
    :param status: status code.
    """
    return Response(status, json.dumps(data).encode('utf-8'),
                    'application/json')


def atom_response(data, status=200, etag=None):
    """An Atom response around a rendered document.

    :param data: the entry or feed document (bytes, see ``render``).
    :param status: status code.
    :param etag: ETag header.
    """
    return Response(status, data, ATOM_TYPE, etag)


def xml_response(elem, status=200, etag=None, ctype=ATOM_TYPE):
    """An XML response.

    :param elem: the root element.
    :param status: status code.
    :param etag: ETag header.
    :param ctype: Content-Type.
    """
    return Response(status, xu.tostring(elem), ctype, etag)
