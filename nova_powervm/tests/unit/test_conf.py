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
"""Tests of the [powervm] options and their start-up validation."""

import os
import tempfile

from oslo_config import cfg
from oslo_config import fixture as config_fixture

from nova_powervm import conf as pvm_conf
from nova_powervm.conf import powervm as pvm_opts
from nova_powervm.tests import base as tests_base


class ConfTestBase(tests_base.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = cfg.ConfigOpts()
        self.fixture = self.useFixture(config_fixture.Config(self.conf))
        pvm_conf.register_opts(self.conf)
        self.conf([], project='nova')
        self.flags(volume_group_name='datavg')

    def flags(self, **kw):
        pvm_conf.register_fabric_opts(self.conf)
        self.fixture.config(group='powervm', **kw)

    def assertInvalid(self, option, fragment=None):
        exc = self.assertRaises(pvm_conf.InvalidOption,
                                pvm_conf.validate, self.conf)
        self.assertEqual(option, exc.option)
        self.assertIn('[powervm] %s' % option, str(exc))
        if fragment:
            self.assertIn(fragment, str(exc))
        return exc


class TestOptions(ConfTestBase):

    def test_every_option_has_help(self):
        for group, opts in pvm_conf.list_opts():
            self.assertEqual('powervm', group.name)
            for opt in opts:
                self.assertTrue(opt.help and len(opt.help.strip()) > 20,
                                'option %s lacks help' % opt.name)

    def test_list_opts_covers_static_and_sample_fabric(self):
        names = {opt.name for _grp, opts in pvm_conf.list_opts()
                 for opt in opts}
        for expected in ('proc_units_factor', 'disk_driver',
                         'volume_group_name', 'cluster_name',
                         'fc_attach_strategy',
                         'vscsi_vios_connections_required',
                         'ports_per_fabric', 'fabrics', 'fabric_A_port_wwpns',
                         'nvram_store', 'swift_password', 'pvm_password',
                         'vopt_media_volume_group'):
            self.assertIn(expected, names)

    def test_secrets_are_marked_secret(self):
        secret = {opt.name for opt in pvm_opts.ALL_OPTS if opt.secret}
        self.assertEqual({'pvm_password', 'swift_password'}, secret)

    def test_defaults(self):
        grp = self.conf.powervm
        self.assertEqual(0.1, grp.proc_units_factor)
        self.assertEqual('localdisk', grp.disk_driver)
        self.assertEqual('vscsi', grp.fc_attach_strategy)
        self.assertEqual(['A'], grp.fabrics)
        self.assertEqual('local', grp.host_shim)

    def test_valid_default_config_passes(self):
        pvm_conf.validate(self.conf)

    def test_fabric_options_follow_fabrics(self):
        self.flags(fabrics=['A', 'B2'])
        pvm_conf.register_fabric_opts(self.conf)
        self.assertEqual([], self.conf.powervm.fabric_B2_port_wwpns)


class TestValidation(ConfTestBase):

    def _write_conf(self, text):
        fd, path = tempfile.mkstemp(suffix='.conf')
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        self.addCleanup(os.unlink, path)
        return path

    def _load(self, text):
        path = self._write_conf(text)
        conf = cfg.ConfigOpts()
        pvm_conf.register_opts(conf)
        conf(['--config-file', path], project='nova')
        return conf

    def _assert_file_invalid(self, text, option):
        conf = self._load(text)
        exc = self.assertRaises(pvm_conf.InvalidOption,
                                pvm_conf.validate, conf)
        self.assertEqual(option, exc.option)
        return exc

    def test_bad_choice_names_option(self):
        exc = self._assert_file_invalid(
            '[powervm]\ndisk_driver = nfs\nvolume_group_name = vg\n',
            'disk_driver')
        self.assertIn('nfs', str(exc))

    def test_out_of_bounds_names_option(self):
        self._assert_file_invalid(
            '[powervm]\nproc_units_factor = 2.5\nvolume_group_name = vg\n',
            'proc_units_factor')

    def test_bad_int_names_option(self):
        self._assert_file_invalid(
            '[powervm]\nuncapped_proc_weight = heavy\n'
            'volume_group_name = vg\n', 'uncapped_proc_weight')

    def test_bad_fabric_name(self):
        self._assert_file_invalid(
            '[powervm]\nfabrics = A,b-c\nvolume_group_name = vg\n',
            'fabrics')

    def test_localdisk_needs_volume_group(self):
        self.flags(volume_group_name='')
        self.assertInvalid('volume_group_name', 'localdisk')

    def test_ssp_does_not_need_volume_group(self):
        self.flags(volume_group_name='', disk_driver='ssp')
        pvm_conf.validate(self.conf)

    def test_password_without_user(self):
        self.flags(pvm_password='s3cret-value')
        exc = self.assertInvalid('pvm_user')
        self.assertNotIn('s3cret-value', str(exc))

    def test_user_without_password(self):
        self.flags(pvm_user='padmin')
        self.assertInvalid('pvm_password')

    def test_npiv_needs_wwpns_per_fabric(self):
        self.flags(fc_attach_strategy='npiv', fabrics=['A', 'B'])
        pvm_conf.register_fabric_opts(self.conf)
        self.flags(fabric_A_port_wwpns=['21000024FF649104'])
        self.assertInvalid('fabric_B_port_wwpns', 'fabric B')

    def test_npiv_rejects_malformed_wwpn(self):
        self.flags(fc_attach_strategy='npiv')
        self.flags(fabric_A_port_wwpns=['21:00:00:24:ff:64:91:04',
                                        'zz000024FF649104'])
        self.assertInvalid('fabric_A_port_wwpns', 'zz000024FF649104')

    def test_npiv_accepts_wwpns_with_colons(self):
        self.flags(fc_attach_strategy='npiv',
                   fabric_A_port_wwpns=['21:00:00:24:ff:64:91:04'])
        pvm_conf.validate(self.conf)

    def test_swift_nvram_needs_auth(self):
        self.flags(nvram_store='swift', swift_password='pw')
        self.assertInvalid('swift_auth_url')

    def test_x509_vnc_needs_existing_files(self):
        self.flags(vnc_use_x509_auth=True, vnc_ca_certs='/nonexistent/ca')
        self.assertInvalid('vnc_ca_certs', '/nonexistent/ca')
