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
"""The simulator's phyp, VIOS and lpar samples, read through ``stats``."""

import subprocess
import sys

from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import cna as pvm_cna
from pypowervm.tasks.monitor import util as pcm_util
from pypowervm.tasks import partition as pvm_part
from pypowervm.tasks import power
from pypowervm.tasks import scsi_mapper as tsk_map
from pypowervm.tasks import storage as tsk_stg
from pypowervm.tasks import vfc_mapper

from nova_powervm.simulator.resources import pcm as sim_pcm
from nova_powervm.telemetry import stats
from nova_powervm.tests.unit.simulator import base


class TestSamples(base.SimTestCase):

    def setUp(self):
        super(TestSamples, self).setUp()
        self.host_uuid = self.host().uuid
        pcm_util.ensure_ltm_monitors(self.adpt, self.host_uuid)

    def lpar_with_disks(self, name='inst-1', disks=2, vfc=True):
        lpar = self.make_lpar(name=name)
        vios_uuid = self.vios('vios1')
        for num in range(disks):
            vdisk = tsk_stg.crt_vdisk(self.adpt, vios_uuid, self.vg().uuid,
                                      '%s-d%d' % (name, num), 1)
            tsk_map.add_vscsi_mapping(self.host_uuid, vios_uuid, lpar.uuid,
                                      vdisk)
        if vfc:
            pair = vfc_mapper.build_wwpn_pair(self.adpt, self.host_uuid)
            ftsk = pvm_part.build_active_vio_feed_task(
                self.adpt, xag=['ViosFCMapping', 'ViosStorage'])
            vios_w = ftsk.feed[0]
            pmap = vfc_mapper.derive_npiv_map(
                [vios_w], [p.wwpn for p in vios_w.pfc_ports], list(pair))[0]
            vfc_mapper.add_map(vios_w, self.host_uuid, lpar.uuid, pmap,
                               error_if_invalid=False)
            vios_w.update()
        pvm_cna.crt_cna(self.adpt, self.host_uuid, lpar.uuid, 300)
        power.power_on(lpar, None)
        return lpar

    def test_feed_lists_every_source_of_both_sample_times(self):
        feed = pcm_util.query_ltm_feed(self.adpt, self.host_uuid)
        cats = sorted(m.category for m in feed)
        self.assertEqual(sorted(['phyp', 'vios_2', 'vios_3', 'lpar'] * 2),
                         cats)

    def test_pypowervm_reduces_the_samples(self):
        lpar = self.lpar_with_disks()
        _dt, phyp, vioses, lpars = pcm_util.latest_stats(
            self.adpt, self.host_uuid)
        self.assertEqual({2, 3}, {v.sample.id for v in vioses})
        metric = pcm_util.vm_metrics(phyp, vioses, lpars)[lpar.uuid]
        self.assertEqual(1, len(metric.storage.virt_adpts))
        vhost = metric.storage.virt_adpts[0]
        self.assertEqual('vhost0', vhost.name)
        self.assertGreater(vhost.read_bytes, 0)
        self.assertEqual(sim_pcm.MEM_FREE_PCT,
                         metric.memory.pct_real_mem_free)

    def test_lpar_stats(self):
        lpar = self.lpar_with_disks()
        other = self.make_lpar(name='stopped')
        sample = stats.read(self.adpt, self.host_uuid)
        got = stats.lpar_stats(sample, lpar.uuid)
        self.assertEqual('inst-1', got.name)
        self.assertEqual(2, got.vcpus)
        self.assertGreater(got.cpu_time_ns, 0)
        self.assertEqual(100 * sim_pcm.LOAD, got.cpu_util)
        self.assertEqual(2048, got.memory_mb)
        self.assertEqual(round(2048 * (100 - sim_pcm.MEM_FREE_PCT) / 100),
                         got.memory_used_mb)
        self.assertEqual([300], [n.vlan for n in got.nics])
        self.assertGreater(got.nics[0].rx_bytes, 0)
        self.assertEqual(['vfc', 'vscsi'], sorted(d.kind for d in got.disks))
        vscsi = [d for d in got.disks if d.kind == 'vscsi'][0]
        vfc = [d for d in got.disks if d.kind == 'vfc'][0]
        self.assertGreater(vscsi.read_requests, 0)
        self.assertEqual(vscsi.read_requests * sim_pcm.DISK_OP_BYTES,
                         vscsi.read_bytes)
        self.assertEqual(vscsi.read_requests, 2 * vscsi.write_requests)
        self.assertEqual(vfc.read_requests * sim_pcm.VFC_OP_BYTES,
                         vfc.read_bytes)
        self.assertTrue(vscsi.location.endswith(
            '-V%d-C%s' % (lpar.id, vscsi.location.rsplit('-C', 1)[1])))
        stopped = stats.lpar_stats(sample, other.uuid)
        self.assertEqual(0, stopped.cpu_time_ns)
        self.assertEqual(0, stopped.memory_used_mb)
        self.assertEqual([], stopped.disks)

    def test_counters_grow_with_time(self):
        lpar = self.lpar_with_disks(vfc=False)
        ms = self.sim.store.first('ManagedSystem')
        first = stats.lpar_stats(stats.read(self.adpt, self.host_uuid),
                                 lpar.uuid)
        ms.extra['pcm_start'] = str(float(ms.extra['pcm_start']) - 60)
        later = stats.lpar_stats(stats.read(self.adpt, self.host_uuid),
                                 lpar.uuid)
        self.assertGreater(later.cpu_time_ns, first.cpu_time_ns)
        # Two disks behind one vSCSI adapter: twice the per-disk rate.
        self.assertEqual(later.disks[0].read_requests - first.disks[0]
                         .read_requests, 60 * 2 * sim_pcm.DISK_READS_PER_SEC)
        self.assertEqual(later.nics[0].rx_bytes - first.nics[0].rx_bytes,
                         60 * sim_pcm.NIC_BYTES_PER_SEC)

    def test_only_the_vioses_of_the_partitions_are_read(self):
        lpar = self.lpar_with_disks(vfc=False)
        sample = stats.read(self.adpt, self.host_uuid,
                            lpar_uuids=[lpar.uuid], rmc=False)
        self.assertEqual([2], list(sample.vioses))
        self.assertIsNone(sample.lpars)
        bare = self.make_lpar(name='bare')
        sample = stats.read(self.adpt, self.host_uuid,
                            lpar_uuids=[bare.uuid], rmc=False)
        self.assertEqual({}, sample.vioses)

    def test_no_sample_while_the_monitor_is_off(self):
        ms = self.sim.store.first('ManagedSystem')
        ms.extra['pcm_LongTermMonitorEnabled'] = 'false'
        self.assertIsNone(stats.read(self.adpt, self.host_uuid))
        self.assertIsNone(stats.lpar_stats(None, 'X'))

    def test_unknown_sample_name_is_404(self):
        feed = pcm_util.query_ltm_feed(self.adpt, self.host_uuid)
        href = feed[0].link.replace('_phyp_', '_vios_99_')
        error = self.assertRaises(pvm_exc.HttpError, self.adpt.read_by_href,
                                  href, xag=[])
        self.assertEqual(404, error.response.status)


class TestNoNova(base.SimTestCase):

    def test_management_pvid_is_the_drivers(self):
        from nova_powervm.virt.powervm import vif as pvm_vif
        self.assertEqual(pvm_vif.MGMT_PVID, stats.MGMT_PVID)

    def test_stats_imports_without_nova(self):
        code = ('import sys; sys.modules["nova"] = None; '
                'import nova_powervm.telemetry.stats')
        subprocess.run([sys.executable, '-c', code], check=True)
