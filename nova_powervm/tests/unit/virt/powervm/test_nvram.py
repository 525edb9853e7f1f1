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
"""The NVRAM store: local files, Swift (a fake object store), the queue."""

import base64
import os
import threading

import fixtures
from openstack import exceptions as sdk_exc

from nova_powervm import conf as pvm_conf
from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.tests.unit.virt.powervm import test_flows
from nova_powervm.virt.powervm import nvram
from nova_powervm.virt.powervm import power
from nova_powervm.virt.powervm import vm


class FakeObjectStore:
    """openstacksdk's object store proxy, in memory (no Swift here)."""

    def __init__(self):
        self.containers = {}

    def create_container(self, name):
        self.containers.setdefault(name, {})

    def upload_object(self, container, name, data):
        if container not in self.containers:
            raise sdk_exc.NotFoundException('no container %s' % container)
        self.containers[container][name] = bytes(data)

    def download_object(self, name, container):
        try:
            return self.containers[container][name]
        except KeyError:
            raise sdk_exc.NotFoundException('no object %s' % name)

    def delete_object(self, name, container, ignore_missing=True):
        found = self.containers.get(container, {}).pop(name, None)
        if found is None and not ignore_missing:
            raise sdk_exc.NotFoundException('no object %s' % name)


class FakeConnection:
    def __init__(self):
        self.object_store = FakeObjectStore()


class StoreContract:
    """What every store does."""

    def test_store_fetch_replace_delete(self):
        self.assertIsNone(self.store.fetch('abc'))
        self.store.store('abc', 'first')
        self.store.store('abc', 'second')
        self.assertEqual('second', self.store.fetch('ABC'))
        self.store.delete('abc')
        self.assertIsNone(self.store.fetch('abc'))
        # Deleting what is gone is fine.
        self.store.delete('abc')


class TestLocalStore(StoreContract, test_flows.SpawnDestroyTestCase):

    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                 'new', 'dir')
        self.store = nvram.LocalStore(self.path)

    def test_no_temporary_file_is_left(self):
        self.store.store('abc', 'data')
        self.assertEqual(['ABC.nvram'], os.listdir(self.path))


class TestSwiftStore(StoreContract, test_flows.SpawnDestroyTestCase):

    def setUp(self):
        super().setUp()
        self.conn = FakeConnection()
        self.store = nvram.SwiftStore(self.conn, 'nvram')

    def test_container_is_made_on_first_store(self):
        self.store.store('abc', 'data')
        self.assertEqual({'nvram': {'ABC': b'data'}},
                         self.conn.object_store.containers)


class TestConfig(test_flows.SpawnDestroyTestCase):

    def test_local_needs_a_directory(self):
        self.flags(nvram_store='local', nvram_local_dir='', group='powervm')
        err = self.assertRaises(pvm_conf.InvalidOption, pvm_conf.validate)
        self.assertIn('nvram_local_dir', str(err))

    def test_local_directory_is_created(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, 'x')
        self.flags(nvram_store='local', nvram_local_dir=path,
                   group='powervm')
        pvm_conf.validate()
        self.assertTrue(os.path.isdir(path))

    def test_swift_needs_credentials(self):
        self.flags(nvram_store='swift', group='powervm')
        err = self.assertRaises(pvm_conf.InvalidOption, pvm_conf.validate)
        self.assertIn('powervm_nvram_swift', str(err))

    def test_none_has_no_manager(self):
        self.assertIsNone(nvram.manager(self.adapter))


class TestManager(test_flows.SpawnDestroyTestCase):

    def setUp(self):
        super().setUp()
        self.path = self.useFixture(fixtures.TempDir()).path
        self.mgr = nvram.NvramManager(nvram.LocalStore(self.path),
                                      self.adapter, queue_size=2)
        self.addCleanup(self.mgr.stop)
        self.inst = self.instance()
        self.spawn(self.inst, flowbase.sea_network_info())

    def test_changed_partitions_are_stored_by_the_thread(self):
        lpar_uuid = vm.get_pvm_uuid(self.inst)
        self.assertTrue(self.mgr.changed(lpar_uuid))
        self.assertTrue(self.mgr.wait_idle())
        data = self.mgr.fetch(self.inst)
        self.assertIn(b'NVRAM of', base64.b64decode(data))

    def test_the_listener_never_blocks(self):
        # The worker is held up: the queue fills, further changes are
        # dropped at once, one entry per partition.
        gate = threading.Event()
        real = self.mgr._store_lpar
        self.mgr._store_lpar = lambda uuid: (gate.wait(10), real(uuid))
        self.assertTrue(self.mgr.changed('A'))
        self.assertTrue(self.mgr.wait_idle(0.2) is False)
        self.assertTrue(self.mgr.changed('B'))
        self.assertTrue(self.mgr.changed('B'))  # already queued
        self.assertTrue(self.mgr.changed('C'))
        self.assertFalse(self.mgr.changed('D'))  # full: dropped
        gate.set()
        self.assertTrue(self.mgr.wait_idle())

    def test_restore_gives_a_stopped_partition_its_nvram(self):
        self.mgr.store(self.inst)
        saved = self.mgr.fetch(self.inst)
        power.power_off(self.hctx, self.inst, force_immediate=True)
        lpar_uuid = vm.get_pvm_uuid(self.inst)
        nvram.write(self.adapter, lpar_uuid, base64.b64encode(
            b'something else').decode())
        _, trips = self.count_rest(self.mgr.restore, self.inst, lpar_uuid)
        self.assertEqual(2, trips)
        self.assertEqual(saved, nvram.read(self.adapter, lpar_uuid))

    def test_restore_without_a_copy_costs_nothing(self):
        _, trips = self.count_rest(self.mgr.restore, self.inst,
                                   vm.get_pvm_uuid(self.inst))
        self.assertEqual(0, trips)

    def test_remove(self):
        self.mgr.store(self.inst)
        self.mgr.remove(self.inst)
        self.assertIsNone(self.mgr.fetch(self.inst))
        self.assertEqual([], os.listdir(self.path))
