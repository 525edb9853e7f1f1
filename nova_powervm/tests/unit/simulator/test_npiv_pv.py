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
"""NPIV (vfc_mapper, GetNextWWPNs) and FC hdisk discovery/removal."""

import os
import subprocess
import sys

import fixtures
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import hdisk
from pypowervm.tasks import partition as pvm_part
from pypowervm.tasks import scsi_mapper as tsk_map
from pypowervm.tasks import vfc_mapper
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm.tests import base as tests_base
from nova_powervm.tests.unit.simulator import base

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))))


class TestNPIV(base.SimTestCase):

    def test_physical_ports(self):
        vioses = pvm_vios.VIOS.get(self.adpt, xag=['ViosStorage'])
        ports = [p for v in vioses for p in v.pfc_ports]
        self.assertEqual(4, len(ports))
        self.assertEqual(['fcs0', 'fcs1'], [p.name for p in
                                            vioses[0].pfc_ports])
        self.assertEqual(4, len(set(p.wwpn for p in ports)))

    def test_npiv_map_and_remove(self):
        lpar = self.make_lpar()
        host_uuid = self.host().uuid
        pair = vfc_mapper.build_wwpn_pair(self.adpt, host_uuid)
        self.assertEqual(2, len(pair))
        ftsk = pvm_part.build_active_vio_feed_task(
            self.adpt, xag=['ViosFCMapping', 'ViosStorage'])
        vioses = ftsk.feed
        p_wwpns = [p.wwpn for v in vioses for p in v.pfc_ports]
        port_maps = vfc_mapper.derive_npiv_map(vioses, p_wwpns,
                                               list(pair))
        for vios_w in vioses:
            for pmap in port_maps:
                vfc_mapper.add_map(vios_w, host_uuid, lpar.uuid, pmap,
                                   error_if_invalid=False)
            vios_w.update()
        fc_maps = [m for v in self.fx.state()['vioses']
                   for m in v['fc_mappings']]
        self.assertEqual(1, len(fc_maps))
        self.assertEqual(lpar.uuid, fc_maps[0]['lpar_uuid'])
        self.assertEqual([w.lower() for w in pair], fc_maps[0]['wwpns'])
        self.assertTrue(fc_maps[0]['server_adapter'].startswith('vfchost'))
        vios_w = [v for v in pvm_vios.VIOS.get(
            self.adpt, xag=['ViosFCMapping']) if v.vfc_mappings][0]
        found = vfc_mapper.find_maps(vios_w.vfc_mappings, lpar.id)
        self.assertEqual(1, len(found))
        self.assertEqual(found[0].backing_port.name,
                         found[0].server_adapter.map_port)
        vfc_mapper.remove_maps(vios_w, lpar.id)
        vios_w.update()
        self.assertEqual([], [m for v in self.fx.state()['vioses']
                              for m in v['fc_mappings']])


class TestWWPNsAcrossRestart(tests_base.TestCase):

    @staticmethod
    def _wwpns_in_new_process(state_dir):
        # Each run is a new process, as powervm-sim before and after a
        # restart: nothing but the saved state carries over.
        out = subprocess.run(
            [sys.executable, '-c',
             'import sys\n'
             'from nova_powervm.simulator import core\n'
             'from nova_powervm.simulator.resources import npiv\n'
             'sim = core.Simulator(state_dir=sys.argv[1])\n'
             'print(" ".join(npiv.new_wwpns(sim, 2)))\n'
             'sim.close(save=True)\n', state_dir],
            cwd=REPO, check=True, stdout=subprocess.PIPE, timeout=60)
        return out.stdout.decode().split()

    def test_restarted_simulator_never_reuses_wwpns(self):
        state_dir = self.useFixture(fixtures.TempDir()).path
        first = self._wwpns_in_new_process(state_dir)
        second = self._wwpns_in_new_process(state_dir)
        self.assertEqual(2, len(set(first)))
        self.assertEqual(2, len(set(second)))
        self.assertEqual([], sorted(set(first) & set(second)))


class TestHdisk(base.SimTestCase):

    def test_discover_map_and_remove(self):
        lpar = self.make_lpar()
        vios_w = pvm_vios.VIOS.get(self.adpt, uuid=self.vios('vios1'),
                                   xag=['ViosStorage'])
        i_wwpns = [p.wwpn for p in vios_w.pfc_ports]
        itls = hdisk.build_itls(i_wwpns, ['500507680b215660'], 238)
        status, name, udid = hdisk.discover_hdisk(self.adpt, vios_w.uuid,
                                                  itls)
        self.assertEqual(hdisk.LUAStatus.DEVICE_AVAILABLE, status)
        self.assertEqual('hdisk1', name)
        again = hdisk.discover_hdisk(self.adpt, vios_w.uuid, itls)
        self.assertEqual((status, name, udid), again)
        vios_w = vios_w.refresh()
        self.assertEqual([udid], [p.udid for p in vios_w.phys_vols])
        pvol = pvm_stg.PV.bld(self.adpt, name, udid)
        tsk_map.add_vscsi_mapping(self.host().uuid, vios_w.uuid, lpar.uuid,
                                  pvol)
        maps = self.fx.state()['vioses'][0]['scsi_mappings']
        self.assertEqual([('PhysicalVolume', 'hdisk1')],
                         [(m['storage_type'], m['storage_name'])
                          for m in maps])
        self.assertRaises(pvm_exc.JobRequestFailed, hdisk.remove_hdisk,
                          self.adpt, None, name, vios_w.uuid)
        tsk_map.remove_pv_mapping(self.adpt, vios_w.uuid, lpar.id, name)
        hdisk.remove_hdisk(self.adpt, None, name, vios_w.uuid)
        self.assertEqual([], list(pvm_vios.VIOS.get(
            self.adpt, uuid=vios_w.uuid, xag=['ViosStorage']).phys_vols))

    def test_no_path_from_vios(self):
        itls = hdisk.build_itls(['21000024ff649104'], ['500507680b215660'],
                                1)
        status, name, _udid = hdisk.discover_hdisk(
            self.adpt, self.vios('vios2'), itls)
        self.assertIsNone(name)
        self.assertNotIn(status, (hdisk.LUAStatus.DEVICE_AVAILABLE,
                                  hdisk.LUAStatus.DEVICE_IN_USE,
                                  hdisk.LUAStatus.FOUND_ITL_ERR))
