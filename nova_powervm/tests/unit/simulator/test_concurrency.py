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
"""Concurrent writers to one VIOS: pypowervm's 412 retry keeps all maps."""

import threading

from pypowervm.tasks import scsi_mapper as tsk_map
from pypowervm.tasks import storage as tsk_stg
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm.tests.unit.simulator import base

WRITERS = 6


class TestConcurrency(base.SimTestCase):

    def test_many_writers_one_vios(self):
        vios_uuid = self.vios('vios1')
        vg = self.vg()
        host_uuid = self.host().uuid
        work = []
        for idx in range(WRITERS):
            lpar = self.make_lpar(name='c%d' % idx)
            vdisk = tsk_stg.crt_vdisk(self.adpt, vios_uuid, vg.uuid,
                                      'd%d' % idx, 1)
            work.append((lpar, vdisk))
        self.fx.reset_stats()
        barrier = threading.Barrier(WRITERS)
        errors = []

        def writer(lpar, vdisk):
            try:
                # All writers start from the same (soon stale) etag.
                vios_w = pvm_vios.VIOS.get(self.adpt, uuid=vios_uuid,
                                           xag=['ViosSCSIMapping'])
                barrier.wait()
                tsk_map.add_vscsi_mapping(host_uuid, vios_w, lpar.uuid,
                                          vdisk)
            except Exception as exc:  # noqa
                errors.append(exc)
        threads = [threading.Thread(target=writer, args=w) for w in work]
        for thr in threads:
            thr.start()
        for thr in threads:
            thr.join(120)
        self.assertEqual([], errors)
        maps = self.fx.state()['vioses'][0]['scsi_mappings']
        self.assertEqual(sorted('d%d' % i for i in range(WRITERS)),
                         sorted(m['storage_name'] for m in maps))
        self.assertEqual(WRITERS, len(set(m['server_adapter']
                                          for m in maps)))
        posts = self.fx.stats()['by_pattern'][
            'POST /rest/api/uom/VirtualIOServer/{uuid}']
        self.assertGreater(posts, WRITERS)


class TestManyClients(base.SimTestCase):
    mode = 'server'

    def test_fifty_concurrent_clients(self):
        lpar = self.make_lpar()
        errors, done = [], []
        barrier = threading.Barrier(50)

        def client():
            try:
                barrier.wait()
                for _ in range(2):
                    got = pvm_lpar.LPAR.get(self.adpt, uuid=lpar.uuid)
                    done.append(got.uuid == lpar.uuid)
            except Exception as exc:  # noqa
                errors.append(exc)
        threads = [threading.Thread(target=client) for _ in range(50)]
        for thr in threads:
            thr.start()
        for thr in threads:
            thr.join(60)
        self.assertEqual([], errors)
        self.assertEqual([True] * 100, done)
