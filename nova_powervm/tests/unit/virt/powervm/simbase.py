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
"""Base class for driver-core tests that run against the simulator."""

from nova import context as nova_context
from nova import objects
from pypowervm.wrappers import managed_system as pvm_ms
import requests

from nova_powervm.simulator import builders
from nova_powervm.simulator import fixture as sim_fixture
from nova_powervm.tests.unit import base
from nova_powervm.virt.powervm import vm

# Stats pattern of the event feed GETs.
EVENT_POLL = builders.EVENT_POLL
make_instance = builders.make_instance


class SimTestCase(base.NoDBTestCase):
    """A test with an in-process NovaLink simulator and an adapter to it."""

    # A short event long-poll: stopping an event listener waits for it.
    sim_kwargs = {'event_timeout': 0.2}

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(
            sim_fixture.SimulatorFixture(**self.sim_kwargs))
        self.adapter = self.sim.adapter
        self.flags(group='powervm', **self.sim.driver_flags())
        self.ctx = nova_context.get_admin_context()
        # nova's VirtualInterface records (device tags), which a compute
        # reads from its database: these tests have none.
        self.vif_records = []
        self.stub_out(
            'nova.objects.VirtualInterfaceList.get_by_instance_uuid',
            lambda *args: objects.VirtualInterfaceList(objects=[
                v for v in self.vif_records
                if v.instance_uuid == args[-1]]))
        # nova's block device mapping records (volume tags): none either.
        self.bdm_records = []
        self.stub_out(
            'nova.objects.BlockDeviceMappingList.get_by_instance_uuid',
            lambda *args, **kwargs: objects.BlockDeviceMappingList(objects=[
                b for b in self.bdm_records
                if b.instance_uuid == args[-1]]))

    def instance(self, **kwargs):
        """A new nova Instance (see ``make_instance``)."""
        return make_instance(self.ctx, **kwargs)

    def add_vif_record(self, instance, mac, tag=None):
        """A nova ``VirtualInterface`` record of an instance (with tag)."""
        self.vif_records.append(objects.VirtualInterface(
            instance_uuid=instance.uuid, address=mac, tag=tag))

    def host_wrapper(self):
        """The simulator's ManagedSystem wrapper."""
        return pvm_ms.System.get(self.adapter)[0]

    def lpar(self, instance):
        """The simulator's state record of an instance's LPAR, or None."""
        pvm_uuid = vm.get_pvm_uuid(instance)
        for lpar in self.sim.state()['lpars']:
            if lpar['uuid'].upper() == pvm_uuid:
                return lpar
        return None

    def count_rest(self, func, *args, **kwargs):
        """Run ``func`` and return ``(result, REST round trips)``.

        GETs of the event feed are left out: a running event listener
        long-polls it all the time, independently of the operation (the
        listener's one priming GET in ``init_host`` is added by the caller).
        """
        self.sim.reset_stats()
        result = func(*args, **kwargs)
        stats = self.sim.stats()
        polls = stats['by_pattern'].get(EVENT_POLL, 0)
        return result, stats['total'] - polls

    def sim_url(self, path):
        """URL of a simulator admin path (``/sim/...``)."""
        flags = self.sim.driver_flags()
        return 'http://%s:%s%s' % (flags['pvm_host'], flags['pvm_port'],
                                   path)

    def set_state(self, instance, state):
        """Change an LPAR's state out of band (as the host would)."""
        resp = requests.post(
            self.sim_url('/sim/lpar/%s/state' % vm.get_pvm_uuid(instance)),
            json={'state': state}, timeout=10)
        self.assertLess(resp.status_code, 300, resp.text)
