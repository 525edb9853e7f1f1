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
"""NovaLink events reach nova without waiting for the periodic sync."""

import nova.conf

from nova_powervm.tests.functional import base

CONF = nova.conf.CONF


class TestOutOfBandPowerOff(base.PowerVMFunctionalTestCase):

    def test_power_off_behind_novas_back_shows_shutoff(self):
        # Periodic tasks are off in nova's test config, so only the
        # driver's lifecycle event can tell nova.
        self.assertFalse(CONF.periodic_enable)
        self.start_compute('host1')
        server = self.boot()
        lpar = self.lpar_of('host1', server)
        self.sim_admin('host1', 'POST', 'lpar/%s/state' % lpar['uuid'],
                       {'state': 'not activated'})
        server = self.wait_for(server, 'SHUTOFF')
        self.assertEqual(4, server['OS-EXT-STS:power_state'])
        self.delete(server)
        self.assert_sim_empty('host1')
