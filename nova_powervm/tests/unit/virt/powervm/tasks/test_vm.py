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
"""Partition tasks: the cached host wrapper."""

from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.virt.powervm import cache as pvm_cache
from nova_powervm.virt.powervm.tasks import vm as tf_vm


class TestCaches(flowbase.FlowTestCase):

    def test_host_wrapper_reread_after_ttl(self):
        now = [1000.0]
        cache = pvm_cache.HostCache(self.hctx.host_uuid,
                                    clock=lambda: now[0])
        self.hctx.cache = cache
        _w, calls = self.count_rest(tf_vm.static_host_wrapper, self.hctx)
        self.assertEqual(1, calls)
        _w, calls = self.count_rest(tf_vm.static_host_wrapper, self.hctx)
        self.assertEqual(0, calls)
        now[0] += pvm_cache.HOST_WRAPPER_TTL
        _w, calls = self.count_rest(tf_vm.static_host_wrapper, self.hctx)
        self.assertEqual(1, calls)
        cache.forget_host()
        cache.remember_host(_w)
        _w2, calls = self.count_rest(tf_vm.static_host_wrapper, self.hctx)
        self.assertEqual(0, calls)
        self.assertIs(_w, _w2)
