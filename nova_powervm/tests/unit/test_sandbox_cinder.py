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
"""The sandbox's Cinder: its configuration, flags and demo rows' wiring."""

import configparser
import io
import json
import os
import shutil
import tempfile

import fixtures

from nova_powervm.sandbox import cli
from nova_powervm.sandbox import demo_volumes
from nova_powervm.sandbox import services
from nova_powervm.tests import base as tests_base


class TestFlags(tests_base.TestCase):

    def test_fc_attach_strategy(self):
        self.assertIsNone(cli.parse_args([]).fc_attach_strategy)
        for value in ('vscsi', 'npiv'):
            self.assertEqual(value, cli.parse_args(
                ['--fc-attach-strategy', value]).fc_attach_strategy)
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', io.StringIO()))
        self.assertRaises(SystemExit, cli.parse_args,
                          ['--fc-attach-strategy', 'nope'])


class TestCinderConfig(tests_base.TestCase):

    def setUp(self):
        super().setUp()
        self.state = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.state)
        self.svc = services.Services(self.state, ['pvm-host1'])
        self.svc.secrets = services.Secrets(self.state)
        keystone = services.ServiceProcess(
            'keystone', self.svc.conf_dir('keystone'))
        keystone.sock.close()
        self.svc.procs['keystone'] = keystone

    def read(self):
        conf = configparser.ConfigParser(interpolation=None)
        conf.read(os.path.join(self.state, 'cinder', 'cinder.conf'))
        return conf

    def test_cinder_conf(self):
        self.svc._write_cinder()
        path = os.path.join(self.state, 'cinder', 'cinder.conf')
        self.assertEqual(0o600, os.stat(path).st_mode & 0o777)
        conf = self.read()
        default = conf['DEFAULT']
        self.assertEqual('fake://', default['transport_url'])
        self.assertEqual('fc,iscsi', default['enabled_backends'])
        self.assertEqual('keystone', default['auth_strategy'])
        self.assertTrue(os.path.exists(default['api_paste_config']))
        self.assertTrue(conf['database']['connection'].startswith(
            'sqlite:///%s/cinder/' % self.state))
        for name, backend, protocol in (('fc', 'pvm-fc', 'fibre_channel'),
                                        ('iscsi', 'pvm-iscsi', 'iscsi')):
            self.assertEqual(services.CINDER_DRIVER,
                             conf[name]['volume_driver'])
            self.assertEqual(backend, conf[name]['volume_backend_name'])
            self.assertEqual(protocol, conf[name]['pvm_san_protocol'])
            self.assertEqual(self.svc.san_endpoint_file,
                             conf[name]['pvm_san_endpoint_file'])
        # Cinder trusts nova's service token (detach without asking back)
        # and calls nova as the nova user.
        auth = conf['keystone_authtoken']
        self.assertEqual('cinder', auth['username'])
        self.assertEqual('True', auth['service_token_roles_required'])
        self.assertEqual('nova', conf['nova']['username'])
        self.assertEqual(self.svc.secrets['nova'], conf['nova']['password'])

    def test_san_endpoint_file(self):
        self.svc.set_san('http://127.0.0.1:1234')
        path = self.svc.san_endpoint_file
        self.assertEqual(0o600, os.stat(path).st_mode & 0o777)
        with open(path) as f:
            self.assertEqual({'url': 'http://127.0.0.1:1234',
                              'token': None}, json.load(f))

    def test_cinder_user_added_to_an_older_state_dir(self):
        state = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, state)
        old = {u: 'pw-%s' % u for u in
               (services.ADMIN, services.DEMO) + services.SERVICE_USERS}
        with open(os.path.join(state, 'secrets.json'), 'w') as f:
            json.dump(old, f)
        secrets = services.Secrets(state)
        self.assertTrue(secrets['cinder'])
        self.assertEqual('pw-nova', secrets['nova'])
        # Kept: the next start reads the same password.
        self.assertEqual(secrets['cinder'],
                         services.Secrets(state)['cinder'])

    def test_catalog_has_block_storage(self):
        self.assertIn(('block-storage', 'cinder', 'cinder', '/v3'),
                      services.CATALOG)


class FakeCloud(object):
    services = None
    driver = 'powervm'


class TestDemoRows(tests_base.TestCase):

    def test_not_available_without_cinder(self):
        cloud = FakeCloud()
        self.assertEqual('no Cinder (--lite)',
                         demo_volumes.unavailable_reason(cloud))
        [(name, step)] = demo_volumes.volume_steps(cloud, None)
        self.assertEqual('volumes', name)
        self.assertEqual('not available: no Cinder (--lite)', step())

    def test_not_available_with_the_fake_driver(self):
        cloud = FakeCloud()
        cloud.services = services.Services(self.useFixture(
            fixtures.TempDir()).path, [])
        cloud.driver = 'fake'
        self.assertIn('fake driver', demo_volumes.unavailable_reason(cloud))

    def test_rows_go_before_the_final_delete(self):
        steps = [('boot', None), ('show', None), ('delete', None)]
        out = demo_volumes.insert_steps(FakeCloud(), None, steps)
        self.assertEqual(['boot', 'show', 'volumes', 'delete'],
                         [name for name, _step in out])
