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
"""pypowervm log records never carry the session token or a password."""

import logging

import fixtures
from pypowervm import adapter as pvm_adpt
from pypowervm import exceptions as pvm_exc

from nova_powervm.tests import base as tests_base
from nova_powervm.tests import known_secrets
from nova_powervm.virt.powervm import redact

TOKEN = known_secrets.SESSION_PREFIX + 'abcDEF_123-xyz'


class TestRedact(tests_base.TestCase):

    def setUp(self):
        super().setUp()
        self.addCleanup(logging.setLogRecordFactory,
                        logging.getLogRecordFactory())
        redact.install()
        self.log = self.useFixture(fixtures.FakeLogger(
            level=logging.DEBUG, format='%(name)s %(message)s'))

    def test_texts(self):
        for text in ("{'X-API-Session': '%s', 'Accept': '*/*'}" % TOKEN,
                     '<X-API-Session kb="ROR">%s</X-API-Session>' % TOKEN,
                     'X-API-Session=%s' % TOKEN,
                     '<Password>%s</Password>' % known_secrets.PASSWORD,
                     "{'password': '%s'}" % known_secrets.PASSWORD,
                     "{'auth_password': '%s'}" % known_secrets.CHAP_SECRET):
            clean = redact.redact(text)
            self.assertEqual([], known_secrets.find(clean), clean)
            self.assertIn(redact.MASK, clean)

    def test_install_is_idempotent(self):
        factory = logging.getLogRecordFactory()
        redact.install()
        self.assertIs(factory, logging.getLogRecordFactory())

    def test_pypowervm_atom_error_log_masked(self):
        # pypowervm logs the request headers of a response it cannot
        # parse: with the session header, they would carry the token.
        resp = pvm_adpt.Response(
            'GET', '/rest/api/uom/LogicalPartition/x', 200, 'OK', {},
            reqheaders={'X-API-Session': TOKEN}, body='not atom')
        self.assertRaises(pvm_exc.AtomError, resp._unmarshal_atom)
        self.assertIn('request headers', self.log.output)
        self.assertNotIn(TOKEN, self.log.output)
        self.assertIn("'X-API-Session': '***'", self.log.output)
