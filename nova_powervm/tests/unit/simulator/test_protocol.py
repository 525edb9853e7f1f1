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
"""Protocol details: groups, re-logon, faults, jobs that take time."""

import threading
import time
from unittest import mock

from pypowervm import adapter as pvm_adpt
from pypowervm import exceptions as pvm_exc
from pypowervm.helpers import vios_busy
from pypowervm.tasks import power
from pypowervm.tasks import scsi_mapper as tsk_map
from pypowervm.tasks import storage as tsk_stg
from pypowervm.wrappers import job as pvm_job
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm.simulator import registry
from nova_powervm.simulator import xmlutil as xu
from nova_powervm.tests.unit.simulator import base


class TestProtocol(base.SimTestCase):

    def test_group_post_keeps_other_groups(self):
        uuid = self.vios('vios1')
        full = pvm_vios.VIOS.get(self.adpt, uuid=uuid, xag=[])
        self.assertIsNotNone(xu.find(full.element.element,
                                     'VirtualFibreChannelMappings'))
        scsi = pvm_vios.VIOS.get(self.adpt, uuid=uuid,
                                 xag=['ViosSCSIMapping'])
        self.assertIsNone(xu.find(scsi.element.element,
                                  'VirtualFibreChannelMappings'))
        self.assertTrue(scsi.href.endswith('?group=ViosSCSIMapping'))
        scsi.update()
        after = pvm_vios.VIOS.get(self.adpt, uuid=uuid, xag=[])
        self.assertEqual(
            xu.tostring(xu.find(full.element.element,
                                'VirtualFibreChannelMappings')),
            xu.tostring(xu.find(after.element.element,
                                'VirtualFibreChannelMappings')))
        self.assertNotEqual(full.etag, after.etag)

    def test_relogon_after_401(self):
        self.sim.sessions.clear()
        self.assertEqual(1, len(pvm_lpar.LPAR.get(self.adpt)))
        self.assertEqual(1, len(self.sim.sessions))

    def test_vios_busy_is_retried(self):
        adpt = pvm_adpt.Adapter(self.adpt.session,
                                helpers=[vios_busy.vios_busy_retry_helper])
        self.fx.add_fault(method='GET', path='VirtualIOServer$',
                          kind='vios_busy', count=2)
        with mock.patch.object(vios_busy, 'SLEEP') as sleep:
            self.assertEqual(2, len(pvm_vios.VIOS.get(adpt)))
        self.assertEqual(2, sleep.call_count)

    def test_etag_conflict_storm_is_retried(self):
        lpar = self.make_lpar()
        vios_uuid = self.vios('vios1')
        vg = self.vg()
        vdisk = tsk_stg.crt_vdisk(self.adpt, vios_uuid, vg.uuid, 'd1', 1)
        self.fx.add_fault(method='POST', path='VirtualIOServer/',
                          kind='etag_conflict', count=3)
        self.fx.reset_stats()
        tsk_map.add_vscsi_mapping(self.host().uuid, vios_uuid, lpar.uuid,
                                  vdisk)
        self.assertEqual(['d1'], [m['storage_name'] for m in self.fx.state()[
            'vioses'][0]['scsi_mappings']])
        self.assertEqual(4, self.fx.stats()['by_pattern'][
            'POST /rest/api/uom/VirtualIOServer/{uuid}'])

    def test_http_fault_count_and_forever(self):
        self.fx.add_fault(method='GET', path='LogicalPartition$',
                          kind='http', status=500, count=-1)
        for _ in range(3):
            self.assertRaises(pvm_exc.HttpError, pvm_lpar.LPAR.get,
                              self.adpt)
        self.fx.clear_faults()
        self.assertEqual(1, len(pvm_lpar.LPAR.get(self.adpt)))

    def test_hang_released_by_clear(self):
        self.fx.add_fault(method='GET', path='LogicalPartition$',
                          kind='hang', seconds=30)
        errs = []

        def call():
            try:
                pvm_lpar.LPAR.get(self.adpt)
            except pvm_exc.HttpError as exc:
                errs.append(exc.response.status)
        thr = threading.Thread(target=call)
        thr.start()
        thr.join(0.3)
        self.assertTrue(thr.is_alive())
        self.fx.clear_faults()
        thr.join(5)
        self.assertEqual([504], errs)

    def test_job_with_duration_is_polled(self):
        lpar = self.make_lpar()
        self.sim.job_seconds = 0.3
        self.fx.reset_stats()
        start = time.time()
        power.power_on(lpar, None)
        self.assertGreaterEqual(time.time() - start, 0.3)
        self.assertEqual('running', self.lpar_state(lpar.uuid)['state'])
        self.assertEqual(1, self.fx.stats()['by_pattern'].get(
            'GET /rest/api/uom/jobs/{id}'))
        self.assertEqual(0, self.fx.state()['jobs_running'])

    def test_job_cancel(self):
        lpar = self.make_lpar()
        self.sim.job_seconds = 300
        resp = self.adpt.read(lpar.schema_type, lpar.uuid,
                              suffix_type='do', suffix_parm='PowerOn')
        job = pvm_job.Job.wrap(resp.entry)
        job.entry = self.adpt.create_job(job.entry.element,
                                         'LogicalPartition',
                                         lpar.uuid).entry
        self.assertEqual('RUNNING', job.job_status)
        self.assertEqual(1, self.fx.state()['jobs_running'])
        self.adpt.update(None, None, root_type='jobs', root_id=job.job_id,
                         suffix_type='cancel')
        job.entry = self.adpt.read_job(job.job_id).entry
        self.assertEqual('COMPLETED_WITH_ERROR', job.job_status)
        self.assertEqual('not activated',
                         self.lpar_state(lpar.uuid)['state'])
        job.delete_job()
        self.assertRaises(pvm_exc.HttpNotFound, self.adpt.read_job,
                          job.job_id)

    def test_refused_job_fails_once_and_stops_running(self):
        calls = []

        def refuse(sim, lpar, params):
            calls.append(lpar.uuid)
            raise registry.SimError(409, 'HSCL0001 Refused by the host.')

        # The simulator is this test's own: its registry may be changed.
        self.sim.registry.operations[('LogicalPartition', 'PowerOn')] = refuse
        lpar = self.make_lpar()
        exc = self.assertRaises(pvm_exc.VMPowerOnFailure, power.power_on,
                                lpar, None)
        self.assertIn('HSCL0001', str(exc))
        self.assertEqual(0, self.fx.state()['jobs_running'])
        self.assertEqual([lpar.uuid], calls)

    def test_unknown_entry_404_and_empty_feed(self):
        self.assertRaises(pvm_exc.HttpNotFound, pvm_lpar.LPAR.get,
                          self.adpt, uuid='0' * 8 + '-0000-0000-0000-' +
                          '0' * 12)
        resp = self.adpt.read('LogicalPartition', suffix_type='search',
                              suffix_parm="(PartitionName=='x')")
        self.assertEqual(204, resp.status)
