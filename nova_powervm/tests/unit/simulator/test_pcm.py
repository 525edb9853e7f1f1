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
"""PCM preferences and LTM metrics through pypowervm's monitor tasks."""

from pypowervm.tasks.monitor import util as pcm_util
from pypowervm.tasks import power

from nova_powervm.tests.unit.simulator import base


class TestPCM(base.SimTestCase):

    def test_no_ltm_until_enabled(self):
        host_uuid = self.host().uuid
        self.assertEqual([], pcm_util.query_ltm_feed(self.adpt, host_uuid))

    def test_enable_and_read_samples(self):
        host_uuid = self.host().uuid
        lpar = self.make_lpar(units=0.5)
        power.power_on(lpar, None)
        pcm_util.ensure_ltm_monitors(self.adpt, host_uuid)
        feed = pcm_util.query_ltm_feed(self.adpt, host_uuid)
        self.assertEqual(['lpar', 'lpar', 'phyp', 'phyp', 'vios_2', 'vios_2',
                          'vios_3', 'vios_3'],
                         sorted(m.category for m in feed))
        prev_dt, prev, _v, _l = pcm_util.latest_stats(
            self.adpt, host_uuid, second_latest=True)
        last_dt, last, _v, _l = pcm_util.latest_stats(self.adpt, host_uuid)
        self.assertGreater(last_dt, prev_dt)
        self.assertEqual(20, last.sample.processor.total_proc_units)
        self.assertGreater(last.sample.system_firmware.utilized_proc_cycles,
                           prev.sample.system_firmware.utilized_proc_cycles)
        names = [lp.name for lp in last.sample.lpars]
        self.assertIn('inst-1', names)
