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
"""LPAR create/update/delete, quick properties and power jobs."""

from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import memory
from pypowervm.tasks import power
from pypowervm.tasks import vterm
from pypowervm.wrappers import base_partition as pvm_bp
from pypowervm.wrappers import logical_partition as pvm_lpar

from nova_powervm.tests.unit.simulator import base


class TestLPAR(base.SimTestCase):

    def test_create_fills_server_fields(self):
        lpar = self.make_lpar(uuid='1c3e4d5a-0000-4000-8000-00000000abcd')
        self.assertEqual('1C3E4D5A-0000-4000-8000-00000000ABCD', lpar.uuid)
        self.assertEqual('not activated', lpar.state)
        self.assertGreater(lpar.id, 3)
        self.assertFalse(lpar.is_mgmt_partition)
        self.assertTrue(lpar.capabilities.io_dlpar)
        got = self.lpar_state(lpar.uuid)
        self.assertEqual({'name': 'inst-1', 'vcpus': 2, 'proc_units': 0.2,
                          'memory_mb': 2048, 'state': 'not activated',
                          'type': 'AIX/Linux'},
                         {k: got[k] for k in ('name', 'vcpus', 'proc_units',
                                              'memory_mb', 'state', 'type')})

    def test_partitions_added_out_of_band(self):
        specs = [('oob-1', '2c3e4d5a-0000-4000-8000-000000000001', 'running'),
                 ('oob-2', '2C3E4D5A-0000-4000-8000-000000000002',
                  'not activated')]
        uuids = self.fx.add_lpars(specs)
        self.assertEqual([u.upper() for _n, u, _s in specs], uuids)
        got = {lpar['name']: (lpar['uuid'], lpar['state'])
               for lpar in self.fx.state()['lpars']}
        self.assertEqual({'oob-1': (uuids[0], 'running'),
                          'oob-2': (uuids[1], 'not activated')}, got)
        wraps = [pvm_lpar.LPAR.get(self.adpt, uuid=uuid) for uuid in uuids]
        self.assertEqual(['running', 'not activated'],
                         [w.state for w in wraps])
        self.assertEqual(2, len({w.id for w in wraps} - {1, 2, 3}))

    def test_get_by_root_and_child_path_and_search(self):
        lpar = self.make_lpar()
        root = pvm_lpar.LPAR.get(self.adpt, uuid=lpar.uuid.lower())
        self.assertEqual(lpar.uuid, root.uuid)
        host = self.host()
        child = pvm_lpar.LPAR.get(self.adpt, parent=host)
        self.assertIn(lpar.uuid, [w.uuid for w in child])
        found = pvm_lpar.LPAR.search(self.adpt, name='inst-1')
        self.assertEqual([lpar.uuid], [w.uuid for w in found])
        self.assertEqual([], pvm_lpar.LPAR.search(self.adpt, name='nope'))

    def test_quick_properties_and_404(self):
        lpar = self.make_lpar()
        resp = self.adpt.read(pvm_lpar.LPAR.schema_type, root_id=lpar.uuid,
                              suffix_type='quick', suffix_parm='PartitionID')
        self.assertEqual(str(lpar.id), resp.body)
        self.assertRaises(pvm_exc.HttpNotFound, self.adpt.read,
                          pvm_lpar.LPAR.schema_type,
                          root_id='7' + lpar.uuid[1:-1] + '0'
                          if lpar.uuid[-1] != '0' else lpar.uuid[:-1] + '1',
                          suffix_type='quick', suffix_parm='PartitionState')

    def test_update_with_etag_and_412(self):
        lpar = self.make_lpar()
        stale = pvm_lpar.LPAR.get(self.adpt, uuid=lpar.uuid)
        lpar.mem_config.desired = 4096
        lpar = lpar.update()
        self.assertEqual(4096, self.lpar_state(lpar.uuid)['memory_mb'])
        stale.name = 'other'
        exc = self.assertRaises(pvm_exc.HttpError, stale.update)
        self.assertEqual(412, exc.response.status)
        self.assertEqual('inst-1', self.lpar_state(lpar.uuid)['name'])

    def test_power_on_off_restart(self):
        lpar = self.make_lpar()
        power.power_on(lpar, None)
        self.assertEqual('running', self.lpar_state(lpar.uuid)['state'])
        self.assertEqual('active', self.lpar_state(lpar.uuid)['rmc_state'])
        lpar = lpar.refresh()
        power.power_off(lpar, None, force_immediate=power.Force.TRUE,
                        restart=True)
        self.assertEqual('running', self.lpar_state(lpar.uuid)['state'])
        power.power_off(lpar.refresh(), None, force_immediate=True)
        self.assertEqual('not activated',
                         self.lpar_state(lpar.uuid)['state'])
        # Already off: pypowervm treats the failure code as success.
        power.power_off(lpar.refresh(), None, force_immediate=True)

    def test_nvram_group_and_event(self):
        lpar = self.make_lpar()
        self.assertIsNone(lpar.nvram)
        power.power_on(lpar, None)
        with_nvram = pvm_lpar.LPAR.get(self.adpt, uuid=lpar.uuid,
                                       xag=['NVRAM'])
        self.assertTrue(with_nvram.nvram)
        plain = pvm_lpar.LPAR.get(self.adpt, uuid=lpar.uuid)
        self.assertIsNone(plain.nvram)

    def test_reserved_memory_job(self):
        host = self.host()
        overhead, avail = memory.calculate_memory_overhead_on_host(
            self.adpt, host.uuid, {'max_mem': 65536})
        self.assertEqual(1024, overhead)
        self.assertEqual(host.memory_free, avail)

    def test_close_vterm_job(self):
        lpar = self.make_lpar()
        port = self.sim.vterms.open(lpar.uuid, 'inst-1')
        self.assertTrue(port)
        vterm._close_vterm_non_local(self.adpt, lpar.uuid)
        self.assertFalse(self.sim.vterms.close(lpar.uuid))

    def test_job_failure_injection(self):
        lpar = self.make_lpar()
        self.fx.add_fault(kind='job_fail', job='PowerOn',
                          message='HSCL9999 boom')
        self.assertRaises(pvm_exc.VMPowerOnFailure, power.power_on, lpar,
                          None)
        self.assertEqual('not activated',
                         self.lpar_state(lpar.uuid)['state'])

    def test_delete(self):
        lpar = self.make_lpar()
        power.power_on(lpar, None)
        exc = self.assertRaises(pvm_exc.HttpError, lpar.refresh().delete)
        self.assertEqual(409, exc.response.status)
        power.power_off(lpar.refresh(), None, force_immediate=True)
        lpar.refresh().delete()
        self.assertIsNone(self.lpar_state(lpar.uuid))
        self.assertRaises(pvm_exc.HttpNotFound, pvm_lpar.LPAR.get,
                          self.adpt, uuid=lpar.uuid)

    def test_host_accounting(self):
        before = self.host().memory_free
        self.make_lpar(mem=4096)
        self.assertEqual(before - 4096, self.host().memory_free)
        self.assertEqual(pvm_bp.LPARState.RUNNING,
                         pvm_lpar.LPAR.search(
                             self.adpt, is_mgmt_partition=True)[0].state)
