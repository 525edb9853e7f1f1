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
"""Snapshot on the simulator: bytes, task states, budgets, reverts.

The image service is a recorder that reads the upload the way glance's
client does (chunk by chunk) and keeps only a digest, so a 1 GiB disk is
never held in memory here either.
"""

import hashlib

from nova.compute import task_states
from nova import exception as nova_exc
import testscenarios

from nova_powervm import exception as pvm_exception
from nova_powervm.simulator import inventory as sim_inv
from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.virt.powervm import driver
from nova_powervm.virt.powervm import flows
from nova_powervm.virt.powervm import host_shim
from nova_powervm.virt.powervm import image
from nova_powervm.virt.powervm import snapshot
from nova_powervm.virt.powervm import vm

CHUNK = 64 * 1024


class UploadFailed(Exception):
    """The image service dropped the upload."""


class RecordingImageAPI:
    """nova's image API ``update``, consuming ``data`` in chunks.

    :ivar uploads: image id -> ``(size, sha256 hex, metadata)``.
    :ivar fail_after: bytes after which the upload fails (None: never).
    :ivar largest: the largest single read the data gave.
    """

    def __init__(self):
        self.uploads = {}
        self.fail_after = None
        self.largest = 0

    def update(self, context, image_id, metadata, data=None,
               purge_props=False):
        digest, size = hashlib.sha256(), 0
        while True:
            buf = data.read(CHUNK)
            if not buf:
                break
            self.largest = max(self.largest, len(buf))
            size += len(buf)
            if self.fail_after is not None and size > self.fail_after:
                raise UploadFailed('connection reset')
            digest.update(buf)
        self.uploads[image_id] = (size, digest.hexdigest(), metadata)
        return {'id': image_id}


class NoDeviceShim(host_shim.SimulatorShim):
    """A host on which no mapped disk ever appears."""

    def __init__(self):
        super().__init__('http://unused')

    def open_disk(self, device):
        raise pvm_exception.DiskNotReadable(
            disk=device.name, reason='no block device appeared')


class SnapshotTestCase(flowbase.FlowTestCase):

    def setUp(self):
        super().setUp()
        self.api = RecordingImageAPI()
        self.states = []
        self.inst = self.instance(config_drive=False)
        flows.spawn(self.hctx, self.ctx, self.inst, self.image_meta, [], None,
                    None, None, True)

    def update_task_state(self, task_state, expected_state=None):
        self.states.append((task_state, expected_state))

    def snap(self, image_id='snap-1', inst=None):
        snapshot.snapshot(self.hctx, self.ctx, inst or self.inst, image_id,
                          self.update_task_state, image_api=self.api)
        return self.api.uploads[image_id]

    def disk_digest(self):
        name = self.hctx.disk_dvr.boot_disk_name(self.inst)
        vds = [vd for vd in self.sim.state()['virtual_disks']
               if vd['name'] == name]
        digest, size = hashlib.sha256(), 0
        with open(self.sim.sim.files.disk_path(vds[0]['udid']), 'rb') as fil:
            for buf in iter(lambda: fil.read(1024 * 1024), b''):
                digest.update(buf)
                size += len(buf)
        return size, digest.hexdigest()

    def mgmt_mappings(self):
        """vSCSI mappings whose client is the management partition."""
        return [m for vios in self.sim.state()['vioses']
                for m in vios['scsi_mappings'] if m['lpar_id'] == 1]

    def assert_usable(self):
        self.assertEqual('running', self.lpar(self.inst)['state'])
        self.assertEqual([], self.mgmt_mappings())


class TestSnapshot(SnapshotTestCase):
    """The management partition is not the VIOS (the default inventory)."""

    def test_bytes_task_states_and_server_kept_running(self):
        (size, digest, meta), calls = self.count_rest(self.snap)
        self.assertEqual(self.disk_digest(), (size, digest))
        self.assertEqual(1024 ** 3, size)
        self.assertEqual(
            [(task_states.IMAGE_PENDING_UPLOAD, None),
             (task_states.IMAGE_UPLOADING, task_states.IMAGE_PENDING_UPLOAD)],
            self.states)
        self.assertEqual('raw', meta['disk_format'])
        self.assertEqual('bare', meta['container_format'])
        # Read in chunks, never whole.
        self.assertLessEqual(self.api.largest, CHUNK)
        # Mapped to the management partition for the read, then unmapped:
        # feed GET + POST each way.
        self.assertEqual(4, calls)
        self.assert_usable()

    def test_snapshot_starts_with_the_image(self):
        # The disk was made from the image: its first bytes are the image.
        name = self.hctx.disk_dvr.boot_disk_name(self.inst)
        self.assertEqual(self.IMAGE_BYTES,
                         self.disk_bytes(name, len(self.IMAGE_BYTES)))
        self.snap()
        self.assertEqual(self.disk_digest()[1],
                         self.api.uploads['snap-1'][1])

    def test_powered_off_server(self):
        self.set_state(self.inst, 'not activated')
        self.assertEqual(self.disk_digest()[1], self.snap()[1])
        self.assertEqual([], self.mgmt_mappings())

    def test_no_partition_is_not_running(self):
        other = self.instance(config_drive=False)
        self.assertRaises(nova_exc.InstanceNotRunning, self.snap,
                          inst=other)
        self.assertEqual({}, self.api.uploads)
        self.assertEqual([], self.mgmt_mappings())

    def test_device_shorter_than_the_disk(self):
        name = self.hctx.disk_dvr.boot_disk_name(self.inst)
        udid = [vd['udid'] for vd in self.sim.state()['virtual_disks']
                if vd['name'] == name][0]
        with open(self.sim.sim.files.disk_path(udid), 'r+b') as fil:
            fil.truncate(5 * 1024 * 1024)
        err = self.assertRaises(pvm_exception.DiskNotReadable, self.snap)
        self.assertIn('ended %d bytes early' % (1024 ** 3 - 5 * 1024 * 1024),
                      str(err))
        self.assertEqual([], self.mgmt_mappings())

    def test_leftover_mapping_is_reused_and_removed(self):
        # A read that could not clean up (the process died) left its
        # mapping to the management partition: the next one reuses it.
        dvr = self.hctx.disk_dvr
        with dvr._mapped_to_mgmt(self.inst, vm.get_pvm_uuid(self.inst)):
            self.assertEqual(1, len(self.mgmt_mappings()))
            self.snap()
            self.assertEqual([], self.mgmt_mappings())
        self.assertEqual(self.disk_digest()[1], self.api.uploads['snap-1'][1])


class TestSnapshotFailures(testscenarios.WithScenarios, SnapshotTestCase):
    """A failure at each step: server running, no mapping, no image."""

    scenarios = [
        ('read_vios_feed', dict(
            fault=dict(method='GET', path='VirtualIOServer', status=500),
            upload=None, error=pvm_exception.PowerVMAPIFailed)),
        ('map_post', dict(
            fault=dict(method='POST', path='VirtualIOServer/[^/]+$'),
            upload=None, error=pvm_exception.PowerVMAPIFailed)),
        ('open_device', dict(
            fault='device', upload=None,
            error=pvm_exception.DiskNotReadable)),
        ('upload', dict(
            fault=None, upload=3 * 1024 * 1024, error=UploadFailed)),
        # The first unmap attempt fails; the retry removes the mapping.
        ('unmap_post_once', dict(
            fault='unmap', upload=None, error=None)),
    ]

    def test_failure_leaves_server_usable(self):
        if self.fault == 'unmap':
            # The 1st VIOS POST maps, the 2nd (the unmap) fails once.
            orig = self.hctx.disk_dvr._unmap_from_mgmt

            def unmap_with_fault(*args, **kwargs):
                self.sim.add_fault(method='POST',
                                   path='VirtualIOServer/[^/]+$', count=1)
                return orig(*args, **kwargs)
            self.hctx.disk_dvr._unmap_from_mgmt = unmap_with_fault
        elif self.fault == 'device':
            # The mapped disk never shows up on the management partition.
            shim = self.hctx.shim
            self.hctx.shim = NoDeviceShim()
        elif self.fault:
            self.sim.add_fault(count=1, **self.fault)
        self.api.fail_after = self.upload
        if self.error:
            self.assertRaises(self.error, self.snap)
            self.assertNotIn('snap-1', self.api.uploads)
        else:
            self.snap()
        self.assert_usable()
        # And the next snapshot works.
        if self.fault == 'device':
            self.hctx.shim = shim
        self.sim.clear_faults()
        self.api.fail_after = None
        self.assertEqual(self.disk_digest()[1], self.snap('snap-2')[1])
        self.assert_usable()


class TestSnapshotManagementVIOS(SnapshotTestCase):
    """The management partition is the VIOS that owns the volume group."""

    sim_kwargs = dict(SnapshotTestCase.sim_kwargs,
                      inventory=sim_inv.Inventory(mgmt_vios=True, vioses=1))

    def test_budget_and_bytes(self):
        mgmt = [v for v in self.sim.state()['vioses'] if v['id'] == 1]
        self.assertEqual(1, len(mgmt))
        (size, digest, _meta), calls = self.count_rest(self.snap)
        self.assertEqual(self.disk_digest(), (size, digest))
        # The budget is 3; the VIOS read with its mappings is all.
        self.assertEqual(1, calls)
        # Nothing was mapped to the management partition for it.
        self.assertEqual('running', self.lpar(self.inst)['state'])

    def test_read_fails_cleanly(self):
        self.sim.add_fault(method='GET', path='VirtualIOServer', count=1)
        self.assertRaises(pvm_exception.PowerVMAPIFailed, self.snap)
        self.assertEqual({}, self.api.uploads)
        self.assertEqual(self.disk_digest()[1], self.snap('snap-2')[1])


class TestSimulatorShimVisibility(SnapshotTestCase):
    """The simulator serves only disks the management partition sees."""

    def test_unmapped_disk_is_not_readable(self):
        name = self.hctx.disk_dvr.boot_disk_name(self.inst)
        udid = [vd['udid'] for vd in self.sim.state()['virtual_disks']
                if vd['name'] == name][0]
        dev = host_shim.DiskDevice(udid=udid, name=name, size=1)

        def read():
            with self.hctx.shim.open_disk(dev) as reader:
                return reader.read()
        err = self.assertRaises(pvm_exception.DiskNotReadable, read)
        self.assertIn('409', str(err))
        with self.hctx.disk_dvr._mapped_to_mgmt(
                self.inst, vm.get_pvm_uuid(self.inst)):
            self.assertEqual(1, len(read()))


class TestImageFormats(flowbase.FlowTestCase):
    """Only raw images make disks; others are refused before any change."""

    def test_qcow2_refused_before_anything_is_created(self):
        qcow = self.new_image(b'QFI\xfb' + b'\0' * 1020)
        qcow.disk_format = 'qcow2'
        before = flowbase.normalise(self.sim.state())
        self.sim.reset_stats()
        err = self.assertRaises(
            nova_exc.ImageUnacceptable, flows.spawn, self.hctx, self.ctx,
            self.instance(), qcow, [], None, None, None, True)
        self.assertIn('disk format qcow2 is not supported', str(err))
        self.assertIn(qcow.id, str(err))
        self.assertEqual(0, self.sim.stats()['total'])
        self.assertEqual(before, flowbase.normalise(self.sim.state()))

    def test_capabilities_say_raw_only(self):
        caps = driver.PowerVMDriver.capabilities
        types = {k[len('supports_image_type_'):]: v for k, v in caps.items()
                 if k.startswith('supports_image_type_')}
        self.assertEqual({'raw'}, {k for k, v in types.items() if v})
        self.assertEqual(set(image.SUPPORTED_DISK_FORMATS),
                         {k for k, v in types.items() if v})


class TestSnapshotSSP(flowbase.SSPMixin, SnapshotTestCase):
    """A boot disk that is a linked clone LU in a Shared Storage Pool."""

    def disk_digest(self):
        name = self.hctx.disk_dvr.boot_disk_name(self.inst)
        lus = [lu for lu in self.sim.state()['lus'] if lu['name'] == name]
        self.assertEqual(1, len(lus), name)
        digest, size = hashlib.sha256(), 0
        for buf in self.sim.sim.files.read_chunks(lus[0]['udid']):
            digest.update(buf)
            size += len(buf)
        return size, digest.hexdigest()

    def test_bytes_and_budget(self):
        (size, digest, _meta), calls = self.count_rest(self.snap)
        self.assertEqual(self.disk_digest(), (size, digest))
        # The clone's bytes start with the image's.
        self.assertEqual(self.IMAGE_BYTES, self.lu_bytes(
            self.hctx.disk_dvr.boot_disk_name(self.inst),
            len(self.IMAGE_BYTES)))
        # Mapped through one VIOS of the cluster and unmapped: within the
        # SSP budget of 6.
        self.assertEqual(4, calls)
        self.assert_usable()

    def test_failed_map_leaves_nothing(self):
        self.sim.add_fault(method='POST', path='VirtualIOServer/[^/]+$',
                           count=1)
        self.assertRaises(pvm_exception.PowerVMAPIFailed, self.snap)
        self.assert_usable()
        self.assertEqual(self.disk_digest()[1], self.snap('snap-2')[1])
