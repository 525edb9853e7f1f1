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
"""The per-host cache and the partition state snapshot, on their own."""

import threading

from nova_powervm.tests import base as tests_base
from nova_powervm.virt.powervm import cache as pvm_cache


class Clock:
    """A clock the test moves."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class TestHostCache(tests_base.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = Clock()
        self.cache = pvm_cache.HostCache('HOST', clock=self.clock)
        self.loads = []

    def load(self, value):
        def _load():
            self.loads.append(value)
            return value
        return _load

    def test_host_wrapper_ttl_and_seed(self):
        self.assertEqual('w1', self.cache.host_wrapper(self.load('w1')))
        self.assertEqual('w1', self.cache.host_wrapper(self.load('w2')))
        self.clock.now += pvm_cache.HOST_WRAPPER_TTL
        self.assertEqual('w3', self.cache.host_wrapper(self.load('w3')))
        self.cache.remember_host('seed')
        self.assertEqual('seed', self.cache.host_wrapper(self.load('w4')))
        self.cache.forget_host()
        self.assertEqual('w5', self.cache.host_wrapper(self.load('w5')))
        self.assertEqual(['w1', 'w3', 'w5'], self.loads)

    def test_vswitches_loaded_once_and_copied(self):
        got = self.cache.vswitches(self.load({'a': 1}))
        got['b'] = 2
        self.assertEqual({'a': 1}, self.cache.vswitches(self.load({})))
        self.assertEqual({'c': 3},
                         self.cache.vswitches(self.load({'c': 3}), True))
        self.assertEqual(2, len(self.loads))

    def test_concurrent_first_callers_share_one_load(self):
        gate = threading.Event()

        def slow():
            gate.wait(5)
            self.loads.append(1)
            return {'x': 1}
        threads = [threading.Thread(target=self.cache.vswitches,
                                    args=(slow,)) for _i in range(8)]
        for thr in threads:
            thr.start()
        gate.set()
        for thr in threads:
            thr.join(5)
        self.assertEqual([1], self.loads)

    def test_repo_and_job_templates(self):
        self.assertIsNone(self.cache.media_repo())
        self.cache.remember_repo('V', 'G')
        self.assertEqual(('V', 'G'), self.cache.media_repo())
        self.assertEqual('t1', self.cache.job_template(('L', 'On'),
                                                       self.load('t1')))
        self.assertEqual('t1', self.cache.job_template(('L', 'On'),
                                                       self.load('t2')))
        self.cache.forget_repo()
        self.assertIsNone(self.cache.media_repo())

    def test_clear_forgets_everything(self):
        self.cache.remember_host('w')
        self.cache.remember_repo('V', 'G')
        self.cache.vswitches(self.load({'a': 1}))
        self.cache.job_template('k', self.load('t'))
        self.cache.lpar_states.store({'A': 'running'})
        self.cache.clear()
        self.assertIsNone(self.cache.media_repo())
        self.assertEqual('w2', self.cache.host_wrapper(self.load('w2')))
        self.assertEqual({}, self.cache.vswitches(self.load({})))
        self.assertEqual('t2', self.cache.job_template('k', self.load('t2')))
        self.assertEqual((pvm_cache.MISS, None),
                         self.cache.lpar_states.lookup('A'))

    def test_two_hosts_share_nothing(self):
        other = pvm_cache.HostCache('OTHER')
        self.cache.remember_repo('V', 'G')
        self.cache.lpar_states.store({'A': 'running'})
        self.assertIsNone(other.media_repo())
        self.assertEqual(pvm_cache.MISS, other.lpar_states.lookup('A')[0])


class TestLparStates(tests_base.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = Clock()
        self.states = pvm_cache.LparStates(clock=self.clock)

    def test_snapshot_lives_for_its_ttl(self):
        self.assertEqual((pvm_cache.MISS, None), self.states.lookup('a'))
        self.states.store({'a': 'running'})
        self.assertEqual((pvm_cache.HIT, 'running'), self.states.lookup('A'))
        self.assertEqual((pvm_cache.ABSENT, None), self.states.lookup('b'))
        self.clock.now += pvm_cache.LPAR_STATE_TTL
        self.assertEqual((pvm_cache.MISS, None), self.states.lookup('A'))

    def test_invalidate_one_then_store_one(self):
        self.states.store({'A': 'running', 'B': 'running'})
        self.states.invalidate('a')
        self.assertEqual(pvm_cache.MISS, self.states.lookup('A')[0])
        self.assertEqual(pvm_cache.HIT, self.states.lookup('B')[0])
        self.assertEqual('not activated',
                         self.states.store_one('A', lambda: 'not activated'))
        self.assertEqual((pvm_cache.HIT, 'not activated'),
                         self.states.lookup('A'))

    def test_event_during_a_read_wins(self):
        self.states.store({'A': 'running'})

        def read_feed():
            self.states.invalidate('A')  # the event arrives meanwhile
            return {'a': 'running', 'B': 'running'}
        self.assertEqual({'A': 'running', 'B': 'running'},
                         self.states.store(read_feed))
        self.assertEqual(pvm_cache.MISS, self.states.lookup('A')[0])
        self.assertEqual(pvm_cache.HIT, self.states.lookup('B')[0])

        def read_one():
            self.states.invalidate('A')
            return 'running'
        self.states.store_one('A', read_one)
        self.assertEqual(pvm_cache.MISS, self.states.lookup('A')[0])

    def test_lost_events_during_a_read_discard_it(self):
        def read_feed():
            self.states.invalidate_all()
            return {'A': 'running'}
        self.states.store(read_feed)
        self.assertFalse(self.states.is_fresh())
        self.assertEqual(pvm_cache.MISS, self.states.lookup('A')[0])

    def test_failed_single_read_keeps_the_entry_stale(self):
        self.states.store({'A': 'running', 'B': 'running'})
        self.states.invalidate('A')

        def gone():
            raise KeyError('A')
        self.assertRaises(KeyError, self.states.store_one, 'A', gone)
        self.assertEqual(pvm_cache.MISS, self.states.lookup('A')[0])
        self.assertEqual(pvm_cache.HIT, self.states.lookup('B')[0])

    def test_concurrent_refreshes_read_once(self):
        reads = []
        gate = threading.Event()

        def read():
            gate.wait(5)
            reads.append(1)
            return {'A': 'running'}
        threads = [threading.Thread(target=self.states.refresh,
                                    args=(read,)) for _i in range(10)]
        for thr in threads:
            thr.start()
        gate.set()
        for thr in threads:
            thr.join(5)
        self.assertEqual([1], reads)
        self.assertEqual((pvm_cache.HIT, 'running'), self.states.lookup('A'))
