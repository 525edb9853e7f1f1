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
"""Start-up recovery (``recovery.recover``) on the simulator.

nova's database is not here: ``Instance.save`` records what would be
saved, and no instance is found by UUID (``get_by_uuid``).
"""

from nova.compute import task_states
from nova.compute import vm_states
from nova import exception as nova_exc
from nova import objects

from nova_powervm.sandbox import hosts
from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.virt.powervm import flows
from nova_powervm.virt.powervm import recovery


class TestRecover(flowbase.FlowTestCase):

    def setUp(self):
        super().setUp()
        self.saved = []

        def save(inst, *args, **kwargs):
            self.saved.append((inst.uuid, inst.vm_state, inst.task_state))

        def get_by_uuid(context, uuid, *args, **kwargs):
            raise nova_exc.InstanceNotFound(instance_id=uuid)
        self.stub_out('nova.objects.Instance.save', save)
        self.stub_out('nova.objects.Instance.get_by_uuid', get_by_uuid)

    def spawned(self, **fields):
        inst = self.instance(config_drive=False)
        flows.spawn(self.hctx, self.ctx, inst, self.image_meta, [], None,
                    None, None, False)
        inst.host = 'host1'
        for key, value in fields.items():
            setattr(inst, key, value)
        return inst

    def recover(self, *instances):
        return recovery.recover(self.hctx, self.ctx,
                                objects.InstanceList(objects=list(instances)))

    def lpar_names(self):
        return sorted(lp['name'] for lp in self.sim.state()['lpars']
                      if not hosts.is_mgmt_lpar(lp))

    def test_interrupted_build_removed_other_servers_untouched(self):
        built = self.spawned(vm_state=vm_states.BUILDING,
                             task_state=task_states.SPAWNING)
        kept = self.spawned(vm_state=vm_states.ACTIVE, task_state=None)
        self.assertEqual(2, len(self.lpar_names()))
        self.recover(built, kept)
        self.assertEqual([kept.name], self.lpar_names())
        self.assertEqual(1, len([n for n in self.vdisk_names()
                                 if n.startswith('b_')]))
        # nova sets the build to ERROR itself, after the driver.
        self.assertEqual([], self.saved)

    def test_half_changed_operations_go_to_error(self):
        for state in recovery.ERROR_STATES:
            inst = self.spawned(vm_state=vm_states.ACTIVE, task_state=state)
            self.recover(inst)
            self.assertEqual((inst.uuid, vm_states.ERROR, None),
                             self.saved[-1], state)
            # The partition stays: deleting the server removes it.
            self.assertIn(inst.name, self.lpar_names())

    def test_unchanged_partition_loses_the_task_state(self):
        for state in recovery.CLEAR_STATES:
            inst = self.spawned(vm_state=vm_states.ACTIVE, task_state=state)
            self.recover(inst)
            self.assertEqual((inst.uuid, vm_states.ACTIVE, None),
                             self.saved[-1], state)

    def test_unknown_partition_reported_not_deleted(self):
        stray = self.spawned(vm_state=vm_states.ACTIVE)
        records = []
        self.stub_out('nova_powervm.virt.powervm.recovery.LOG.warning',
                      lambda msg, args: records.append(msg % args))
        self.recover()
        self.assertEqual([stray.name], self.lpar_names())
        self.assertEqual(1, len(records))
        self.assertIn('Partition %s (' % stray.name, records[0])
        self.assertIn('nova has no instance of that UUID', records[0])

    def test_another_hosts_instance_is_not_resolved(self):
        inst = self.spawned(vm_state=vm_states.ACTIVE,
                            task_state=task_states.RESCUING, host='host2')
        self.recover(inst)
        self.assertEqual([], self.saved)
