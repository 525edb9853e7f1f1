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
"""Job framework: templates, requests, polling, results and failures.

Operations are listed in :data:`nova_powervm.simulator.resources.JOBS`
and looked up in the Simulator's registry.  An operation function receives
the simulator, the target :class:`~nova_powervm.simulator.model.Obj` (or
None for root-level jobs) and the parameters as a dict, runs under the
store lock, and returns a dict of result parameters (or an
:class:`Outside` for a step that must run without the lock) or raises
:class:`JobFailed`.
"""

import itertools
import threading
import time

from nova_powervm.simulator import registry
from nova_powervm.simulator import templates
from nova_powervm.simulator import xmlutil as xu


class JobFailed(Exception):
    """A job ends with ``FAILED_BEFORE_COMPLETION`` and this message.

    :param message: the error (the ``result`` of the job's Results).
    :param results: result parameters the failed job reports too (as a
        VIOS command's return code and output).
    :param status: the job status (``COMPLETED_WITH_ERROR`` for a
        command that ran and failed).
    """

    def __init__(self, message, results=None,
                 status='FAILED_BEFORE_COMPLETION'):
        super(JobFailed, self).__init__(message)
        self.results = results or {}
        self.status = status


class Outside(object):
    """What a handler returns when its slow step must not hold the lock.

    :param work: callable run without the store lock; may raise
        :class:`JobFailed`.
    :param finish: callable taking that JobFailed (or None), run under
        the store lock; returns the result dict or raises JobFailed.
    :param background: run ``work`` and ``finish`` on a thread of their
        own: the job stays RUNNING meanwhile and every poll answers at
        once (a live migration that takes a while and can be aborted).
    """

    def __init__(self, work, finish, background=False):
        self.work = work
        self.finish = finish
        self.background = background


def _millis():
    return str(int(time.time() * 1000))


class JobManager(object):
    """Holds submitted jobs and advances them.

    :param sim: the Simulator.
    """

    def __init__(self, sim):
        self.sim = sim
        self._jobs = {}
        self._ids = itertools.count(int(time.time() * 1000))
        self._lock = threading.Lock()

    def template(self, group, op):
        """The JobRequest template for an operation.

        :param group: the root type.
        :param op: the operation name.
        """
        self.sim.registry.operation(group, op)
        elem = templates.capture_kind('JobRequest')
        xu.set_text(elem, 'RequestedOperation/OperationName', op, ns=xu.WEB)
        xu.set_text(elem, 'RequestedOperation/GroupName', group, ns=xu.WEB)
        params = xu.find(elem, 'JobParameters', ns=xu.WEB)
        for child in list(params):
            params.remove(child)
        return elem

    def submit(self, group, uuid, op, request, url):
        """Start a job from a client JobRequest element.

        :param group: the root type from the path.
        :param uuid: the target UUID or None.
        :param op: the operation name.
        :param request: the cleaned JobRequest element.
        :param url: the request path (for RequestURL).
        """
        self.sim.registry.operation(group, op)
        params = {}
        for parm in xu.findall(request, 'JobParameters/JobParameter',
                               ns=xu.WEB):
            params[xu.text(parm, 'ParameterName', ns=xu.WEB)] = (
                xu.text(parm, 'ParameterValue', '', ns=xu.WEB))
        job_id = str(next(self._ids))
        job = {'id': job_id, 'group': group, 'uuid': uuid, 'op': op,
               'params': params, 'request': request, 'url': url,
               'started': _millis(), 'status': 'RUNNING',
               'due': time.monotonic() + self.sim.job_seconds,
               'results': {}, 'error': None}
        with self._lock:
            self._jobs[job_id] = job
        self._advance(job)
        return self.render(job)

    def _advance(self, job):
        if (job['status'] != 'RUNNING' or job.get('busy') or
                time.monotonic() < job['due']):
            return
        with self.sim.store.lock:
            if job['status'] != 'RUNNING' or job.get('busy'):
                return
            outside = self._run(job, lambda: self._start(job))
            if outside is None:
                return
            job['busy'] = True
        if outside.background:
            threading.Thread(target=self._outside, args=(job, outside),
                             daemon=True).start()
            return
        self._outside(job, outside)

    def _outside(self, job, outside):
        # The slow part (a peer over HTTP...) runs without the store lock,
        # so the host keeps answering meanwhile.
        error = None
        try:
            outside.work()
        except JobFailed as exc:
            error = exc
        except Exception:
            with self.sim.store.lock:
                job['busy'] = False
                self._end(job, 'FAILED_BEFORE_COMPLETION',
                          'Internal simulator error')
            raise
        with self.sim.store.lock:
            job['busy'] = False
            self._run(job, lambda: outside.finish(error))

    def _start(self, job):
        """Fault check, target lookup and the handler (store lock held)."""
        fault = self.sim.faults.job_fault(job['op'])
        if fault is not None:
            raise JobFailed(fault)
        target = None
        if job['uuid']:
            target = self.sim.store.get(job['uuid'], job['group'])
            if target is None:
                raise JobFailed('Target %s not found' % job['uuid'])
        handler = self.sim.registry.operation(job['group'], job['op'])
        return handler(self.sim, target, job['params'])

    def _run(self, job, step):
        """Run a job step and record how the job ended.

        :returns: the :class:`Outside` the step returned, else None.
        """
        try:
            result = step()
        except JobFailed as exc:
            # A refused operation fails its job, as on NovaLink; the job
            # must not stay RUNNING and re-run at every poll.
            self._end(job, exc.status, str(exc), exc.results)
            return None
        except registry.SimError as exc:
            self._end(job, 'FAILED_BEFORE_COMPLETION', str(exc))
            return None
        except Exception:
            # A simulator bug: fail the job, let the 500 report it.
            self._end(job, 'FAILED_BEFORE_COMPLETION',
                      'Internal simulator error')
            raise
        if isinstance(result, Outside):
            return result
        self._end(job, 'COMPLETED_OK', None, result)
        return None

    @staticmethod
    def _end(job, status, error, results=None):
        job['status'] = status
        job['error'] = error
        job['results'] = results or {}
        job['completed'] = _millis()

    def get(self, job_id):
        """The JobResponse element of a job, advancing it if due.

        :param job_id: the job id.
        """
        job = self._job(job_id)
        self._advance(job)
        return self.render(job)

    def _job(self, job_id):
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise registry.SimError(404, 'Job %s not found' % job_id)
        return job

    def delete(self, job_id):
        """Forget a job.

        :param job_id: the job id.
        """
        self._job(job_id)
        with self._lock:
            self._jobs.pop(job_id, None)

    def cancel(self, job_id):
        """Cancel a running job.

        :param job_id: the job id.
        """
        job = self._job(job_id)
        # The store lock orders this with a completing _advance.
        with self.sim.store.lock:
            if job['status'] == 'RUNNING':
                job['status'] = 'COMPLETED_WITH_ERROR'
                job['error'] = 'Job cancelled'
                job['completed'] = _millis()

    def running(self):
        """How many jobs are still running (due ones complete first)."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            self._advance(job)
        return sum(1 for j in jobs if j['status'] == 'RUNNING')

    def render(self, job):
        """A JobResponse element for a job.

        :param job: the job dict.
        """
        elem = templates.capture_kind('JobResponse')
        w = xu.WEB
        xu.find(elem, 'RequestURL', ns=w).set('href', job['url'])
        xu.set_text(elem, 'TargetUuid', job['uuid'], ns=w)
        xu.set_text(elem, 'JobID', job['id'], ns=w)
        xu.set_text(elem, 'TimeStarted', job['started'], ns=w)
        xu.set_text(elem, 'TimeCompleted', job.get('completed', '0'), ns=w)
        xu.set_text(elem, 'Status', job['status'], ns=w)
        inst = xu.find(elem, 'JobRequestInstance', ns=w)
        for child in list(inst):
            inst.remove(child)
        for child in job['request']:
            inst.append(xu.deepcopy(child))
        results = xu.find(elem, 'Results', ns=w)
        for child in list(results):
            results.remove(child)
        res = dict(job['results'])
        if job['error']:
            res['result'] = job['error']
        for name, val in res.items():
            parm = xu.sub(results, 'JobParameter', ns=w,
                          schemaVersion='V1_0')
            xu.sub(parm, 'ParameterName', name, ns=w)
            xu.sub(parm, 'ParameterValue', val, ns=w)
        if job['error']:
            exc = xu.sub(elem, 'ResponseException', ns=w,
                         schemaVersion='V1_0')
            xu.sub(exc, 'Message', job['error'], ns=w)
        return elem
