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
"""Cinder volumes through the API, on the simulated SAN.

nova's ``CinderFixture`` stands for Cinder; its connection info comes
from the SAN (``san.connection_info``, the shapes the sandbox's Cinder
driver gives too): the LUN is exported to the connector nova sends, as
a Cinder driver's ``initialize_connection`` does.
"""

import time

import fixtures
from nova import context as nova_context
from nova import objects
from nova.tests.fixtures import cinder as cinder_fixture
from oslo_serialization import jsonutils
from oslo_utils import uuidutils

from nova_powervm import conf as pvm_conf
from nova_powervm.sandbox import images
from nova_powervm.simulator import san as sim_san
from nova_powervm.tests.functional import base
from nova_powervm.tests import known_secrets
from nova_powervm.virt.powervm.volume import npiv

#: CHAP credentials of the iSCSI LUNs (the secret is one the run-wide
#: check of the logs looks for).
CHAP = {'username': 'u', 'secret': known_secrets.CHAP_SECRET}

GB = 1024 ** 3


class SANCinderFixture(cinder_fixture.CinderFixture):
    """nova's CinderFixture with connection infos of SAN LUNs.

    :param test: the test case.
    :param san: a ``SANClient``.
    """

    def __init__(self, test, san=None):
        super().__init__(test)
        #: The ``SANClient``, set once the computes are up.
        self.san = san
        #: ``{volume id: (protocol, chap or None, export, secret given)}``
        self.luns = {}
        #: ``{attachment id: connection info}`` of the SAN's LUNs, as
        #: Cinder keeps them (``attachment_get`` returns them: nova reads
        #: them again when a server moves).
        self.infos = {}

    def add(self, volume_id=None, size=1, protocol='fibre_channel',
            chap=None, export=True, given_secret=None):
        """A LUN for a Cinder volume id.

        :param export: export it to the connector at attach time.
        :param given_secret: the CHAP secret the connection info gives
            (default: the LUN's).
        """
        volume_id = volume_id or uuidutils.generate_uuid()
        self.san.create_lun(volume_id, size)
        self.luns[volume_id] = (protocol, chap, export, given_secret or (
            chap['secret'] if chap else None))
        return volume_id

    def fake_attachment_update(self, context, attachment_id, connector,
                               mountpoint=None):
        ref = super().fake_attachment_update(context, attachment_id,
                                             connector, mountpoint)
        volume_id = self._find_attachment(attachment_id)[0]
        if volume_id in self.luns:
            ref['connection_info'] = self._san_info(volume_id, connector,
                                                    attachment_id)
        return ref

    def _san_info(self, volume_id, connector, attachment_id):
        """Export the LUN to the connector; its connection info."""
        protocol, chap, export, secret = self.luns[volume_id]
        inits = (connector.get('wwpns') if protocol == 'fibre_channel'
                 else connector.get('initiators'))
        doc = (self.san.export(volume_id, inits, chap=chap) if export
               else self.san.lun(volume_id))
        info = sim_san.connection_info(doc, connector, protocol,
                                       chap_secret=secret)
        info['data']['attachment_id'] = attachment_id
        self.infos[attachment_id] = info
        return info

    def fake_attachment_create(self, context, volume_id, instance_uuid,
                               connector=None, mountpoint=None):
        # With a connector (a live migration's destination) Cinder
        # exports the volume at once and returns its connection info.
        ref = super().fake_attachment_create(
            context, volume_id, instance_uuid, connector=connector,
            mountpoint=mountpoint)
        if connector and volume_id in self.luns:
            ref['connection_info'] = self._san_info(volume_id, connector,
                                                    ref['id'])
        return ref

    #: End a LUN's export to an attachment's initiators when the
    #: attachment goes, unless another attachment of the volume still
    #: uses them (the sandbox Cinder driver's rule: an NPIV server that
    #: moved has the same virtual WWPNs on both hosts).  Off unless a
    #: test turns it on.
    unexport = False

    def fake_attachment_delete(self, context, attachment_id):
        volume_id, attachment, attachments = self._find_attachment(
            attachment_id)
        gone = attachment.get('connector') or {}
        super().fake_attachment_delete(context, attachment_id)
        if not self.unexport or volume_id not in self.luns:
            return
        key = ('wwpns' if self.luns[volume_id][0] == 'fibre_channel'
               else 'initiators')
        inits = set(gone.get(key) or ())
        for other in attachments.values():
            inits -= set((other.get('connector') or {}).get(key) or ())
        if inits:
            self.san.unexport(volume_id, sorted(inits))

    def _find_connection_info(self, volume_id, attachment_id):
        if attachment_id in self.infos:
            return self.infos[attachment_id]
        return super()._find_connection_info(volume_id, attachment_id)


class VolumeTestCase(base.PowerVMFunctionalTestCase):

    microversion = '2.79'

    def setUp(self):
        # The base class's Cinder fixture is ours.
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.CinderFixture', SANCinderFixture))
        super().setUp()
        self.san_dir = self.useFixture(fixtures.TempDir()).path
        self.stub_out('nova_powervm.virt.powervm.volume.vscsi.'
                      'DISCOVERY_DELAY', 0)

    def start(self, *hosts):
        for host in hosts:
            self.start_compute(host, san_dir=self.san_dir)
        self.san = self.cinder.san = self.simulators[hosts[0]].san_client()

    def volume_maps(self, host, server=None):
        lpar = self.lpar_of(host, server) if server else None
        return sorted(
            (vios['name'], m['storage_name'])
            for vios in self.simulators[host].state()['vioses']
            for m in vios['scsi_mappings']
            if m['storage_type'] == 'PhysicalVolume' and (
                lpar is None or (m['lpar_uuid'] or '').upper() ==
                lpar['uuid'].upper()))

    def devices(self, host):
        """hdisks and iSCSI sessions of SAN LUNs on a host."""
        udids = {lun['udid'] for lun in self.san.luns()}
        state = self.simulators[host].state()
        return ([p['name'] for p in state['physical_volumes']
                 if p['udid'] in udids], state['iscsi_sessions'])

    def _events(self, server, action):
        """The finished events of a server's actions of one kind."""
        ctx = nova_context.get_admin_context()
        out = []
        for act in objects.InstanceActionList.get_by_instance_uuid(
                ctx, server['id']):
            if act.action == action:
                out += [e for e in objects.InstanceActionEventList
                        .get_by_action(ctx, act.id)
                        if e.finish_time and e.event == 'compute_' + action]
        return sorted(out, key=lambda e: e.finish_time)

    def run_action(self, server, action, method, path, body=None,
                   result='Success'):
        """Call the API and wait for the compute's part to end."""
        before = len(self._events(server, action))
        if method == 'POST':
            self.api.api_post(path, body)
        else:
            self.api.api_delete(path)
        deadline = time.monotonic() + base.WAIT
        while time.monotonic() < deadline:
            events = self._events(server, action)
            if len(events) > before:
                # nova finishes its own work after the event.
                self.wait_for(server, server['status'])
                time.sleep(0.2)
                self.assertEqual(result, events[-1].result,
                                 events[-1].traceback)
                return events[-1]
            time.sleep(0.1)
        self.fail('%s of server %s did not end' % (action, server['id']))

    def attach(self, server, volume_id, tag=None, result='Success'):
        body = {'volumeAttachment': {'volumeId': volume_id}}
        if tag:
            body['volumeAttachment']['tag'] = tag
        return self.run_action(
            server, 'attach_volume', 'POST',
            '/servers/%s/os-volume_attachments' % server['id'], body,
            result=result)

    def detach(self, server, volume_id):
        return self.run_action(
            server, 'detach_volume', 'DELETE',
            '/servers/%s/os-volume_attachments/%s' % (server['id'],
                                                      volume_id))

    def assert_clean(self, host):
        self.assertEqual([], self.volume_maps(host))
        self.assertEqual(([], []), self.devices(host))


class TestAttachDetach(VolumeTestCase):

    def test_fc_running_and_stopped(self):
        self.start('host1')
        vol = self.cinder.add()
        server = self.boot()
        self.attach(server, vol)
        self.assertEqual(['vios1', 'vios2'],
                         [m[0] for m in self.volume_maps('host1', server)])
        self.assertEqual(['vios1', 'vios2'],
                         [v.split('/')[1]
                          for v in self.san.lun(vol)['visible_on']])
        self.detach(server, vol)
        self.assert_clean('host1')
        server = self.action(server, {'os-stop': None}, 'SHUTOFF')
        self.attach(server, vol)
        self.assertEqual(2, len(self.volume_maps('host1', server)))
        self.detach(server, vol)
        self.assert_clean('host1')
        self.delete(server)
        self.assert_sim_empty('host1')
        self.assertEqual([vol], [x['name'] for x in self.san.luns()])

    def test_iscsi_with_chap_and_tag(self):
        self.start('host1')
        vol = self.cinder.add(protocol='iscsi',
                              chap=CHAP)
        server = self.boot()
        self.attach(server, vol, tag='data')
        self.assertEqual(2, len(self.volume_maps('host1', server)))
        self.assertEqual(2, len(self.devices('host1')[1]))
        ctx = nova_context.get_admin_context()
        inst = objects.Instance.get_by_uuid(
            ctx, server['id'], expected_attrs=['device_metadata'])
        self.assertEqual([(vol, ['data'])],
                         [(d.serial, d.tags)
                          for d in inst.device_metadata.devices])
        self.detach(server, vol)
        self.assert_clean('host1')
        inst = objects.Instance.get_by_uuid(
            ctx, server['id'], expected_attrs=['device_metadata'])
        self.assertEqual([], inst.device_metadata.devices)
        self.delete(server)
        self.assert_sim_empty('host1')

    def test_rebuild_with_volume_attached(self):
        # nova's own rebuild (destroy, spawn with the volume) runs it.
        self.start('host1')
        vol = self.cinder.add()
        server = self.boot()
        self.attach(server, vol)
        server = self.action(
            server, {'rebuild': {'imageRef': images.DEFAULT_IMAGE_ID}},
            'ACTIVE')
        self.assertEqual(['vios1', 'vios2'],
                         [m[0] for m in self.volume_maps('host1', server)])
        self.detach(server, vol)
        self.assert_clean('host1')
        self.delete(server)
        self.assert_sim_empty('host1')

    def test_delete_with_volume_attached(self):
        self.start('host1')
        vol = self.cinder.add()
        server = self.boot()
        self.attach(server, vol)
        self.delete(server)
        self.assert_clean('host1')
        self.assert_sim_empty('host1')
        self.san.delete(vol)

    def test_extend(self):
        self.start('host1')
        vol = self.cinder.add(size=1)
        server = self.boot()
        self.attach(server, vol)
        self.san.resize(vol, 3)
        self.cinder.volumes[vol] = {'id': vol, 'display_name': vol,
                                    'size': 3, 'multiattach': False,
                                    'availability_zone': 'nova'}
        self.api.api_post('/os-server-external-events', {'events': [{
            'name': 'volume-extended', 'server_uuid': server['id'],
            'tag': vol}]})
        udid = self.san.lun(vol)['udid']
        deadline = time.monotonic() + base.WAIT
        while time.monotonic() < deadline:
            sizes = [p['capacity_mb'] for p in self.simulators[
                'host1'].state()['physical_volumes'] if p['udid'] == udid]
            if sizes == [3072, 3072]:
                break
            time.sleep(0.1)
        self.assertEqual([3072, 3072], sizes)
        self.detach(server, vol)
        self.assert_clean('host1')


class TestFaults(VolumeTestCase):

    def test_lun_no_vios_sees(self):
        self.start('host1')
        # The Cinder side forgets to export it.
        vol = self.cinder.add(export=False)
        server = self.boot()
        event = self.attach(server, vol, result='Error')
        # The action's event says which volume and why.
        self.assertIn(vol, event.details)
        self.assertIn('found on 0 Virtual I/O Server(s), 1 required',
                      event.details)
        self.assertEqual('ACTIVE', self.api.get_server(server['id'])[
            'status'])
        self.assert_clean('host1')

    def test_fault_at_discovery_and_mapping(self):
        self.start('host1')
        vol = self.cinder.add()
        server = self.boot()
        sim = self.simulators['host1']
        for fault in ({'kind': 'job_fail', 'job': 'LUARecovery',
                       'count': 20},
                      {'method': 'POST', 'path': '/VirtualIOServer/',
                       'count': 1}):
            sim.add_fault(**fault)
            self.attach(server, vol, result='Error')
            sim.clear_faults()
            self.assert_clean('host1')
            self.assertEqual('available',
                             self.cinder.fake_get(None, vol)['status'])
        self.attach(server, vol)
        self.detach(server, vol)
        self.assert_clean('host1')

    def test_chap_failure_and_too_few_paths(self):
        self.start('host1')
        server = self.boot()
        vol = self.cinder.add(protocol='iscsi',
                              chap=CHAP,
                              given_secret='wrong')
        event = self.attach(server, vol, result='Error')
        self.assertIn(vol, event.details)
        self.assertIn('CHAP authentication failed', event.details)
        self.assertNotIn('wrong', event.details)
        self.assert_clean('host1')
        # FC masked to one VIOS only, two required.
        self.flags(vscsi_vios_connections_required=2, group='powervm')
        vol2 = self.cinder.add(export=False)
        wwpns = self.computes['host1'].driver.get_volume_connector(
            None)['wwpns']
        self.san.export(vol2, wwpns[:2])
        event = self.attach(server, vol2, result='Error')
        self.assertIn('found on 1 Virtual I/O Server(s), 2 required',
                      event.details)
        self.assert_clean('host1')

    def test_fault_at_detach_keeps_the_attachment(self):
        self.start('host1')
        vol = self.cinder.add()
        server = self.boot()
        self.attach(server, vol)
        maps = self.volume_maps('host1', server)
        sim = self.simulators['host1']
        sim.add_fault(kind='job_fail', job='RemoveDevice', count=5)
        self.run_action(server, 'detach_volume', 'DELETE',
                        '/servers/%s/os-volume_attachments/%s' % (
                            server['id'], vol), result='Error')
        sim.clear_faults()
        self.assertEqual(maps, self.volume_maps('host1', server))
        self.detach(server, vol)
        self.assert_clean('host1')


class TestBootFromVolume(VolumeTestCase):

    def test_boot_from_fc_volume(self):
        self.start('host1')
        vol = self.cinder.add(self.cinder.IMAGE_BACKED_VOL, size=2)
        body = self._build_server(image_uuid='', flavor_id='1',
                                  networks='none')
        body['block_device_mapping_v2'] = [{
            'boot_index': 0, 'uuid': vol, 'source_type': 'volume',
            'destination_type': 'volume'}]
        server = self.wait_for(self.api.post_server({'server': body}),
                               'ACTIVE')
        lpar = self.lpar_of('host1', server)
        self.assertEqual('running', lpar['state'])
        maps = self.volume_maps('host1', server)
        self.assertEqual(2, len(maps))
        self.assertEqual(maps[0][1], lpar['booted_from'])
        self.assertEqual([], self.boot_disks('host1'))
        self.delete(server)
        self.assert_clean('host1')
        self.assert_sim_empty('host1')
        self.assertEqual([vol], [x['name'] for x in self.san.luns()])


class TestMultiattach(VolumeTestCase):

    def test_two_servers_two_hosts(self):
        self.start('host1', 'host2')
        vol = self.cinder.add(self.cinder.MULTIATTACH_VOL)
        servers = {}
        for host in ('host1', 'host2'):
            body = self._build_server(
                image_uuid=base.images.DEFAULT_IMAGE_ID, flavor_id='1',
                networks='none', az='nova:%s' % host)
            servers[host] = self.wait_for(
                self.api.post_server({'server': body}), 'ACTIVE')
        for host, server in servers.items():
            self.attach(server, vol)
            self.assertEqual(2, len(self.volume_maps(host, server)))
        self.assertEqual(4, len(self.san.lun(vol)['visible_on']))
        # nova's detach calls the driver only when [DEFAULT] host is the
        # server's host: process-wide, so set for the compute that works.
        self.flags(host='host1')
        self.detach(servers['host1'], vol)
        self.assert_clean('host1')
        self.assertEqual(2, len(self.volume_maps('host2', servers['host2'])))
        self.flags(host='host2')
        self.detach(servers['host2'], vol)
        self.assert_clean('host2')
        for host, server in servers.items():
            self.delete(server)
            self.assert_sim_empty(host)


class TestNPIV(VolumeTestCase):

    def test_attach_detach_delete(self):
        self.start('host1')
        ports = self.computes['host1'].driver.get_volume_connector(
            None)['wwpns']
        self.flags(fc_attach_strategy='npiv', fabrics=['A', 'B'],
                   group='powervm')
        pvm_conf.register_fabric_opts()
        self.flags(fabric_A_port_wwpns=[ports[0], ports[2]],
                   fabric_B_port_wwpns=[ports[1], ports[3]],
                   group='powervm')
        server = self.boot()
        vol1, vol2 = self.cinder.add(), self.cinder.add()
        self.attach(server, vol1)
        lpar = self.lpar_of('host1', server)
        maps = [m for v in self.simulators['host1'].state()['vioses']
                for m in v['fc_mappings']
                if (m['lpar_uuid'] or '').upper() == lpar['uuid'].upper()]
        self.assertEqual(2, len(maps))
        # Cinder exported the LUN to the partition's virtual WWPNs.
        self.assertEqual(sorted(w for m in maps for w in m['wwpns']),
                         sorted(self.san.lun(vol1)['initiators']))
        self.assertEqual([], self.volume_maps('host1'))
        self.attach(server, vol2)
        self.detach(server, vol1)
        self.assertEqual(2, len(self.fc_maps('host1')))
        self.detach(server, vol2)
        self.assertEqual([], self.fc_maps('host1'))
        # Delete with a volume attached: the adapters go too.
        self.attach(server, vol1)
        self.delete(server)
        self.assertEqual([], self.fc_maps('host1'))
        self.assert_sim_empty('host1')

    def fc_maps(self, host):
        return [m for v in self.simulators[host].state()['vioses']
                for m in v['fc_mappings']]


class TestNPIVWWPNs(VolumeTestCase):
    """NPIV: WWPNs kept in nova's DB, boot from an NPIV volume, cleanup."""

    def setUp(self):
        super().setUp()
        self.start('host1')
        ports = self.computes['host1'].driver.get_volume_connector(
            None)['wwpns']
        self.flags(fc_attach_strategy='npiv', fabrics=['A', 'B'],
                   group='powervm')
        pvm_conf.register_fabric_opts()
        self.flags(fabric_A_port_wwpns=[ports[0], ports[2]],
                   fabric_B_port_wwpns=[ports[1], ports[3]],
                   group='powervm')

    def fc_maps(self, lpar=None):
        return [m for v in self.simulators['host1'].state()['vioses']
                for m in v['fc_mappings']
                if lpar is None or
                (m['lpar_uuid'] or '').upper() == lpar['uuid'].upper()]

    def instance(self, server):
        return objects.Instance.get_by_uuid(
            nova_context.get_admin_context(), server['id'],
            expected_attrs=['system_metadata'])

    def stored(self, server):
        raw = self.instance(server).system_metadata.get(
            npiv.SYSMETA_KEY)
        return sorted(w for ws in jsonutils.loads(raw).values()
                      for w in ws)

    def test_connector_after_the_last_detach(self):
        # nova asks for the connector on every attach and detach (also of
        # other protocols): that must not make adapters the server keeps
        # after its last FC volume went, nor leave them after delete.
        server = self.boot()
        vol = self.cinder.add()
        self.attach(server, vol)
        wwpns = self.stored(server)
        self.assertEqual(4, len(wwpns))
        self.detach(server, vol)
        self.assertEqual([], self.fc_maps())
        driver = self.computes['host1'].driver
        self.assertEqual(wwpns, driver.get_volume_connector(
            self.instance(server))['wwpns'])
        self.assertEqual([], self.fc_maps())
        # Attach again: the same WWPNs.
        self.attach(server, vol)
        lpar = self.lpar_of('host1', server)
        self.assertEqual(wwpns, sorted(
            w for m in self.fc_maps(lpar) for w in m['wwpns']))
        self.detach(server, vol)
        driver.get_volume_connector(self.instance(server))
        self.delete(server)
        self.assertEqual([], self.fc_maps())
        self.assert_sim_empty('host1')

    def test_delete_removes_adapters_without_fc_volume(self):
        # Adapters a server has without any FC volume in nova (a volume
        # detached behind nova's back) go with the server.
        server = self.boot()
        vol = self.cinder.add()
        self.attach(server, vol)
        ctx = self.computes['host1'].driver._host_ctx()
        npiv.ensure_adapters(ctx, self.instance(server))
        self.assertEqual(2, len(self.fc_maps()))
        self.detach(server, vol)
        npiv.ensure_adapters(ctx, self.instance(server))
        self.assertEqual(2, len(self.fc_maps()))
        self.delete(server)
        self.assertEqual([], self.fc_maps())
        self.assert_sim_empty('host1')

    def bfv_body(self, vol):
        body = self._build_server(image_uuid='', flavor_id='1',
                                  networks='none')
        body['block_device_mapping_v2'] = [{
            'boot_index': 0, 'uuid': vol, 'source_type': 'volume',
            'destination_type': 'volume'}]
        return body

    def test_boot_from_npiv_volume(self):
        vol = self.cinder.add(self.cinder.IMAGE_BACKED_VOL, size=2)
        server = self.wait_for(self.api.post_server(
            {'server': self.bfv_body(vol)}), 'ACTIVE')
        lpar = self.lpar_of('host1', server)
        self.assertEqual('running', lpar['state'])
        maps = self.fc_maps(lpar)
        self.assertEqual(2, len(maps))
        # The adapters have the WWPNs allocated before spawn, which
        # Cinder exported the LUN to.
        wwpns = self.stored(server)
        self.assertEqual(wwpns, sorted(w for m in maps for w in m['wwpns']))
        self.assertEqual(wwpns, sorted(self.san.lun(vol)['initiators']))
        self.assertEqual([], self.volume_maps('host1'))
        self.assertEqual([], self.boot_disks('host1'))
        self.delete(server)
        self.assertEqual([], self.fc_maps())
        self.assert_sim_empty('host1')

    def test_failed_spawn_leaves_no_vfc_mapping(self):
        vol = self.cinder.add(self.cinder.IMAGE_BACKED_VOL, size=2)
        sim = self.simulators['host1']
        sim.add_fault(count=1, kind='job_fail', job='PowerOn')
        server = self.wait_for(self.api.post_server(
            {'server': self.bfv_body(vol)}), 'ERROR')
        sim.clear_faults()
        self.assertEqual([], self.fc_maps())
        self.delete(server)
        self.assert_sim_empty('host1')
