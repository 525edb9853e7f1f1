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

import io
import os
import re
import tempfile

from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslo_config import generator

from nova_powervm import conf as pvm_conf
from nova_powervm.conf import powervm as pvm_opts
from nova_powervm.tests import base as tests_base

_VIRT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'virt')

# The [powervm] options, each read by the driver.  Later features add theirs
# (Shared Storage Pools, Fibre Channel, NVRAM, ...) along with the code that
# reads them.
EXPECTED_OPTIONS = {
    'pvm_host', 'pvm_port', 'pvm_protocol', 'pvm_user', 'pvm_password',
    'pvm_certpath', 'pvm_connect_timeout', 'vios_active_wait_timeout',
    'host_shim', 'proc_units_factor', 'uncapped_proc_weight', 'disk_driver',
    'cluster_name',
    'volume_group_name', 'vopt_media_volume_group', 'vopt_media_rep_size',
    'use_rmc_mgmt_vif', 'use_rmc_ipv6_scheme', 'vnc_use_x509_auth',
    'vnc_ca_certs', 'vnc_server_cert', 'vnc_server_key',
    'fc_attach_strategy', 'vscsi_vios_connections_required',
    'volume_use_multipath', 'fabrics', 'ports_per_fabric',
    'nvram_store', 'nvram_local_dir', 'nvram_swift_container',
    'nvram_queue_size',
}
# Network (issue 13): OVS and SR-IOV vNIC VIFs.
EXPECTED_OPTIONS |= {'ovs_vswitch', 'vnic_required_vfs', 'vnic_vf_capacity',
                     'vnic_vf_max_capacity'}
# Live migration (issue 12): Partition Mobility.
EXPECTED_OPTIONS |= {'lpm_mgmt_address', 'lpm_mgmt_user',
                     'lpm_progress_interval', 'lpm_timeout'}


def _virt_sources():
    """The text of every module of the driver (nova_powervm/virt)."""
    texts = []
    for root, _dirs, files in os.walk(_VIRT):
        for name in files:
            if name.endswith('.py'):
                with open(os.path.join(root, name)) as handle:
                    texts.append(handle.read())
    return '\n'.join(texts)


class ConfTestBase(tests_base.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = cfg.ConfigOpts()
        self.fixture = self.useFixture(config_fixture.Config(self.conf))
        pvm_conf.register_opts(self.conf)
        self.conf([], project='nova')
        self.flags(volume_group_name='datavg')

    def flags(self, **kw):
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

    def test_list_opts_lists_exactly_the_options(self):
        names = [opt.name for _grp, opts in pvm_conf.list_opts()
                 for opt in opts]
        self.assertEqual(len(names), len(set(names)))
        self.assertEqual(EXPECTED_OPTIONS, set(names))
        self.assertEqual(EXPECTED_OPTIONS,
                         {opt.name for opt in pvm_opts.ALL_OPTS})

    def test_every_option_is_read_by_the_driver(self):
        # An option that nothing reads would be accepted and ignored.
        source = _virt_sources()
        unread = sorted(opt.name for opt in pvm_opts.ALL_OPTS
                        if not re.search(r'\.%s\b' % opt.dest, source))
        self.assertEqual([], unread)

    def test_sample_config_has_every_option(self):
        # What oslo-config-generator --namespace nova_powervm writes.
        gen = cfg.ConfigOpts()
        generator.register_cli_opts(gen)
        gen(['--namespace', 'nova_powervm'])
        out = io.StringIO()
        generator.generate(gen, output_file=out)
        sample = out.getvalue()
        self.assertIn('[powervm]', sample)
        written = set(re.findall(r'^#(\w+) =', sample, re.M))
        self.assertEqual(EXPECTED_OPTIONS, written)
        self.assertIn('#disk_driver = localdisk', sample)
        self.assertIn('ssp', sample)

    def test_secrets_are_marked_secret(self):
        secret = {opt.name for opt in pvm_opts.ALL_OPTS if opt.secret}
        self.assertEqual({'pvm_password'}, secret)

    def test_defaults(self):
        grp = self.conf.powervm
        self.assertEqual(0.1, grp.proc_units_factor)
        self.assertEqual('localdisk', grp.disk_driver)
        self.assertEqual('local', grp.host_shim)

    def test_valid_default_config_passes(self):
        pvm_conf.validate(self.conf)


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

    def test_volume_options(self):
        conf = self._load('[powervm]\nvolume_group_name = vg\n')
        pvm_conf.validate(conf)
        self.assertEqual(('vscsi', 1, False),
                         (conf.powervm.fc_attach_strategy,
                          conf.powervm.vscsi_vios_connections_required,
                          conf.powervm.volume_use_multipath))
        exc = self._assert_file_invalid(
            '[powervm]\nvolume_group_name = vg\n'
            'fc_attach_strategy = npiv\n', 'fabric_A_port_wwpns')
        self.assertIn('fabric A', str(exc))
        conf = self._load('[powervm]\nvolume_group_name = vg\n'
                          'fc_attach_strategy = npiv\nfabrics = A,B\n'
                          'fabric_A_port_wwpns = 10000090fa000001\n'
                          'fabric_B_port_wwpns = 10000090fa000002\n')
        pvm_conf.validate(conf)
        self.assertEqual(['10000090fa000002'],
                         conf.powervm.fabric_B_port_wwpns)
        self._assert_file_invalid(
            '[powervm]\nvolume_group_name = vg\n'
            'fc_attach_strategy = fcoe\n', 'fc_attach_strategy')
        self._assert_file_invalid(
            '[powervm]\nvolume_group_name = vg\n'
            'vscsi_vios_connections_required = 0\n',
            'vscsi_vios_connections_required')

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

    def test_bad_protocol_names_option(self):
        exc = self._assert_file_invalid(
            '[powervm]\npvm_protocol = ftp\nvolume_group_name = vg\n',
            'pvm_protocol')
        self.assertIn('ftp', str(exc))

    def test_localdisk_needs_volume_group(self):
        self.flags(volume_group_name='')
        self.assertInvalid('volume_group_name', 'localdisk')

    def test_ssp_needs_no_volume_group(self):
        conf = self._load('[powervm]\ndisk_driver = ssp\n')
        pvm_conf.validate(conf)
        self.assertEqual('', conf.powervm.cluster_name)

    def test_disk_driver_is_case_insensitive(self):
        conf = self._load('[powervm]\ndisk_driver = LocalDisk\n'
                          'volume_group_name = vg\n')
        pvm_conf.validate(conf)
        self.assertEqual('localdisk', conf.powervm.disk_driver.lower())

    def test_password_without_user(self):
        self.flags(pvm_password='s3cret-value')
        exc = self.assertInvalid('pvm_user')
        self.assertNotIn('s3cret-value', str(exc))

    def test_user_without_password(self):
        self.flags(pvm_user='padmin')
        self.assertInvalid('pvm_password')

    def test_x509_vnc_needs_existing_files(self):
        self.flags(vnc_use_x509_auth=True, vnc_ca_certs='/nonexistent/ca')
        self.assertInvalid('vnc_ca_certs', '/nonexistent/ca')

    def test_vnic_options_bounds_checked_at_start(self):
        self._assert_file_invalid(
            '[powervm]\nvnic_required_vfs = 0\nvolume_group_name = vg\n',
            'vnic_required_vfs')
        self._assert_file_invalid(
            '[powervm]\nvnic_vf_capacity = 1.5\nvolume_group_name = vg\n',
            'vnic_vf_capacity')

    def test_vnic_max_capacity_not_below_capacity(self):
        self.flags(vnic_vf_capacity=0.2, vnic_vf_max_capacity=0.1)
        self.assertInvalid('vnic_vf_max_capacity', '0.2')
        self.flags(vnic_vf_max_capacity=0.5)
        pvm_conf.validate(self.conf)
