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
"""The fault matrix's simulator parts: the request log, restarts."""

from unittest import mock

from lxml import etree
from pypowervm import adapter as pvm_adpt
from pypowervm import exceptions as pvm_exc
from pypowervm.helpers import vios_busy
from pypowervm.wrappers import logical_partition as pvm_lpar

from nova_powervm.simulator import stats
from nova_powervm.tests.unit.simulator import base


class TestRequestLog(base.SimTestCase):

    def test_requests_in_order(self):
        self.fx.reset_stats()
        pvm_lpar.LPAR.get(self.adpt)
        uuid = pvm_lpar.LPAR.get(self.adpt)[0].uuid
        pvm_lpar.LPAR.get(self.adpt, uuid=uuid)
        self.assertEqual(
            ['GET /rest/api/uom/LogicalPartition'] * 2 +
            ['GET /rest/api/uom/LogicalPartition/{uuid}'],
            self.fx.request_log())
        self.fx.reset_stats()
        self.assertEqual([], self.fx.request_log())

    def test_bounded(self):
        log = stats.Stats()
        for _ in range(stats.LOG_SIZE + 5):
            log.count('GET', '/rest/api/uom/ManagedSystem')
        self.assertEqual(stats.LOG_SIZE, len(log.requests()))


class TestRestart(base.SimTestCase):

    def test_restart_drops_sessions_keeps_state(self):
        lpar = self.make_lpar()
        self.assertEqual(1, len(self.sim.sessions))
        self.fx.restart()
        self.assertEqual({}, self.sim.sessions)
        # pypowervm logs on again after the 401.
        self.assertEqual(lpar.uuid,
                         pvm_lpar.LPAR.get(self.adpt, uuid=lpar.uuid).uuid)
        self.assertEqual(1, len(self.sim.sessions))

    def test_restart_fault_loses_the_request(self):
        self.fx.add_fault(method='GET', path='LogicalPartition$',
                          kind='restart')
        exc = self.assertRaises(pvm_exc.HttpError, pvm_lpar.LPAR.get,
                                self.adpt)
        self.assertEqual(503, exc.response.status)
        self.assertEqual({}, self.sim.sessions)
        self.assertEqual(1, len(pvm_lpar.LPAR.get(self.adpt)))

    def test_restart_is_retried_by_the_busy_helper(self):
        adpt = pvm_adpt.Adapter(self.adpt.session,
                                helpers=[vios_busy.vios_busy_retry_helper])
        self.fx.add_fault(method='GET', path='LogicalPartition$',
                          kind='restart')
        with mock.patch.object(vios_busy, 'SLEEP'):
            self.assertEqual(1, len(pvm_lpar.LPAR.get(adpt)))


class TestFaultedUpload(base.SimTestCase):
    """A faulted upload is answered after its body is read (server)."""

    mode = 'server'

    def test_big_body_gets_the_answer_not_a_reset(self):
        self.fx.add_fault(method='PUT', path='web/File/contents/',
                          kind='http', status=503)
        # Far more than the sockets' buffers hold: a server answering
        # without reading it would reset the connection under the client.
        piece = b'\xa5' * (1024 * 1024)
        exc = self.assertRaises(
            pvm_exc.HttpError, self.adpt.upload_file,
            _file_descriptor('0000-upload'), iter([piece] * 64))
        self.assertEqual(503, exc.response.status)


def _file_descriptor(file_uuid):
    """The parts of a File descriptor ``upload_file`` reads."""
    elem = etree.fromstring(
        '<File><FileUUID>%s</FileUUID><InternetMediaType>'
        'application/octet-stream</InternetMediaType></File>' % file_uuid)
    return elem
