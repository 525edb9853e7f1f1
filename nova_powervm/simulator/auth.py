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
"""Logon (file and password), logoff and session checks."""

import hmac
import os
import secrets

from lxml import etree

from nova_powervm.simulator import http
from nova_powervm.simulator import registry
from nova_powervm.simulator import xmlutil as xu

LOGON_TYPE = 'application/vnd.ibm.powervm.web+xml; type=LogonResponse'


def token_dir(sim):
    """Directory holding file-auth token files.

    :param sim: the Simulator.
    """
    path = os.path.join(sim.state_dir, 'tokens')
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def _response(field, value):
    root = etree.Element(xu.qn('LogonResponse', xu.WEB),
                         nsmap={None: xu.WEB}, schemaVersion='V1_1_0')
    xu.sub(xu.sub(root, 'Metadata', ns=xu.WEB), 'Atom', ns=xu.WEB)
    xu.sub(root, field, value, ns=xu.WEB, kb='ROR', kxe='false')
    return http.xml_response(root, ctype=LOGON_TYPE)


def logon(sim, req):
    """``PUT`` (logon) and ``DELETE`` (logoff) of ``/rest/api/web/Logon``.

    :param sim: the Simulator.
    :param req: the request.
    """
    if req.method == 'DELETE':
        token = req.header('X-API-Session')
        path = sim.sessions.pop(token, None) if token else None
        if path:
            try:
                os.unlink(path)
            except OSError:
                pass
        return http.Response(204)
    if req.method != 'PUT':
        raise registry.SimError(405, 'Logon accepts PUT and DELETE')
    body = req.xml()
    user = xu.text(body, 'UserID', ns=xu.WEB)
    want_file = xu.text(body, 'GenerateX-API-SessionFile',
                        ns=xu.WEB) == 'true'
    password = xu.text(body, 'Password', ns=xu.WEB)
    token = sim.token_prefix + secrets.token_urlsafe(32)
    if want_file:
        path = os.path.join(token_dir(sim), secrets.token_hex(8))
        fdesc = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fdesc, 'w') as fil:
            fil.write(token + '\n')
        sim.sessions[token] = path
        return _response('X-API-SessionFile', path)
    if sim.user is not None and not (
            _same(user, sim.user) and _same(password, sim.password)):
        raise registry.SimError(401, 'Logon failed: bad user or password.',
                                'Unauthorized')
    sim.sessions[token] = None
    return _response('X-API-Session', token)


def _same(given, expected):
    """Constant-time comparison of two texts (any characters).

    :param given: what the client sent (or None).
    :param expected: the configured value (or None).
    """
    return hmac.compare_digest((given or '').encode('utf-8'),
                               (expected or '').encode('utf-8'))


def check(sim, req):
    """Raise a 401 SimError unless the request carries a live session.

    :param sim: the Simulator.
    :param req: the request.
    """
    token = req.header('X-API-Session')
    if not token or token not in sim.sessions:
        raise registry.SimError(401, 'Invalid or expired session.',
                                'Unauthorized')


def check_admin(sim, req):
    """Raise a 401 SimError unless the admin token (if any) is given.

    :param sim: the Simulator.
    :param req: the request.
    """
    # /sim/host/ stands for the NovaLink partition's own devices, which the
    # driver's simulator host shim reads like local files: not guarded.
    if sim.admin_token is None or req.path.startswith('/sim/host/'):
        return
    if not _same(req.header('X-Sim-Admin-Token'), sim.admin_token):
        raise registry.SimError(401, 'Missing or wrong admin token.',
                                'Unauthorized')
