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
"""Same-host resize flows on the simulator: REST budget, faults, DLPAR."""

import copy

from nova import exception as nova_exc
from nova import objects

from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.tests.unit.virt.powervm import test_flows
from nova_powervm.virt.powervm import move
from nova_powervm.virt.powervm import power
from nova_powervm.virt.powervm import resize
from nova_powervm.virt.powervm import vm


class ResizeTestCase(test_flows.SpawnDestroyTestCase):

    def setUp(self):
        super().setUp()
        # No database here: nova's migration record is not found, and the
        # driver tells the same host from the destination's name.

        def no_migration(cls, context, instance_uuid, status):
            raise nova_exc.MigrationNotFoundByStatus(
                instance_id=instance_uuid, status=status)
        self.stub_out(
            'nova.objects.Migration.get_by_instance_and_status',
            no_migration)
        self.inst = self.instance()
        self.spawn(self.inst, flowbase.sea_network_info())
        self.old = copy.deepcopy(self.inst.flavor)
        self.new = copy.deepcopy(self.inst.flavor)
        self.new.memory_mb = self.old.memory_mb * 2
        self.new.vcpus = self.old.vcpus + 1
        self.migration = objects.Migration(source_compute='host1',
                                           dest_compute='host1')

    def size(self):
        lpar = self.lpar(self.inst)
        return lpar['memory_mb'], lpar['vcpus'], lpar['state']

    def power_off_for_resize(self, timeout=0):
        return move.migrate_disk_and_power_off(
            self.hctx, self.ctx, self.inst, 'host1', self.new,
            timeout=timeout)

    def finish(self, power_on=True, disk_info=None):
        self.inst.old_flavor = self.old
        self.inst.flavor = self.new
        move.finish_migration(self.hctx, self.ctx, self.migration,
                              self.inst, disk_info, None, self.image_meta,
                              power_on=power_on)

    def revert(self, power_on=True):
        self.inst.new_flavor = self.new
        self.inst.flavor = self.old
        move.finish_revert_migration(self.hctx, self.ctx, self.inst, None,
                                     self.migration, power_on=power_on)

    def test_resize_costs_seven_round_trips_and_revert_seven(self):
        start = self.size()
        info, trips = self.count_rest(self.power_off_for_resize)
        self.assertEqual(3, trips)  # GET + PowerOff job (PUT, DELETE)
        self.assertEqual('not activated', self.size()[2])
        self.assertTrue(resize.read_disk_info(info)['was_running'])
        _, trips = self.count_rest(self.finish, disk_info=info)
        self.assertEqual(4, trips)  # GET + POST + PowerOn job
        self.assertEqual((self.new.memory_mb, self.new.vcpus, 'running'),
                         self.size())
        _, trips = self.count_rest(self.revert)
        # GET, PowerOff job, GET + POST, PowerOn job.
        self.assertEqual(7, trips)
        self.assertEqual(start, self.size())

    def test_confirm_on_one_host_costs_nothing(self):
        info = self.power_off_for_resize()
        self.finish(disk_info=info)
        _, trips = self.count_rest(move.confirm_migration, self.hctx,
                                   self.ctx, self.migration, self.inst, None)
        self.assertEqual(0, trips)

    def test_stopped_server_stays_stopped(self):
        power.power_off(self.hctx, self.inst, force_immediate=True)
        info = self.power_off_for_resize()
        self.assertFalse(resize.read_disk_info(info)['was_running'])
        self.finish(power_on=False, disk_info=info)
        self.assertEqual((self.new.memory_mb, self.new.vcpus,
                          'not activated'), self.size())
        self.revert(power_on=False)
        self.assertEqual((self.old.memory_mb, self.old.vcpus,
                          'not activated'), self.size())

    def test_failure_at_each_request_of_finish_restores_the_partition(self):
        start = self.size()
        for fault in (dict(method='POST', path='LogicalPartition/[^/]+$'),
                      dict(kind='job_fail', job='PowerOn')):
            info = self.power_off_for_resize()
            self.sim.add_fault(count=1, **fault)
            self.assertRaises(nova_exc.NovaException, self.finish,
                              disk_info=info)
            self.sim.clear_faults()
            self.inst.flavor = self.old
            self.assertEqual(start, self.size(), fault)

    def test_failed_stop_starts_nothing_and_rolls_back(self):
        self.sim.add_fault(count=10, kind='job_fail', job='PowerOff')
        err = self.assertRaises(nova_exc.InstanceFaultRollback,
                                self.power_off_for_resize, 5)
        self.assertIn('PowerOff', str(err.inner_exception))
        self.assertEqual('running', self.size()[2])

    def test_failed_soft_stop_ends_hard(self):
        # The guest's shutdown fails: the partition is powered off hard.
        self.sim.add_fault(count=1, kind='job_fail', job='PowerOff')
        lpar_w = vm.get_instance_wrapper(self.adapter, self.inst)
        self.assertTrue(resize.stop_partition(self.hctx, self.inst, lpar_w,
                                              timeout=2, retry_interval=1))
        self.assertEqual('not activated', self.size()[2])

    def test_refusals_before_anything_changes(self):
        for field, value, text in (
                ('swap', 512, 'ephemeral or swap'),
                ('ephemeral_gb', 5, 'ephemeral or swap'),
                ('root_gb', 0, 'cannot shrink')):
            self.new = copy.deepcopy(self.old)
            self.old.root_gb = 1
            setattr(self.new, field, value)
            self.sim.reset_stats()
            err = self.assertRaises(nova_exc.InstanceFaultRollback,
                                    self.power_off_for_resize)
            self.assertIn(text, str(err.inner_exception))
            self.assertEqual('running', self.size()[2])

    def test_another_host_is_refused_on_localdisk(self):
        err = self.assertRaises(
            nova_exc.InstanceFaultRollback, move.migrate_disk_and_power_off,
            self.hctx, self.ctx, self.inst, '192.0.2.99', self.old)
        self.assertIn('only on shared storage', str(err.inner_exception))
        self.assertEqual('running', self.size()[2])

    def bdi(self, protocol='fibre_channel', boot_index=0):
        return {'block_device_mapping': [{
            'boot_index': boot_index, 'mount_device': '/dev/sda',
            'connection_info': {'driver_volume_type': protocol,
                                'serial': 'vol-1', 'data': {}}}]}

    def test_boot_from_volume_may_leave_a_volume_group_host(self):
        # No ephemeral or swap disk: refused for nothing but the flavor.
        self.old.ephemeral_gb = self.old.swap = 0
        self.inst.flavor = self.old
        resize.check_flavor_change(self.hctx, self.inst, self.new, False,
                                   from_volume=True)
        # With a swap disk in this host's volume group: refused.
        self.old.swap = 512
        self.new.swap = 512
        err = self.assertRaises(
            nova_exc.InstanceFaultRollback, move.migrate_disk_and_power_off,
            self.hctx, self.ctx, self.inst, '192.0.2.99', self.new,
            self.bdi())
        self.assertIn('boots from a volume but has ephemeral or swap',
                      str(err.inner_exception))
        self.assertEqual('running', self.size()[2])

    def test_boot_from_volume_root_disk_sizes_nothing(self):
        self.old.root_gb = 2
        self.new.root_gb = 1
        resize.check_flavor_change(self.hctx, self.inst, self.new, True,
                                   from_volume=True)

    def test_volume_moves_refused_before_anything_changes(self):
        # (NPIV volumes move: tests/functional/test_move_npiv.py.)
        for protocol, dest, flags, text in (
                ('rbd', 'host1', {}, 'uses rbd'),
                ('rbd', '192.0.2.99', {'fc_attach_strategy': 'npiv'},
                 'uses rbd')):
            self.flags(group='powervm', **flags)
            err, trips = self.count_rest(
                self.assertRaises, nova_exc.InstanceFaultRollback,
                move.migrate_disk_and_power_off, self.hctx, self.ctx,
                self.inst, dest, self.new, self.bdi(protocol))
            self.assertIn(text, str(err.inner_exception))
            self.assertEqual(0, trips)
            self.assertEqual('running', self.size()[2])

    def test_running_partition_keeps_its_limits(self):
        # The simulator refuses what an active partition cannot take.
        lpar_w = vm.get_instance_wrapper(self.adapter, self.inst)
        err = self.assertRaises(nova_exc.NovaException, resize.resize_lpar,
                                self.hctx, self.inst, self.new, lpar_w)
        self.assertIn('while it is active', str(err))
        self.assertEqual('running', self.size()[2])
        self.assertEqual(self.old.memory_mb, self.size()[0])
