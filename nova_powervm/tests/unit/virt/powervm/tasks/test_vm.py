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
"""Partition tasks: cached host wrapper and job templates."""

from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.virt.powervm import cache as pvm_cache
from nova_powervm.virt.powervm.tasks import vm as tf_vm
from nova_powervm.virt.powervm import vm


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

    def test_power_jobs_read_their_template_once(self):
        insts = [self.instance() for _i in range(2)]
        lpars = [vm.create_lpar(self.adapter, self.host_wrapper(), i)
                 for i in insts]
        power = tf_vm.PowerOp.on(self.hctx.cache)
        _r, first = self.count_rest(power.start, lpars[0])
        _r, second = self.count_rest(power.start, lpars[1])
        self.assertEqual((3, 2), (first, second))
        self.assertEqual(['running', 'running'],
                         [self.lpar(i)['state'] for i in insts])
        cache = self.hctx.cache
        lpar_w = vm.get_instance_wrapper(self.adapter, insts[0])
        _r, calls = self.count_rest(tf_vm.hard_power_off, cache, lpar_w,
                                    insts[0])
        self.assertEqual(3, calls)
        self.assertEqual('not activated', self.lpar(insts[0])['state'])
        lpar_w = vm.get_instance_wrapper(self.adapter, insts[0])
        _r, calls = self.count_rest(tf_vm.hard_power_off, cache, lpar_w,
                                    insts[0])
        self.assertEqual(0, calls)

    def test_templates_are_per_host(self):
        inst = self.instance()
        lpar_w = vm.create_lpar(self.adapter, self.host_wrapper(), inst)
        tf_vm.PowerOp.on(self.hctx.cache).start(lpar_w)
        other = pvm_cache.HostCache(self.hctx.host_uuid)
        lpar_w = vm.get_instance_wrapper(self.adapter, inst)
        _r, calls = self.count_rest(tf_vm.hard_power_off, other, lpar_w,
                                    inst)
        self.assertEqual(3, calls)  # another host's cache reads its own
