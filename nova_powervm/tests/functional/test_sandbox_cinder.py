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
"""The sandbox's Cinder, through openstacksdk: volumes on the simulated SAN."""

import json
import os
import signal
import subprocess
import tempfile
import time

import openstack

from nova_powervm.sandbox import images
from nova_powervm.simulator import san as sim_san
from nova_powervm.tests import base as tests_base
from nova_powervm.tests.functional import test_sandbox

WAIT = 90.0
HOST_WWPNS = ['C05076079CFF0E56', 'c0:50:76:07:9c:ff:0e:58']
HOST_IQN = 'iqn.1986-03.com.ibm:pvm-host1.vios1'
# The attachments API's connection_info, and extending attached volumes.
VOLUME_API = {'OpenStack-API-Version': 'volume 3.70'}


class ServedCinderCase(tests_base.TestCase):
    """A served sandbox (one compute) and openstacksdk connections."""

    start_sandbox = test_sandbox.TestServedSandbox.start_sandbox
    output = test_sandbox.TestServedSandbox.output
    _openstack = test_sandbox.TestServedSandbox._openstack
    _drain = staticmethod(test_sandbox.TestServedSandbox._drain)
    _stop = staticmethod(test_sandbox.TestServedSandbox._stop)

    def serve(self, *args):
        self.state_dir = tempfile.mkdtemp(prefix='pvm-sbx-test-')
        self.addCleanup(subprocess.call, ['rm', '-rf', self.state_dir])
        self.proc, self.banner = self.start_sandbox(self.state_dir, *args)
        config = openstack.config.OpenStackConfig(config_files=[
            os.path.join(self.state_dir, 'clouds.yaml')])
        self.conn = openstack.connection.Connection(
            config=config.get_one('sandbox'))
        self.addCleanup(self.conn.close)
        self.admin = openstack.connection.Connection(
            config=config.get_one('sandbox-admin'))
        self.addCleanup(self.admin.close)
        with open(os.path.join(self.state_dir, 'cinder', 'san.json')) as f:
            endpoint = json.load(f)
        self.san = sim_san.SANClient(endpoint['url'], endpoint['token'])

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        self.assertEqual(0, self.proc.wait(60), self.output())
        self.assertIn('Stopping cinder (pid', self.output())

    def wait_volume(self, volume, status, size=None):
        """The volume once it has ``status`` (and ``size``)."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            vol = self.conn.block_storage.get_volume(volume)
            self.assertNotIn('error', vol.status, vol)
            if vol.status == status and size in (None, vol.size):
                return vol
            time.sleep(0.2)
        self.fail('volume %s is %s, not %s' % (vol.id, vol.status, status))

    def wait_gone(self, volume):
        self.conn.block_storage.wait_for_delete(volume, interval=0.2,
                                                wait=WAIT)

    def lun_names(self):
        return sorted(lun['name'] for lun in self.san.luns())

    def data_path(self, name):
        return os.path.join(self.state_dir, 'cinder', 'san-data', name)

    def volume_url(self, path):
        return self.conn.block_storage.get_endpoint() + path


class TestSandboxCinder(ServedCinderCase):

    def test_volumes_are_luns_on_the_simulated_san(self):
        self.serve()
        self.assertRegex(self.banner,
                         r'(?m)^Cinder: +http://127\.0\.0\.1:\d+ +\(pid')
        # API, scheduler and one volume service per backend, all up.
        services = {(s.binary, s.host): s.state
                    for s in self.admin.block_storage.services()}
        self.assertEqual({('cinder-scheduler', 'sandbox'): 'up',
                          ('cinder-volume', 'sandbox@fc'): 'up',
                          ('cinder-volume', 'sandbox@iscsi'): 'up'},
                         services)
        types = {t.name: t.extra_specs for t in
                 self.admin.block_storage.types()}
        self.assertEqual({'volume_backend_name': 'pvm-fc'}, types['fc'])
        self.assertEqual({'volume_backend_name': 'pvm-iscsi'},
                         types['iscsi'])
        # The default type goes to the FC backend.
        self.assertEqual({'volume_backend_name': 'pvm-fc'},
                         types['__DEFAULT__'])

        fc = self.conn.block_storage.create_volume(name='fc1', size=1)
        iscsi = self.conn.block_storage.create_volume(
            name='iscsi1', size=1, volume_type='iscsi')
        fc = self.wait_volume(fc, 'available')
        iscsi = self.wait_volume(iscsi, 'available')
        self.assertEqual(sorted([fc.id, iscsi.id]), self.lun_names())
        self.assertEqual(1, self.san.lun(fc.id)['size_gb'])

        # Extended: the LUN grows.
        self.conn.block_storage.extend_volume(fc, 2)
        self.wait_volume(fc, 'available', size=2)
        self.assertEqual(2, self.san.lun(fc.id)['size_gb'])

        # From the image: the image's bytes, then zeros.
        boot = self.conn.block_storage.create_volume(
            name='boot1', size=1, image_id=images.DEFAULT_IMAGE_ID)
        boot = self.wait_volume(boot, 'available')
        self.assertTrue(boot.is_bootable)
        self.assertEqual(1, self.san.lun(boot.id)['size_gb'])
        image = self.conn.image.get_image(images.DEFAULT_IMAGE_ID)
        with open(self.data_path(boot.id), 'rb') as f:
            head = f.read(image.size)
            rest = f.read(1024 * 1024)
        self.assertEqual(images.make_image_bytes(image.size), head)
        self.assertEqual(b'', rest.strip(b'\0'))
        self.assertEqual(1024 ** 3, os.path.getsize(self.data_path(boot.id)))

        # Snapshot and a volume made of it: LUNs of their own.
        snap = self.conn.block_storage.create_snapshot(volume_id=boot.id,
                                                       name='snap1')
        snap = self.conn.block_storage.wait_for_status(
            snap, 'available', interval=0.2, wait=WAIT)
        self.assertIn('snapshot-%s' % snap.id, self.lun_names())
        copy = self.conn.block_storage.create_volume(
            name='copy1', size=1, snapshot_id=snap.id)
        copy = self.wait_volume(copy, 'available')
        with open(self.data_path(copy.id), 'rb') as f:
            self.assertEqual(head, f.read(len(head)))

        for vol in (fc, iscsi, copy):
            self.conn.block_storage.delete_volume(vol)
        self.conn.block_storage.delete_snapshot(snap)
        self.conn.block_storage.wait_for_delete(snap, interval=0.2,
                                                wait=WAIT)
        self.conn.block_storage.delete_volume(boot)
        for vol in (fc, iscsi, copy, boot):
            self.wait_gone(vol)
        self.assertEqual([], self.lun_names())
        self.assertEqual([], os.listdir(os.path.join(
            self.state_dir, 'cinder', 'san-data')))
        self.stop()

    def test_attachments_export_the_lun_to_the_connector(self):
        self.serve()
        fc = self.conn.block_storage.create_volume(name='fc1', size=1)
        iscsi = self.conn.block_storage.create_volume(
            name='iscsi1', size=1, volume_type='iscsi')
        fc = self.wait_volume(fc, 'available')
        iscsi = self.wait_volume(iscsi, 'available')
        connector = {'host': 'pvm-host1', 'ip': '127.0.0.1',
                     'wwpns': HOST_WWPNS, 'initiator': HOST_IQN,
                     'multipath': True, 'platform': 'ppc64le',
                     'os_type': 'linux'}
        server = '6e1f6a0c-3b43-4f0e-8a47-0d3f1f0c2a11'

        def attach(vol):
            resp = self.conn.session.post(
                self.volume_url('/attachments'), headers=VOLUME_API,
                json={'attachment': {'volume_uuid': vol.id,
                                     'instance_uuid': server,
                                     'connector': connector}})
            self.assertEqual(200, resp.status_code, resp.text)
            return resp.json()['attachment']

        fc_att = attach(fc)
        info = fc_att['connection_info']
        self.assertEqual('fibre_channel', info['driver_volume_type'])
        lun = self.san.lun(fc.id)
        self.assertEqual(['c05076079cff0e56', 'c05076079cff0e58'],
                         sorted(lun['initiators']))
        # The same shape as san.connection_info gives nova's fixtures.
        want = sim_san.connection_info(lun, connector, 'fibre_channel')
        for key, value in want['data'].items():
            self.assertEqual(value, info[key], key)

        iscsi_att = attach(iscsi)
        info = iscsi_att['connection_info']
        self.assertEqual('iscsi', info['driver_volume_type'])
        lun = self.san.lun(iscsi.id)
        self.assertEqual([HOST_IQN], lun['initiators'])
        self.assertEqual('CHAP', info['auth_method'])
        self.assertEqual(lun['chap_username'], info['auth_username'])
        self.assertTrue(info['auth_password'])
        # The SAN never shows the secret; Cinder keeps it with the volume.
        self.assertNotIn(info['auth_password'], json.dumps(lun))
        want = sim_san.connection_info(lun, connector, 'iscsi',
                                       chap_secret=info['auth_password'])
        for key, value in want['data'].items():
            self.assertEqual(value, info[key], key)
        self.assertEqual(2, len(info['target_portals']))

        # Completed, the volumes are in use; deleted, unexported.
        for att, vol in ((fc_att, fc), (iscsi_att, iscsi)):
            resp = self.conn.session.post(
                self.volume_url('/attachments/%s/action' % att['id']),
                headers=VOLUME_API, json={'os-complete': None})
            self.assertEqual(204, resp.status_code, resp.text)
            self.wait_volume(vol, 'in-use')
            resp = self.conn.session.delete(
                self.volume_url('/attachments/%s' % att['id']),
                headers=VOLUME_API)
            self.assertEqual(200, resp.status_code, resp.text)
            self.wait_volume(vol, 'available')
            self.assertEqual([], self.san.lun(vol.id)['initiators'])

        # A connector without what the protocol needs is refused (the
        # driver's InvalidConnectorException, a 500 from Cinder's API).
        connector.pop('wwpns')
        resp = self.conn.session.post(
            self.volume_url('/attachments'), headers=VOLUME_API,
            json={'attachment': {'volume_uuid': fc.id,
                                 'instance_uuid': server,
                                 'connector': connector}}, raise_exc=False)
        self.assertGreaterEqual(resp.status_code, 400, resp.text)
        with open(os.path.join(self.state_dir, 'cinder',
                               'cinder.log')) as f:
            self.assertIn("Connector doesn't have required information: "
                          "wwpns", f.read())
        self.assertEqual([], self.san.lun(fc.id)['initiators'])
        self.stop()


class TestSandboxServerVolumes(ServedCinderCase):
    """Nova and the sandbox's Cinder together, on the simulated SAN."""

    def sim_mappings(self):
        """Every VIOS's SCSI mappings on the simulator, from /sim/state."""
        state = self.san.session.get(
            self.san.base_url[:-len('/san')] + '/state', timeout=30).json()
        return [m for v in state.get('vioses', [])
                for m in v.get('scsi_mappings', [])]

    def test_attach_extend_detach_and_boot_from_volume(self):
        self.serve()
        baseline = self.sim_mappings()
        image = self.conn.image.find_image('powervm-raw',
                                           ignore_missing=False)
        net = self.conn.network.find_network('private',
                                             ignore_missing=False)
        flavor = self.conn.compute.find_flavor('m1.tiny',
                                               ignore_missing=False)
        server = self.conn.compute.create_server(
            name='vm1', image_id=image.id, flavor_id=flavor.id,
            networks=[{'uuid': net.id}])
        server = self.conn.compute.wait_for_server(server, wait=WAIT,
                                                   interval=0.2)
        # The server's own (boot disk) mapping.
        with_server = self.sim_mappings()
        for vtype in ('fc', 'iscsi'):
            vol = self.conn.block_storage.create_volume(
                name='data-%s' % vtype, size=1, volume_type=vtype)
            vol = self.wait_volume(vol, 'available')
            self.conn.compute.create_volume_attachment(server,
                                                       volume_id=vol.id)
            self.wait_volume(vol, 'in-use')
            lun = self.san.lun(vol.id)
            self.assertTrue(lun['visible_on'], lun)
            self.assertTrue(lun['initiators'], lun)
            self.assertGreater(len(self.sim_mappings()), len(with_server))
            # Extended while attached (volume API 3.42+).
            resp = self.conn.session.post(
                self.volume_url('/volumes/%s/action' % vol.id),
                headers=VOLUME_API, json={'os-extend': {'new_size': 2}})
            self.assertEqual(202, resp.status_code, resp.text)
            self.wait_volume(vol, 'in-use', size=2)
            self.assertEqual(2, self.san.lun(vol.id)['size_gb'])
            self.conn.compute.delete_volume_attachment(server, vol.id)
            self.wait_volume(vol, 'available')
            lun = self.san.lun(vol.id)
            self.assertEqual(([], []), (lun['initiators'],
                                        lun['visible_on']), vtype)
            self.assertEqual(with_server, self.sim_mappings())
            self.conn.block_storage.delete_volume(vol)
            self.wait_gone(vol)

        # Boot from a volume Cinder makes of the image (the stock CLI).
        out = self._openstack(
            self.state_dir, 'server', 'create', '--image', 'powervm-raw',
            '--boot-from-volume', '1', '--flavor', 'm1.tiny', '--network',
            'private', '--wait', '-f', 'json', 'bfv1')
        bfv = json.loads(out[out.index('{'):])
        self.assertEqual('ACTIVE', bfv['status'])
        [root] = [v for v in self.conn.block_storage.volumes()]
        self.assertEqual('in-use', root.status)
        self.assertTrue(self.san.lun(root.id)['visible_on'])
        # One at a time: each destroy updates the same VIOSes.
        for name in ('bfv1', 'vm1'):
            self._openstack(self.state_dir, 'server', 'delete', '--wait',
                            name)
        # The root volume stays (--boot-from-volume keeps it): delete it.
        root = self.wait_volume(root, 'available')
        self.conn.block_storage.delete_volume(root)
        self.wait_gone(root)
        self.assertEqual([], self.lun_names())
        # The API forgets a server as its compute finishes the destroy.
        deadline = time.monotonic() + 30
        while (self.sim_mappings() != baseline
               and time.monotonic() < deadline):
            time.sleep(0.5)
        self.assertEqual(baseline, self.sim_mappings())
        self.stop()
