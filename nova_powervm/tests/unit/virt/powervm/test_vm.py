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
"""vm.py against the simulator: what the host holds afterwards."""

from nova.compute import power_state
from nova import exception as nova_exc
from nova import objects
from pypowervm.wrappers import base_partition as pvm_bp

from nova_powervm import exception as pvm_exception
from nova_powervm.tests.unit.virt.powervm import simbase
from nova_powervm.virt.powervm import vm


class TestUUIDs(simbase.base.NoDBTestCase):

    def test_pvm_uuid_clears_top_bit_upper_case(self):
        inst = objects.Instance(uuid='f1c2d3e4-0000-4000-8000-00000000abcd')
        self.assertEqual('71C2D3E4-0000-4000-8000-00000000ABCD',
                         vm.get_pvm_uuid(inst))

    def test_candidates_cover_both_top_bits(self):
        cands = vm.nova_uuid_candidates('71C2D3E4-0000-4000-8000-00000000ABCD')
        self.assertEqual(['71c2d3e4-0000-4000-8000-00000000abcd',
                          'f1c2d3e4-0000-4000-8000-00000000abcd'], cands)

    def test_every_powervm_state_is_mapped(self):
        states = [v for k, v in vars(pvm_bp.LPARState).items()
                  if not k.startswith('_')]
        for state in states:
            self.assertIn(state, vm.POWERVM_TO_NOVA_STATE, state)
        self.assertEqual(power_state.SHUTDOWN,
                         vm.to_nova_state('Not Activated'))
        self.assertEqual(power_state.NOSTATE, vm.to_nova_state('bogus'))
        self.assertEqual(power_state.NOSTATE, vm.to_nova_state(None))


class TestNameMatcher(simbase.base.NoDBTestCase):

    def test_default_template(self):
        matches = vm.name_matcher('instance-%08x')
        self.assertTrue(matches('instance-0000002a'))
        self.assertFalse(matches('vios1'))
        self.assertFalse(matches('instance-'))

    def test_templates_with_fields_and_cut_names(self):
        matches = vm.name_matcher('%(hostname)s-%(uuid)s')
        self.assertTrue(matches('web-9a0c3f0e-1111-4a1e-8c2b-0123456789ab'))
        self.assertFalse(matches('web'))
        matches = vm.name_matcher('vm_%(uuid)s_end')
        self.assertTrue(matches('vm_9a0c3f0e-1111-4a1e-8c2b-01234'))
        self.assertFalse(matches('xx_9a0c3f0e-1111-4a1e-8c2b-01234'))


class TestCreateDelete(simbase.SimTestCase):

    def test_create_from_flavor(self):
        inst = self.instance(vcpus=2, memory_mb=2048)
        lpar_w, calls = self.count_rest(
            vm.create_lpar, self.adapter, self.host_wrapper(), inst)
        self.assertEqual(1, calls)
        self.assertEqual(vm.get_pvm_uuid(inst), lpar_w.uuid.upper())
        lpar = self.lpar(inst)
        self.assertEqual(inst.name, lpar['name'])
        self.assertEqual(2, lpar['vcpus'])
        self.assertAlmostEqual(0.2, lpar['proc_units'])
        self.assertEqual(2048, lpar['memory_mb'])
        self.assertEqual('AIX/Linux', lpar['type'])
        self.assertEqual('not activated', lpar['state'])

    def test_create_honours_extra_specs(self):
        inst = self.instance(vcpus=4, memory_mb=4096, extra_specs={
            'powervm:proc_units': '1.5', 'powervm:uncapped': 'false',
            'powervm:min_mem': '1024', 'powervm:max_mem': '8192'})
        lpar_w = vm.create_lpar(self.adapter, self.host_wrapper(), inst)
        self.assertAlmostEqual(1.5, self.lpar(inst)['proc_units'])
        self.assertEqual('capped', lpar_w.proc_config.sharing_mode)
        self.assertEqual(8192, lpar_w.mem_config.max)
        self.assertEqual(1024, lpar_w.mem_config.min)

    def test_create_ibmi_from_image(self):
        inst = self.instance()
        meta = objects.ImageMeta.from_dict(
            {'properties': {'os_distro': 'ibmi'}})
        vm.create_lpar(self.adapter, self.host_wrapper(), inst, meta)
        self.assertEqual('OS400', self.lpar(inst)['type'])

    def test_bad_extra_spec_creates_nothing(self):
        inst = self.instance(extra_specs={'powervm:proc_units': 'lots'})
        before = self.sim.state()['lpars']
        exc = self.assertRaises(pvm_exception.InvalidExtraSpec, vm.create_lpar,
                                self.adapter, self.host_wrapper(), inst)
        self.assertIn('powervm:proc_units', exc.format_message())
        self.assertEqual(before, self.sim.state()['lpars'])

    def test_unsupported_compat_mode_names_key(self):
        inst = self.instance(
            extra_specs={'powervm:processor_compatibility': 'POWER10'})
        exc = self.assertRaises(pvm_exception.InvalidExtraSpec, vm.create_lpar,
                                self.adapter, self.host_wrapper(), inst)
        self.assertIn('powervm:processor_compatibility',
                      exc.format_message())
        self.assertIsNone(self.lpar(inst))

    def test_delete_is_idempotent(self):
        inst = self.instance()
        vm.create_lpar(self.adapter, self.host_wrapper(), inst)
        _, calls = self.count_rest(vm.delete_lpar, self.adapter, inst)
        self.assertEqual(1, calls)
        self.assertIsNone(self.lpar(inst))
        vm.delete_lpar(self.adapter, inst)
        self.assertIsNone(self.lpar(inst))

    def test_lookup_of_missing_instance(self):
        inst = self.instance()
        self.assertRaises(nova_exc.InstanceNotFound,
                          vm.get_instance_wrapper, self.adapter, inst)
        self.assertRaises(nova_exc.InstanceNotFound,
                          vm.get_power_state, self.adapter, inst)
        self.assertFalse(vm.instance_exists(self.adapter, inst))

    def test_quick_properties_and_listing(self):
        inst = self.instance()
        vm.create_lpar(self.adapter, self.host_wrapper(), inst)
        pvm_uuid = vm.get_pvm_uuid(inst)
        self.assertEqual('not activated',
                         vm.get_vm_qp(self.adapter, pvm_uuid,
                                      'PartitionState'))
        self.assertEqual(self.lpar(inst)['id'],
                         vm.get_vm_qp(self.adapter, pvm_uuid, 'PartitionID'))
        self.assertTrue(vm.instance_exists(self.adapter, inst))
        names = [lpar.name for lpar in vm.get_lpars(self.adapter)]
        self.assertEqual([inst.name], names)
