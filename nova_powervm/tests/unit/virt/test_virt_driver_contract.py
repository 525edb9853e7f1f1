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
"""nova's generic driver tests, run against PowerVMDriver on the simulator.

``_VirtDriverTestCase`` (nova/tests/unit/virt/test_virt_drivers.py) is
nova's contract suite for compute drivers.  It runs unchanged here except
for the overrides below, each with its reason.
"""

from nova.compute import power_state
from nova import exception
from nova import objects
from nova import test
from nova.tests.unit import utils as test_utils
from nova.tests.unit.virt import test_virt_drivers

from nova_powervm import conf as pvm_conf
from nova_powervm import exception as pvm_exception
from nova_powervm.simulator import fixture as pvm_fixtures
from nova_powervm.simulator import san as sim_san
from nova_powervm.virt.powervm import driver as pvm_driver


_NOVA_NETWORK_INFO = test_utils.get_test_network_info
_NOVA_IMAGE = test_utils.get_test_image_object


def _sea_network_info(count=1):
    """nova's test network info with PowerVM SEA VIFs instead of OVS.

    The driver plugs ``pvm_sea`` VIFs (networking-powervm's SEA agent); an
    OVS VIF is refused at spawn, so every spawning test would stop there.
    """
    network_info = _NOVA_NETWORK_INFO(count)
    for vif in network_info:
        vif['type'] = 'pvm_sea'
    return network_info


def _raw_image(context, instance_ref):
    """nova's test image, as a raw disk image.

    The suite's image claims the ``ami`` format, which the driver refuses
    (it copies image bytes to a disk as they are); every spawning test
    would stop there.
    """
    image_meta = _NOVA_IMAGE(context, instance_ref)
    image_meta.disk_format = 'raw'
    image_meta.container_format = 'bare'
    return image_meta


class PowerVMDriverContractTestCase(test_virt_drivers._VirtDriverTestCase,
                                    test.TestCase):
    """The contract suite on the in-process NovaLink simulator."""

    def setUp(self):
        self.driver_module = 'nova_powervm.virt.powervm.driver.PowerVMDriver'
        # The mixin builds the driver inside its setUp, before a test can
        # set flags, and the constructor validates [powervm]; localdisk
        # needs a volume group name, so give it a default for the test.
        pvm_conf.CONF.set_default('volume_group_name', 'datavg',
                                  group='powervm')
        self.addCleanup(pvm_conf.CONF.set_default, 'volume_group_name', '',
                        group='powervm')
        super().setUp()
        self.stub_out('nova.tests.unit.utils.get_test_network_info',
                      _sea_network_info)
        self.stub_out('nova.tests.unit.utils.get_test_image_object',
                      _raw_image)
        # The same for the images a rescue reads from Glance itself.
        for image in self.image_service.images.values():
            image.update(disk_format='raw', container_format='bare')
        # A short long-poll lets cleanup_host join the event thread fast.
        self.sim = self.useFixture(
            pvm_fixtures.SimulatorFixture(event_timeout=0.2))
        self.flags(group='powervm', **self.sim.driver_flags())
        # Lifecycle events of the tests' own power changes are not wanted.
        self.connection.event_delay = 3600
        self.addCleanup(self.connection.cleanup_host, 'myhostname')
        self.connection.init_host('myhostname')

    def test_driver_under_test(self):
        """Guard: the suite really exercises our driver."""
        self.assertIsInstance(self.connection, pvm_driver.PowerVMDriver)
        self.assertEqual(['myhostname'],
                         self.connection.get_available_nodes())

    def _san_volume(self, name):
        """A LUN of the simulated SAN exported to the connector."""
        connector = self.connection.get_volume_connector(None)
        san = self.sim.san_client()
        san.create_lun(name, 1)
        doc = san.export(name, connector['wwpns'])
        info = sim_san.connection_info(doc, connector, 'fibre_channel')
        info['serial'] = name
        return info

    def _volume_maps(self):
        return [m for vios in self.sim.state()['vioses']
                for m in vios['scsi_mappings']
                if m['storage_type'] == 'PhysicalVolume']

    def test_attach_detach_volume(self):
        """Override: nova's uses driver_volume_type 'fake'; a SAN LUN."""
        instance_ref, network_info = self._get_running_instance()
        info = self._san_volume('vol-1')
        self.assertIsNone(self.connection.attach_volume(
            self.ctxt, info, instance_ref, '/dev/sda'))
        self.assertEqual(2, len(self._volume_maps()))
        self.assertIsNone(self.connection.detach_volume(
            self.ctxt, info, instance_ref, '/dev/sda'))
        self.assertEqual([], self._volume_maps())
        self.assertEqual([], self.sim.state()['physical_volumes'])

    def test_attach_detach_different_power_states(self):
        """Override: attach while off, power on with it, detach running."""
        instance_ref, network_info = self._get_running_instance()
        info = self._san_volume('vol-1')
        self.connection.power_off(instance_ref)
        self.connection.attach_volume(self.ctxt, info, instance_ref,
                                      '/dev/sda')
        bdi = {'root_device_name': None, 'swap': None, 'ephemerals': [],
               'block_device_mapping': [{'connection_info': info,
                                         'mount_device': '/dev/sda'}]}
        self.connection.power_on(self.ctxt, instance_ref, network_info, bdi)
        self.connection.detach_volume(self.ctxt, info, instance_ref,
                                      '/dev/sda')
        self.assertEqual([], self._volume_maps())

    def test_swap_volume(self):
        """Override: 'fake' volumes are refused; no swap volume yet."""
        instance_ref, network_info = self._get_running_instance()
        fake = {'driver_volume_type': 'fake', 'data': {}}
        self.assertRaises(pvm_exception.VolumeProtocolNotSupported,
                          self.connection.attach_volume, None, fake,
                          instance_ref, '/dev/sda')
        self.assertRaises(NotImplementedError, self.connection.swap_volume,
                          None, fake, fake, instance_ref, '/dev/sda', 2)

    def test_live_migration(self):
        """Override: nova's version names a host no compute node has.

        The driver cannot learn the destination's facts, so it calls
        nova's recover method (never the post method) and the partition
        keeps running here.
        """
        instance_ref, network_info = self._get_running_instance()
        migration = objects.Migration(context=self.ctxt, id=1,
                                      dest_compute='otherhost',
                                      dest_node='otherhost')
        migrate_data = objects.HyperVLiveMigrateData(
            migration=migration, is_shared_instance_path=True)
        calls = []
        self.connection.live_migration(
            self.ctxt, instance_ref, 'otherhost',
            lambda *a, **k: calls.append('post'),
            lambda *a, **k: calls.append('recover'),
            migrate_data=migrate_data)
        self.assertEqual(['recover'], calls)
        self.assertEqual(power_state.RUNNING,
                         self.connection.get_info(instance_ref).state)

    def test_live_migration_force_complete(self):
        """Override: nova's version reads libvirt's ``active_migrations``.

        PowerVM partition mobility has no post-copy or pause-to-finish
        mode, so forcing completion is not supported.
        """
        instance_ref, network_info = self._get_running_instance()
        self.assertRaises(NotImplementedError,
                          self.connection.live_migration_force_complete,
                          instance_ref)

    def test_migrate_disk_and_power_off(self):
        """Override: a localdisk server cannot go to another host.

        nova's version names another host ('dest_host') with no migration
        record; on localdisk the driver refuses that before anything
        changes (the partition keeps running), and stops the partition
        for a resize on this host.
        """
        instance_ref, network_info = self._get_running_instance()
        flavor_ref = test_utils.get_test_flavor()
        flavor_ref.root_gb = instance_ref.flavor.root_gb
        err = self.assertRaises(
            exception.InstanceFaultRollback,
            self.connection.migrate_disk_and_power_off, self.ctxt,
            instance_ref, 'dest_host', flavor_ref, network_info)
        self.assertIn('only on shared storage', str(err))
        self.assertEqual('running', self.sim.state()['lpars'][-1]['state'])
        info = self.connection.migrate_disk_and_power_off(
            self.ctxt, instance_ref, 'myhostname', instance_ref.flavor,
            network_info)
        self.assertIn('"same_host": true', info)
        self.assertEqual(power_state.SHUTDOWN,
                         self.connection.get_info(
                             instance_ref, use_cache=False).state)
