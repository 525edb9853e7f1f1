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
"""The local host shim's Open vSwitch commands, with a stand-in ovs-vsctl.

``ovs-vsctl`` cannot run here: a script of that name on ``PATH`` records
its arguments and answers ``list Interface`` as OVSDB does.
"""

import json
import os
import stat

import fixtures
from nova import exception as nova_exc

from nova_powervm.tests import base
from nova_powervm.virt.powervm import host_shim

FAKE_VSCTL = '''#!/bin/sh
echo "$@" >> "%(log)s"
case "$*" in
  *"list Interface"*) cat "%(db)s" ;;
  *fail-me*) echo "ovs-vsctl: no bridge named fail-me" >&2; exit 1 ;;
esac
'''


class TestLocalShimOvs(base.TestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.log = os.path.join(tmp, 'calls')
        self.db = os.path.join(tmp, 'db.json')
        bindir = os.path.join(tmp, 'bin')
        os.makedirs(bindir)
        script = os.path.join(bindir, 'ovs-vsctl')
        with open(script, 'w') as fil:
            fil.write(FAKE_VSCTL % {'log': self.log, 'db': self.db})
        os.chmod(script, stat.S_IRWXU)
        self.useFixture(fixtures.EnvironmentVariable(
            'PATH', bindir + os.pathsep + os.environ.get('PATH', '')))
        self.sys_root = os.path.join(tmp, 'sys')
        os.makedirs(os.path.join(self.sys_root, 'class', 'net', 'tapabc'))
        self.shim = host_shim.LocalShim('127.0.0.1', sys_root=self.sys_root)
        self.shim.poll = 0.01

    def calls(self):
        with open(self.log) as fil:
            return [line.split() for line in fil.read().splitlines()]

    def test_plug_adds_port_with_ids_tag_and_mtu(self):
        name = self.shim.plug_ovs_port(
            'br-int', 'tapabc', {'iface-id': 'p1', 'vm-uuid': 'i1'},
            mtu=1450, tag=100)
        self.assertEqual('tapabc', name)
        self.assertEqual([[
            '--timeout=120', '--', '--may-exist', 'add-port', 'br-int',
            'tapabc', 'tag=100', '--', 'set', 'Interface', 'tapabc',
            'external-ids:iface-id=p1', 'external-ids:vm-uuid=i1',
            'mtu_request=1450']], self.calls())

    def test_device_must_appear(self):
        self.useFixture(fixtures.MonkeyPatch(
            'nova_powervm.virt.powervm.host_shim.NETDEV_TIMEOUT', 0.05))
        error = self.assertRaises(
            nova_exc.VirtualInterfacePlugException,
            self.shim.plug_ovs_port, 'br-int', 'tapmissing', {})
        self.assertIn('tapmissing', error.format_message())
        self.assertFalse(os.path.exists(self.log))

    def test_failure_is_a_plug_error(self):
        error = self.assertRaises(
            nova_exc.VirtualInterfacePlugException,
            self.shim.plug_ovs_port, 'fail-me', 'tapabc', {})
        self.assertIn('no bridge named fail-me', error.format_message())

    def test_unplug_and_list(self):
        with open(self.db, 'w') as fil:
            json.dump({'headings': ['name', 'external_ids'], 'data': [
                ['tapabc', ['map', [['iface-id', 'p1'],
                                    ['vm-uuid', 'i1']]]],
                ['eth0', ['map', []]]]}, fil)
        self.assertEqual(
            [{'name': 'tapabc',
              'external_ids': {'iface-id': 'p1', 'vm-uuid': 'i1'}},
             {'name': 'eth0', 'external_ids': {}}],
            self.shim.list_ovs_ports())
        self.shim.unplug_ovs_port('tapabc')
        self.assertEqual(['--', '--if-exists', 'del-port', 'tapabc'],
                         self.calls()[-1][1:])

    def test_list_without_ovs_is_empty(self):
        self.useFixture(fixtures.EnvironmentVariable('PATH', '/nonexistent'))
        self.assertEqual([], self.shim.list_ovs_ports())
