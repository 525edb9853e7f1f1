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
from nova_powervm.virt.powervm.tasks import vm as tf_vm
from nova_powervm.virt.powervm import vm


class TestCaches(flowbase.FlowTestCase):

    def setUp(self):
        super().setUp()
        tf_vm._JOB_TEMPLATES.clear()

    def test_host_wrapper_reread_after_ttl(self):
        now = [1000.0]
        clock = lambda: now[0]  # noqa: E731
        _w, calls = self.count_rest(tf_vm.static_host_wrapper, self.hctx,
                                    clock)
        self.assertEqual(1, calls)
        _w, calls = self.count_rest(tf_vm.static_host_wrapper, self.hctx,
                                    clock)
        self.assertEqual(0, calls)
        now[0] += tf_vm.HOST_WRAPPER_TTL
        _w, calls = self.count_rest(tf_vm.static_host_wrapper, self.hctx,
                                    clock)
        self.assertEqual(1, calls)
        tf_vm.forget_host(self.hctx.host_uuid)
        tf_vm.remember_host(self.hctx.host_uuid, _w, clock)
        _w2, calls = self.count_rest(tf_vm.static_host_wrapper, self.hctx,
                                     clock)
        self.assertEqual(0, calls)
        self.assertIs(_w, _w2)

    def test_power_jobs_read_their_template_once(self):
        insts = [self.instance() for _i in range(2)]
        lpars = [vm.create_lpar(self.adapter, self.host_wrapper(), i)
                 for i in insts]
        _r, first = self.count_rest(tf_vm.PowerOp.start, lpars[0])
        _r, second = self.count_rest(tf_vm.PowerOp.start, lpars[1])
        self.assertEqual((3, 2), (first, second))
        self.assertEqual(['running', 'running'],
                         [self.lpar(i)['state'] for i in insts])
        lpar_w = vm.get_instance_wrapper(self.adapter, insts[0])
        _r, calls = self.count_rest(tf_vm.hard_power_off, lpar_w, insts[0])
        self.assertEqual(3, calls)
        self.assertEqual('not activated', self.lpar(insts[0])['state'])
        lpar_w = vm.get_instance_wrapper(self.adapter, insts[0])
        _r, calls = self.count_rest(tf_vm.hard_power_off, lpar_w, insts[0])
        self.assertEqual(0, calls)
