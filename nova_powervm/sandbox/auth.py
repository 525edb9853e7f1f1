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
"""Token filter for the sandbox API: LOCAL USE ONLY.

The token *is* the identity: ``X-Auth-Token: user:project``.  The user
``admin`` gets the ``admin`` role, every other user ``member`` and
``reader``.  Nothing is verified: anyone who can reach the port is whoever
they claim to be, which is why the sandbox binds to 127.0.0.1 only.

The filter stands in for keystonemiddleware's ``authtoken`` in nova's own
``api-paste.ini`` and sets the headers ``authtoken`` would set, so nova's
``NovaKeystoneContext`` builds the request context as it does in a real
deployment.
"""

import json

WARNING = ('WARNING: the sandbox API trusts any "user:project" token and is '
           'for local use only; it listens on 127.0.0.1 and must never be '
           'exposed.')

# Headers a client could send to impersonate someone; authtoken strips them
# too before setting its own.
_IDENTITY_KEYS = ('HTTP_X_USER_ID', 'HTTP_X_USER_NAME', 'HTTP_X_USER',
                  'HTTP_X_PROJECT_ID', 'HTTP_X_PROJECT_NAME',
                  'HTTP_X_TENANT_ID', 'HTTP_X_TENANT_NAME', 'HTTP_X_TENANT',
                  'HTTP_X_ROLES', 'HTTP_X_ROLE', 'HTTP_X_IDENTITY_STATUS',
                  'HTTP_X_SERVICE_CATALOG', 'HTTP_X_IS_ADMIN_PROJECT')


def parse_token(token):
    """Split a sandbox token into its identity.

    :param token: the ``X-Auth-Token`` value, ``user:project``.
    :returns: ``(user, project, roles)`` or None when malformed.
    """
    if not token or token.count(':') != 1:
        return None
    user, project = token.split(':')
    if not user or not project:
        return None
    roles = ['reader', 'member']
    if user == 'admin':
        roles.append('admin')
    return user, project, roles


class TokenAuthFilter(object):
    """WSGI filter turning a ``user:project`` token into identity headers.

    :param app: the next WSGI application in the pipeline.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        for key in _IDENTITY_KEYS:
            environ.pop(key, None)
        ident = parse_token(environ.get('HTTP_X_AUTH_TOKEN'))
        if ident is None:
            return self._unauthorized(start_response)
        user, project, roles = ident
        environ.update({
            'HTTP_X_IDENTITY_STATUS': 'Confirmed',
            'HTTP_X_USER_ID': user, 'HTTP_X_USER_NAME': user,
            'HTTP_X_PROJECT_ID': project, 'HTTP_X_PROJECT_NAME': project,
            'HTTP_X_USER_DOMAIN_ID': 'default',
            'HTTP_X_PROJECT_DOMAIN_ID': 'default',
            'HTTP_X_ROLES': ','.join(roles),
        })
        return self.app(environ, start_response)

    @staticmethod
    def _unauthorized(start_response):
        body = json.dumps({'error': {
            'code': 401, 'title': 'Unauthorized',
            'message': 'The sandbox expects X-Auth-Token: user:project'}})
        start_response('401 Unauthorized',
                       [('Content-Type', 'application/json'),
                        ('Content-Length', str(len(body)))])
        return [body.encode()]


def filter_factory(global_conf, **local_conf):
    """Paste filter factory with authtoken's signature.

    :param global_conf: paste's global configuration (unused).
    :param local_conf: the filter's own options (unused).
    :returns: a callable wrapping an app in ``TokenAuthFilter``.
    """
    return TokenAuthFilter
