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
"""Moves of servers with NPIV volumes, through nova's API, two computes.

``fc_attach_strategy = npiv``: the server's virtual WWPNs are allocated
once and kept in nova's database.  A cold move (migrate, resize to
another host, evacuate) removes the partition's virtual FC mappings on
the source and makes them on the destination with the same WWPNs, on the
destination's own ports of each fabric; a live migration carries them,
placed by the job's ``VirtualFCMappings`` from the destination's
published fabric ports.  The SAN keeps exporting the LUN to those WWPNs
throughout (the Cinder fixture ends exports as the sandbox's Cinder
driver does).  After each step: the mappings on the server's host only,
none on the other, nothing left after delete.
"""

import time

from nova import context as nova_context
from nova import objects
from oslo_serialization import jsonutils

from nova_powervm import conf as pvm_conf
from nova_powervm.simulator.resources import npiv as sim_npiv
from nova_powervm.simulator import xmlutil as xu
from nova_powervm.tests.functional import base
from nova_powervm.tests.functional import test_live_migration_volumes as lmv
from nova_powervm.virt.powervm import lpm_npiv
from nova_powervm.virt.powervm.volume import npiv
from nova_powervm.virt.powervm.volume import vscsi


class NPIVMoveTestCase(lmv.LiveMigrationVolumesTestCase):
    """Two fabrics, A (port fcs0 of each VIOS) and B (fcs1)."""

    def setUp(self):
        super().setUp()
        self.fabrics = {'A': [], 'B': []}
        #: ``{host: {port WWPN: (vios name, port name)}}``.
        self.ports = {}
        self.cinder.unexport = True

    def start(self, *hosts):
        super().start(*hosts)
        for host in hosts:
            ctx = self.computes[host].driver._host_ctx()
            facts = vscsi.vioses(ctx)
            wwpns = sorted(w for v in facts for w in v.fc_wwpns)
            self.fabrics['A'] += [wwpns[0], wwpns[2]]
            self.fabrics['B'] += [wwpns[1], wwpns[3]]
            self.ports[host] = {}
            for vios in self.simulators[host].sim.store.all(
                    'VirtualIOServer'):
                for port in sim_npiv.physical_ports(vios.elem):
                    self.ports[host][xu.text(port, 'WWPN').lower()] = (
                        xu.text(vios.elem, 'PartitionName'),
                        xu.text(port, 'PortName'))
        self.configure()

    def configure(self, fabric_b=None):
        """The fabrics' ports; every compute publishes its facts again."""
        self.flags(fc_attach_strategy='npiv', fabrics=['A', 'B'],
                   group='powervm')
        pvm_conf.register_fabric_opts()
        self.flags(fabric_A_port_wwpns=self.fabrics['A'],
                   fabric_B_port_wwpns=(self.fabrics['B'] if fabric_b is None
                                        else fabric_b), group='powervm')
        ctx = nova_context.get_admin_context()
        for compute in self.computes.values():
            compute.manager.update_available_resource(ctx)

    def stored(self, server):
        inst = objects.Instance.get_by_uuid(
            nova_context.get_admin_context(), server['id'],
            expected_attrs=['system_metadata'])
        raw = inst.system_metadata.get(npiv.SYSMETA_KEY)
        return jsonutils.loads(raw) if raw else {}

    def fc_maps(self, host, server=None):
        """``[(vios, port, wwpns)]`` of a host (of one server's LPAR)."""
        lpar = self.lpar_of(host, server) if server else None
        if server and lpar is None:
            return []
        return sorted(
            (vios['name'], m['port'], tuple(sorted(m['wwpns'])))
            for vios in self.simulators[host].state()['vioses']
            for m in vios['fc_mappings']
            if lpar is None or (m['lpar_uuid'] or '').upper() ==
            lpar['uuid'].upper())

    def assert_npiv_on(self, host, server, vols):
        """The server's adapters on the host: stored WWPNs, its ports.

        One mapping per fabric, backed by a port of the fabric on this
        host; the SAN exports each volume to the WWPNs.
        """
        stored = self.stored(server)
        self.assertEqual(['A', 'B'], sorted(stored))
        maps = self.fc_maps(host, server)
        self.assertEqual(2, len(maps), maps)
        self.assertEqual(sorted(w for ws in stored.values() for w in ws),
                         sorted(w for m in maps for w in m[2]))
        by_name = dict((v, w) for w, v in self.ports[host].items())
        for vios, port, wwpns in maps:
            fabric = [f for f, ws in stored.items()
                      if sorted(ws) == list(wwpns)][0]
            self.assertIn(by_name[(vios, port)], self.fabrics[fabric])
        for vol in vols:
            self.assertEqual(
                sorted(w for ws in stored.values() for w in ws),
                sorted(self.san.lun(vol)['initiators']))
        # Nothing through the VIOSes' own ports (no vSCSI hdisk).
        self.assertEqual([], self.volume_maps(host))
        self.assertEqual(([], []), self.devices(host))

    def assert_no_npiv(self, host):
        self.assertEqual([], self.fc_maps(host))
        self.assert_gone(host)

    @staticmethod
    def set_available(sim, count):
        """Set the free NPIV ports of each physical FC port of a host."""
        for vios in sim.store.all('VirtualIOServer'):
            for port in sim_npiv.physical_ports(vios.elem):
                xu.set_text(port, 'AvailablePorts', count)
            sim.store.touch(vios)

    def other(self, host):
        return 'host2' if host == 'host1' else 'host1'

    def moved_away(self, server, source):
        deadline = time.monotonic() + base.WAIT
        while self.api.get_server(server['id'])[
                'OS-EXT-SRV-ATTR:host'] == source:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        return self.wait_for(server, 'ACTIVE')


class TestColdMoves(NPIVMoveTestCase):
    """Boot-from-volume servers on localdisk hosts."""

    def test_cold_migrate_confirm_with_budget(self):
        self.start('host1', 'host2')
        server, vol = self.boot_from_volume(self.small)
        source = server['OS-EXT-SRV-ATTR:host']
        dest = self.other(source)
        self.assert_npiv_on(source, server, [vol])
        before = {h: self.rest_total(h) for h in ('host1', 'host2')}
        server, _src, _dst = self.migrate(server)
        rest = (self.rest_total(source) - before[source],
                self.rest_total(dest) - before[dest])
        self.assertEqual(dest, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual((512, 1, 'running'), self.size(dest, server))
        self.assert_npiv_on(dest, server, [vol])
        # The source keeps its stopped partition, without adapters.
        self.assertEqual('not activated', self.size(source, server)[2])
        self.assert_no_npiv(source)
        # Budgets (devref/flows.rst), measured (5, 14): the source stops
        # the partition and removes its adapters (GET of the VIOSes, POST
        # of each VIOS with one); the destination makes the partition
        # and the adapters with the stored WWPNs (no GetNextWWPNs job, no
        # discovery job: the partition's own ports see the LUN).  A
        # loaded machine may add a retried VIOS update (GET + POST).
        self.assertLessEqual(rest[0], 5 + 2, rest)
        self.assertLessEqual(rest[1], 14 + 2, rest)
        server = self.action(server, {'confirmResize': None}, 'ACTIVE')
        self.assertIsNone(self.lpar_of(source, server))
        self.assert_no_npiv(source)
        self.assert_npiv_on(dest, server, [vol])
        self.wait_usage(source, (0, 0))
        self.wait_usage(dest, (1, 512))
        self.finish(server, 'host1', 'host2')

    def test_resize_to_another_host_then_revert_two_volumes(self):
        self.start('host1', 'host2')
        server, boot = self.boot_from_volume(self.small)
        data = self.cinder.add(size=1)
        self.attach(server, data)
        source = server['OS-EXT-SRV-ATTR:host']
        wwpns = self.stored(server)
        self.assert_npiv_on(source, server, [boot, data])
        self.flags(allow_resize_to_same_host=False)
        server = self.resize(server, self.big)
        dest = server['OS-EXT-SRV-ATTR:host']
        self.assertNotEqual(source, dest)
        self.assertEqual((1024, 2, 'running'), self.size(dest, server))
        # Both volumes left the source: the adapters went with them.
        self.assert_npiv_on(dest, server, [boot, data])
        self.assert_no_npiv(source)
        server = self.action(server, {'revertResize': None}, 'ACTIVE')
        self.assertEqual(source, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual((512, 1, 'running'), self.size(source, server))
        self.assert_npiv_on(source, server, [boot, data])
        self.assertEqual(wwpns, self.stored(server))
        self.assertIsNone(self.lpar_of(dest, server))
        self.assert_no_npiv(dest)
        self.wait_usage(dest, (0, 0))
        self.wait_usage(source, (1, 512))
        # The data volume detaches on its host; the boot volume keeps
        # the adapters.
        self.flags(host=source)
        self.detach(server, data)
        self.assert_npiv_on(source, server, [boot])
        self.finish(server, 'host1', 'host2')

    def test_evacuate_then_the_old_host_comes_back(self):
        self.start('host1', 'host2')
        server, vol = self.boot_from_volume(self.small)
        source = server['OS-EXT-SRV-ATTR:host']
        dest = self.other(source)
        stale = self.fc_maps(source, server)
        self.computes[source].stop()
        self.api.put_service_force_down(
            self.api.get_services(binary='nova-compute',
                                  host=source)[0]['id'], True)
        self.api.post_server_action(server['id'], {'evacuate': {}})
        server = self.moved_away(server, source)
        self.assertEqual(dest, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('running', self.size(dest, server)[2])
        self.assert_npiv_on(dest, server, [vol])
        # The old host is down: its mappings are still there.
        self.assertEqual(stale, self.fc_maps(source))
        # It comes back: nova destroys the partition left there; its
        # virtual FC mappings go, the LUN stays exported to the WWPNs
        # the server uses on the new host.
        self.restart_evacuated(source)
        self.assertIsNone(self.lpar_of(source, server))
        self.assert_no_npiv(source)
        self.assert_npiv_on(dest, server, [vol])
        self.finish(server, source, dest)

    def test_faults_at_the_adapters_leave_nothing_behind(self):
        self.start('host1', 'host2')
        server, vol = self.boot_from_volume(self.small)
        source = server['OS-EXT-SRV-ATTR:host']
        dest = self.other(source)
        maps = self.fc_maps(source, server)
        # The source cannot remove the adapters: they stay, the server
        # runs on its source again.
        self.simulators[source].add_fault(
            count=1, method='POST', path='VirtualIOServer/[^/]+$')
        self.api.post_server_action(server['id'], {'migrate': None})
        server = self.wait_for(server, 'ACTIVE')
        self.simulators[source].clear_faults()
        self.assertEqual(source, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('running', self.size(source, server)[2])
        self.assertEqual(maps, self.fc_maps(source, server))
        self.assert_npiv_on(source, server, [vol])
        self.assertEqual([], self.lpars(dest))
        self.assert_no_npiv(dest)
        self.wait_usage(dest, (0, 0))
        # The destination cannot make them: nova marks the server ERROR
        # there, which keeps nothing of it (no adapter on either host);
        # deleted, both hosts end clean and the WWPNs were never lost.
        wwpns = self.stored(server)
        self.simulators[dest].add_fault(
            count=1, method='POST', path='VirtualIOServer/[^/]+$')
        self.api.post_server_action(server['id'], {'migrate': None})
        server = self.wait_for(server, 'ERROR')
        self.simulators[dest].clear_faults()
        self.assertEqual(wwpns, self.stored(server))
        self.assertEqual([], self.lpars(dest))
        self.assert_no_npiv(dest)
        self.assert_no_npiv(source)
        self.delete(server)
        self.computes[source].manager._cleanup_running_deleted_instances(
            nova_context.get_admin_context())
        for host in ('host1', 'host2'):
            self.assert_no_npiv(host)
            self.assert_no_usage(host)
            self.assert_sim_empty(host)


class TestLiveMigration(NPIVMoveTestCase):

    def test_live_migrate_with_budget_then_back(self):
        self.start('host1', 'host2')
        server, vol = self.boot_from_volume(self.small)
        source = server['OS-EXT-SRV-ATTR:host']
        dest = self.other(source)
        self.assert_npiv_on(source, server, [vol])
        # The destination's facts: its NPIV ports of each fabric.
        stats = objects.ComputeNode.get_by_host_and_nodename(
            nova_context.get_admin_context(), dest,
            self.computes[dest].manager._get_nodename(None)).stats
        facts = lpm_npiv.dest_fabrics(stats)
        self.assertEqual(
            sorted(self.ports[dest][w] for w in self.fabrics['A']
                   if w in self.ports[dest]),
            sorted((v, p) for v, _i, p in facts['A']))
        self.flags(lpm_progress_interval=30, group='powervm')
        before = self.rest_total(source)
        self.live_migrate(server)
        self.wait_migration(server, 'completed')
        server = self.moved_away(server, source)
        self.assertEqual(dest, server['OS-EXT-SRV-ATTR:host'])
        self.assertIsNone(self.lpar_of(source, server))
        self.assert_npiv_on(dest, server, [vol])
        self.assert_no_npiv(source)
        self.assertEqual([dest], self.attachment_hosts(vol))
        self.wait_usage(source, (0, 0))
        self.wait_usage(dest, (1, 512))
        # Source side (devref/flows.rst): the SSP server's 10 plus the
        # job's polls, plus 1 GET of the VIOSes (the client adapters'
        # slots and fabrics).  Measured: 9.
        stats = self.simulators[source].stats()['by_pattern']
        polls = sum(c for p, c in stats.items()
                    if p == 'GET /rest/api/uom/jobs/{id}')
        self.assertLessEqual(self.rest_total(source) - before - polls,
                             10 + 1)
        # And back: the adapters follow.
        self.flags(lpm_progress_interval=0.1, group='powervm')
        self.live_migrate(server)
        server = self.moved_away(server, dest)
        self.assertEqual(source, server['OS-EXT-SRV-ATTR:host'])
        self.assert_npiv_on(source, server, [vol])
        self.assert_no_npiv(dest)
        self.finish(server, 'host1', 'host2')

    def test_missing_fabric_and_refusing_destination_roll_back(self):
        self.start('host1', 'host2')
        server, vol = self.boot_from_volume(self.small)
        source = server['OS-EXT-SRV-ATTR:host']
        dest = self.other(source)
        maps = self.fc_maps(source, server)
        # Fabric B only reaches the source: the destination's check
        # refuses before anything changes.
        self.configure(fabric_b=[w for w in self.fabrics['B']
                                 if w in self.ports[source]])
        self.live_migrate(server)
        self.wait_migration(server, 'error')
        server = self.wait_for(server, 'ACTIVE')
        self.assertEqual(source, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(maps, self.fc_maps(source, server))
        self.assertEqual([], self.lpars(dest))
        self.assert_no_npiv(dest)
        self.configure()
        # The destination's ports fill up after its check (another
        # partition took them): its NovaLink refuses the job's placement
        # (HSCLA2F6); the server runs on its source with its adapters,
        # nothing on the destination.
        sim = self.simulators[dest].sim
        driver = self.computes[dest].driver
        pre = driver.pre_live_migration

        def ports_taken(*args, **kwargs):
            self.set_available(sim, 0)
            return pre(*args, **kwargs)
        driver.pre_live_migration = ports_taken
        self.addCleanup(vars(driver).pop, 'pre_live_migration', None)
        self.live_migrate(server)
        self.wait_migration(server, 'failed')
        del driver.pre_live_migration
        server = self.wait_for(server, 'ACTIVE')
        self.assertEqual(source, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('running', self.size(source, server)[2])
        self.assertEqual(maps, self.fc_maps(source, server))
        self.assert_npiv_on(source, server, [vol])
        self.assertEqual([], self.lpars(dest))
        self.assert_no_npiv(dest)
        self.assertEqual([source], self.attachment_hosts(vol))
        self.wait_usage(dest, (0, 0))
        # The ports are free again: nothing stuck, it moves.
        self.set_available(sim, 64)
        self.live_migrate(server)
        self.wait_migration(server, 'completed')
        server = self.moved_away(server, source)
        self.assert_npiv_on(dest, server, [vol])
        self.assert_no_npiv(source)
        self.finish(server, 'host1', 'host2')


class TestSharedStoragePoolLiveMigration(base.SharedStoragePool,
                                         NPIVMoveTestCase):
    """An SSP server with an NPIV data volume: LU and adapters move."""

    def test_live_migrate_then_cold_migrate_back(self):
        self.start('host1')
        server = self.boot(flavor_id=self.small)
        vol = self.cinder.add(size=1)
        self.attach(server, vol)
        self.start('host2')
        self.assert_npiv_on('host1', server, [vol])
        self.live_migrate(server)
        self.wait_migration(server, 'completed')
        server = self.moved_away(server, 'host1')
        self.assert_npiv_on('host2', server, [vol])
        self.assert_no_npiv('host1')
        self.assertEqual([], self.boot_disks('host1'))
        server, _s, _d = self.migrate(server)
        self.assertEqual('host1', server['OS-EXT-SRV-ATTR:host'])
        self.assert_npiv_on('host1', server, [vol])
        self.assert_no_npiv('host2')
        server = self.action(server, {'confirmResize': None}, 'ACTIVE')
        self.assertIsNone(self.lpar_of('host2', server))
        self.finish(server, 'host1', 'host2')
