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
"""Cinder volumes on the simulated SAN: vSCSI over FC and iSCSI."""

import time

from nova import exception as nova_exc
from nova import objects
from oslo_serialization import jsonutils
import testscenarios

from nova_powervm import conf as pvm_conf
from nova_powervm import exception as exc
from nova_powervm.simulator import inventory
from nova_powervm.simulator import san as sim_san
from nova_powervm.tests.unit.virt.powervm import test_driver
from nova_powervm.virt.powervm import vm
from nova_powervm.virt.powervm.volume import npiv
from nova_powervm.virt.powervm.volume import vscsi

GB = 1024 ** 3


class VolumeTestCase(test_driver.DriverTestCase):
    """A driver on a host of ``VIOSES`` VIOSes, with the SAN's client."""

    VIOSES = 2

    def setUp(self):
        self.sim_kwargs = dict(self.sim_kwargs, inventory=inventory.Inventory(
            vioses=self.VIOSES))
        super().setUp()
        self.san = self.sim.san_client()
        self.stub_out('nova.objects.Instance.save', lambda *a, **k: None)
        self.stub_out('nova_powervm.virt.powervm.volume.vscsi.'
                      'DISCOVERY_DELAY', 0)

    def volume(self, name='vol-1', size=1, protocol='fibre_channel',
               export=True, chap=None, inst=None):
        """A LUN exported to this host's connector; its connection info."""
        connector = self.drv.get_volume_connector(inst)
        doc = self.san.create_lun(name, size)
        if export:
            inits = (connector['wwpns'] if protocol == 'fibre_channel'
                     else connector['initiators'])
            doc = self.san.export(name, inits, chap=chap)
        info = sim_san.connection_info(
            doc, connector, protocol,
            chap_secret=chap['secret'] if chap else None)
        info['serial'] = name
        return info

    def volume_maps(self, inst=None):
        """``(vios, hdisk)`` of the PV mappings (to ``inst`` if given)."""
        uuid = vm.get_pvm_uuid(inst).upper() if inst else None
        return sorted(
            (vios['name'], m['storage_name'])
            for vios in self.sim.state()['vioses']
            for m in vios['scsi_mappings']
            if m['storage_type'] == 'PhysicalVolume' and (
                uuid is None or (m['lpar_uuid'] or '').upper() == uuid))

    def hdisks(self, info):
        udid = self.san.lun(info['data']['volume_id'])['udid']
        return sorted((p['vios'], p['name'], p['capacity_mb'])
                      for p in self.sim.state()['physical_volumes']
                      if p['udid'] == udid)

    def sessions(self):
        return sorted((s['vios'], s['portal'])
                      for s in self.sim.state()['iscsi_sessions'])

    def attach(self, info, inst):
        self.drv.attach_volume(self.ctx, info, inst, '/dev/sdb')

    def detach(self, info, inst):
        self.drv.detach_volume(self.ctx, info, inst, '/dev/sdb')


class TestConnector(VolumeTestCase):

    def test_connector_and_its_cost(self):
        self.flags(my_block_storage_ip='192.0.2.77')
        inst = self.instance()
        props, calls = self.count_rest(self.drv.get_volume_connector, inst)
        self.assertEqual('192.0.2.77', props['ip'])
        self.assertEqual('compute1', props['host'])
        self.assertFalse(props['multipath'])
        vioses = {v['name'] for v in self.sim.state()['vioses']}
        self.assertEqual(2, len(vioses))
        # 2 FC ports per VIOS, unique, lower case.
        self.assertEqual(4, len(set(props['wwpns'])))
        self.assertEqual([w.lower() for w in props['wwpns']],
                         props['wwpns'])
        self.assertEqual(2, len(props['initiators']))
        self.assertEqual(props['initiators'][0], props['initiator'])
        # 1 GET of the VIOSes + one initiator query job (3) per VIOS.
        self.assertEqual(7, calls)
        again, calls = self.count_rest(self.drv.get_volume_connector, inst)
        self.assertEqual((props, 0), (again, calls))


class TestFCAttachDetach(VolumeTestCase):

    def test_attach_detach_stopped_and_running(self):
        info = self.volume()
        for running in (False, True):
            inst = self.lpar_instance(running=running)
            self.attach(info, inst)
            maps = self.volume_maps(inst)
            # Both VIOSes see the LUN: one mapping each.
            self.assertEqual(['vios1', 'vios2'], [m[0] for m in maps])
            self.assertEqual(self.san.lun('vol-1')['udid'],
                             info['data']['pvm_udid'])
            self.assertEqual(2, len(self.hdisks(info)))
            self.detach(info, inst)
            self.assertEqual([], self.volume_maps())
            self.assertEqual([], self.hdisks(info))
            self.assertEqual([], self.san.lun('vol-1')['visible_on'])

    def test_running_without_rmc_is_refused_naming_the_volume(self):
        info = self.volume()
        inst = self.lpar_instance()
        self.set_rmc(inst, 'inactive')
        err = self.assertRaises(nova_exc.VolumeAttachFailed, self.attach,
                                info, inst)
        self.assertIn('vol-1', str(err))
        self.assertEqual([], self.volume_maps())

    def set_rmc(self, inst, rmc):
        import requests
        resp = requests.post(
            self.sim_url('/sim/lpar/%s/state' % vm.get_pvm_uuid(inst)),
            json={'state': 'running', 'rmc_state': rmc}, timeout=10)
        self.assertLess(resp.status_code, 300, resp.text)

    def test_only_masked_vioses_map(self):
        connector = self.drv.get_volume_connector(None)
        doc = self.san.create_lun('vol-1', 1)
        self.san.export('vol-1', connector['wwpns'][:1])
        info = sim_san.connection_info(doc, connector, 'fibre_channel')
        inst = self.lpar_instance()
        self.attach(info, inst)
        self.assertEqual(['vios1'], [m[0] for m in self.volume_maps(inst)])
        self.assertEqual(1, len(self.hdisks(info)))
        self.detach(info, inst)
        self.assertEqual([], self.hdisks(info))

    def test_extend(self):
        info = self.volume(size=1)
        inst = self.lpar_instance()
        self.attach(info, inst)
        self.san.resize('vol-1', 3)
        self.drv.extend_volume(self.ctx, info, inst, 3 * GB)
        self.assertEqual([3072, 3072], [h[2] for h in self.hdisks(info)])
        self.san.resize('vol-1', 4)
        self.flags(group='powervm')
        # Cinder says 5 GB but the LUN has 4: the VIOSes cannot see it.
        err = self.assertRaises(nova_exc.VolumeAttachFailed,
                                self.drv.extend_volume, self.ctx, info,
                                inst, 5 * GB)
        self.assertIn('4096 MB', str(err))

    def test_extend_after_detach_finds_nothing_to_rescan(self):
        # nova handles volume-extended apart from the detach it may race.
        info = self.volume(size=1)
        inst = self.lpar_instance()
        self.attach(info, inst)
        self.detach(info, inst)
        self.assertEqual([], self.hdisks(info))
        self.san.resize('vol-1', 2)
        self.drv.extend_volume(self.ctx, info, inst, 2 * GB)
        # No rescan: the LUN's hdisk did not come back on any VIOS.
        self.assertEqual([], self.hdisks(info))

    def test_multiattach_keeps_the_hdisk_for_the_other_lpar(self):
        info = self.volume()
        inst1, inst2 = self.lpar_instance(), self.lpar_instance()
        self.attach(info, inst1)
        self.attach(dict(info, data=dict(info['data'])), inst2)
        self.assertEqual(2, len(self.volume_maps(inst1)))
        self.assertEqual(2, len(self.volume_maps(inst2)))
        self.assertEqual(2, len(self.hdisks(info)))
        self.detach(info, inst1)
        self.assertEqual([], self.volume_maps(inst1))
        self.assertEqual(2, len(self.volume_maps(inst2)))
        self.assertEqual(2, len(self.hdisks(info)))
        self.detach(info, inst2)
        self.assertEqual([], self.volume_maps())
        self.assertEqual([], self.hdisks(info))

    def test_detach_without_udid_rediscovers(self):
        info = self.volume()
        inst = self.lpar_instance()
        self.attach(info, inst)
        del info['data']['pvm_udid']
        self.detach(info, inst)
        self.assertEqual([], self.volume_maps())
        self.assertEqual([], self.hdisks(info))

    def test_detach_from_a_deleted_partition(self):
        info = self.volume()
        inst = self.instance()
        self.detach(info, inst)
        self.assertEqual([], self.volume_maps())


class TestBadInput(VolumeTestCase):

    def test_unknown_protocol(self):
        inst = self.lpar_instance()
        info = {'driver_volume_type': 'rbd', 'serial': 'vol-9',
                'data': {}}
        err = self.assertRaises(exc.VolumeProtocolNotSupported,
                                self.attach, info, inst)
        self.assertIn('vol-9', str(err))
        self.assertIn('rbd', str(err))

    def test_lun_no_vios_sees(self):
        info = self.volume(export=False)
        inst = self.lpar_instance()
        err = self.assertRaises(nova_exc.VolumeAttachFailed, self.attach,
                                info, inst)
        self.assertIn('vol-1', str(err))
        self.assertIn('found on 0 Virtual I/O Server(s), 1 required',
                      str(err))
        self.assertIn('vios1: ', str(err))
        self.assertEqual([], self.volume_maps())
        self.assertEqual([], self.hdisks(info))

    def test_discovery_retried_then_found(self):
        info = self.volume()
        inst = self.lpar_instance()
        # The first discovery on each VIOS fails, then the LUN shows up.
        self.sim.add_fault(kind='job_fail', job='LUARecovery', count=2,
                           message='VIOS busy')
        self.attach(info, inst)
        self.assertEqual(2, len(self.volume_maps(inst)))

    def test_fewer_paths_than_required(self):
        self.flags(vscsi_vios_connections_required=2, group='powervm')
        connector = self.drv.get_volume_connector(None)
        doc = self.san.create_lun('vol-1', 1)
        self.san.export('vol-1', connector['wwpns'][:2])  # vios1 only
        info = sim_san.connection_info(doc, connector, 'fibre_channel')
        inst = self.lpar_instance()
        err = self.assertRaises(nova_exc.VolumeAttachFailed, self.attach,
                                info, inst)
        self.assertIn('found on 1 Virtual I/O Server(s), 2 required',
                      str(err))
        self.assertIn('vios2', str(err))
        # The hdisk vios1 found is removed again.
        self.assertEqual([], self.hdisks(info))
        self.assertEqual([], self.volume_maps())

    def test_encrypted_volume_refused(self):
        info = self.volume()
        inst = self.lpar_instance()
        self.assertRaises(exc.NotSupportedYet, self.drv.attach_volume,
                          self.ctx, info, inst, '/dev/sdb',
                          encryption={'provider': 'luks'})


class TestAttachReverts(testscenarios.WithScenarios, VolumeTestCase):
    """A fault at each REST step of an attach leaves nothing behind."""

    protocol = 'fibre_channel'
    scenarios = [
        ('discovery', {'fault': {'kind': 'job_fail', 'job': 'LUARecovery'}}),
        ('vios_feed', {'fault': {'method': 'GET',
                                 'path': '/VirtualIOServer$'}}),
        ('vios_post', {'fault': {'method': 'POST',
                                 'path': '/VirtualIOServer/'}}),
        ('iscsi_login', {'protocol': 'iscsi',
                         'fault': {'kind': 'job_fail',
                                   'job': 'ISCSIDiscovery'}}),
        ('iscsi_vios_post', {'protocol': 'iscsi',
                             'fault': {'method': 'POST',
                                       'path': '/VirtualIOServer/'}}),
    ]

    def test_fault(self):
        self.stub_out('nova_powervm.virt.powervm.volume.vscsi.'
                      'DISCOVERY_ATTEMPTS', 1)
        info = self.volume(protocol=self.protocol)
        inst = self.lpar_instance()
        self.sim.add_fault(count=10, **self.fault)
        self.assertRaises(nova_exc.NovaException, self.attach, info, inst)
        self.sim.clear_faults()
        self.assertEqual([], self.volume_maps())
        self.assertEqual([], self.hdisks(info))
        self.assertEqual([], self.sessions())
        # And the volume attaches afterwards.
        self.attach(info, inst)
        self.assertEqual(2, len(self.volume_maps(inst)))


class TestDetachRevert(VolumeTestCase):

    def test_failed_hdisk_removal_maps_the_volume_again(self):
        info = self.volume()
        inst = self.lpar_instance()
        self.attach(info, inst)
        maps = self.volume_maps(inst)
        self.sim.add_fault(kind='job_fail', job='RemoveDevice', count=10)
        self.assertRaises(nova_exc.NovaException, self.detach, info, inst)
        self.sim.clear_faults()
        self.assertEqual(maps, self.volume_maps(inst))
        self.detach(info, inst)
        self.assertEqual([], self.volume_maps())
        self.assertEqual([], self.hdisks(info))


class TestBudgets(VolumeTestCase):
    """REST round trips with one VIOS (see devref/flows.rst)."""

    VIOSES = 1

    def test_attach_detach_budget(self):
        info = self.volume()
        info2 = self.volume('vol-2')
        inst = self.lpar_instance(running=True)
        # Let the driver's lifecycle event check of the state change run
        # (it reads the partition's state): it is no part of the attach.
        time.sleep(10 * self.EVENT_DELAY)
        self.drv._ctx.cache.forget(vscsi.VIOS_KEY)
        feed = 'GET /rest/api/uom/VirtualIOServer'
        _r, calls = self.count_rest(self.attach, info, inst)
        self.assertLessEqual(calls, 7, self.sim.stats()['by_pattern'])
        self.assertEqual(2, self.sim.stats()['by_pattern'][feed])
        # The second attach reuses the VIOSes it learned: one feed GET
        # (the mapping update's), no second read of the FC ports.
        _r, calls = self.count_rest(self.attach, info2, inst)
        self.assertLessEqual(calls, 6)
        self.assertEqual(1, self.sim.stats()['by_pattern'][feed])
        _r, calls = self.count_rest(self.detach, info, inst)
        self.assertLessEqual(calls, 7)
        self.assertEqual([('vios1', self.hdisks(info2)[0][1])],
                         self.volume_maps(inst))


class TestISCSI(VolumeTestCase):

    CHAP = {'username': 'chap-user', 'secret': 'chap-s3cret'}

    def test_attach_detach_with_chap(self):
        info = self.volume(protocol='iscsi', chap=self.CHAP)
        inst = self.lpar_instance(running=True)
        self.attach(info, inst)
        self.assertEqual(['vios1', 'vios2'],
                         [m[0] for m in self.volume_maps(inst)])
        self.assertEqual([('vios1', '127.0.0.1:3260'),
                          ('vios2', '127.0.0.1:3260')], self.sessions())
        self.detach(info, inst)
        self.assertEqual([], self.volume_maps())
        self.assertEqual([], self.hdisks(info))
        self.assertEqual([], self.sessions())

    def test_multipath_logs_in_to_every_portal(self):
        self.flags(volume_use_multipath=True, group='powervm')
        info = self.volume(protocol='iscsi')
        inst = self.lpar_instance()
        self.attach(info, inst)
        self.assertEqual(4, len(self.sessions()))
        self.san.resize('vol-1', 2)
        self.drv.extend_volume(self.ctx, info, inst, 2 * GB)
        self.assertEqual([2048, 2048], [h[2] for h in self.hdisks(info)])
        self.detach(info, inst)
        self.assertEqual([], self.sessions())

    def test_chap_failure_names_the_volume(self):
        info = self.volume(protocol='iscsi', chap=self.CHAP)
        info['data']['auth_password'] = 'wrong'
        inst = self.lpar_instance()
        err = self.assertRaises(nova_exc.VolumeAttachFailed, self.attach,
                                info, inst)
        self.assertIn('vol-1', str(err))
        self.assertIn('CHAP authentication failed', str(err))
        self.assertNotIn('wrong', str(err))
        self.assertNotIn('chap-s3cret', str(err))
        self.assertEqual([], self.sessions())
        self.assertEqual([], self.volume_maps())

    def test_tagged_volume_in_device_metadata(self):
        info = self.volume(protocol='iscsi')
        inst = self.lpar_instance()
        inst.device_metadata = None
        self.bdm_records.append(objects.BlockDeviceMapping(
            instance_uuid=inst.uuid, volume_id='vol-1', tag='db-disk',
            source_type='volume', destination_type='volume'))
        self.attach(info, inst)
        self.assertEqual([('vol-1', ['db-disk'])],
                         [(d.serial, d.tags)
                          for d in inst.device_metadata.devices])
        self.detach(info, inst)
        self.assertEqual([], inst.device_metadata.devices)


class TestBootFromVolume(VolumeTestCase):

    def bdi(self, *infos):
        return {'root_device_name': '/dev/sda', 'ephemerals': [],
                'swap': None, 'block_device_mapping': [
                    {'connection_info': info, 'boot_index': idx,
                     'mount_device': '/dev/sd%s' % 'abc'[idx]}
                    for idx, info in enumerate(infos)]}

    def spawn(self, inst, bdi):
        self.drv.spawn(self.ctx, inst, objects.ImageMeta.from_dict({}), [],
                       None, {}, network_info=None, block_device_info=bdi)

    def test_spawn_and_destroy(self):
        boot = self.volume('boot-vol', size=2)
        data = self.volume('data-vol', protocol='iscsi')
        inst = self.instance(
            expected_attrs=['system_metadata', 'info_cache'])
        bdi = self.bdi(boot, data)
        self.spawn(inst, bdi)
        self.assertEqual('running', self.lpar(inst)['state'])
        # No boot disk from the disk driver; both volumes on both VIOSes.
        self.assertEqual([], self.sim.state()['virtual_disks'])
        self.assertEqual(4, len(self.volume_maps(inst)))
        hdisk1 = self.hdisks(boot)[0][1]
        self.assertEqual(hdisk1, self.lpar(inst)['booted_from'])
        self.drv.destroy(self.ctx, inst, None, block_device_info=bdi)
        self.assertIsNone(self.lpar(inst))
        self.assertEqual([], self.volume_maps())
        self.assertEqual([], self.hdisks(boot))
        self.assertEqual([], self.hdisks(data))
        self.assertEqual([], self.sessions())
        # Cinder keeps the volumes.
        self.assertEqual(['boot-vol', 'data-vol'],
                         [x['name'] for x in self.san.luns()])

    def test_destroy_with_a_volume_that_is_gone(self):
        boot = self.volume('boot-vol')
        inst = self.instance(
            expected_attrs=['system_metadata', 'info_cache'])
        gone = self.volume('gone-vol')
        bdi = self.bdi(boot)
        self.spawn(inst, bdi)
        # A volume the driver never saw (no UDID) whose LUN is gone.
        self.san.delete('gone-vol')
        bdi['block_device_mapping'].append(
            {'connection_info': gone, 'boot_index': None,
             'mount_device': '/dev/sdb'})
        self.drv.destroy(self.ctx, inst, None, block_device_info=bdi)
        self.assertIsNone(self.lpar(inst))
        self.assertEqual([], self.volume_maps())
        self.assertEqual([], self.hdisks(boot))

    def test_failed_spawn_leaves_the_volume_attachable(self):
        boot = self.volume('boot-vol')
        inst = self.instance(
            expected_attrs=['system_metadata', 'info_cache'])
        self.sim.add_fault(kind='job_fail', job='PowerOn', count=1)
        self.assertRaises(nova_exc.NovaException, self.spawn, inst,
                          self.bdi(boot))
        self.assertIsNone(self.lpar(inst))
        self.assertEqual([], self.volume_maps())
        self.assertEqual([], self.hdisks(boot))
        other = self.lpar_instance()
        self.attach(boot, other)
        self.assertEqual(2, len(self.volume_maps(other)))


class TestNPIV(VolumeTestCase):

    def setUp(self):
        super().setUp()
        ports = {v.name: v.fc_wwpns for v in vscsi.vioses(self.drv._ctx)}
        self.flags(fc_attach_strategy='npiv', fabrics=['A', 'B'],
                   group='powervm')
        pvm_conf.register_fabric_opts()
        self.flags(fabric_A_port_wwpns=[ports['vios1'][0],
                                        ports['vios2'][0]],
                   fabric_B_port_wwpns=[ports['vios1'][1],
                                        ports['vios2'][1]],
                   group='powervm')
        pvm_conf.validate()

    def fc_maps(self, inst=None):
        uuid = vm.get_pvm_uuid(inst).upper() if inst else None
        return sorted(
            (vios['name'], m['port'], tuple(m['wwpns']))
            for vios in self.sim.state()['vioses']
            for m in vios['fc_mappings']
            if uuid is None or (m['lpar_uuid'] or '').upper() == uuid)

    def npiv_volume(self, inst, name='vol-1'):
        connector = self.drv.get_volume_connector(inst)
        self.san.create_lun(name, 1)
        doc = self.san.export(name, connector['wwpns'])
        info = sim_san.connection_info(doc, connector, 'fibre_channel')
        info['serial'] = name
        return info

    def instance(self, *args, **kwargs):
        inst = super().instance(*args, **kwargs)
        if not inst.obj_attr_is_set('system_metadata'):
            inst.system_metadata = {}
        return inst

    def test_wwpns_allocated_once_and_kept_in_nova(self):
        # Before the partition exists (boot from an NPIV volume).
        inst = self.instance()
        props = self.drv.get_volume_connector(inst)
        # A pair of virtual WWPNs per fabric.
        self.assertEqual(4, len(props['wwpns']))
        self.assertEqual([], self.fc_maps())
        stored = jsonutils.loads(inst.system_metadata[npiv.SYSMETA_KEY])
        self.assertEqual(['A', 'B'], sorted(stored))
        self.assertEqual(sorted(props['wwpns']),
                         sorted(w for ws in stored.values() for w in ws))
        # Not the physical ports.
        physical = {w for v in vscsi.vioses(self.drv._ctx)
                    for w in v.fc_wwpns}
        self.assertEqual(set(), physical & set(props['wwpns']))
        # Read back from the system metadata the next time.
        again, calls = self.count_rest(self.drv.get_volume_connector, inst)
        self.assertEqual(props, again)
        self.assertEqual(0, calls)

    def test_adapters_get_the_allocated_wwpns(self):
        inst = self.lpar_instance(running=True)
        props = self.drv.get_volume_connector(inst)
        self.assertEqual([], self.fc_maps())
        self.attach(self.npiv_volume(inst), inst)
        maps = self.fc_maps(inst)
        self.assertEqual(2, len(maps))
        self.assertEqual(sorted(props['wwpns']),
                         sorted(w for m in maps for w in m[2]))

    def test_adapters_of_an_older_partition_are_adopted(self):
        inst = self.lpar_instance(running=True)
        wwpns, made = npiv.ensure_adapters(self.drv._ctx, inst)
        self.assertTrue(made)
        inst.system_metadata = {}
        props = self.drv.get_volume_connector(inst)
        self.assertEqual(sorted(w for ws in wwpns.values() for w in ws),
                         props['wwpns'])

    def test_attach_detach_budget_and_last_detach(self):
        inst = self.lpar_instance(running=True)
        info1 = self.npiv_volume(inst, 'vol-1')
        info2 = self.npiv_volume(inst, 'vol-2')
        time.sleep(10 * self.EVENT_DELAY)
        _r, calls = self.count_rest(self.attach, info1, inst)
        self.assertLessEqual(calls, 4)
        self.attach(info2, inst)
        # No hdisk, no vSCSI mapping: the partition's OS sees the LUN.
        self.assertEqual([], self.volume_maps())
        self.assertEqual([], self.sim.state()['physical_volumes'])
        maps = self.fc_maps(inst)
        self.bdm_records.append(objects.BlockDeviceMapping(
            instance_uuid=inst.uuid, volume_id='vol-2',
            source_type='volume', destination_type='volume',
            connection_info=jsonutils.dumps(info2)))
        self.detach(info1, inst)
        self.assertEqual(maps, self.fc_maps(inst))
        self.bdm_records[:] = []
        self.detach(info2, inst)
        self.assertEqual([], self.fc_maps())

    def test_fabric_without_matching_ports(self):
        self.flags(fabric_B_port_wwpns=['c0ffee0000000001'],
                   group='powervm')
        inst = self.lpar_instance()
        err = self.assertRaises(nova_exc.VolumeAttachFailed,
                                self.drv.get_volume_connector, inst)
        self.assertIn('fabric B', str(err))
        self.assertIn('c0ffee0000000001', str(err))
        self.assertEqual([], self.fc_maps())

    def test_attach_refuses_a_lun_exported_elsewhere(self):
        inst = self.lpar_instance()
        self.drv.get_volume_connector(inst)
        doc = self.san.create_lun('vol-1', 1)
        info = sim_san.connection_info(doc, {'wwpns': ['21000024ff649104']},
                                       'fibre_channel')
        err = self.assertRaises(nova_exc.VolumeAttachFailed, self.attach,
                                info, inst)
        self.assertIn('vol-1', str(err))
        self.assertIn('21000024ff649104', str(err))
        # The adapters that attach made are gone again.
        self.assertEqual([], self.fc_maps())
