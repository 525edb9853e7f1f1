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
"""Base of the flow tests: a HostContext on the simulator, Glance, Neutron.

What cannot be simulated is replaced by small fakes: nova's Glance
(``GlanceFixture``), the compute manager's event waits (``FakeVirtAPI``),
and the DB / Neutron lookups nova's ``InstanceMetadata`` makes.
"""

import contextlib
import io
import os
import types

from nova import exception as nova_exc
from nova import objects
from nova.tests import fixtures as nova_fixtures
from oslo_utils import uuidutils
from pypowervm.tasks import partition as pvm_par

from nova_powervm.simulator import builders
from nova_powervm.simulator import inventory
from nova_powervm.tests.unit.virt.powervm import simbase
from nova_powervm.virt.powervm import context as pvm_context
from nova_powervm.virt.powervm import disk
from nova_powervm.virt.powervm import host
from nova_powervm.virt.powervm import host_shim
from nova_powervm.virt.powervm import media
from nova_powervm.virt.powervm import power

MAC = builders.MAC
sea_network_info = builders.sea_network_info
spawnable_instance = builders.spawnable_instance


class FakeVirtAPI:
    """The compute manager's event waits, recorded.

    :ivar waited: list of the event lists waited for.
    :ivar outcome: None (events arrive), ``'timeout'`` or ``'failed'``.
    """

    def __init__(self):
        self.waited = []
        self.outcome = None

    @contextlib.contextmanager
    def wait_for_instance_event(self, instance, event_names, timeout=300,
                                error_callback=None):
        self.waited.append((list(event_names), timeout))
        yield
        if not event_names:
            return
        if self.outcome == 'timeout':
            raise nova_exc.InstanceEventTimeout()
        if self.outcome == 'failed':
            error_callback(event_names[0][0], instance)


def normalise(state):
    """Simulator state without what changes by itself (jobs, states)."""
    state = dict(state)
    state.pop('jobs_running', None)
    return state


class FlowTestCase(simbase.SimTestCase):
    """Flows on the in-process simulator with a real disk adapter."""

    IMAGE_BYTES = (b'PowerVM-image-' * 4096)[:3 * 1024 * 1024 + 123]

    def setUp(self):
        super().setUp()
        self.flags(use_rmc_mgmt_vif=True, group='powervm')
        self.flags(vif_plugging_timeout=300, vif_plugging_is_fatal=True)
        self.glance = self.useFixture(nova_fixtures.GlanceFixture(self))
        self.stub_out(
            'nova.network.security_group_api.get_instance_security_groups',
            lambda *a, **k: [])
        self.stub_out(
            'nova.objects.BlockDeviceMappingList.get_by_instance_uuid',
            lambda *a, **k: objects.BlockDeviceMappingList(objects=[]))
        self.virtapi = FakeVirtAPI()
        self.hctx = self.host_context()
        self.image_meta = self.new_image(self.IMAGE_BYTES)

    def host_context(self):
        """A HostContext on the simulator, as ``init_host`` builds it.

        Its cache (``ctx.cache``) starts empty but for the media repository
        the disk adapter found and the power job templates.
        """
        host_w = self.host_wrapper()
        mgmt_w = pvm_par.get_mgmt_partition(self.adapter)
        flags = self.sim.driver_flags()
        shim = host_shim.SimulatorShim(
            'http://%s:%s' % (flags['pvm_host'], flags['pvm_port']))
        ctx = pvm_context.HostContext(
            host='host1', adapter=self.adapter, host_uuid=host_w.uuid,
            mgmt_uuid=mgmt_w.uuid,
            disk_dvr=disk.get_disk_adapter(self.adapter, host_w.uuid,
                                           mgmt_w.uuid),
            shim=shim, virtapi=self.virtapi,
            host_wrapper=host.host_wrapper_getter(self.adapter))
        power.prime_templates(ctx, mgmt_w)
        return ctx

    def new_image(self, data, **props):
        """Register an image with data in Glance; returns its ImageMeta."""
        meta = {'id': uuidutils.generate_uuid(), 'name': 'img',
                'size': len(data), 'disk_format': 'raw',
                'container_format': 'bare', 'status': 'active',
                'properties': props}
        image = self.glance.create(self.ctx, meta, data=io.BytesIO(data))
        return objects.ImageMeta.from_dict(
            {k: image[k] for k in ('id', 'name', 'size', 'disk_format',
                                   'container_format', 'status')})

    def instance(self, config_drive=True, **kwargs):
        """An instance ready for InstanceMetadata (config drive)."""
        return spawnable_instance(self.ctx, self.image_meta, config_drive,
                                  **kwargs)

    def disk_bytes(self, name, length):
        """The first ``length`` bytes of a VDisk's backing file."""
        vds = [vd for vd in self.sim.state()['virtual_disks']
               if vd['name'] == name]
        self.assertEqual(1, len(vds), name)
        path = self.sim.sim.files.disk_path(vds[0]['udid'])
        self.assertTrue(os.path.exists(path), path)
        with open(path, 'rb') as fil:
            return fil.read(length)

    def media_bytes(self, name):
        """The content of an optical media from its backing file."""
        found = [m for m in self.sim.state()['optical_media']
                 if m['name'] == name]
        self.assertEqual(1, len(found), name)
        _vios, vg_uuid = media.find_repo(self.adapter, self.hctx.cache)
        path = self.sim.sim.files.media_path(
            types.SimpleNamespace(uuid=vg_uuid), name)
        with open(path, 'rb') as fil:
            return fil.read()

    def vdisk_names(self):
        """Names of the VDisks the simulator holds."""
        return sorted(vd['name'] for vd in self.sim.state()['virtual_disks'])


class SSPMixin(object):
    """Before a FlowTestCase: the host has an SSP and uses ``ssp``."""

    sim_kwargs = {'event_timeout': 0.2,
                  'inventory': inventory.Inventory(ssp=True)}

    def host_context(self):
        self.flags(disk_driver='ssp', group='powervm')
        return super().host_context()

    def lu_names(self):
        """Names of the LUs of the simulator's pool."""
        return sorted(lu['name'] for lu in self.sim.state()['lus'])

    def lu_bytes(self, name, length):
        """The first ``length`` bytes of an LU as a client reads them."""
        lus = [lu for lu in self.sim.state()['lus'] if lu['name'] == name]
        self.assertEqual(1, len(lus), name)
        return b''.join(self.sim.sim.files.read_chunks(lus[0]['udid'],
                                                       length))
