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
"""No secret in a DEBUG log line, an exception text or ``/sim/stats``.

Representative flows run with every logger at DEBUG: a password logon,
boot, stop, start, delete, a spawn that fails on a REST error (pypowervm
then dumps the failed request, headers included), a refused logon and the
admin API.  The NovaLink password, the session tokens, the simulator's
admin token and a CHAP secret have recognizable values
(:mod:`nova_powervm.tests.known_secrets`); none may appear anywhere.
"""

import io
import json
import logging

from nova_powervm import exception as pvm_exc
from nova_powervm.tests.functional import base
from nova_powervm.tests import known_secrets
from nova_powervm.virt.powervm import session as pvm_session

LOGGERS = ('', 'nova_powervm', 'pypowervm', 'nova_powervm.simulator',
           'keystoneauth', 'keystoneauth1', 'urllib3', 'requests', 'nova',
           'oslo_messaging', 'powervm-sim')


class TestSecretsNeverShown(base.PowerVMFunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.buf = io.StringIO()
        handler = logging.StreamHandler(self.buf)
        handler.setLevel(logging.DEBUG)
        handler.setFormatter(logging.Formatter(
            '%(name)s %(levelname)s %(message)s'))
        root = logging.getLogger()
        root.addHandler(handler)
        self.addCleanup(root.removeHandler, handler)
        for name in LOGGERS:
            logger = logging.getLogger(name)
            self.addCleanup(logger.setLevel, logger.level)
            logger.setLevel(logging.DEBUG)

    def assert_clean(self, what, text):
        self.assertEqual([], known_secrets.find(text), what)

    def test_flows_at_debug_show_no_secret(self):
        self.start_compute('host1')
        sim = self.simulators['host1']
        server = self.boot()
        self.action(server, {'os-stop': None}, 'SHUTOFF')
        self.action(server, {'os-start': None}, 'ACTIVE')
        self.delete(server)

        # A spawn failing on a REST error: pypowervm's log helper dumps
        # the failed requests and responses (request headers included).
        sim.add_fault(method='PUT', path='ClientNetworkAdapter',
                      kind='http', status=500, count=-1,
                      message='simulated adapter failure')
        failed = self.boot(networks='auto', expected='ERROR')
        sim.clear_faults()
        self.assert_clean('server fault', json.dumps(failed.get('fault')))
        self.delete(failed)

        # A refused logon with a wrong password (that contains the right
        # one): neither shows in the exception.
        info = pvm_session.ConnectionInfo(
            host='localhost', port=sim.port, protocol='http',
            user=known_secrets.USER,
            password=known_secrets.PASSWORD + '-wrong', connect_timeout=1)
        refused = self.assertRaises(pvm_exc.NovaLinkNotReachable,
                                    pvm_session.connect, info)
        self.assert_clean('refused logon', str(refused))
        self.assert_clean('refused logon repr', repr(info))

        # The admin API over HTTP (with the admin token).
        for path in ('stats', 'state', 'faults'):
            self.assert_clean('/sim/' + path, json.dumps(
                self.sim_admin('host1', 'GET', path)))

        # The flows used what is checked: a password logon, session
        # tokens with the known prefix, pypowervm's dump of the failed
        # request and response, and DEBUG records.
        tokens = list(sim.sim.sessions)
        self.assertTrue(tokens)
        self.assertTrue(all(tok.startswith(known_secrets.SESSION_PREFIX)
                            for tok in tokens), tokens)
        self.assertIn(None, sim.sim.sessions.values())
        out = self.buf.getvalue()
        self.assertIn("RESPONSE: {'reqmethod': 'PUT'", out)
        self.assertIn('simulated adapter failure', out)
        self.assertIn('pypowervm.adapter DEBUG', out)
        self.assertIn('nova_powervm.virt.powervm', out)
        self.assert_clean('the DEBUG log', out)
        for tok in tokens:
            self.assertNotIn(tok, out)

    def test_chap_secret_masked_in_exception_texts(self):
        # A connection_info as Cinder gives it, in the text of a failure.
        from nova_powervm.virt.powervm import errors

        info = {'driver_volume_type': 'iscsi', 'data': {
            'auth_method': 'CHAP', 'auth_username': 'chapuser',
            'auth_password': known_secrets.CHAP_SECRET,
            'discovery_auth_password': known_secrets.CHAP_SECRET}}
        text = errors.safe_text(ValueError('attach failed: %s' % info))
        self.assert_clean('CHAP in an exception', text)
        self.assertIn('chapuser', text)
