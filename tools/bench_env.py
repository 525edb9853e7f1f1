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
"""The benchmark's world: a simulator server, nova config, fakes, a driver.

Used by ``tools/bench.py``.  What cannot be simulated is replaced by small
fakes: Glance (:class:`SparseImageAPI` serves sparse files from disk in
Glance-sized chunks) and the DB lookups nova's ``InstanceMetadata`` makes
for the config drive.  Everything else is the real driver talking HTTP to
the simulator (server mode) with the injected per-request latency.
"""

import os
import shutil
import tempfile
import uuid

# nova-compute in 2026.2 runs on native threads: select them before
# anything imports oslo.service or futurist (as nova-compute does).
os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')
from nova import monkey_patch  # noqa: E402,I100
monkey_patch.patch(backend='threading')
import fixtures  # noqa: E402,I100
from nova import context as nova_context  # noqa: E402
from nova import objects  # noqa: E402
from nova.virt import fake as nova_fake  # noqa: E402
from oslo_config import cfg  # noqa: E402

from nova_powervm import conf as pvm_conf  # noqa: E402,F401
from nova_powervm.simulator import builders  # noqa: E402
from nova_powervm.simulator import fixture as sim_fixture  # noqa: E402
from nova_powervm.virt.powervm import driver as pvm_driver  # noqa: E402
from nova_powervm.virt.powervm import image as pvm_image  # noqa: E402
from nova_powervm.virt.powervm import vm  # noqa: E402

CONF = cfg.CONF

# Event-feed long polls run all the time; they are not an operation's cost.
EVENT_POLL = builders.EVENT_POLL

# glanceclient's download chunk size.
GLANCE_CHUNK = 64 * 1024


class SparseImageAPI:
    """A Glance stand-in serving sparse raw files from disk.

    Only ``download`` is used by the driver (``image.stream``); it writes
    the file into ``data`` in ``GLANCE_CHUNK`` pieces, as nova's Glance
    API does with the chunks glanceclient yields.

    :param workdir: where the sparse image files are created.
    """

    def __init__(self, workdir):
        self.workdir = workdir
        self.paths = {}
        # image id -> bytes a snapshot uploaded (read and dropped).
        self.uploaded = {}

    def add(self, size):
        """A new sparse raw image of ``size`` bytes; returns its ImageMeta.

        :param size: image size in bytes.
        """
        image_id = str(uuid.uuid4())
        path = os.path.join(self.workdir, 'image-%s.raw' % image_id)
        with open(path, 'wb') as fil:
            fil.truncate(size)
        self.paths[image_id] = path
        return objects.ImageMeta.from_dict(
            {'id': image_id, 'name': 'bench', 'size': size,
             'disk_format': 'raw', 'container_format': 'bare',
             'status': 'active'})

    def remove(self, image_id):
        """Delete an image's file.

        :param image_id: the image id.
        """
        os.unlink(self.paths.pop(image_id))

    def download(self, context, image_id, data=None, dst_path=None,
                 trusted_certs=None):
        """Write the image into ``data`` chunk by chunk.

        :param context: ignored.
        :param image_id: the image id.
        :param data: file-like object to write into.
        """
        with open(self.paths[image_id], 'rb') as fil:
            while True:
                chunk = fil.read(GLANCE_CHUNK)
                if not chunk:
                    return
                data.write(chunk)

    def update(self, context, image_id, metadata, data=None,
               purge_props=False):
        """Take a snapshot's upload: read ``data`` in chunks, drop them.

        :param context: ignored.
        :param image_id: the image id.
        :param metadata: ignored.
        :param data: file-like object the driver hands over.
        """
        size = 0
        while True:
            # glanceclient reads an upload 1 MiB at a time.
            chunk = data.read(1024 * 1024)
            if not chunk:
                break
            size += len(chunk)
        self.uploaded[image_id] = size
        return {'id': image_id}


class BenchEnv(fixtures.Fixture):
    """Simulator in server mode, nova config and fakes for the benchmark.

    :param latency: seconds the simulator adds to every REST request.
    :param workdir: scratch directory (a temporary one when None).
    """

    def __init__(self, latency=0.05, workdir=None):
        super().__init__()
        self.latency = latency
        self.workdir = workdir
        self.sim = None
        self.images = None
        self.ctx = None
        self._macs = iter(range(1, 1 << 24))

    def _setUp(self):
        if self.workdir is None:
            self.workdir = tempfile.mkdtemp(prefix='pvm-bench-')
            self.addCleanup(shutil.rmtree, self.workdir, True)
        objects.register_all()
        CONF([], project='nova', default_config_files=[],
             default_config_dirs=[])
        self.addCleanup(CONF.reset)
        self.sim = self.useFixture(sim_fixture.SimulatorFixture(
            mode='server', event_timeout=1.0,
            state_dir=os.path.join(self.workdir, 'sim')))
        self.sim.sim.latency = self.latency
        self._flags()
        self.images = SparseImageAPI(self.workdir)
        self.useFixture(fixtures.MonkeyPatch(
            'nova_powervm.virt.powervm.image._API', self.images))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.network.security_group_api.get_instance_security_groups',
            lambda *a, **k: []))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.objects.BlockDeviceMappingList.get_by_instance_uuid',
            lambda *a, **k: objects.BlockDeviceMappingList(objects=[])))
        # Device tags: the instances have no tagged interfaces.
        self.useFixture(fixtures.MonkeyPatch(
            'nova.objects.VirtualInterfaceList.get_by_instance_uuid',
            lambda *a, **k: objects.VirtualInterfaceList(objects=[])))
        self.ctx = nova_context.get_admin_context()
        assert pvm_image.image_api() is self.images

    def _flags(self):
        over = CONF.set_override
        over('state_path', self.workdir)
        over('lock_path', os.path.join(self.workdir, 'locks'),
             group='oslo_concurrency')
        over('my_ip', '192.0.2.10')
        over('vif_plugging_timeout', 300)
        over('vif_plugging_is_fatal', True)
        for key, val in self.sim.driver_flags().items():
            over(key, val, group='powervm')
        over('use_rmc_mgmt_vif', True, group='powervm')

    def driver(self):
        """A new (not yet started) PowerVM driver."""
        return pvm_driver.PowerVMDriver(nova_fake.FakeVirtAPI())

    def instance(self, image_meta, config_drive=True, **kwargs):
        """A nova Instance ready for spawn (config drive data included).

        :param image_meta: the ImageMeta it boots from.
        :param config_drive: whether it has a config drive.
        """
        return builders.spawnable_instance(self.ctx, image_meta,
                                           config_drive, **kwargs)

    def network_info(self):
        """One SEA VIF with a MAC of its own."""
        num = next(self._macs)
        mac = 'fa:16:3e:%02x:%02x:%02x' % (num >> 16, (num >> 8) & 255,
                                           num & 255)
        return builders.sea_network_info(mac=mac)

    def add_lpars(self, count):
        """Create ``count`` instance partitions directly in the simulator.

        No REST: the partitions are added to the simulator's store, half
        of them running.  Returns the matching nova Instances.

        :param count: how many.
        """
        insts = [builders.make_instance(self.ctx) for _idx in range(count)]
        self.sim.add_lpars([
            (inst.name, vm.get_pvm_uuid(inst),
             'running' if idx % 2 else 'not activated')
            for idx, inst in enumerate(insts)])
        return insts

    def round_trips(self):
        """REST round trips since the last reset, event polls left out."""
        stats = self.sim.stats()
        return stats['total'] - stats['by_pattern'].get(EVENT_POLL, 0)

    def by_pattern(self):
        """Round trips per request pattern since the last reset."""
        return {key: val for key, val in
                self.sim.stats()['by_pattern'].items() if key != EVENT_POLL}
