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
"""Request statistics: counts of ``/rest/api`` requests by pattern."""

import collections
import re
import threading

#: Distinct patterns kept; more (random paths of a hostile client) are
#: counted under ``<METHOD> {other}`` so the counters stay bounded.
MAX_PATTERNS = 2000
#: Requests the ordered request log keeps (the latest ones).
LOG_SIZE = 10000
_METHODS = ('GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH')
_UUID = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
                   r'[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')


def pattern(path):
    """Normalize a REST path for statistics.

    :param path: the request path (no query).
    """
    segs = path.split('/')
    out = []
    prev = None
    for seg in segs:
        if _UUID.match(seg):
            seg = '{uuid}'
        elif prev == 'jobs' and seg.isdigit():
            seg = '{id}'
        elif prev == 'quick' or prev == 'search':
            seg = '{prop}' if prev == 'quick' else '{query}'
        elif seg.endswith('.json'):
            seg = '{file}'
        out.append(seg)
        prev = segs[len(out) - 1]
    return '/'.join(out)


class Stats(object):
    """Counts of ``/rest/api`` requests."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        """Zero every counter."""
        with self._lock:
            self.total = 0
            self.by_method = collections.Counter()
            self.by_pattern = collections.Counter()
            self.log = collections.deque(maxlen=LOG_SIZE)

    def count(self, method, path):
        """Count one request.

        :param method: HTTP method.
        :param path: the request path.
        """
        if method not in _METHODS:
            method = 'OTHER'
        key = '%s %s' % (method, pattern(path))
        with self._lock:
            if key not in self.by_pattern and \
                    len(self.by_pattern) >= MAX_PATTERNS:
                key = '%s {other}' % method
            self.total += 1
            self.by_method[method] += 1
            self.by_pattern[key] += 1
            self.log.append(key)

    def requests(self):
        """The patterns of the latest requests, in arrival order.

        ``<METHOD> <pattern>`` strings (as in ``by_pattern``), at most
        ``LOG_SIZE``; the fault matrix replays a flow's steps from it.
        """
        with self._lock:
            return list(self.log)

    def as_dict(self):
        """The ``/sim/stats`` JSON."""
        with self._lock:
            return {'total': self.total, 'by_method': dict(self.by_method),
                    'by_pattern': dict(self.by_pattern)}
