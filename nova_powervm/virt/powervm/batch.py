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
"""Per-host batching writers: concurrent edits of one resource, one POST.

A volume group or a VIOS is one REST object with one etag.  Twenty spawns
that each read it, change it and POST it collide: every POST but one
fails with HTTP 412 and is redone (a GET and a POST more each), one after
the other.  A batching writer queues the edits instead: the first caller
becomes the *leader*, reads the object once, applies every pending edit to
that one wrapper and POSTs it once; everyone waits for that POST and gets
their own result (or their own error).  Edits that arrive while a batch is
in flight make the next batch, led by one of their callers.

Failures stay with their owner:

* an edit that raises while it is applied fails only its caller (edits
  check before they change the wrapper; a VIOS edit that fails half way
  restarts the batch without it);
* a POST refused for another reason than an etag mismatch is retried
  with each edit alone, so one bad edit does not fail the others;
* a 412 (someone outside the batch changed the object) re-reads the
  object and redoes every edit of the batch (pypowervm's ``retry`` with
  ``refresh_wrapper``).

Writers are kept per pypowervm ``Adapter`` (one per host), per object.
"""

import concurrent.futures
import threading
import weakref

from oslo_log import log as logging
from pypowervm.utils import retry as pvm_retry
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

LOG = logging.getLogger(__name__)

# 412 retries of one batch POST before the batch fails.
TRIES = 10

_UNSET = object()


class _Request(object):
    """One caller's edit and, once the batch ran, its outcome."""

    __slots__ = ('edit', 'result', 'error')

    def __init__(self, edit):
        self.edit = edit
        self.result = _UNSET
        self.error = None

    @property
    def settled(self):
        return self.result is not _UNSET or self.error is not None

    def succeed(self, result):
        self.result = result

    def fail(self, error):
        self.error = error


class Coalescer(object):
    """Runs queued edits in batches, one batch at a time.

    :param name: what it writes (logs).
    :param run: ``run(requests)``: applies a batch; settles every request
                with ``succeed(result)`` or ``fail(error)``.
    """

    def __init__(self, name, run):
        self.name = name
        self._run = run
        self._cond = threading.Condition()
        self._queue = []
        self._busy = False
        # Figures for tests and the benchmark.
        self.batches = 0
        self.requests = 0
        self.largest = 0

    def submit(self, edit):
        """Queue an edit, wait for the batch that applies it.

        :param edit: what ``run`` applies.
        :returns: the edit's result.
        :raises: the edit's own error.
        """
        req = _Request(edit)
        with self._cond:
            self._queue.append(req)
            while self._busy and not req.settled:
                self._cond.wait()
            if req.settled:
                return self._outcome(req)
            self._busy = True
            batch, self._queue = self._queue, []
            self.batches += 1
            self.requests += len(batch)
            self.largest = max(self.largest, len(batch))
        try:
            if len(batch) > 1:
                LOG.debug('%s: %d edits in one batch.', self.name,
                          len(batch))
            self._run(batch)
        except Exception as err:
            for other in batch:
                if not other.settled:
                    other.fail(err)
        finally:
            with self._cond:
                for other in batch:
                    if not other.settled:
                        other.fail(RuntimeError(
                            '%s: the batch ended without a result'
                            % self.name))
                self._busy = False
                self._cond.notify_all()
        return self._outcome(req)

    @staticmethod
    def _outcome(req):
        if req.error is not None:
            raise req.error
        return req.result


# ----------------------------------------------------------------------
# Volume groups
# ----------------------------------------------------------------------
class VGEdit(object):
    """An edit of a volume group wrapper (subclass or give functions).

    :param apply: ``apply(vg_w)``: change the wrapper in place; returns a
                  true value when it changed something.  It must raise
                  before it changes anything (it may run again on a fresh
                  wrapper after a 412).
    :param collect: ``collect(vg_w)``: the caller's result from the
                    wrapper as the POST returned it (or as read, when
                    nothing changed).  None: the wrapper itself.
    """

    def __init__(self, apply, collect=None):
        self.apply = apply
        self.collect = collect or (lambda vg_w: vg_w)


def _apply_all(wrapper, live, apply):
    """Apply the live requests' edits; drop (fail) those that raise."""
    changed = False
    for req in list(live):
        try:
            if apply(req, wrapper):
                changed = True
        except Exception as err:
            req.fail(err)
            live.remove(req)
    return changed


@pvm_retry.retry(argmod_func=pvm_retry.refresh_wrapper, tries=TRIES)
def _vg_post(vg_w, live):
    if _apply_all(vg_w, live, lambda req, wrp: req.edit.apply(wrp)):
        vg_w = vg_w.update()
    return vg_w


class VGWriter(object):
    """The batching writer of one volume group.

    :param adapter: pypowervm ``Adapter``.
    :param vios_uuid: UUID of the VIOS that owns it.
    :param vg_uuid: UUID of the volume group.
    """

    def __init__(self, adapter, vios_uuid, vg_uuid):
        self.adapter = adapter
        self.vios_uuid = vios_uuid
        self.vg_uuid = vg_uuid
        self.coalescer = Coalescer('volume group %s' % vg_uuid, self._run)

    def _get(self):
        return pvm_stg.VG.get(self.adapter, uuid=self.vg_uuid,
                              parent_type=pvm_vios.VIOS,
                              parent_uuid=self.vios_uuid)

    def submit(self, edit):
        """Apply a :class:`VGEdit` in the next batch; its result.

        1 GET and at most 1 POST per batch, whatever its size.
        """
        return self.coalescer.submit(edit)

    def _run(self, batch):
        live = list(batch)
        try:
            vg_w = self._get()
        except Exception as err:
            for req in live:
                req.fail(err)
            return
        try:
            vg_w = _vg_post(vg_w, live)
        except Exception as err:
            if len(live) < 2:
                for req in live:
                    req.fail(err)
                return
            # Not an etag mismatch: find whose edit it was, one at a time.
            LOG.warning('Volume group %(vg)s: a batch of %(num)d edits '
                        'failed (%(err)s); applying them one by one.',
                        {'vg': self.vg_uuid, 'num': len(live), 'err': err})
            for req in live:
                self._run([req])
            return
        for req in live:
            try:
                req.succeed(req.edit.collect(vg_w))
            except Exception as err:
                req.fail(err)


# ----------------------------------------------------------------------
# VIOS storage mappings
# ----------------------------------------------------------------------
class VIOSEdit(object):
    """The mapping changes of one operation (``mapping.VIOSMappings``).

    :param subtasks: list of ``(func, args, kwargs)``; ``func(vios_w,
                     *args, **kwargs)`` changes a VIOS wrapper in place and
                     returns a true value when it changed it.
    :param xags: the extended attribute groups the subtasks need.
    """

    def __init__(self, subtasks, xags):
        self.subtasks = list(subtasks)
        self.xags = frozenset(xags)

    def apply(self, vios_w):
        """Run the subtasks on one VIOS: ``(changed, [returned values])``."""
        changed = False
        rets = []
        for func, args, kwargs in self.subtasks:
            ret = func(vios_w, *args, **kwargs)
            if ret:
                changed = True
            rets.append(ret)
        return changed, rets


class _Restart(Exception):
    """An edit failed half way through a VIOS: redo without it."""


class VIOSWriter(object):
    """The batching writer of a host's VIOS mappings.

    The leader reads the VIOS feed once (the union of the extended groups
    the batch needs), applies every edit to every VIOS, and POSTs each
    VIOS that changed once (several in parallel).  A 412 on one VIOS
    re-reads that VIOS and redoes the batch's edits on it.

    :param adapter: pypowervm ``Adapter``.
    """

    def __init__(self, adapter):
        self.adapter = adapter
        self.coalescer = Coalescer('VIOS mappings', self._run)

    def submit(self, edit):
        """Apply a :class:`VIOSEdit` in the next batch.

        :returns: ``(rets, vioses)``: ``rets`` maps each VIOS UUID to the
                  list of values the edit's subtasks returned on it; the
                  VIOS wrappers as read or updated (shared, read only).
        """
        return self.coalescer.submit(edit)

    def _run(self, batch):
        live = list(batch)
        while live:
            xags = sorted(set().union(*(req.edit.xags for req in live)))
            try:
                vioses = pvm_vios.VIOS.get(self.adapter, xag=xags)
            except Exception as err:
                for req in live:
                    req.fail(err)
                return
            try:
                rets, vioses, err = self._apply_and_post(vioses, live)
            except _Restart:
                continue
            if err is not None:
                if len(live) < 2:
                    live[0].fail(err)
                    return
                LOG.warning('VIOS mappings: a batch of %(num)d operations '
                            'failed (%(err)s); applying them one by one.',
                            {'num': len(live), 'err': err})
                for req in live:
                    self._run([req])
                return
            for req in live:
                req.succeed(({uuid: by_req[id(req)]
                              for uuid, by_req in rets.items()}, vioses))
            return

    def _apply_and_post(self, vioses, live):
        """Every edit on every VIOS; POST the changed ones.

        :returns: ``(rets by VIOS UUID then request id, wrappers, error)``.
        :raises _Restart: an edit failed (it is settled and dropped).
        """
        rets = {}
        lock = threading.Lock()

        def apply_one(vios_w):
            by_req = {}
            changed = False
            for req in list(live):
                try:
                    chg, by_req[id(req)] = req.edit.apply(vios_w)
                except Exception as err:
                    with lock:
                        if req in live:
                            req.fail(err)
                            live.remove(req)
                    raise _Restart()
                changed = changed or chg
            rets[vios_w.uuid] = by_req
            return changed

        @pvm_retry.retry(argmod_func=pvm_retry.refresh_wrapper, tries=TRIES)
        def post(vios_w):
            if apply_one(vios_w):
                vios_w = vios_w.update()
            return vios_w

        changed = [vios_w for vios_w in vioses if apply_one(vios_w)]
        if not changed:
            return rets, vioses, None
        done = {}
        try:
            if len(changed) == 1:
                done[changed[0].uuid] = _post_changed(changed[0], post)
            else:
                with concurrent.futures.ThreadPoolExecutor(
                        len(changed)) as pool:
                    futs = {vios_w.uuid: pool.submit(_post_changed, vios_w,
                                                     post)
                            for vios_w in changed}
                    for uuid, fut in futs.items():
                        done[uuid] = fut.result()
        except _Restart:
            raise
        except Exception as err:
            return rets, vioses, err
        return rets, [done.get(vios_w.uuid, vios_w)
                      for vios_w in vioses], None


def _post_changed(vios_w, post):
    """POST an already changed VIOS; on 412 ``post`` re-reads and redoes."""
    try:
        return vios_w.update()
    except Exception as err:
        if getattr(getattr(err, 'response', None), 'status', None) != 412:
            raise
    # Without the etag: a reply "not modified" would hand back this
    # wrapper, changed here but never stored, and nothing would be redone.
    return post(vios_w.refresh(use_etag=False))


# ----------------------------------------------------------------------
# Registry: one writer per host (adapter) and object
# ----------------------------------------------------------------------
class _Writers(object):
    def __init__(self, adapter):
        self._adapter = weakref.ref(adapter)
        self._lock = threading.Lock()
        self._vgs = {}
        self._vios = None

    def vg(self, vios_uuid, vg_uuid):
        with self._lock:
            key = (vios_uuid, vg_uuid)
            if key not in self._vgs:
                self._vgs[key] = VGWriter(self._adapter(), vios_uuid,
                                          vg_uuid)
            return self._vgs[key]

    def vios(self):
        with self._lock:
            if self._vios is None:
                self._vios = VIOSWriter(self._adapter())
            return self._vios


_REGISTRY = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def _writers(adapter):
    with _REGISTRY_LOCK:
        found = _REGISTRY.get(adapter)
        if found is None:
            found = _REGISTRY[adapter] = _Writers(adapter)
        return found


def vg_writer(adapter, vios_uuid, vg_uuid):
    """The batching writer of a volume group of this host.

    :param adapter: pypowervm ``Adapter`` of the host.
    :param vios_uuid: UUID of the VIOS that owns the volume group.
    :param vg_uuid: UUID of the volume group.
    """
    return _writers(adapter).vg(vios_uuid, vg_uuid)


def vios_writer(adapter):
    """The batching writer of this host's VIOS mappings.

    :param adapter: pypowervm ``Adapter`` of the host.
    """
    return _writers(adapter).vios()
