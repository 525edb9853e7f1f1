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
"""Fault injection: the ``/sim/faults`` specs and their matching."""

import re
import threading

KINDS = ('http', 'vios_busy', 'etag_conflict', 'job_fail', 'hang',
         'restart')
_FIELDS = ('method', 'path', 'kind', 'status', 'count', 'job', 'message',
           'seconds', 'skip')


class Faults(object):
    """Active fault specs (the ``/sim/faults`` schema)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._specs = []
        self.cleared = threading.Event()

    def add(self, **spec):
        """Add a fault.

        :param spec: method, path, kind, status, count, job, message,
            seconds (hang duration), skip (matching requests or jobs let
            through before the fault applies).
        :raises ValueError: on a bad spec.
        """
        unknown = sorted(set(spec) - set(_FIELDS))
        if unknown:
            raise ValueError('unknown fault field(s): %s'
                             % ', '.join(unknown))
        kind = spec.get('kind', 'http')
        if kind not in KINDS:
            raise ValueError('kind must be one of %s' % ', '.join(KINDS))
        if kind == 'job_fail' and not spec.get('job'):
            raise ValueError('job_fail needs "job"')
        try:
            path = re.compile(spec.get('path', '.*'))
        except re.error as exc:
            raise ValueError('path is not a regular expression: %s' % exc)
        full = {'method': spec.get('method', '*').upper(),
                'path': path,
                'kind': kind, 'status': int(spec.get('status', 500)),
                'count': int(spec.get('count', 1)),
                'job': spec.get('job'), 'message': spec.get('message'),
                'seconds': float(spec.get('seconds', 600)),
                'skip': int(spec.get('skip', 0))}
        if not 100 <= full['status'] <= 599:
            raise ValueError('status must be an HTTP status (100-599)')
        if not 0 <= full['seconds'] <= 3600:
            raise ValueError('seconds must be between 0 and 3600')
        if full['message'] is not None and not isinstance(
                full['message'], str):
            raise ValueError('message must be a string')
        with self._lock:
            self.cleared.clear()
            self._specs.append(full)
        return self.describe(full)

    @staticmethod
    def describe(spec):
        """JSON-able form of a spec.

        :param spec: an internal spec dict.
        """
        out = dict(spec)
        out['path'] = spec['path'].pattern
        return out

    def list(self):
        """All active faults (JSON-able)."""
        with self._lock:
            return [self.describe(s) for s in self._specs]

    def clear(self):
        """Remove every fault and release hung requests."""
        with self._lock:
            self._specs = []
        self.cleared.set()

    def _take(self, spec):
        if spec.get('skip', 0) > 0:
            spec['skip'] -= 1
            return False
        if spec['count'] == 0:
            return False
        if spec['count'] > 0:
            spec['count'] -= 1
            if spec['count'] == 0:
                self._specs.remove(spec)
        return True

    def match(self, method, path):
        """The first request fault matching, consumed, or None.

        :param method: HTTP method.
        :param path: request path.
        """
        with self._lock:
            for spec in list(self._specs):
                if spec['kind'] == 'job_fail':
                    continue
                if spec['method'] not in ('*', method):
                    continue
                if spec['path'].search(path) and self._take(spec):
                    return dict(spec)
        return None

    def job_fault(self, operation):
        """Failure message for a job operation, consumed, or None.

        :param operation: the job operation name.
        """
        with self._lock:
            for spec in list(self._specs):
                if (spec['kind'] == 'job_fail' and spec['job'] == operation
                        and self._take(spec)):
                    return spec['message'] or (
                        'HSCL0000 Injected failure of %s' % operation)
        return None
