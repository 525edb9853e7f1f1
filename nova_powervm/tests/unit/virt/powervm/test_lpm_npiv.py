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
"""NPIV in a live migration: published fabric ports, VirtualFCMappings.

The builder of the job's ``VirtualFCMappings`` (no I/O), then, on one
simulated host, the facts a host publishes, the partition's client
adapters the source reads, the destination's check, and the simulator's
refusal of a port that is absent or not NPIV capable.
"""

from nova import exception as nova_exc
from nova import objects
from oslo_serialization import jsonutils
import testtools

from nova_powervm import conf as pvm_conf
from nova_powervm.simulator import jobs
from nova_powervm.simulator.resources import lpm_storage
from nova_powervm.simulator.resources import npiv as sim_npiv
from nova_powervm.simulator import xmlutil as xu
from nova_powervm.tests.unit.virt.powervm import test_volumes
from nova_powervm.virt.powervm import lpm_npiv
from nova_powervm.virt.powervm import vm
from nova_powervm.virt.powervm.volume import vscsi

FACTS = {'A': [['vios1', 1, 'fcs0'], ['vios2', 2, 'fcs0']],
         'B': [['vios1', 1, 'fcs1']]}


class TestBuildFCMappings(testtools.TestCase):

    def test_each_adapter_to_a_port_of_its_fabric(self):
        adapters = [(3, 'A'), (4, 'B'), (5, 'A'), (6, 'A'), (7, 'B')]
        self.assertEqual(
            ['3/vios1///fcs0', '4/vios1///fcs1', '5/vios2///fcs0',
             '6/vios1///fcs0', '7/vios1///fcs1'],
            lpm_npiv.build_fc_mappings(adapters, FACTS, 'host2'))

    def test_pypowervm_format(self):
        # slot/vios-name/vios-id/vios-slot/port: the name, not both.
        slot, name, vid, vslot, port = lpm_npiv.build_fc_mappings(
            [(12, 'B')], FACTS, 'host2')[0].split('/')
        self.assertEqual(('12', 'vios1', '', '', 'fcs1'),
                         (slot, name, vid, vslot, port))
        parsed = lpm_storage.parse_mappings(
            '12/vios1///fcs1', 'VirtualFCMappings')
        self.assertEqual({12: ('vios1', '', 'fcs1')}, parsed)

    def test_missing_fabric_is_refused(self):
        for facts in ({'A': FACTS['A']}, dict(FACTS, B=[])):
            err = self.assertRaises(
                nova_exc.MigrationPreCheckError,
                lpm_npiv.build_fc_mappings, [(3, 'A'), (4, 'B')], facts,
                'host2')
            self.assertIn('fabric B', str(err))
            self.assertIn('host2', str(err))

    def test_adapter_on_no_configured_fabric_is_refused(self):
        err = self.assertRaises(
            nova_exc.MigrationPreCheckError, lpm_npiv.build_fc_mappings,
            [(9, None)], FACTS, 'host2')
        self.assertIn('slot 9', str(err))

    def test_no_adapters_no_mappings(self):
        self.assertEqual([], lpm_npiv.build_fc_mappings([], {}, 'h'))
        self.assertIsNone(lpm_npiv.dest_fabrics({}))
        self.assertIsNone(lpm_npiv.dest_fabrics(
            {lpm_npiv.STAT_FABRICS: '{'}))


class TestOnTheSimulator(test_volumes.VolumeTestCase):

    fc_maps = test_volumes.TestNPIV.fc_maps
    npiv_volume = test_volumes.TestNPIV.npiv_volume

    def instance(self, *args, **kwargs):
        inst = super().instance(*args, **kwargs)
        if not inst.obj_attr_is_set('system_metadata'):
            inst.system_metadata = {}
        return inst

    def setUp(self):
        super().setUp()
        self.ports = {v.name: v.fc_wwpns
                      for v in vscsi.vioses(self.drv._ctx)}
        self.flags(fc_attach_strategy='npiv', fabrics=['A', 'B'],
                   group='powervm')
        pvm_conf.register_fabric_opts()
        self.flags(fabric_A_port_wwpns=[self.ports['vios1'][0],
                                        self.ports['vios2'][0]],
                   fabric_B_port_wwpns=[self.ports['vios1'][1],
                                        self.ports['vios2'][1]],
                   group='powervm')

    def port_names(self, vios_name):
        for vios in self.sim.sim.store.all('VirtualIOServer'):
            if xu.text(vios.elem, 'PartitionName') == vios_name:
                return [xu.text(p, 'PortName')
                        for p in sim_npiv.physical_ports(vios.elem)]

    def test_host_stats(self):
        stats, calls = self.count_rest(lpm_npiv.host_stats, self.drv._ctx)
        self.assertEqual(1, calls)
        facts = jsonutils.loads(stats[lpm_npiv.STAT_FABRICS])
        names = {v: self.port_names(v) for v in ('vios1', 'vios2')}
        self.assertEqual(['A', 'B'], sorted(facts))
        self.assertEqual(
            [['vios1', names['vios1'][0]], ['vios2', names['vios2'][0]]],
            [[v, p] for v, _id, p in facts['A']])
        self.assertEqual(
            [['vios1', names['vios1'][1]], ['vios2', names['vios2'][1]]],
            [[v, p] for v, _id, p in facts['B']])
        # Small enough for the compute node's stats.
        self.assertLess(len(stats[lpm_npiv.STAT_FABRICS]), 200)
        # A failed read leaves them out; the resource update goes on.
        self.sim.add_fault(method='GET', path='/uom/VirtualIOServer$',
                           count=10)
        self.assertEqual({}, lpm_npiv.host_stats(self.drv._ctx))
        self.sim.clear_faults()
        # Without NPIV: nothing, no I/O.
        self.flags(fc_attach_strategy='vscsi', group='powervm')
        self.assertEqual(({}, 0), self.count_rest(lpm_npiv.host_stats,
                                                  self.drv._ctx))

    def test_full_ports_are_not_published(self):
        for vios in self.sim.sim.store.all('VirtualIOServer'):
            for port in sim_npiv.physical_ports(vios.elem):
                if xu.text(port, 'PortName') == self.port_names(
                        'vios1')[1]:
                    xu.set_text(port, 'AvailablePorts', 0)
            self.sim.sim.store.touch(vios)
        facts = jsonutils.loads(lpm_npiv.host_stats(self.drv._ctx)[
            lpm_npiv.STAT_FABRICS])
        self.assertEqual([], facts['B'])
        self.assertEqual(2, len(facts['A']))

    def test_source_mappings_from_the_client_adapters(self):
        inst = self.lpar_instance(running=True)
        self.attach(self.npiv_volume(inst), inst)
        uuid = vm.get_pvm_uuid(inst)
        adapters, calls = self.count_rest(lpm_npiv.client_adapters,
                                          self.drv._ctx, uuid)
        self.assertEqual(1, calls)
        self.assertEqual(['A', 'B'], sorted(f for _s, f in adapters))
        # Each adapter has a slot of its own on the partition.
        self.assertEqual(2, len({s for s, _f in adapters}), adapters)
        stats = {lpm_npiv.STAT_FABRICS: jsonutils.dumps(FACTS)}
        maps = lpm_npiv.fc_mappings(self.drv._ctx, uuid, stats, 'host2')
        slots = dict((f, s) for s, f in adapters)
        self.assertEqual(sorted(['%d/vios1///fcs0' % slots['A'],
                                 '%d/vios1///fcs1' % slots['B']]),
                         sorted(maps))
        # The destination published nothing: refused, naming it.
        err = self.assertRaises(nova_exc.MigrationPreCheckError,
                                lpm_npiv.fc_mappings, self.drv._ctx, uuid,
                                {}, 'host2')
        self.assertIn('host2', str(err))
        # Without NPIV here: no mappings, no I/O.
        self.flags(fc_attach_strategy='vscsi', group='powervm')
        self.assertEqual((None, 0), self.count_rest(
            lpm_npiv.fc_mappings, self.drv._ctx, uuid, stats, 'host2'))

    def test_destination_check(self):
        inst = self.lpar_instance(running=True)
        info = self.npiv_volume(inst)
        # No FC volume in nova: nothing to check (no I/O).
        self.assertEqual((None, 0), self.count_rest(
            lpm_npiv.check_destination, self.drv._ctx, inst))
        self.bdm_records.append(objects.BlockDeviceMapping(
            instance_uuid=inst.uuid, volume_id='vol-1',
            source_type='volume', destination_type='volume',
            connection_info=jsonutils.dumps(info)))
        self.assertEqual((None, 1), self.count_rest(
            lpm_npiv.check_destination, self.drv._ctx, inst))
        # Fabric B has no port here.
        self.flags(fabric_B_port_wwpns=['c0ffee0000000001'],
                   group='powervm')
        err = self.assertRaises(nova_exc.MigrationPreCheckError,
                                lpm_npiv.check_destination, self.drv._ctx,
                                inst)
        self.assertIn('fabric B', str(err))


class TestSimulatorPlacement(test_volumes.VolumeTestCase):
    """The simulator honours the port of ``VirtualFCMappings``."""

    STORAGE = {'scsi': [], 'vfc': [{'wwpns': 'c05076000000aa c05076000000ab',
                                    'slot': 3}]}

    def check(self, text):
        lpm_storage.check(self.sim.sim, self.STORAGE,
                          {'VirtualFCMappings': text})

    def test_absent_and_full_ports_are_refused(self):
        self.check('3/vios1///fcs0')
        self.check('3/vios2///fcs1')
        err = self.assertRaises(jobs.JobFailed, self.check,
                                '3/vios1///fcs9')
        self.assertIn('HSCLA2F6', str(err))
        self.assertIn('fcs9', str(err))
        for vios in self.sim.sim.store.all('VirtualIOServer'):
            for port in sim_npiv.physical_ports(vios.elem):
                if xu.text(port, 'PortName') == 'fcs0':
                    xu.set_text(port, 'AvailablePorts', 0)
        err = self.assertRaises(jobs.JobFailed, self.check,
                                '3/vios1///fcs0')
        self.assertIn('HSCLA2F6', str(err))
        self.assertIn('NPIV capable', str(err))
        self.check('3/vios1///fcs1')
        # Without a choice: a VIOS with a free NPIV port.
        self.check('')
