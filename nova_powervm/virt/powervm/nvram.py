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
"""The NVRAM store: a copy of each partition's NVRAM off the host.

``[powervm] nvram_store`` picks the store: ``none``, ``local`` (files in
``nvram_local_dir``) or ``swift`` (a container, through openstacksdk's
object store and the ``[powervm_nvram_swift]`` keystoneauth options).
Copies are keyed by the partition's PowerVM UUID, which every host derives
from the instance UUID alike.

:class:`NvramManager` keeps the copies current: the event listener hands
it the partitions whose ``NVRAM`` changed (:meth:`NvramManager.changed`,
which never blocks: a bounded queue, one entry per partition) and a
native thread reads each one (1 GET) and stores it.  Move operations store
synchronously (:meth:`NvramManager.store`), the host that re-creates a
partition restores it before the first boot (:func:`write`), and a
deleted server's copy is removed.
"""

import os
import queue
import tempfile
import threading
import time

from oslo_log import log as logging
from pypowervm import adapter as pvm_adpt
from pypowervm import const as pvm_const
from pypowervm.wrappers import logical_partition as pvm_lpar

from nova_powervm import conf as pvm_conf
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import event
from nova_powervm.virt.powervm import vm

LOG = logging.getLogger(__name__)
CONF = pvm_conf.CONF


class LocalStore:
    """NVRAM copies as files ``<PowerVM UUID>.nvram`` in a directory.

    Writes are atomic (a temporary file renamed over the old copy).

    :param path: the directory (created when missing).
    """

    def __init__(self, path):
        self.path = path
        os.makedirs(path, exist_ok=True)

    def _file(self, key):
        return os.path.join(self.path, '%s.nvram' % key.upper())

    def store(self, key, data):
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix='.nvram-')
        try:
            with os.fdopen(fd, 'w') as fil:
                fil.write(data)
            os.replace(tmp, self._file(key))
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def fetch(self, key):
        try:
            with open(self._file(key)) as fil:
                return fil.read()
        except FileNotFoundError:
            return None

    def delete(self, key):
        try:
            os.unlink(self._file(key))
        except FileNotFoundError:
            pass


class SwiftStore:
    """NVRAM copies as objects of a Swift container (openstacksdk).

    :param conn: an ``openstack.connection.Connection``.
    :param container: the container name (created on the first store).
    """

    def __init__(self, conn, container):
        self.conn = conn
        self.container = container
        self._created = False

    def store(self, key, data):
        if not self._created:
            self.conn.object_store.create_container(name=self.container)
            self._created = True
        self.conn.object_store.upload_object(
            container=self.container, name=key.upper(),
            data=data.encode())

    def fetch(self, key):
        from openstack import exceptions as sdk_exc
        try:
            data = self.conn.object_store.download_object(
                key.upper(), container=self.container)
        except sdk_exc.NotFoundException:
            return None
        return data.decode() if isinstance(data, bytes) else data

    def delete(self, key):
        self.conn.object_store.delete_object(
            key.upper(), container=self.container, ignore_missing=True)


def swift_connection(conf=CONF):
    """An openstacksdk connection from ``[powervm_nvram_swift]``."""
    from keystoneauth1 import loading as ks_loading
    import openstack

    pvm_conf.register_swift_opts(conf)
    group = pvm_conf.SWIFT_GROUP
    auth = ks_loading.load_auth_from_conf_options(conf, group)
    sess = ks_loading.load_session_from_conf_options(conf, group, auth=auth)
    return openstack.connection.Connection(session=sess)


def get_store(conf=CONF):
    """The store ``[powervm] nvram_store`` names, or None for ``none``."""
    kind = conf.powervm.nvram_store
    if kind == 'local':
        return LocalStore(conf.powervm.nvram_local_dir)
    if kind == 'swift':
        return SwiftStore(swift_connection(conf),
                          conf.powervm.nvram_swift_container)
    return None


def read(adapter, lpar_uuid):
    """A partition's NVRAM (1 GET with the NVRAM group), or None."""
    with errors.ignore_missing():
        with errors.translate('read NVRAM', instance=lpar_uuid):
            return pvm_lpar.LPAR.get(adapter, uuid=lpar_uuid,
                                     xag=[pvm_const.XAG.NVRAM]).nvram
    return None


def write(adapter, lpar_uuid, data):
    """Give a (stopped) partition NVRAM (GET + POST with the NVRAM group)."""
    with errors.translate('restore NVRAM', instance=lpar_uuid):
        lpar_w = pvm_lpar.LPAR.get(adapter, uuid=lpar_uuid,
                                   xag=[pvm_const.XAG.NVRAM])
        lpar_w.nvram = data
        lpar_w.update()


class NvramManager:
    """Keeps the store's copies current; one per driver.

    :param store: a :class:`LocalStore` or :class:`SwiftStore`.
    :param adapter: pypowervm ``Adapter`` of the host.
    :param queue_size: partitions that may wait to be stored.
    """

    def __init__(self, store, adapter, queue_size=1000):
        self.store_backend = store
        self.adapter = adapter
        self._queue = queue.Queue(maxsize=queue_size)
        self._pending = set()
        self._busy = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run,
                                        name='powervm-nvram', daemon=True)
        self._thread.start()

    # -- from the event listener: never blocks ------------------------------
    def changed(self, lpar_uuid):
        """Queue a partition whose NVRAM changed (never blocks).

        :returns: False when the queue is full (the change is dropped).
        """
        with self._lock:
            if lpar_uuid in self._pending:
                return True
            try:
                self._queue.put_nowait(lpar_uuid)
            except queue.Full:
                LOG.warning('NVRAM store queue full: the NVRAM change of '
                            'partition %s is not stored now.', lpar_uuid)
                return False
            self._pending.add(lpar_uuid)
            return True

    def _run(self):
        while True:
            lpar_uuid = self._queue.get()
            if lpar_uuid is None:
                return
            with self._lock:
                self._pending.discard(lpar_uuid)
                self._busy = True
            try:
                self._store_lpar(lpar_uuid)
            except Exception:
                LOG.exception('Could not store the NVRAM of partition %s.',
                              lpar_uuid)
            finally:
                with self._lock:
                    self._busy = False

    def _store_lpar(self, lpar_uuid):
        data = read(self.adapter, lpar_uuid)
        if data:
            self.store_backend.store(lpar_uuid, data)

    def wait_idle(self, timeout=10.0):
        """Wait until no partition waits to be stored (tests, stops).

        :returns: True when idle in time.
        """
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if not self._pending and self._queue.empty() and (
                        not self._busy):
                    return True
            time.sleep(0.02)
        return False

    def stop(self, timeout=5.0):
        """Stop the worker thread (after the queued partitions)."""
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return False
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- synchronous, from the operations ---------------------------------
    def store(self, instance):
        """Store an instance's NVRAM now (1 GET); errors are logged."""
        lpar_uuid = vm.get_pvm_uuid(instance)
        try:
            self._store_lpar(lpar_uuid)
        except Exception:
            LOG.exception('Could not store the NVRAM.', instance=instance)

    def fetch(self, instance):
        """The stored NVRAM of an instance, or None."""
        return self.store_backend.fetch(vm.get_pvm_uuid(instance))

    def remove(self, instance):
        """Remove an instance's copy; errors are logged."""
        try:
            self.store_backend.delete(vm.get_pvm_uuid(instance))
        except Exception:
            LOG.exception('Could not remove the stored NVRAM.',
                          instance=instance)

    def restore(self, instance, lpar_uuid):
        """Give the (new, stopped) partition the stored NVRAM, if any.

        No REST when nothing is stored; else GET + POST.

        :returns: True when NVRAM was restored.
        """
        data = self.fetch(instance)
        if not data:
            return False
        write(self.adapter, lpar_uuid, data)
        LOG.info('Restored the NVRAM from the store.', instance=instance)
        return True


class NvramEventHandler(pvm_adpt.WrapperEventHandler):
    """Hands partitions whose NVRAM changed to the manager (no I/O)."""

    def __init__(self, manager):
        self.manager = manager

    def process(self, events):
        for evt in events:
            if 'NVRAM' not in (evt.detail or ''):
                continue
            lpar_uuid = event.lpar_uuid_of(evt.data)
            if lpar_uuid:
                self.manager.changed(lpar_uuid)


def manager(adapter, conf=CONF):
    """The host's :class:`NvramManager`, or None without a store."""
    store = get_store(conf)
    if store is None:
        return None
    return NvramManager(store, adapter, conf.powervm.nvram_queue_size)
