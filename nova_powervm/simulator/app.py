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
"""The WSGI application: one code path for server and in-process modes."""

import logging
import re
import time

from lxml import etree

from nova_powervm.simulator import admin
from nova_powervm.simulator import auth
from nova_powervm.simulator import http
from nova_powervm.simulator import registry
from nova_powervm.simulator import render
from nova_powervm.simulator import rest

LOG = logging.getLogger(__name__)
API = '/rest/api/'


class SimApp(object):
    """WSGI callable serving ``/rest/api`` and ``/sim``.

    :param sim: the Simulator.
    """

    def __init__(self, sim):
        self.sim = sim

    def __call__(self, environ, start_response):
        req = http.Request(environ)
        try:
            req.check()
            if req.path.startswith('/sim/') or req.path == '/sim':
                resp = _admin(self.sim, req)
            elif req.path.startswith(API):
                resp = self._api(req)
            else:
                raise registry.SimError(404, 'Not found: %s' % req.path)
        except registry.SimError as exc:
            resp = error(req, exc.status, exc.message, exc.reason)
        except etree.XMLSyntaxError as exc:
            resp = error(req, 400, 'Malformed XML: %s' % exc)
        except RecursionError:
            resp = error(req, 400, 'Request nested too deeply')
        except Exception as exc:  # noqa: report as a 500 like NovaLink
            LOG.exception('Simulator failure on %s %s', req.method, req.path)
            resp = error(req, 500, 'Internal simulator error: %s' % exc)
        return resp.wsgi(start_response)

    def _api(self, req):
        sim = self.sim
        sim.stats.count(req.method, req.path)
        if sim.latency:
            time.sleep(sim.latency)
        fault = sim.faults.match(req.method, req.path)
        if fault:
            return self._fault(req, fault)
        parts = req.path[len(API):].strip('/').split('/')
        if parts[:2] == ['web', 'Logon']:
            return auth.logon(sim, req)
        auth.check(sim, req)
        if parts[0] == 'web' and len(parts) > 1 and parts[1] == 'File':
            return self._file(req, parts[2:])
        if parts[0] == 'pcm':
            return rest.pcm(sim, req, parts[1:])
        if parts[0] not in ('uom', 'web'):
            raise registry.SimError(404, 'Unknown service %s' % parts[0])
        return rest.dispatch(sim, req, parts[1:])

    def _fault(self, req, fault):
        # The body first (an upload's): the client reads the answer only
        # once it has sent it all.
        req.drain()
        kind = fault['kind']
        if kind == 'restart':
            # The REST server restarted while this request was in flight:
            # the request is lost and every session with it (the state
            # on disk is kept; clients log on again after a 401).
            self.sim.drop_sessions()
            return error(req, 503, fault['message'] or
                         'Injected restart: the REST server is starting.')
        if kind == 'hang':
            self.sim.faults.cleared.wait(fault['seconds'])
            return error(req, 504, fault['message'] or 'Injected hang')
        if kind == 'vios_busy':
            msg = fault['message'] or (
                'VIOS0014 The Virtual I/O Server vios1 is busy processing '
                'some other request. Please retry the operation later.')
            return error(req, 500, msg)
        if kind == 'etag_conflict':
            return error(req, 412, fault['message'] or
                         'HSCL0004 The object was changed by another '
                         'request (injected etag conflict).')
        return error(req, fault['status'],
                     fault['message'] or 'Injected failure')

    def _file(self, req, rest_parts):
        sim = self.sim
        if rest_parts[:1] == ['contents'] and len(rest_parts) == 2:
            handler = sim.registry.get('File')
            if req.method in ('PUT', 'POST'):
                handler.upload(sim, rest_parts[1], req.stream)
                return http.Response(204)
            return handler.download(sim, rest_parts[1])
        return rest.dispatch(sim, req, ['File'] + rest_parts)


def _admin(sim, req):
    # The admin API takes JSON from people and scripts: a value of the
    # wrong type or a missing key is their mistake, not the simulator's.
    try:
        return admin.handle(sim, req)
    except (ValueError, TypeError, KeyError, AttributeError,
            IndexError) as exc:
        raise registry.SimError(400, 'Bad admin request: %s: %s'
                                % (type(exc).__name__, exc))


def error(req, status, message, reason='Unknown internal error.'):
    """An HttpErrorResponse entry response (bare for 401/304).

    :param req: the request.
    :param status: HTTP status.
    :param message: message text.
    :param reason: reason code.
    """
    ent = render.error_entry(status, _printable(req.path), _printable(message),
                             reason, _printable(_safe_headers(req)))
    return http.atom_response(ent, status)


_UNPRINTABLE = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff'
                          '\ufffe\uffff]')


def _printable(text):
    # What XML 1.0 can carry: a path or header may hold any byte.
    return _UNPRINTABLE.sub('?', str(text))[:2000]


_SECRET_HEADERS = ('SESSION', 'AUTHORIZATION', 'COOKIE', 'TOKEN', 'PASSWORD',
                   'SECRET', 'AUTH')


def _safe_headers(req):
    # Echoed in error bodies like NovaLink does, without any credential
    # and cut short (an error body stays small whatever the client sent).
    keep = []
    for key, val in req.environ.items():
        if key.startswith('HTTP_') and not any(
                word in key for word in _SECRET_HEADERS):
            keep.append('%s=%s' % (key[5:].replace('_', '-').title(),
                                   str(val)[:200]))
    return '{%s}' % ', '.join(sorted(keep)[:30])
