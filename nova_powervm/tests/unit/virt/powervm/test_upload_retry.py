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
"""A spawn whose image upload is answered 503 (VIOS busy).

pypowervm's VIOS-busy helper sends the upload again with the same body
iterator.  The image stream must then start over from Glance (a retry
that went on from where the first attempt stopped wrote the image's tail
at the start of the disk; one that found the stream already at its end
waited for bytes forever): the spawn completes with the image's bytes,
byte for byte, or, once the retries are used up, fails with a readable
fault and leaves nothing behind.  Each case runs with the simulator in
process (wsgi-intercept: the whole body is sent before the answer) and as
a real HTTP server (the 503 comes before the body is read).
"""

import threading

import fixtures
from nova import exception as nova_exc
from pypowervm import adapter as pvm_adpt
import testscenarios

from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.virt.powervm import flows
from nova_powervm.virt.powervm import session as pvm_session

#: Seconds a case may take at most (a hang fails the test, not the run).
_LIMIT = 60

_UPLOAD = dict(method='PUT', path='web/File/contents/')


class _Base(flowbase.FlowTestCase):

    def setUp(self):
        self.sim_kwargs = dict(self.sim_kwargs, mode=self.mode)
        # pypowervm's VIOS-busy helper sleeps 5, 10, 15 s between tries.
        self.useFixture(fixtures.MonkeyPatch(
            'pypowervm.helpers.vios_busy.SLEEP', lambda s: None))
        super().setUp()

    def host_context(self):
        # The adapter the driver builds: with its retry helpers.
        self.adapter = pvm_adpt.Adapter(
            self.sim.adapter.session,
            helpers=pvm_session._ADAPTER_HELPERS)
        return super().host_context()

    def spawn(self, inst):
        """Spawn on a thread; fail the test if it does not end in time."""
        out = {}

        def run():
            try:
                flows.spawn(self.hctx, self.ctx, inst, self.image_meta,
                            [], None, None, None, False)
            except Exception as exc:
                out['error'] = exc

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(_LIMIT)
        if thread.is_alive():
            # Let the stuck request go before the fixtures are torn down.
            self.sim.clear_faults()
            self.fail('spawn still running after %d s' % _LIMIT)
        return out.get('error')

    def cache_disk(self):
        return self.hctx.disk_dvr.image_name(self.image_meta.id)


_MODES = [('intercept', dict(mode='intercept')),
          ('server', dict(mode='server'))]


class TestUploadBusy(testscenarios.WithScenarios, _Base):
    """503s within pypowervm's retries: the spawn completes."""

    scenarios = testscenarios.multiply_scenarios(
        _MODES, [('once', dict(count=1)), ('three_times', dict(count=3))])

    def test_spawn_completes_with_the_whole_image(self):
        self.sim.add_fault(kind='http', status=503, count=self.count,
                           **_UPLOAD)
        self.sim.reset_stats()
        inst = self.instance(config_drive=False)
        error = self.spawn(inst)
        self.assertIsNone(error)
        self.assertIsNotNone(self.lpar(inst))
        size = len(self.IMAGE_BYTES)
        # The cached image and the server's boot disk: the image's bytes
        # from its first to its last.
        self.assertEqual(self.IMAGE_BYTES,
                         self.disk_bytes(self.cache_disk(), size))
        self.assertEqual(
            self.IMAGE_BYTES,
            self.disk_bytes(self.hctx.disk_dvr.boot_disk_name(inst), size))
        # Every try was a whole upload: one PUT per try.
        self.assertEqual(self.count + 1, self.sim.stats()['by_pattern'].get(
            'PUT /rest/api/web/File/contents/{uuid}'))
        # No upload descriptor is left.
        self.assertEqual([], self.sim.state().get('files', []))


class TestUploadBusyTooLong(testscenarios.WithScenarios, _Base):
    """503s past pypowervm's retries: a readable fault, nothing left."""

    scenarios = _MODES

    def test_spawn_fails_cleanly(self):
        before = flowbase.normalise(self.sim.state())
        self.sim.add_fault(kind='http', status=503, count=-1, **_UPLOAD)
        inst = self.instance(config_drive=False)
        error = self.spawn(inst)
        self.sim.clear_faults()
        self.assertIsInstance(error, nova_exc.NovaException)
        self.assertIn('upload image %s' % self.image_meta.id, str(error))
        self.assertIsNone(self.lpar(inst))
        self.assertNotIn(self.cache_disk(), self.vdisk_names())
        self.assertEqual(before, flowbase.normalise(self.sim.state()))
        # The host is usable: the next spawn uploads and boots.
        self.assertIsNone(self.spawn(self.instance(config_drive=False)))
        self.assertEqual(self.IMAGE_BYTES, self.disk_bytes(
            self.cache_disk(), len(self.IMAGE_BYTES)))


class TestUploadBusySSP(testscenarios.WithScenarios, flowbase.SSPMixin,
                        _Base):
    """The same on a Shared Storage Pool (the image goes to an LU)."""

    scenarios = _MODES

    def test_spawn_completes_with_the_whole_image(self):
        self.sim.add_fault(kind='http', status=503, count=2, **_UPLOAD)
        inst = self.instance(config_drive=False)
        self.assertIsNone(self.spawn(inst))
        size = len(self.IMAGE_BYTES)
        self.assertEqual(self.IMAGE_BYTES,
                         self.lu_bytes(self.cache_disk(), size))
