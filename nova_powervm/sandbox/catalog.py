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
"""Read-only image and network APIs over HTTP for stock clients.

The in-process image and network services are Python fixtures; the
``openstack`` CLI resolves ``--image`` and ``--network`` through
Glance's and Neutron's HTTP APIs.  This small WSGI app answers the read
calls those lookups make (version discovery, list with ``name`` filter,
show) from the fixtures, mounted beside the compute API:
``/image`` and ``/network`` (and ``/identity``, version discovery only);
an image's bytes are served too (``/v2/images/{id}/file``, streamed).
Everything else is 404/405.
"""

import datetime
import json

from nova_powervm.sandbox import auth

IMAGE_PREFIX = '/image'
NETWORK_PREFIX = '/network'
# Only version discovery: the CLI builds an identity v3 client for every
# 'server list' even when it looks nothing up.
IDENTITY_PREFIX = '/identity'


def _iso(value):
    if isinstance(value, datetime.datetime):
        return value.strftime('%Y-%m-%dT%H:%M:%SZ')
    return value


def glance_v2_image(meta):
    """A Glance v2 image document from the fixture's metadata dict.

    :param meta: the image service fixture's image dict.
    """
    doc = {k: _iso(v) for k, v in meta.items()
           if k not in ('properties', 'is_public', 'deleted', 'deleted_at')}
    for key, value in (meta.get('properties') or {}).items():
        doc.setdefault(key, value)
    doc.setdefault('visibility', 'public')
    doc.setdefault('tags', [])
    doc['self'] = '/v2/images/%s' % meta['id']
    doc['file'] = '/v2/images/%s/file' % meta['id']
    doc['schema'] = '/v2/schemas/image'
    return doc


class CatalogApp(object):
    """Dispatch ``/image`` and ``/network`` paths; the rest to ``app``.

    :param app: the compute API WSGI app.
    :param glance: the image service fixture.
    :param neutron: the network fixture.
    """

    def __init__(self, app, glance, neutron):
        self.app = app
        self.glance = glance
        self.neutron = neutron

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '')
        for prefix, handler in ((IMAGE_PREFIX, self._image),
                                (NETWORK_PREFIX, self._network),
                                (IDENTITY_PREFIX, self._identity)):
            if path == prefix or path.startswith(prefix + '/'):
                if auth.parse_token(environ.get('HTTP_X_AUTH_TOKEN')) is None:
                    return _reply(start_response, 401,
                                  {'error': 'X-Auth-Token: user:project'})
                if environ['REQUEST_METHOD'] not in ('GET', 'HEAD'):
                    return _reply(start_response, 405,
                                  {'error': 'read-only in the sandbox'})
                base = _base_url(environ) + prefix
                sub = path[len(prefix):].strip('/').split('/')
                if prefix == IMAGE_PREFIX and len(sub) == 4 and \
                        sub[0] == 'v2' and sub[3] == 'file':
                    return self._image_file(sub[2], start_response)
                status, body = handler(path[len(prefix):].strip('/'),
                                       _query(environ), base)
                return _reply(start_response, status, body)
        return self.app(environ, start_response)

    def _image(self, path, query, base):
        if path == '':
            return 200, {'versions': [{
                'id': 'v2.16', 'status': 'CURRENT',
                'links': [{'rel': 'self', 'href': base + '/v2/'}]}]}
        images = [glance_v2_image(m) for m in self.glance.images.values()]
        if path == 'v2/images':
            return 200, {'images': _filter(images, query),
                         'first': '/v2/images', 'schema': '/v2/schemas/images'}
        if path.startswith('v2/images/'):
            return _one(images, path.split('/')[2], None)
        return 404, {'error': 'not found'}

    def _image_file(self, image_id, start_response):
        """``GET /v2/images/{id}/file``: the image's bytes, streamed."""
        meta = self.glance.images.get(image_id)
        if meta is None:
            return _reply(start_response, 404, {'error': 'not found'})
        if meta.get('status') != 'active':
            start_response('204 No Content', [('Content-Length', '0')])
            return [b'']
        start_response('200 OK', [
            ('Content-Type', 'application/octet-stream'),
            ('Content-Length', str(meta.get('size') or 0))])
        return self.glance.image_chunks(image_id)

    @staticmethod
    def _identity(path, query, base):
        version = {'id': 'v3.14', 'status': 'stable',
                   'links': [{'rel': 'self', 'href': base + '/v3/'}],
                   'media-types': [{
                       'base': 'application/json',
                       'type': 'application/vnd.openstack.identity-v3+json'}]}
        if path == '':
            return 200, {'versions': {'values': [version]}}
        if path == 'v3':
            return 200, {'version': version}
        return 404, {'error': 'the sandbox has no identity service'}

    def _network(self, path, query, base):
        if path == '':
            return 200, {'versions': [{
                'id': 'v2.0', 'status': 'CURRENT',
                'links': [{'rel': 'self', 'href': base + '/v2.0/'}]}]}
        kinds = {'networks': self.neutron._networks,
                 'subnets': self.neutron._subnets}
        parts = path.split('/')
        if len(parts) < 2 or parts[0] != 'v2.0' or parts[1] not in kinds:
            return 404, {'NeutronError': {'message': 'not found'}}
        items = list(kinds[parts[1]].values())
        if len(parts) == 2:
            return 200, {parts[1]: _filter(items, query)}
        return _one(items, parts[2], parts[1][:-1])


def _one(items, item_id, key):
    for item in items:
        if item['id'] == item_id:
            return 200, item if key is None else {key: item}
    return 404, {'error': 'not found'}


def _filter(items, query):
    """Items matching the ``id``/``name`` filters (``in:a,b`` allowed)."""
    wanted = {}
    for key in ('id', 'name'):
        if key in query:
            value = query[key]
            wanted[key] = set(value[3:].split(',') if value.startswith('in:')
                              else [value])
    return [i for i in items
            if all(str(i.get(k)) in v for k, v in wanted.items())]


def _query(environ):
    from urllib import parse

    return dict(parse.parse_qsl(environ.get('QUERY_STRING', '')))


def _base_url(environ):
    return 'http://%s' % environ.get('HTTP_HOST', '127.0.0.1')


def _reply(start_response, status, body):
    data = json.dumps(body).encode()
    reason = {200: 'OK', 401: 'Unauthorized', 404: 'Not Found',
              405: 'Method Not Allowed'}
    start_response('%d %s' % (status, reason[status]),
                   [('Content-Type', 'application/json'),
                    ('Content-Length', str(len(data)))])
    return [data]
