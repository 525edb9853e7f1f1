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

Use ``translate`` as a context manager or a decorator around code that
talks to pypowervm::

    with errors.translate('power on', instance=instance):
        power.PowerOp.start(lpar_w)

    @errors.translate('list partitions')
    def list_lpars(adapter): ...

nova exceptions raised inside pass through untouched; pypowervm exceptions
become the closest nova exception, with a message that never carries a
password or session token.
"""

import contextlib

from nova import exception as nova_exc
from oslo_log import log as logging
from oslo_utils import strutils
from pypowervm import exceptions as pvm_exc

from nova_powervm import exception as exc

LOG = logging.getLogger(__name__)


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


def to_nova(error, operation, instance=None):
    """Map one pypowervm exception to a nova exception.

    :param error: the pypowervm exception.
    :param operation: short text of what was being done ("power off").
    :param instance: nova ``Instance`` (or a UUID) concerned, if any.
    :returns: a nova exception instance (not raised).
    """
    reason = safe_text(error)
    inst_id = _instance_id(instance)
    if isinstance(error, pvm_exc.HttpNotFound) and inst_id is not None:
        return nova_exc.InstanceNotFound(instance_id=inst_id)
    if isinstance(error, (pvm_exc.VMPowerOnFailure,)):
        return nova_exc.InstancePowerOnFailure(reason=reason)
    if isinstance(error, (pvm_exc.VMPowerOffFailure,
                          pvm_exc.OSShutdownNoRMC)):
        return nova_exc.InstancePowerOffFailure(reason=reason)
    if isinstance(error, (pvm_exc.ConnectionError, pvm_exc.SSLError)):
        return nova_exc.HypervisorUnavailable()
    return exc.PowerVMAPIFailed(operation=operation, reason=reason)


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
