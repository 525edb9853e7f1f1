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
"""The one place the pypowervm ``Session`` and ``Adapter`` are built.

``ConnectionInfo.from_conf`` snapshots the ``[powervm]`` connection options
(several computes in one process may each have their own), and
``connect`` logs on, retrying for at most ``pvm_connect_timeout`` seconds
and stopping early when asked to.  Passwords never reach logs or errors.

pypowervm opens a new ``requests.Session`` (so a new TCP, and with https a
new TLS, connection) for every request and closes it.  ``_Session`` keeps
HTTP keep-alive connections instead: one pool per logon session, shared
by all its threads, each thread with its own ``requests.Session`` on that
pool (see ``_Transport``).
"""

import dataclasses
import threading
import time
import urllib.parse

from oslo_config import cfg
from oslo_log import log as logging
from pypowervm import adapter as pvm_adpt
from pypowervm import exceptions as pvm_exc
from pypowervm.helpers import log_helper as pvm_log
from pypowervm.helpers import sample_helper as pvm_sample
from pypowervm.helpers import vios_busy as pvm_busy
import requests
from requests import adapters as rq_adapters
import urllib3

from nova_powervm import exception as exc
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import redact

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Seconds between logon attempts while the REST server is not up.
RETRY_INTERVAL = 2.0
# Longest wait for one logon reply (a hung server must not outlast
# pvm_connect_timeout).
LOGON_TIMEOUT = 60.0
# Request timeout of the session once logged on (pypowervm's default; the
# event feed long-poll uses it too).
SESSION_TIMEOUT = 1200


class _NoResponse(Exception):
    """Carries a pypowervm error without a response past a helper."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


def sample_retry_helper(func):
    """pypowervm's ``sample_retry_helper``, safe for errors without reply.

    pypowervm's reads ``error.response.body`` of every error: a timed-out
    request or a lost connection (no response) became an AttributeError
    instead of the pypowervm error naming the request.

    :param func: the Adapter request method to call.
    """
    def call(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except pvm_exc.Error as error:
            if error.response is None:
                raise _NoResponse(error)
            raise

    retrying = pvm_sample.sample_retry_helper(call)

    def wrapper(*args, **kwargs):
        try:
            return retrying(*args, **kwargs)
        except _NoResponse as wrapped:
            raise wrapped.error

    return wrapper


_ADAPTER_HELPERS = [pvm_log.log_helper, pvm_busy.vios_busy_retry_helper,
                    sample_retry_helper]


@dataclasses.dataclass(frozen=True)
class ConnectionInfo:
    """Where and how to reach the NovaLink REST API.

    :param host: REST server host.
    :param port: TCP port, or None for the protocol's default.
    :param protocol: 'http', 'https' or None (http for file logon, https
                     for password logon).
    :param user: user for password logon; None for local file logon.
    :param password: password for password logon (never shown by repr).
    :param certpath: CA bundle to verify the server with https, or None.
    :param connect_timeout: seconds to keep trying to log on.
    """

    host: str
    port: int = None
    protocol: str = None
    user: str = None
    password: str = dataclasses.field(default=None, repr=False)
    certpath: str = None
    connect_timeout: int = 600

    @classmethod
    def from_conf(cls, conf=CONF):
        """Snapshot the ``[powervm]`` connection options.

        :param conf: the ``ConfigOpts`` to read.
        """
        grp = conf.powervm
        return cls(host=grp.pvm_host, port=grp.pvm_port,
                   protocol=grp.pvm_protocol, user=grp.pvm_user,
                   password=grp.pvm_password, certpath=grp.pvm_certpath,
                   connect_timeout=grp.pvm_connect_timeout)

    @property
    def file_auth(self):
        """Whether local file based logon is used."""
        return self.password is None

    @property
    def dest(self):
        """``protocol://host:port`` as pypowervm will use it (no secret)."""
        proto = self.protocol or ('http' if self.file_auth else 'https')
        port = self.port or (12080 if proto == 'http' else 12443)
        host = ('[%s]' % self.host if ':' in self.host
                and not self.host.startswith('[') else self.host)
        return '%s://%s:%d' % (proto, host, port)


# Kept-alive connections to NovaLink per logon session: more concurrent
# requests than this still work (the extra connections are closed after
# use instead of kept).
POOL_SIZE = 32


class _ThreadSession(requests.Session):
    """One thread's ``requests.Session`` on a shared connection pool.

    pypowervm sets ``verify`` and calls ``close`` around every request on
    the session it was given; ``close`` here keeps the connections and
    only forgets cookies, so no request carries state from an earlier one
    (as with pypowervm's fresh session per request).

    :param adapter: the shared ``HTTPAdapter`` (thread safe pool).
    """

    def __init__(self, adapter):
        super().__init__()
        self.mount('https://', adapter)
        self.mount('http://', adapter)
        self._env_settings = {}
        self.hooks['response'].append(_xml_is_utf8)

    def merge_environment_settings(self, url, proxies, stream, verify,
                                   cert):
        """requests' own result, read from the environment once.

        requests walks the whole process environment twice per request
        (proxy variables) and reads the CA bundle variables: about a
        tenth of the driver's CPU per spawn.  The environment of a
        compute service does not change, so the result is kept per
        server and arguments (pypowervm never passes proxies).
        """
        if proxies:
            return super().merge_environment_settings(
                url, proxies, stream, verify, cert)
        parts = urllib.parse.urlsplit(url)
        key = (parts.scheme, parts.netloc, stream, verify, cert,
               self.verify)
        found = self._env_settings.get(key)
        if found is None:
            found = self._env_settings[key] = (
                super().merge_environment_settings(
                    url, proxies, stream, verify, cert))
        return dict(found, proxies=dict(found['proxies']))

    def close(self):
        self.cookies.clear()


def _xml_is_utf8(response, *args, **kwargs):
    """Decode NovaLink's XML replies as UTF-8 (XML's default).

    Without a charset in an ``application/*`` Content-Type requests
    guesses the encoding of every reply's ``text`` with a character
    detector, which costs CPU and may guess wrong.
    """
    ctype = response.headers.get('Content-Type', '')
    if response.encoding is None and 'xml' in ctype:
        response.encoding = 'utf-8'
    return response


class _Transport(object):
    """Keep-alive HTTP(S) connections of one logon session.

    urllib3's pool is thread safe, ``requests.Session`` is not: every
    thread gets its own ``_ThreadSession`` on the one pool.
    """

    def __init__(self, size=POOL_SIZE):
        self.adapter = rq_adapters.HTTPAdapter(pool_connections=2,
                                               pool_maxsize=size)
        self._local = threading.local()

    def session(self):
        """The calling thread's ``requests.Session`` on the pool."""
        sess = getattr(self._local, 'session', None)
        if sess is None:
            sess = self._local.session = _ThreadSession(self.adapter)
        return sess

    def close(self):
        """Close the pooled connections (they reopen if used again)."""
        self.adapter.close()

    @staticmethod
    def usable():
        """False while the HTTP transport is replaced (wsgi-intercept).

        wsgi-intercept's fake connections serve one request each: they
        cannot be kept alive.
        """
        pools = urllib3.connectionpool
        return (pools.HTTPConnectionPool.ConnectionCls is
                urllib3.connection.HTTPConnection and
                pools.HTTPSConnectionPool.ConnectionCls is
                urllib3.connection.HTTPSConnection)


# The transport of the _Session request running in this thread, if any.
_ACTIVE = threading.local()


class _RequestsSeam(object):
    """``requests`` as pypowervm's adapter module sees it.

    pypowervm's ``Session.request`` calls ``requests.Session()`` for every
    request; inside a ``_Session.request`` that call returns the thread's
    pooled session instead.  Anything else is the real ``requests``.
    Guarded by test_session.TestPrivateSeams and the connection counting
    tests of test_keepalive.
    """

    def __init__(self, real):
        self._real = real

    def __getattr__(self, name):
        return getattr(self._real, name)

    def Session(self):  # noqa: N802 (the name pypowervm calls)
        transport = getattr(_ACTIVE, 'transport', None)
        if transport is None:
            return self._real.Session()
        return transport.session()


_SEAM_LOCK = threading.Lock()


def _install_seam():
    with _SEAM_LOCK:
        if not isinstance(pvm_adpt.requests, _RequestsSeam):
            pvm_adpt.requests = _RequestsSeam(pvm_adpt.requests)


class _Session(pvm_adpt.Session):
    """pypowervm Session with kept-alive connections and a CA bundle.

    pypowervm itself only pins a per-host certificate at logon and sends
    every later request unverified; with ``pvm_certpath`` set, every
    request is verified against that bundle.  Requests reuse the
    connections of ``_Transport``; everything else (headers, the
    X-API-Session token, relogin on 401, timeouts, uploads and downloads,
    error translation, what is logged) is pypowervm's own ``request``.
    """

    def __init__(self, ca_bundle=None, **kwargs):
        self._ca_bundle = ca_bundle
        self._transport = _Transport()
        _install_seam()
        super().__init__(**kwargs)

    def request(self, method, path, *args, **kwargs):
        if self._ca_bundle and self.protocol == 'https':
            kwargs['verify'] = self._ca_bundle
        outer = getattr(_ACTIVE, 'transport', None)
        _ACTIVE.transport = (self._transport if _Transport.usable()
                             else None)
        try:
            return super().request(method, path, *args, **kwargs)
        finally:
            _ACTIVE.transport = outer

    def close_connections(self):
        """Close the kept-alive connections (after logging off)."""
        self._transport.close()


def _new_session(info, logon_timeout):
    sess = _Session(
        ca_bundle=info.certpath, host=info.host, username=info.user,
        password=info.password, protocol=info.protocol, port=info.port,
        certpath=None, conn_tries=1, timeout=logon_timeout)
    sess.timeout = SESSION_TIMEOUT
    return sess


def _retryable(error):
    """Errors that mean "the REST server is not up yet"."""
    if isinstance(error, (pvm_exc.ConnectionError, pvm_exc.TimeoutError)):
        return True
    if isinstance(error, pvm_exc.HttpError):
        status = getattr(error.response, 'status', None)
        return status in (404, 500, 502, 503, 504)
    return False


def connect(info, stop_event=None, clock=time.monotonic):
    """Log on to NovaLink and return a ready ``Adapter``.

    Retries every ``RETRY_INTERVAL`` seconds while the server is not
    reachable, for at most ``info.connect_timeout`` seconds.  A refused
    logon (bad credentials) fails at once.

    :param info: ``ConnectionInfo``.
    :param stop_event: optional ``threading.Event``; when set, waiting stops
                       and ``NovaLinkNotReachable`` is raised.
    :param clock: monotonic clock (tests).
    :returns: pypowervm ``Adapter``.
    :raises NovaLinkNotReachable: on timeout, stop or refused logon.
    """
    redact.install()
    stop_event = stop_event or threading.Event()
    deadline = clock() + info.connect_timeout
    while True:
        remaining = deadline - clock()
        try:
            session = _new_session(
                info, max(1.0, min(LOGON_TIMEOUT, remaining)))
            break
        except pvm_exc.Error as error:
            reason = errors.safe_text(error)
            remaining = deadline - clock()
            if not _retryable(error) or remaining <= 0:
                raise exc.NovaLinkNotReachable(
                    dest=info.dest, timeout=info.connect_timeout,
                    reason=reason)
            LOG.warning('NovaLink REST API at %(dest)s not ready '
                        '(%(reason)s); retrying for %(left)d more seconds.',
                        {'dest': info.dest, 'reason': reason,
                         'left': remaining})
            if stop_event.wait(min(RETRY_INTERVAL, remaining)):
                raise exc.NovaLinkNotReachable(
                    dest=info.dest, timeout=info.connect_timeout,
                    reason='stopped while waiting')
    LOG.info('Logged on to the NovaLink REST API at %s.', info.dest)
    return pvm_adpt.Adapter(session, helpers=list(_ADAPTER_HELPERS))


def close(adapter):
    """Stop the event listener and log off (best effort).

    :param adapter: the ``Adapter`` from ``connect``; None is ignored.
    """
    if adapter is None:
        return
    sess = adapter.session
    try:
        if sess.has_event_listener:
            sess.get_event_listener().shutdown()
    finally:
        # pypowervm has no public log off: Session._logoff is what its own
        # __del__ calls.  Waiting for garbage collection would leave the
        # NovaLink session open for an unknown time.  Guarded by
        # test_session.TestPrivateSeams.
        try:
            sess._logoff()
        finally:
            if isinstance(sess, _Session):
                sess.close_connections()


def prime_sys_uuid(adapter, sys_uuid):
    """Tell the adapter the ManagedSystem UUID it would otherwise GET.

    ``Adapter.sys_uuid`` reads the ManagedSystem feed on first use; the
    driver has just read it, so it sets pypowervm's private ``_sys_uuid``
    (there is no public setter).  Guarded by test_session.TestPrivateSeams.

    :param adapter: pypowervm ``Adapter``.
    :param sys_uuid: the ManagedSystem UUID.
    """
    adapter._sys_uuid = sys_uuid


def event_poll_thread(listener):
    """The thread behind a pypowervm ``EventListener``, or None.

    pypowervm does not expose it, but stopping the driver must wait for
    the long poll to end so no thread outlives ``cleanup_host``.  Guarded
    by test_session.TestPrivateSeams.

    :param listener: pypowervm ``EventListener``.
    """
    return getattr(listener, '_pthread', None)
