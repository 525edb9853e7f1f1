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
"""Inventory knobs and host-side admin endpoints."""

import json

from pypowervm.tasks import partition as pvm_part
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm.simulator import fixture as pvm_fx
from nova_powervm.simulator import inventory
from nova_powervm.tests import base as tests_base


class TestInventory(tests_base.TestCase):

    def _fixture(self, **knobs):
        return self.useFixture(pvm_fx.SimulatorFixture(
            inventory=inventory.Inventory(**knobs)))

    def test_counts(self):
        fx = self._fixture(cores=8, memory_gb=64, vioses=1, fc_ports=4,
                           lmb_mb=128, vswitches=['ETHERNET0'])
        from pypowervm.wrappers import managed_system as pvm_ms
        host = pvm_ms.System.get(fx.adapter)[0]
        self.assertEqual(8, host.proc_units)
        self.assertEqual(64 * 1024, host.memory_configurable)
        self.assertEqual(128, host.memory_region_size)
        vioses = pvm_vios.VIOS.get(fx.adapter, xag=['ViosStorage'])
        self.assertEqual(['vios1'], [v.name for v in vioses])
        self.assertEqual(4, len(vioses[0].pfc_ports))

    def test_mgmt_partition_as_io_host(self):
        fx = self._fixture(mgmt_vios=True, vioses=0)
        mgmt = pvm_part.get_mgmt_partition(fx.adapter)
        self.assertIsInstance(mgmt, pvm_vios.VIOS)
        self.assertEqual(1, mgmt.id)
        vgs = pvm_stg.VG.get(fx.adapter, parent=mgmt)
        self.assertEqual({'rootvg', 'datavg'}, set(v.name for v in vgs))
        ftsk = pvm_part.build_active_vio_feed_task(fx.adapter)
        self.assertEqual([mgmt.uuid], [w.uuid for w in ftsk.feed])

    def test_shared_processor_pools(self):
        from pypowervm.wrappers import managed_system as pvm_ms
        from pypowervm.wrappers import shared_proc_pool as pvm_spp
        fx = self._fixture(proc_pools=['gold', 'silver'])
        host = pvm_ms.System.get(fx.adapter)[0]
        pools = pvm_spp.SharedProcPool.get(fx.adapter, parent=host)
        self.assertEqual([(0, 'DefaultPool'), (1, 'gold'), (2, 'silver')],
                         [(p.id, p.name) for p in pools])
        self.assertTrue(pools[0].is_default)
        found = pvm_spp.SharedProcPool.search(fx.adapter, parent=host,
                                              name='gold')
        self.assertEqual(1, len(found))

    def test_host_endpoints(self):
        fx = self._fixture()
        app = fx.sim.app
        out = {}

        def start(status, headers):
            out['status'] = status
        body = b''.join(app({'REQUEST_METHOD': 'GET',
                             'PATH_INFO': '/sim/host/lparcfg',
                             'wsgi.input': None}, start))
        data = json.loads(body)
        self.assertEqual(1, data['partition_id'])
        self.assertIn('partition_id=1', data['lparcfg'])
        body = b''.join(app({'REQUEST_METHOD': 'GET',
                             'PATH_INFO': '/sim/host/device/nope',
                             'wsgi.input': None}, start))
        self.assertTrue(out['status'].startswith('404'))
