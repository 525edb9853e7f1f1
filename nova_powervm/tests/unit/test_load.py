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
"""nova loads the driver through the installed nova/virt/powervm_ext shim."""

import importlib.metadata
import json
import os

import nova.virt
from nova.virt import driver as nova_driver
from nova.virt import fake
from packaging import requirements as pkg_req
from packaging import utils as pkg_utils

from nova_powervm.tests.unit import base
from nova_powervm.virt.powervm import driver as pvm_driver


_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))


def _dist():
    return importlib.metadata.distribution('nova-powervm')


def _requirement_key(text):
    """A comparable form of one requirement (name, versions, marker)."""
    req = pkg_req.Requirement(text)
    return (pkg_utils.canonicalize_name(req.name), tuple(sorted(req.extras)),
            str(req.specifier), str(req.marker or ''))


def _requirements_txt():
    """The requirements of requirements.txt, comments left out."""
    with open(os.path.join(_ROOT, 'requirements.txt')) as handle:
        lines = [line.split('#', 1)[0].strip() for line in handle]
    return [line for line in lines if line]


def _is_editable():
    text = _dist().read_text('direct_url.json')
    return bool(text) and json.loads(text).get('dir_info', {}).get(
        'editable', False)


class TestLoad(base.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.flags(volume_group_name='datavg', group='powervm')

    def test_load_compute_driver(self):
        drv = nova_driver.load_compute_driver(
            fake.FakeVirtAPI(), 'powervm_ext.driver.PowerVMDriver')
        self.assertIsInstance(drv, pvm_driver.PowerVMDriver)
        self.assertIsInstance(drv, nova_driver.ComputeDriver)

    def test_shim_is_real_files_in_novas_package(self):
        from nova.virt.powervm_ext import driver as shim
        self.assertIs(pvm_driver.PowerVMDriver, shim.PowerVMDriver)
        if _is_editable():
            self.skipTest('editable install: the shim is served by '
                          'setuptools\' import hook, not copied')
        nova_virt_dir = os.path.dirname(os.path.abspath(nova.virt.__file__))
        shim_file = os.path.abspath(shim.__file__)
        self.assertEqual(os.path.join(nova_virt_dir, 'powervm_ext'),
                         os.path.dirname(shim_file))
        self.assertFalse(os.path.islink(shim_file))

    def test_package_ships_only_the_shim_inside_nova(self):
        files = [str(f) for f in (_dist().files or [])]
        if _is_editable():
            self.skipTest('editable install: no shim files are recorded')
        nova_files = sorted(f for f in files if f.startswith('nova/'))
        self.assertNotIn('nova/__init__.py', nova_files)
        self.assertNotIn('nova/virt/__init__.py', nova_files)
        self.assertIn('nova/virt/powervm_ext/__init__.py', nova_files)
        self.assertIn('nova/virt/powervm_ext/driver.py', nova_files)
        for name in nova_files:
            self.assertTrue(name.startswith('nova/virt/powervm_ext/'), name)

    def test_entry_points_registered(self):
        eps = _dist().entry_points
        groups = {(ep.group, ep.name): ep.value for ep in eps}
        self.assertEqual('nova_powervm.conf:list_opts',
                         groups[('oslo.config.opts', 'nova_powervm')])
        self.assertIn(('nova.api.extra_spec_validators', 'powervm'), groups)
        self.assertIn(('console_scripts', 'powervm-sim'), groups)
        self.assertIn(('console_scripts', 'nova-powervm-sandbox'), groups)

    def test_metadata_declares_the_runtime_requirements(self):
        # pip installs exactly what requirements.txt lists along with the
        # package: a wheel installed alone into an empty environment
        # brings nova, pypowervm and the rest with it.
        wanted = {_requirement_key(r) for r in _requirements_txt()}
        declared = {_requirement_key(r) for r in _dist().requires or []}
        self.assertIn(('nova', (), '<35,>=34.0.0', ''), wanted)
        self.assertIn(('pypowervm', (), '==1.1.27', ''), wanted)
        self.assertEqual(wanted, declared)
