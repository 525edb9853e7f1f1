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
"""What every PowerVM flow task shares."""

import functools

from oslo_log import log as logging
from taskflow import task

from nova_powervm.virt.powervm import errors

LOG = logging.getLogger(__name__)


class PowerVMTask(task.Task):
    """A flow task about one instance.

    Subclasses implement ``execute`` and ``revert``.  Every subclass's
    ``execute`` runs inside ``errors.translate`` (named after the task), so
    no pypowervm exception leaves a flow untranslated.  A revert cleans up
    what its ``execute`` created; it logs a failure and lets the other
    reverts run (:meth:`best_effort`), so one failed cleanup does not leave
    everything else behind.

    :param instance: nova ``Instance``.
    :param name: task name (unique within its flow).
    :param provides: name(s) of the result.
    :param requires: names of inputs besides ``execute``'s arguments.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        execute = cls.__dict__.get('execute')
        if execute is not None:
            cls.execute = _translating(execute)

    def __init__(self, instance, name, provides=None, requires=None,
                 **kwargs):
        self.instance = instance
        super().__init__(name=name, provides=provides, requires=requires,
                         **kwargs)

    def best_effort(self, what, func, *args, **kwargs):
        """Run a cleanup step; log (never raise) its failure.

        :param what: text naming the step, for the log.
        :param func: callable to run.
        :returns: what ``func`` returns, or None when it failed.
        """
        try:
            return func(*args, **kwargs)
        except Exception:
            LOG.exception('Revert step "%s" failed; continuing.', what,
                          instance=self.instance)
            return None


def _translating(execute):
    """``execute`` inside ``errors.translate`` named after the task."""
    @functools.wraps(execute)
    def wrapper(self, *args, **kwargs):
        with errors.translate(self.name.replace('_', ' '),
                              instance=None):
            return execute(self, *args, **kwargs)
    return wrapper
