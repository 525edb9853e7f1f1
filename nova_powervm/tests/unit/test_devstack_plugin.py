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
"""The devstack plugin, run by bash with devstack's functions stubbed.

The stubs stand for the few devstack functions the plugin calls; ``iniset``
really writes the file, so the tests check the nova.conf the plugin leaves.
"""

import configparser
import os
import shutil
import subprocess
import sys
import tempfile

from nova_powervm.tests import base as tests_base

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
_DEVSTACK = os.path.join(_ROOT, 'devstack')

_INISET = r'''
import configparser, sys
path, section, key, value = sys.argv[1:5]
conf = configparser.ConfigParser(interpolation=None)
conf.optionxform = str
conf.read(path)
if section != 'DEFAULT' and not conf.has_section(section):
    conf.add_section(section)
conf.set(section, key, value)
with open(path, 'w') as handle:
    conf.write(handle)
'''

_HARNESS = r'''
set -e
DEST=/opt/stack
STACK_USER=stack
function trueorfalse {
    local value=${!2:-$1}
    [[ "$value" =~ ^(True|true|1|yes)$ ]] && echo True || echo False
}
function iniset { "$PYTHON" "$INISET" "$@"; }
function die { shift; echo "die: $*"; exit 3; }
function warn { shift; echo "warn: $*"; }
function echo_summary { :; }
function is_service_enabled { [[ ,$ENABLED_SERVICES, =~ ,$1, ]]; }
function setup_install { echo "setup_install $1"; }
function setup_develop { echo "setup_develop $1"; }
function add_user_to_group { echo "add_user_to_group $1 $2"; }
function pip_uninstall { echo "pip_uninstall $1"; }
source "$DEVSTACK/settings"
source "$DEVSTACK/plugin.sh" "$@"
'''


class TestDevstackPlugin(tests_base.TestCase):

    def setUp(self):
        super().setUp()
        if shutil.which('bash') is None:
            self.fail('bash is needed to test the devstack plugin')
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.conf = os.path.join(self.tmp, 'nova.conf')
        open(self.conf, 'w').close()
        self.inisetpy = os.path.join(self.tmp, 'iniset.py')
        with open(self.inisetpy, 'w') as handle:
            handle.write(_INISET)

    def _run(self, args, **env):
        """Run the plugin phase ``args``; returns (exit code, output)."""
        full = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
                'PYTHON': sys.executable, 'INISET': self.inisetpy,
                'DEVSTACK': _DEVSTACK, 'NOVA_CONF': self.conf,
                'ENABLED_SERVICES': 'n-cpu', 'VIRT_DRIVER': 'powervm'}
        full.update(env)
        proc = subprocess.run(['bash', '-c', _HARNESS, 'harness'] + args,
                              env=full, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=60)
        return proc.returncode, proc.stdout.decode('utf-8', 'replace')

    def _nova_conf(self):
        conf = configparser.ConfigParser(interpolation=None,
                                         default_section='none')
        conf.read(self.conf)
        return conf

    def test_post_config_localdisk(self):
        rc, out = self._run(['stack', 'post-config'],
                            NOVA_POWERVM_VOLUME_GROUP_NAME='datavg',
                            NOVA_POWERVM_PROC_UNITS_FACTOR='0.2')
        self.assertEqual(0, rc, out)
        conf = self._nova_conf()
        self.assertEqual('powervm_ext.driver.PowerVMDriver',
                         conf['DEFAULT']['compute_driver'])
        self.assertEqual({'disk_driver': 'localdisk',
                          'volume_group_name': 'datavg',
                          'proc_units_factor': '0.2'},
                         dict(conf['powervm']))

    def test_ssp_is_refused(self):
        # Shared Storage Pools are not implemented yet: the plugin refuses
        # them before writing what nova-compute would refuse at start.
        rc, out = self._run(['stack', 'post-config'],
                            NOVA_POWERVM_DISK_DRIVER='ssp',
                            NOVA_POWERVM_VOLUME_GROUP_NAME='datavg')
        self.assertEqual(3, rc, out)
        self.assertIn("localdisk (the only disk driver so far), not 'ssp'",
                      out)
        self.assertEqual('', open(self.conf).read())

    def test_localdisk_needs_a_volume_group(self):
        rc, out = self._run(['stack', 'post-config'])
        self.assertEqual(3, rc, out)
        self.assertIn('NOVA_POWERVM_VOLUME_GROUP_NAME', out)
        self.assertEqual('', open(self.conf).read())

    def test_unknown_disk_driver(self):
        rc, out = self._run(['stack', 'post-config'],
                            NOVA_POWERVM_DISK_DRIVER='lvm')
        self.assertEqual(3, rc, out)
        self.assertIn("not 'lvm'", out)

    def test_compute_needs_virt_driver_powervm(self):
        rc, out = self._run(['stack', 'post-config'], VIRT_DRIVER='libvirt',
                            NOVA_POWERVM_VOLUME_GROUP_NAME='datavg')
        self.assertEqual(3, rc, out)
        self.assertIn('VIRT_DRIVER=powervm', out)
        self.assertNotIn('compute_driver', open(self.conf).read())

    def test_node_without_compute_is_not_configured(self):
        rc, out = self._run(['stack', 'post-config'],
                            ENABLED_SERVICES='n-api,n-cond',
                            VIRT_DRIVER='libvirt')
        self.assertEqual(0, rc, out)
        self.assertEqual('', open(self.conf).read())

    def test_install_regular_by_default_and_checks_the_shim(self):
        rc, out = self._run(['stack', 'install'], PIP_VIRTUAL_ENV='/none',
                            NOVA_BIN_DIR=os.path.dirname(sys.executable))
        self.assertIn('setup_install /opt/stack/nova-powervm', out)
        # The check imports the shim with nova's python: this test runs in
        # an environment where nova-powervm is installed.
        self.assertEqual(0, rc, out)

    def test_install_editable(self):
        rc, out = self._run(['stack', 'install'],
                            NOVA_POWERVM_DEVELOP='True',
                            NOVA_BIN_DIR=self._fake_python(0))
        self.assertIn('setup_develop /opt/stack/nova-powervm', out)
        self.assertIn('python3 -c import nova.virt.powervm_ext.driver', out)
        self.assertEqual(0, rc, out)

    def test_install_fails_when_nova_cannot_import_the_shim(self):
        rc, out = self._run(['stack', 'install'],
                            NOVA_BIN_DIR=self._fake_python(1))
        self.assertEqual(3, rc, out)
        self.assertIn("nova's own environment", out)

    def _fake_python(self, status):
        """A bin directory whose python3 prints its arguments and exits."""
        bindir = os.path.join(self.tmp, 'bin')
        os.makedirs(bindir, exist_ok=True)
        path = os.path.join(bindir, 'python3')
        with open(path, 'w') as handle:
            handle.write('#!/bin/sh\necho "python3 $*"\nexit %d\n' % status)
        os.chmod(path, 0o755)
        return bindir

    def test_clean_uninstalls(self):
        rc, out = self._run(['clean'])
        self.assertEqual(0, rc, out)
        self.assertIn('pip_uninstall nova-powervm', out)
