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
"""Explicit registration: what a Simulator serves is its registry."""

from pypowervm import exceptions as pvm_exc
from pypowervm.wrappers import job as pvm_job

from nova_powervm.simulator import core
from nova_powervm.simulator import fixture as pvm_fx
from nova_powervm.simulator import registry
from nova_powervm.simulator import resources
from nova_powervm.simulator.resources import ssp
from nova_powervm.tests import base as tests_base
from nova_powervm.tests.unit.simulator import base

_SSP_TYPES = (ssp.Cluster, ssp.SharedStoragePool, ssp.Tier, ssp.LogicalUnit)


class TestRegistry(tests_base.TestCase):

    def test_duplicates_and_unknown_hooks_refused(self):
        self.assertRaises(ValueError, registry.Registry,
                          [ssp.Tier, ssp.Tier])
        job = resources.JOBS[0]
        self.assertRaises(ValueError, registry.Registry, (), [job, job])
        self.assertRaises(ValueError, registry.Registry, (), (),
                          [('no_such_hook', print)])

    def test_each_simulator_has_its_own(self):
        one, two = core.Simulator(), core.Simulator()
        self.addCleanup(one.close)
        self.addCleanup(two.close)
        self.assertIsNot(one.registry, two.registry)
        del one.registry.operations[('LogicalPartition', 'PowerOn')]
        self.assertIn(('LogicalPartition', 'PowerOn'),
                      two.registry.operations)

    def test_lists_name_every_kind_once(self):
        kinds = [cls.kind for cls in resources.RESOURCES]
        self.assertEqual(len(kinds), len(set(kinds)))
        self.assertEqual(set(kinds), set(resources.registry().resources))


class TestServedTypes(base.SimTestCase):

    def test_every_job_has_a_template(self):
        for group, name, _func in resources.JOBS:
            target = {'LogicalPartition': 'novalink',
                      'VirtualIOServer': 'vios1'}.get(group)
            uuid = self.vios(target) if group == 'VirtualIOServer' else (
                self.host().uuid if group == 'ManagedSystem' else
                self.sim.inventory.partition_uuid(target))
            resp = self.adpt.read(group, uuid, suffix_type='do',
                                  suffix_parm=name)
            self.assertEqual(name, pvm_job.Job.wrap(resp.entry)
                             .element.findtext('.//{*}OperationName'))

    def test_unregistered_job_is_unknown(self):
        self.assertRaises(pvm_exc.HttpNotFound, self.adpt.read,
                          'ManagedSystem', self.host().uuid,
                          suffix_type='do', suffix_parm='NoSuchJob')


class TestWithoutSSP(tests_base.TestCase):
    """A registry without the SSP types: they are not served at all."""

    def test_types_left_out_are_404(self):
        full = self.useFixture(pvm_fx.SimulatorFixture(port=12081))
        self.assertEqual(204, full.adapter.read('Cluster').status)
        part = resources.registry()
        for cls in _SSP_TYPES:
            del part.resources[cls.kind]
        fx = self.useFixture(pvm_fx.SimulatorFixture(registry=part))
        self.assertRaises(pvm_exc.HttpNotFound, fx.adapter.read, 'Cluster')
        self.assertEqual(200, fx.adapter.read('LogicalPartition').status)
