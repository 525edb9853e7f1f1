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
"""OVS and SR-IOV vNIC VIFs on the simulator (trunks, OVS ports, vNICs)."""

import logging

from nova import exception as nova_exc
from pypowervm.wrappers import logical_partition as pvm_lpar

from nova_powervm.simulator import builders
from nova_powervm.simulator import inventory as sim_inv
from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.tests.unit.virt.powervm import test_driver
from nova_powervm.virt.powervm import flows
from nova_powervm.virt.powervm.tasks import network as tf_net
from nova_powervm.virt.powervm import vif as pvm_vif
from nova_powervm.virt.powervm import vm

MAC2 = 'fa:16:3e:00:00:02'


def vif_log(test):
    """``assertLogs`` of ``vif.py`` at INFO, whatever earlier tests did.

    A test that configured logging before (in the same worker) may have
    disabled existing loggers or all logging below some level.
    """
    logger = logging.getLogger('nova_powervm.virt.powervm.vif')
    test.addCleanup(setattr, logger, 'disabled', logger.disabled)
    logger.disabled = False
    level = logging.root.manager.disable
    test.addCleanup(logging.disable, level)
    logging.disable(logging.NOTSET)
    return test.assertLogs(logger, 'INFO')


class VifTypesTestCase(flowbase.FlowTestCase):

    def setUp(self):
        super().setUp()
        self.inst = self.instance()
        self.lpar_w = vm.create_lpar(self.adapter, self.host_wrapper(),
                                     self.inst)

    def vif(self, nwi):
        return pvm_vif.get_vif(self.adapter, self.hctx.cache, nwi[0],
                               ctx=self.hctx, instance=self.inst)

    def state(self):
        return self.sim.state()

    def client_cnas(self):
        return sorted((c['mac'], c['vlan'], c['vswitch'])
                      for c in self.state()['cnas']
                      if c['lpar_uuid'] == self.lpar_w.uuid)

    def trunks(self):
        return sorted((c['vlan'], c['vswitch'])
                      for c in self.state()['cnas'] if c['trunk'])

    def ovs_ports(self):
        return self.state()['ovs_ports']

    def vnics(self):
        return [(v['mac'], v['vlan'], v['backing'])
                for v in self.state()['vnics']]

    def assert_no_network_leftovers(self):
        self.assertEqual([], self.client_cnas())
        self.assertEqual([], self.trunks())
        self.assertEqual([], self.ovs_ports())
        self.assertEqual([], self.vnics())

    def set_running(self, rmc='active'):
        self.sim_admin('POST', 'lpar/%s/state' % self.lpar_w.uuid,
                       {'state': 'running', 'rmc_state': rmc})
        return vm.get_instance_wrapper(self.adapter, self.inst)

    def sim_admin(self, method, path, body=None):
        import requests
        resp = requests.request(method, self.sim_url('/sim/' + path),
                                json=body, timeout=10)
        resp.raise_for_status()
        return resp.json()


class TestOvsVif(VifTypesTestCase):

    def test_plug_makes_cna_trunk_and_port(self):
        made, calls = self.count_rest(
            self.vif(builders.ovs_network_info(vlan=321, mtu=1450)).plug,
            self.lpar_w, [])
        client, trunk, port = made
        # GET trunks, GET switches (first use), PUT CNA, GET the NovaLink
        # partition (pypowervm's slot choice), PUT trunk.
        self.assertEqual(5, calls)
        self.assertEqual([('FA163E000001', 2, 'NovaLinkVEABridge')],
                         self.client_cnas())
        self.assertEqual([(2, 'NovaLinkVEABridge')], self.trunks())
        self.assertEqual(client.pvid, trunk.pvid)
        self.assertEqual(1450, trunk.configured_mtu)
        [ovs] = self.ovs_ports()
        self.assertEqual(port, ovs['name'])
        self.assertEqual(trunk.dev_name, ovs['name'])
        self.assertEqual(('br-int', 1450, 321),
                         (ovs['bridge'], ovs['mtu'], ovs['tag']))
        self.assertEqual({'iface-id', 'iface-status', 'attached-mac',
                          'vm-uuid'}, set(ovs['external_ids']))
        self.assertEqual(self.inst.uuid, ovs['external_ids']['vm-uuid'])
        self.assertEqual('fa:16:3e:00:00:01',
                         ovs['external_ids']['attached-mac'])

    def test_pairs_get_distinct_pvids(self):
        self.vif(builders.ovs_network_info()).plug(self.lpar_w, [])
        self.vif(builders.ovs_network_info(mac=MAC2)).plug(self.lpar_w, [])
        self.assertEqual([2, 3], [v for v, _s in self.trunks()])
        self.assertEqual(2, len(self.ovs_ports()))

    def test_existing_mac_does_nothing(self):
        vif = self.vif(builders.ovs_network_info())
        vif.plug(self.lpar_w, [])
        cnas = pvm_vif.get_cnas(self.adapter, self.lpar_w.uuid)
        res, calls = self.count_rest(vif.plug, self.lpar_w, cnas)
        self.assertIsNone(res)
        self.assertEqual(0, calls)

    def test_unplug_removes_everything(self):
        nwi = builders.ovs_network_info()
        self.vif(nwi).plug(self.lpar_w, [])
        cnas = pvm_vif.get_cnas(self.adapter, self.lpar_w.uuid)
        self.assertIsNotNone(self.vif(nwi).unplug(cnas, self.lpar_w.uuid))
        self.assert_no_network_leftovers()
        # Gone already: nothing to do, no error.
        self.assertIsNone(self.vif(nwi).unplug([], self.lpar_w.uuid))

    def test_failed_trunk_removes_the_cna(self):
        self.sim.add_fault(method='PUT', status=500,
                           path='/LogicalPartition/%s/ClientNetworkAdapter'
                           % self.hctx.mgmt_uuid)
        task = tf_net.PlugVifs(self.hctx, self.inst,
                               builders.ovs_network_info(), wait=False)
        error = self.assertRaises(nova_exc.VirtualInterfacePlugException,
                                  task.execute, self.lpar_w)
        self.assertIn('500', error.format_message())
        self.assert_no_network_leftovers()

    def test_failed_ovs_port_removes_trunk_and_cna(self):
        self.sim.add_fault(method='POST', path='/sim/host/ovs$', status=500,
                           message='ovs-vsctl: database connection failed')
        error = self.assertRaises(
            nova_exc.VirtualInterfacePlugException,
            self.vif(builders.ovs_network_info()).plug, self.lpar_w, [])
        self.assertIn('database connection failed', error.format_message())
        self.assert_no_network_leftovers()

    def test_missing_ovs_switch_is_named(self):
        self.flags(ovs_vswitch='NOPE', group='powervm')
        error = self.assertRaises(
            nova_exc.VirtualInterfacePlugException,
            self.vif(builders.ovs_network_info()).plug, self.lpar_w, [])
        self.assertIn('NOPE', error.format_message())
        self.assert_no_network_leftovers()

    def test_destroy_removes_trunks_and_ports(self):
        nwi = builders.ovs_network_info()
        other = self.instance()
        other_w = vm.create_lpar(self.adapter, self.host_wrapper(), other)
        pvm_vif.get_vif(self.adapter, self.hctx.cache,
                        builders.ovs_network_info(mac=MAC2)[0],
                        ctx=self.hctx, instance=other).plug(other_w, [])
        self.vif(nwi).plug(self.lpar_w, [])
        flows.destroy(self.hctx, self.ctx, self.inst, nwi)
        # The other instance's pair (the first one plugged) stays.
        self.assertEqual([(2, 'NovaLinkVEABridge')], self.trunks())
        self.assertEqual([other.uuid], [
            p['external_ids']['vm-uuid'] for p in self.ovs_ports()])

    def test_orphans_removed_at_start(self):
        self.vif(builders.ovs_network_info()).plug(self.lpar_w, [])
        keep = self.instance()
        keep_w = vm.create_lpar(self.adapter, self.host_wrapper(), keep)
        pvm_vif.get_vif(self.adapter, self.hctx.cache,
                        builders.ovs_network_info(mac=MAC2)[0],
                        ctx=self.hctx, instance=keep).plug(keep_w, [])
        # The partition goes behind the driver's back: its trunk stays.
        pvm_lpar.LPAR.get(self.adapter, uuid=self.lpar_w.uuid).delete()
        self.assertEqual(2, len(self.trunks()))
        with vif_log(self) as logs:
            removed = pvm_vif.cleanup_orphans(self.hctx)
        self.assertEqual(1, len(removed))
        self.assertIn(self.inst.uuid, '\n'.join(logs.output))
        self.assertEqual([(3, 'NovaLinkVEABridge')], self.trunks())
        self.assertEqual([keep.uuid], [
            p['external_ids']['vm-uuid'] for p in self.ovs_ports()])
        # Nothing left to do: one GET of the NovaLink partition's adapters
        # and the partition feed.
        removed, calls = self.count_rest(pvm_vif.cleanup_orphans, self.hctx)
        self.assertEqual(([], 2), (removed, calls))

    def test_no_ovs_port_no_scan(self):
        removed, calls = self.count_rest(pvm_vif.cleanup_orphans, self.hctx)
        self.assertEqual(([], 0), (removed, calls))


class TestOvsPlugEvents(VifTypesTestCase):
    """network-vif-plugged is waited for as nova does (the OVS agent)."""

    def test_waits_for_the_event(self):
        nwi = builders.ovs_network_info(active=False)
        task = tf_net.PlugVifs(self.hctx, self.inst, nwi)
        task.execute(self.lpar_w)
        self.assertEqual([([('network-vif-plugged', nwi[0]['id'])], 300)],
                         self.virtapi.waited)
        self.assertEqual(1, len(self.ovs_ports()))

    def test_timeout_is_fatal_and_reverts(self):
        self.virtapi.outcome = 'timeout'
        nwi = builders.ovs_network_info(active=False)
        task = tf_net.PlugVifs(self.hctx, self.inst, nwi)
        self.assertRaises(nova_exc.VirtualInterfaceCreateException,
                          task.execute, self.lpar_w)
        task.revert(self.lpar_w, None, {})
        self.assert_no_network_leftovers()

    def test_timeout_not_fatal_goes_on(self):
        self.flags(vif_plugging_is_fatal=False)
        self.virtapi.outcome = 'timeout'
        nwi = builders.ovs_network_info(active=False)
        made = tf_net.PlugVifs(self.hctx, self.inst, nwi).execute(
            self.lpar_w)
        self.assertEqual(1, len(made))
        self.assertEqual(1, len(self.ovs_ports()))


class TestSriovVif(VifTypesTestCase):

    def ports(self):
        """``{(adapter, port): (logical ports, capacity)}`` of the host."""
        sys_w = self.host_wrapper()
        return {(a.sriov_adap_id, p.port_id): (p.cfg_lps,
                                               p.allocated_capacity)
                for a in sys_w.asio_config.sriov_adapters
                for p in a.phys_ports}

    def test_plug_with_failover(self):
        before = self.ports()
        vnic, calls = self.count_rest(
            self.vif(builders.sriov_network_info(vlan=55)).plug,
            self.lpar_w)
        # GET system, GET VIOS feed, PUT vNIC.
        self.assertEqual(3, calls)
        [(mac, vlan, backing)] = self.vnics()
        self.assertEqual(('FA163E000001', 55), (mac, vlan))
        # [powervm] vnic_required_vfs = 2: two backing devices, on two
        # different link-up physical ports, the first one active.
        self.assertEqual(2, len(backing))
        self.assertEqual(2, len({tuple(b) for b in backing}))
        self.assertEqual([True, False],
                         [b.is_active for b in vnic.back_devs])
        after = self.ports()
        for adp, port in backing:
            self.assertEqual(before[(adp, port)][0] + 1,
                             after[(adp, port)][0])
        vif = self.vif(builders.sriov_network_info(vlan=55))
        self.assertIsNotNone(vif.unplug([], self.lpar_w.uuid))
        self.assert_no_network_leftovers()
        self.assertEqual(before, self.ports())

    def test_profile_overrides_options(self):
        nwi = builders.sriov_network_info(
            profile={'vnic_required_vfs': 1, 'capacity': 0.1})
        vnic = self.vif(nwi).plug(self.lpar_w)
        self.assertEqual(1, len(vnic.back_devs))
        self.assertAlmostEqual(0.1, vnic.back_devs[0].capacity)

    def test_options(self):
        self.flags(vnic_required_vfs=1, vnic_vf_capacity=0.06,
                   group='powervm')
        vnic = self.vif(builders.sriov_network_info()).plug(self.lpar_w)
        self.assertEqual(1, len(vnic.back_devs))
        self.assertAlmostEqual(0.06, vnic.back_devs[0].capacity)

    def test_bad_profile_named(self):
        for profile, text in (({'vnic_required_vfs': 'two'},
                               'vnic_required_vfs'),
                              ({'vnic_required_vfs': 0}, 'at least 1'),
                              ({'capacity': 1.5}, 'capacity'),
                              ({'capacity': 0.5, 'max_capacity': 0.2},
                               'below capacity')):
            error = self.assertRaises(
                nova_exc.VirtualInterfacePlugException,
                self.vif(builders.sriov_network_info(
                    profile=profile)).plug, self.lpar_w)
            self.assertIn(text, error.format_message())
        self.assertEqual([], self.vnics())

    def test_unknown_physnet_named(self):
        error = self.assertRaises(
            nova_exc.VirtualInterfacePlugException,
            self.vif(builders.sriov_network_info(physnet='physnet9')).plug,
            self.lpar_w)
        self.assertIn('physnet9', error.format_message())
        self.assertEqual([], self.vnics())

    def test_not_enough_ports(self):
        # Four link-up ports on the host: five backing devices cannot be.
        nwi = builders.sriov_network_info(profile={'vnic_required_vfs': 5})
        self.assertRaises(nova_exc.NovaException,
                          self.vif(nwi).plug, self.lpar_w)
        self.assertEqual([], self.vnics())

    def test_capacity_runs_out(self):
        nwi = builders.sriov_network_info(
            profile={'vnic_required_vfs': 4, 'capacity': 0.9})
        self.vif(nwi).plug(self.lpar_w)
        nwi = builders.sriov_network_info(
            mac=MAC2, profile={'vnic_required_vfs': 1, 'capacity': 0.5})
        self.assertRaises(nova_exc.NovaException, self.vif(nwi).plug,
                          self.lpar_w)
        self.assertEqual(1, len(self.vnics()))

    def test_hw_veb_direct_is_a_vnic(self):
        nwi = builders.sriov_network_info(vif_type='hw_veb')
        self.assertIsInstance(self.vif(nwi), pvm_vif.SriovVif)
        nwi = builders.sriov_network_info(vif_type='hw_veb',
                                          vnic_type='normal')
        error = self.assertRaises(nova_exc.VirtualInterfacePlugException,
                                  self.vif, nwi)
        self.assertIn('vnic_type direct', error.format_message())
        self.assertIn('vnic_type direct', pvm_vif.unsupported_message(
            nwi[0]))

    def test_existing_mac_does_nothing(self):
        nwi = builders.sriov_network_info()
        self.vif(nwi).plug(self.lpar_w)
        res, calls = self.count_rest(self.vif(nwi).plug, self.lpar_w, [])
        self.assertEqual((None, 1), (res, calls))
        self.assertEqual(1, len(self.vnics()))


class TestPortsByLabel(VifTypesTestCase):

    # Link-up ports: 1/0, 1/2, 2/0, 2/2; physnet2 on adapter 2's only.
    sim_kwargs = {'event_timeout': 0.2, 'inventory': sim_inv.Inventory(
        sriov_label={'2/0': 'physnet2', '2/2': 'physnet2',
                     '2/1': 'physnet2'})}

    def test_backing_ports_carry_the_label(self):
        self.vif(builders.sriov_network_info(physnet='physnet2')).plug(
            self.lpar_w)
        [(_mac, _vlan, backing)] = self.vnics()
        self.assertEqual([[2, 0], [2, 2]], sorted(backing))
        self.vif(builders.sriov_network_info(
            mac=MAC2, physnet='default')).plug(self.lpar_w)
        backing = [v[2] for v in self.vnics() if v[0] == 'FA163E000002']
        self.assertEqual([[1, 0], [1, 2]], sorted(backing[0]))

    def test_too_few_labelled_ports(self):
        nwi = builders.sriov_network_info(
            physnet='physnet2', profile={'vnic_required_vfs': 3})
        error = self.assertRaises(nova_exc.NovaException,
                                  self.vif(nwi).plug, self.lpar_w)
        self.assertIn('3', error.format_message())
        self.assertEqual([], self.vnics())


class TestNoVnicHost(VifTypesTestCase):

    sim_kwargs = {'event_timeout': 0.2,
                  'inventory': sim_inv.Inventory(vnic_capable=False)}

    def test_refused_with_reason(self):
        error = self.assertRaises(
            nova_exc.NovaException,
            self.vif(builders.sriov_network_info()).plug, self.lpar_w)
        self.assertIn('vNIC', error.format_message())
        self.assertEqual([], self.vnics())


class TestPlugTaskReverts(VifTypesTestCase):
    """Every VIF type: a failure after the adapter exists leaves nothing."""

    NWIS = {'pvm_sea': builders.sea_network_info,
            'ovs': builders.ovs_network_info,
            'pvm_sriov': builders.sriov_network_info}

    def test_attach_reverts_when_the_event_fails(self):
        for vif_type, build in sorted(self.NWIS.items()):
            self.sim.add_fault(method='PUT', path='/uom/Event$', status=500)
            flow = flows.build_attach_interface(self.hctx, self.ctx,
                                                self.inst, build()[0])
            self.assertRaises(nova_exc.NovaException, flows.run, flow,
                              store={'lpar_wrap': self.lpar_w})
            self.assert_no_network_leftovers()

    def test_spawn_plug_reverts(self):
        for vif_type, build in sorted(self.NWIS.items()):
            nwi = build()
            nwi.append(builders.sea_network_info(mac=MAC2, vlan=None)[0])
            nwi[1]['details'] = {}
            task = tf_net.PlugVifs(self.hctx, self.inst, nwi, wait=False)
            self.assertRaises(nova_exc.VirtualInterfacePlugException,
                              task.execute, self.lpar_w)
            task.revert(self.lpar_w, None, {})
            self.assert_no_network_leftovers()

    def test_hot_plug_without_rmc_is_refused_clearly(self):
        lpar_w = self.set_running(rmc='inactive')
        for vif_type, build in sorted(self.NWIS.items()):
            task = tf_net.PlugVifs(self.hctx, self.inst, build(),
                                   new_lpar=False, wait=False)
            error = self.assertRaises(
                nova_exc.VirtualInterfacePlugException, task.execute,
                lpar_w)
            self.assertIn('RMC', error.format_message())
            self.assertIn('HSCLA246', error.format_message())
            self.assertIn(vif_type, error.format_message())
            self.assert_no_network_leftovers()

    def test_attach_detach_each_type(self):
        for running in (False, True):
            lpar_w = self.set_running() if running else self.lpar_w
            for vif_type, build in sorted(self.NWIS.items()):
                vif = build()[0]
                flows.run(flows.build_attach_interface(
                    self.hctx, self.ctx, self.inst, vif),
                    store={'lpar_wrap': lpar_w})
                if vif_type == 'pvm_sriov':
                    self.assertEqual(1, len(self.vnics()))
                else:
                    self.assertEqual(1, len(self.client_cnas()))
                flows.run(flows.build_detach_interface(
                    self.hctx, self.ctx, self.inst, vif),
                    store={'lpar_wrap': lpar_w})
                self.assert_no_network_leftovers()


class TestInitHostOrphans(test_driver.DriverTestCase):
    """``init_host`` removes the trunks and OVS ports of vanished LPARs."""

    def test_orphans_removed_at_start(self):
        self.flags(host_shim='simulator', group='powervm')
        self.drv.init_host('compute1')
        ctx = self.drv._ctx
        inst = self.instance()
        lpar_w = vm.create_lpar(self.adapter, self.host_wrapper(), inst)
        pvm_vif.get_vif(self.adapter, ctx.cache,
                        builders.ovs_network_info()[0], ctx=ctx,
                        instance=inst).plug(lpar_w, [])
        pvm_lpar.LPAR.get(self.adapter, uuid=lpar_w.uuid).delete()
        state = self.sim.state()
        self.assertEqual(1, len([c for c in state['cnas'] if c['trunk']]))
        self.assertEqual(1, len(state['ovs_ports']))
        with vif_log(self) as logs:
            self.drv.init_host('compute1')
        self.assertIn(inst.uuid, '\n'.join(logs.output))
        state = self.sim.state()
        self.assertEqual([], [c for c in state['cnas'] if c['trunk']])
        self.assertEqual([], state['ovs_ports'])
