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
"""The Event long-poll feed: one queue per application id."""

import collections
import itertools
import threading
import time
import uuid as uuidlib

from nova_powervm.simulator import templates
from nova_powervm.simulator import xmlutil as xu

MAX_QUEUE = 10000


class EventBus(object):
    """Per-application-id event queues with blocking reads.

    :param timeout: how long a poll blocks when nothing is queued.
    """

    def __init__(self, timeout=10.0):
        self.timeout = timeout
        self._cond = threading.Condition()
        self._queues = {}
        self._ids = itertools.count(int(time.time() * 1000))
        self._closed = False

    def emit(self, etype, data, detail=''):
        """Queue an event for every application id.

        :param etype: EventType (ADD_URI, MODIFY_URI, ...).
        :param data: EventData (usually an object href).
        :param detail: EventDetail text.
        """
        with self._cond:
            event = (etype, next(self._ids), data, detail or '')
            for queue in self._queues.values():
                if len(queue) >= MAX_QUEUE:
                    queue.clear()
                    queue.append(('MISSING_EVENTS', next(self._ids), '', ''))
                queue.append(event)
            self._cond.notify_all()

    def poll(self, appid, timeout=None):
        """Events for ``appid``; blocks up to ``timeout`` when none.

        A new application id gets ``NEW_CLIENT`` at once.

        :param appid: the QUEUE_APPLICATIONID (None: a shared anonymous id).
        :param timeout: seconds to block (default: the bus timeout).
        :returns: a list of (type, id, data, detail) tuples.
        """
        appid = appid or '_anonymous'
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        with self._cond:
            if appid not in self._queues:
                self._queues[appid] = collections.deque()
                return [('NEW_CLIENT', next(self._ids), '', '')]
            queue = self._queues[appid]
            while not queue and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            events = list(queue)
            queue.clear()
            return events

    def close(self):
        """Wake every waiting poll (used at shutdown)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


def event_element(etype, eid, data, detail):
    """An ``Event`` object element shaped like the capture.

    :param etype: EventType.
    :param eid: EventID.
    :param data: EventData.
    :param detail: EventDetail.
    """
    elem = templates.capture_kind('Event')
    uuid = str(uuidlib.uuid4())
    templates.set_atom_id(elem, uuid)
    xu.set_text(elem, 'EventType', etype)
    xu.set_text(elem, 'EventID', eid)
    xu.set_text(elem, 'EventData', data or None)
    xu.set_text(elem, 'EventDetail', detail or None)
    return uuid, elem
