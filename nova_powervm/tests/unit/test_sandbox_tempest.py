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
"""tox -e tempest's configuration: written from the driver, not by hand."""

import configparser
import os
import shutil
import tempfile


from nova_powervm import exception as exc
from nova_powervm.sandbox import describe
from nova_powervm.sandbox import tempest as sandbox_tempest
from nova_powervm.tests import base as tests_base
from nova_powervm.virt.powervm import driver


class NoSnapshotDriver(driver.PowerVMDriver):
    """The PowerVM driver as it was before it implemented snapshot."""

    snapshot = describe.virt_driver.ComputeDriver.snapshot


class SnapshottingDriver(NoSnapshotDriver):
    """... and once it implements snapshot."""

    def snapshot(self, context, instance, image_id, update_task_state):
        pass


class RefusingDriver(SnapshottingDriver):
    """A driver whose pause only says it is not supported yet."""

    def pause(self, instance):
        raise exc.NotSupportedYet(operation='pause')

    def unpause(self, instance):
        raise exc.NotSupportedYet(operation='unpause')


class TestComputeFeatures(tests_base.TestCase):

    def test_implemented_means_overridden_and_not_refused(self):
        self.assertTrue(describe.implements(SnapshottingDriver, 'snapshot'))
        self.assertFalse(describe.implements(driver.PowerVMDriver,
                                             'set_admin_password'))
        self.assertFalse(describe.implements(RefusingDriver, 'pause'))
        self.assertFalse(describe.compute_features(RefusingDriver)['pause'])
        # An instance answers as its class does.
        drv = SnapshottingDriver.__new__(SnapshottingDriver)
        self.assertTrue(describe.implements(drv, 'snapshot'))

    def test_flags_follow_the_driver(self):
        features = describe.compute_features(driver.PowerVMDriver)
        for flag, methods in (('vnc_console', ('get_vnc_console',)),
                              ('snapshot', ('snapshot',)),
                              ('pause', ('pause', 'unpause')),
                              ('rescue', ('rescue', 'unrescue')),
                              ('console_output', ('get_console_output',))):
            self.assertEqual(
                describe.implements(driver.PowerVMDriver, *methods),
                features[flag], flag)
        self.assertTrue(features['vnc_console'])
        self.assertEqual(
            bool(driver.PowerVMDriver.capabilities.get(
                'supports_attach_interface')),
            features['interface_attach'])

    def test_live_migration_flags_follow_the_disk_driver(self):
        from oslo_config import fixture as config_fixture

        from nova_powervm import conf as pvm_conf  # noqa: registers [powervm]
        conf = self.useFixture(config_fixture.Config(describe.CONF))

        def flags(**opts):
            conf.config(group='powervm', **opts)
            got = describe.compute_features(driver.PowerVMDriver)
            return (got['live_migration'],
                    got['volume_backed_live_migration'])

        self.assertEqual((False, False), flags(disk_driver='localdisk'))
        self.assertEqual((True, True), flags(disk_driver='ssp',
                                             fc_attach_strategy='vscsi'))
        # NPIV volumes move too.
        self.assertEqual((True, True), flags(fc_attach_strategy='npiv'))

    def test_a_new_feature_turns_its_tests_on(self):
        before = describe.compute_features(NoSnapshotDriver)
        after = describe.compute_features(SnapshottingDriver)
        self.assertFalse(before['snapshot'])
        self.assertTrue(after['snapshot'])
        self.assertTrue(after['shelve'])

        def unshelve_excluded(drv):
            return any('UnshelveToHostMultiNodesTest' in regex
                       for regex, _why in
                       describe.missing_feature_exclusions(drv))

        self.assertTrue(unshelve_excluded(NoSnapshotDriver))
        self.assertFalse(unshelve_excluded(SnapshottingDriver))


class TestTempestConf(tests_base.TestCase):

    INFO = {
        'auth_url': 'http://127.0.0.1:5000/v3', 'region': 'RegionOne',
        'users': {'admin': {'username': 'admin', 'password': 'pw',
                            'project': 'admin'}},
        'images': ['img-1', 'img-2'], 'network': 'private',
        'flavors': ['1', '2'], 'computes': ['h1', 'h2'],
        'network_extensions': ['binding', 'security-group'],
        'compute_features': {'snapshot': False, 'vnc_console': True},
        'missing_feature_exclusions': [['^a\\.b\\.', 'why not']],
    }

    def test_conf_from_the_cloud(self):
        workspace = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, workspace)
        path = sandbox_tempest.write_conf(self.INFO, workspace)
        self.assertEqual(0o600, os.stat(path).st_mode & 0o777)
        conf = configparser.ConfigParser(interpolation=None)
        conf.read(path)
        self.assertEqual('http://127.0.0.1:5000/v3',
                         conf['identity']['uri_v3'])
        self.assertEqual('img-2', conf['compute']['image_ref_alt'])
        self.assertEqual('2', conf['compute']['min_compute_nodes'])
        self.assertEqual('private', conf['compute']['fixed_network_name'])
        self.assertEqual('False', conf['compute-feature-enabled']['snapshot'])
        self.assertEqual('True',
                         conf['compute-feature-enabled']['vnc_console'])
        self.assertEqual('binding,security-group',
                         conf['network-feature-enabled']['api_extensions'])
        self.assertEqual('True', conf['service_available']['neutron'])

    def test_exclude_list_adds_missing_features(self):
        workspace = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, workspace)
        path = sandbox_tempest.write_exclude_list(self.INFO, workspace)
        with open(path) as f:
            lines = f.read().splitlines()
        with open(sandbox_tempest.EXCLUDE_FILE) as f:
            project = f.read().splitlines()
        self.assertEqual(project, lines[:len(project)])
        self.assertIn('^a\\.b\\.  # why not', lines)

    def test_project_exclude_list_gives_a_reason_for_each_test(self):
        with open(sandbox_tempest.EXCLUDE_FILE) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith('#'):
                    regex, _sep, reason = line.partition('#')
                    self.assertTrue(regex.strip().startswith('^tempest'),
                                    line)
                    self.assertTrue(reason.strip(), line)


class TestTempestVolumeConf(tests_base.TestCase):
    """With the sandbox's Cinder, tempest's volume tests are switched on."""

    def conf(self, **info):
        workspace = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, workspace)
        full = dict(TestTempestConf.INFO, **info)
        path = sandbox_tempest.write_conf(full, workspace)
        conf = configparser.ConfigParser(interpolation=None)
        conf.read(path)
        return conf

    def test_cinder_sections_from_the_description(self):
        conf = self.conf(cinder=True, volume={
            'catalog_type': 'block-storage',
            'backend_names': ['pvm-fc', 'pvm-iscsi'],
            'volume_types': ['fc', 'iscsi'], 'storage_protocol': 'FC',
            'volume_type_multiattach': 'multiattach',
            'vendor_name': 'nova-powervm sandbox', 'snapshot': True,
            'clone': True, 'extend_attached_volume': False})
        self.assertEqual('True', conf['service_available']['cinder'])
        self.assertEqual('block-storage', conf['volume']['catalog_type'])
        self.assertEqual('RegionOne', conf['volume']['region'])
        self.assertEqual('pvm-fc,pvm-iscsi', conf['volume']['backend_names'])
        self.assertEqual('multiattach',
                         conf['volume']['volume_type_multiattach'])
        features = conf['volume-feature-enabled']
        self.assertEqual('True', features['multi_backend'])
        self.assertEqual('True', features['snapshot'])
        self.assertEqual('False', features['backup'])
        self.assertEqual('False', features['extend_attached_volume'])

    def test_no_cinder_no_volume_sections(self):
        conf = self.conf()
        self.assertEqual('False', conf['service_available']['cinder'])
        self.assertFalse(conf.has_section('volume'))
        self.assertFalse(conf.has_section('volume-feature-enabled'))

    def test_volume_description_follows_the_services(self):
        class Svc(object):
            cinder = False

        drv = driver.PowerVMDriver.__new__(driver.PowerVMDriver)
        self.assertIsNone(describe.volume_description(Svc(), drv))
        Svc.cinder = True
        vol = describe.volume_description(Svc(), drv)
        self.assertEqual(['fc', 'iscsi'], vol['volume_types'])
        self.assertEqual(
            bool(drv.capabilities.get('supports_extend_volume')),
            vol['extend_attached_volume'])
