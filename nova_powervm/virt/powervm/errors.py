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
"""The one place where pypowervm errors become nova errors.

This module and ``session.py`` (which must tell a refused logon from a
server that is not up yet) are the only modules that import
``pypowervm.exceptions``; the project's hacking check N903 enforces it.

Translation happens at the boundary by construction:

* every flow task (``tasks.base.PowerVMTask``) runs its ``execute`` inside
  :class:`translate`, named after the task;
* every public method of the driver runs inside :class:`translate` too
  (:func:`translating`), so nothing from pypowervm reaches nova;
* the modules that talk to pypowervm add context where it helps the user
  (which instance, which operation), with the same :class:`translate`::

    with errors.translate('power on', instance=instance):
        ...

  and a delete that may find its object gone already uses
  :func:`ignore_missing`.

nova exceptions raised inside pass through untouched; pypowervm exceptions
become the closest nova exception, with a message that never carries a
password or session token.
"""

import contextlib
import functools

from nova import exception as nova_exc
from oslo_log import log as logging
from oslo_utils import strutils
from pypowervm import exceptions as pvm_exc

from nova_powervm import exception as exc

LOG = logging.getLogger(__name__)

# HTTP statuses with their own nova exception.
_NOT_FOUND = 404
_TIMEOUT = 408
_PRECONDITION_FAILED = 412
_UNAVAILABLE = 503
_GATEWAY_TIMEOUT = 504


def safe_text(error):
    """Text of an exception with anything that looks like a secret masked.

    :param error: an exception (or any object).
    :returns: str.
    """
    return strutils.mask_password(str(error))


def _instance_id(instance):
    if instance is None:
        return None
    return getattr(instance, 'uuid', instance)


def http_status(error):
    """The HTTP status of a pypowervm error, or None.

    :param error: any exception.
    """
    response = getattr(error, 'response', None)
    return getattr(response, 'status', None)


def is_missing(error):
    """Whether an error says the object does not exist (HTTP 404).

    :param error: any exception.
    """
    return (isinstance(error, pvm_exc.HttpNotFound) or
            isinstance(error, pvm_exc.HttpError) and
            http_status(error) == _NOT_FOUND)


def _is_vios_busy(error):
    her = getattr(error, 'her_wrap', None)
    if her is None:
        return False
    try:
        return bool(her.is_vios_busy())
    except Exception:  # a malformed error body is not busy
        return False


def _first_wrapped(error):
    """The first exception a FeedTask gathered, if there were several."""
    failures = getattr(error, 'wrapped_failure', None) or ()
    for failure in failures:
        inner = getattr(failure, 'exception', None)
        if inner is not None:
            return inner
    return None


def _from_http(error, operation, reason, inst_id):
    status = http_status(error)
    if status == _NOT_FOUND:
        if inst_id is not None:
            return nova_exc.InstanceNotFound(instance_id=inst_id)
        return exc.PowerVMNotFound(operation=operation, reason=reason)
    if status in (_TIMEOUT, _GATEWAY_TIMEOUT):
        return exc.PowerVMTimeout(operation=operation, reason=reason)
    if status == _PRECONDITION_FAILED:
        return exc.PowerVMConflict(operation=operation, reason=reason)
    if _is_vios_busy(error) or status == _UNAVAILABLE:
        return exc.VIOSBusy(operation=operation, reason=reason)
    return exc.PowerVMAPIFailed(operation=operation, reason=reason)


def to_nova(error, operation, instance=None):
    """Map one pypowervm exception to a nova exception.

    ==============================  ========================================
    pypowervm error                 nova exception
    ==============================  ========================================
    HTTP 404, instance given        ``InstanceNotFound``
    HTTP 404                        ``PowerVMNotFound``
    HTTP 408 or 504, no reply       ``PowerVMTimeout``
    HTTP 412 (retries ran out)      ``PowerVMConflict``
    HTTP 503, "VIOS busy"           ``VIOSBusy``
    other HTTP errors               ``PowerVMAPIFailed``
    job ended in error              ``PowerVMJobFailed``
    job timed out                   ``PowerVMJobTimedOut``
    power on failed / timed out     ``InstancePowerOnFailure``
    power off failed / timed out    ``InstancePowerOffFailure``
    connection or TLS failure       ``HypervisorUnavailable``
    anything else from pypowervm    ``PowerVMAPIFailed``
    ==============================  ========================================

    Several failures gathered by a FeedTask are translated by the first.

    :param error: the pypowervm exception.
    :param operation: short text of what was being done ("power off").
    :param instance: nova ``Instance`` (or a UUID) concerned, if any.
    :returns: a nova exception instance (not raised).
    """
    inner = _first_wrapped(error)
    if isinstance(inner, pvm_exc.Error):
        return to_nova(inner, operation, instance)
    if isinstance(inner, nova_exc.NovaException):
        return inner
    reason = safe_text(error)
    inst_id = _instance_id(instance)
    if isinstance(error, pvm_exc.HttpError):
        return _from_http(error, operation, reason, inst_id)
    if isinstance(error, pvm_exc.VMPowerOnFailure):
        return nova_exc.InstancePowerOnFailure(reason=reason)
    if isinstance(error, (pvm_exc.VMPowerOffFailure,
                          pvm_exc.OSShutdownNoRMC)):
        return nova_exc.InstancePowerOffFailure(reason=reason)
    if isinstance(error, pvm_exc.JobRequestTimedOut):
        return exc.PowerVMJobTimedOut(operation=operation, reason=reason)
    if isinstance(error, pvm_exc.JobRequestFailed):
        return exc.PowerVMJobFailed(operation=operation, reason=reason)
    if isinstance(error, pvm_exc.TimeoutError):
        return exc.PowerVMTimeout(operation=operation, reason=reason)
    if isinstance(error, (pvm_exc.ConnectionError, pvm_exc.SSLError)):
        return nova_exc.HypervisorUnavailable()
    return exc.PowerVMAPIFailed(operation=operation, reason=reason)


def is_pypowervm_error(error):
    """Whether an exception comes from pypowervm.

    :param error: any exception.
    """
    return isinstance(error, pvm_exc.Error)


class translate(contextlib.ContextDecorator):
    """Context manager / decorator translating pypowervm errors.

    :param operation: short text of the operation, used in messages.
    :param instance: nova ``Instance`` (or UUID) concerned, if any; with it
                     a 404 becomes ``InstanceNotFound``.
    """

    def __init__(self, operation, instance=None):
        self.operation = operation
        self.instance = instance

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, tb):
        if exc_value is None or not isinstance(exc_value, pvm_exc.Error):
            return False
        nova_error = to_nova(exc_value, self.operation, self.instance)
        LOG.debug('PowerVM error during %(op)s: %(err)s',
                  {'op': self.operation, 'err': safe_text(exc_value)})
        raise nova_error from exc_value


@contextlib.contextmanager
def ignore_missing():
    """Treat "not found" (HTTP 404) as success, for deletes.

    Either form of the error is swallowed: pypowervm's ``HttpNotFound`` and
    a translated ``InstanceNotFound``/``PowerVMNotFound``.
    """
    try:
        yield
    except (nova_exc.InstanceNotFound, exc.PowerVMNotFound):
        pass
    except pvm_exc.Error as error:
        if not is_missing(error):
            raise


def translating(cls):
    """Class decorator: run every public method inside :class:`translate`.

    The operation named in messages is the method's name.  Methods whose
    name starts with ``_`` and properties are left alone.

    :param cls: the class to decorate (the driver).
    :returns: ``cls``.
    """
    for name, attr in list(vars(cls).items()):
        if name.startswith('_') or not callable(attr):
            continue
        if isinstance(attr, (staticmethod, classmethod, type)):
            continue
        setattr(cls, name, _translated_method(name, attr))
    return cls


def _translated_method(name, method):
    operation = name.replace('_', ' ')

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with translate(operation):
            return method(*args, **kwargs)
    return wrapper
