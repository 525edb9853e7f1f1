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
"""Live migration checks and the migrate-data object."""

import json
import subprocess
import sys

from nova.compute import power_state
from nova import exception as nova_exc
from oslo_serialization import jsonutils
from pypowervm.tasks import power as pvm_power

from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.virt.powervm import live_migration
from nova_powervm.virt.powervm import vm

# Run in a fresh interpreter: what nova-conductor can do with the object
# without ever importing this package.
_CONDUCTOR = r'''
import json, sys
from nova import objects
from nova.objects import base
objects.register_all()
prim = json.loads(sys.stdin.read())
obj = base.NovaObject.obj_from_primitive(prim)
obj.vifs = []  # the conductor fills in the port bindings
out = base.obj_to_primitive(obj)
out['__class__'] = type(obj).__name__
out['__modules__'] = sorted(m for m in sys.modules if 'powervm' in m)
print(json.dumps(out))
'''


class TestMigrateData(flowbase.SSPMixin, flowbase.FlowTestCase):

    def test_nova_decodes_it_without_this_package(self):
        inst = self.instance(config_drive=False)
        inst.power_state = power_state.RUNNING
        data = live_migration.check_destination(self.hctx, inst, False)
        prim = jsonutils.dumps(data.obj_to_primitive())
        out = subprocess.run([sys.executable, '-c', _CONDUCTOR],
                             input=prim, capture_output=True, text=True,
                             timeout=120, check=True)
        got = json.loads(out.stdout.strip().splitlines()[-1])
        self.assertEqual('HyperVLiveMigrateData', got['__class__'])
        self.assertEqual([], got['__modules__'])
        self.assertTrue(got['is_shared_instance_path'])

    def test_block_migration_refused(self):
        inst = self.instance(config_drive=False)
        exc = self.assertRaises(nova_exc.MigrationPreCheckError,
                                live_migration.check_destination,
                                self.hctx, inst, True)
        self.assertIn('Block migration', str(exc))

    def test_compat_mode_not_on_destination(self):
        inst = self.instance(config_drive=False)
        inst.flavor.extra_specs = {
            'powervm:processor_compatibility': 'POWER6+'}
        host_w = self.hctx.host_wrapper()
        if 'POWER6_Plus' in (host_w.proc_compat_modes or ()):
            inst.flavor.extra_specs = {
                'powervm:processor_compatibility': 'POWER5'}
        exc = self.assertRaises(nova_exc.MigrationPreCheckError,
                                live_migration.check_destination,
                                self.hctx, inst, False)
        self.assertIn('processor compatibility mode', str(exc))

    def test_facts_published(self):
        host_w = self.hctx.host_wrapper()
        facts = live_migration.host_facts(host_w, 'nl.example:443')
        self.assertEqual(host_w.system_name,
                         facts[live_migration.STAT_SYSTEM])
        self.assertEqual('nl.example:443', facts[live_migration.STAT_ADDRESS])
        self.assertEqual('wlp', facts[live_migration.STAT_USER])
        self.assertEqual('true', facts[live_migration.STAT_CAPABLE])
        self.assertEqual(','.join(host_w.proc_compat_modes),
                         facts[live_migration.STAT_COMPAT])


class TestSourceChecks(flowbase.SSPMixin, flowbase.FlowTestCase):

    def _lpar(self, inst):
        host_w = self.hctx.host_wrapper()
        lpar_w = vm.create_lpar(self.adapter, host_w, inst)
        self.addCleanup(vm.delete_lpar, self.adapter, inst)
        self.addCleanup(self._stop, inst)
        return lpar_w

    def _stop(self, inst):
        lpar_w = vm.get_instance_wrapper(self.adapter, inst)
        if lpar_w.state != 'not activated':
            pvm_power.power_off(lpar_w, self.hctx.host_uuid,
                                force_immediate=True)

    def test_running_partition_passes_stopped_passes(self):
        inst = self.instance(config_drive=False)
        lpar_w = self._lpar(inst)
        live_migration.check_source(self.hctx, inst, None)
        pvm_power.power_on(lpar_w, self.hctx.host_uuid)
        live_migration.check_source(self.hctx, inst, None)

    def test_rmc_inactive_refused(self):
        inst = self.instance(config_drive=False)
        lpar_w = self._lpar(inst)
        pvm_power.power_on(lpar_w, self.hctx.host_uuid)
        elem = self.sim.sim.store.get(lpar_w.uuid).elem
        elem.find('{%s}ResourceMonitoringControlState' % elem.nsmap[
            None]).text = 'inactive'
        self.sim.sim.store.touch(self.sim.sim.store.get(lpar_w.uuid))
        exc = self.assertRaises(nova_exc.MigrationPreCheckError,
                                live_migration.check_source,
                                self.hctx, inst, None)
        self.assertIn('RMC', str(exc))

    def test_config_drive_refused(self):
        inst = self.instance(config_drive=True)
        exc = self.assertRaises(nova_exc.MigrationPreCheckError,
                                live_migration.check_source,
                                self.hctx, inst, None)
        self.assertIn('config drive', str(exc))

    def test_volume_protocols(self):
        inst = self.instance(config_drive=False)
        self._lpar(inst)

        def bdi(vol_type):
            return {'block_device_mapping': [{
                'connection_info': {'driver_volume_type': vol_type,
                                    'serial': 'vol-1', 'data': {}},
                'mount_device': '/dev/sdb'}]}
        # vSCSI over Fibre Channel and iSCSI move with the partition.
        live_migration.check_source(self.hctx, inst, bdi('fibre_channel'))
        live_migration.check_source(self.hctx, inst, bdi('iscsi'))
        exc = self.assertRaises(nova_exc.MigrationPreCheckError,
                                live_migration.check_source,
                                self.hctx, inst, bdi('nfs'))
        self.assertIn('Volume vol-1 uses nfs', str(exc))
        # NPIV: the client adapters travel with the partition too.
        self.flags(fc_attach_strategy='npiv', group='powervm')
        live_migration.check_source(self.hctx, inst, bdi('fibre_channel'))

    def test_missing_partition_is_a_precheck_failure(self):
        inst = self.instance(config_drive=False)
        self.assertRaises(nova_exc.MigrationPreCheckError,
                          live_migration.check_source, self.hctx, inst, None)


class TestLocalDisk(flowbase.FlowTestCase):

    def test_localdisk_refused_on_both_sides(self):
        inst = self.instance(config_drive=False)
        exc = self.assertRaises(nova_exc.MigrationPreCheckError,
                                live_migration.check_source,
                                self.hctx, inst, None)
        self.assertIn('shared storage pool', str(exc))
        exc = self.assertRaises(nova_exc.MigrationPreCheckError,
                                live_migration.check_destination,
                                self.hctx, inst, False)
        self.assertIn('shared storage pool', str(exc))
        # A server booting from a volume without other disks may go.
        inst.power_state = power_state.RUNNING
        live_migration.check_destination(self.hctx, inst, False,
                                         from_volume=True)
        inst.flavor.swap = 256
        exc = self.assertRaises(nova_exc.MigrationPreCheckError,
                                live_migration.check_destination,
                                self.hctx, inst, False, from_volume=True)
        self.assertIn('shared storage pool', str(exc))
        # Nothing was created or changed.
        self.assertEqual([], [lp for lp in self.sim.state()['lpars']
                              if lp['name'] == inst.name])
