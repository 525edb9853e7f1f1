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
"""Rescue, unrescue and rebuild flows on the simulator.

What the partition boots from is the simulator's record of the PowerOn
job (``booted_from``); a failure at each REST request of each operation
leaves the server usable and nothing leaked.
"""

from nova import exception as nova_exc
from nova import objects
from pypowervm.tasks import power_opts as pvm_popts

from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.tests.unit.virt.powervm import test_flows
from nova_powervm.virt.powervm import flows
from nova_powervm.virt.powervm import media
from nova_powervm.virt.powervm import power

RESCUE_BYTES = (b'rescue-system-' * 4096)[:2 * 1024 * 1024 + 7]
NEW_BYTES = (b'rebuilt-image-' * 4096)[:1024 * 1024 + 3]


def _regex(request):
    return test_flows.TestSpawnFailsAtEachRequest.regex(request)


class RescueRebuildTestCase(test_flows.SpawnDestroyTestCase):

    # Storage type of the disks' mappings in the simulator's state.
    DISK_TYPE = 'VirtualDisk'

    def setUp(self):
        super().setUp()
        self.dvr = self.hctx.disk_dvr
        self.inst = self.instance()
        self.spawn(self.inst, flowbase.sea_network_info())

    def stop(self):
        """What nova does before it calls rescue."""
        power.power_off(self.hctx, self.inst, force_immediate=True)

    def rescue(self, image_meta=None):
        flows.rescue(self.hctx, self.ctx, self.inst,
                     image_meta or self.image_meta)

    def unrescue(self):
        flows.unrescue(self.hctx, self.inst)

    def rebuild(self, image_meta, preserve_ephemeral=False, bdi=None):
        flows.rebuild(self.hctx, self.ctx, self.inst, image_meta,
                      [('/etc/motd', b'rebuilt')], 'new-pass',
                      flowbase.sea_network_info(), bdi, preserve_ephemeral)

    def booted_from(self):
        return self.lpar(self.inst)['booted_from']

    def disk_names(self):
        return [n for n in self.vdisk_names() if not n.startswith('i_')]

    def disk_udids(self):
        """Disk name -> UDID of every disk of the storage."""
        return {vd['name']: vd['udid']
                for vd in self.sim.state()['virtual_disks']}

    def disks_of(self, inst):
        return sorted({n for t, n in self.mappings(inst)
                       if t == self.DISK_TYPE})

    def disk_mapping(self, name):
        """The mappings of a disk: one per VIOS the adapter maps through."""
        return [(self.DISK_TYPE, name)] * len(self.dvr.vios_uuids)


class TestRescue(RescueRebuildTestCase):

    def test_rescue_boots_the_rescue_disk_then_unrescue(self):
        boot = self.dvr.boot_disk_name(self.inst)
        rescue = self.dvr.rescue_disk_name(self.inst)
        self.assertEqual(boot, self.booted_from())
        before = self.mappings(self.inst)
        self.stop()
        image = self.new_image(RESCUE_BYTES)
        self.rescue(image)
        self.assertEqual('running', self.lpar(self.inst)['state'])
        self.assertEqual(rescue, self.booted_from())
        self.assertEqual(sorted([boot, rescue]), self.disks_of(self.inst))
        self.assertEqual(RESCUE_BYTES,
                         self.disk_bytes(rescue, len(RESCUE_BYTES)))
        # The boot disk is attached, untouched.
        self.assertEqual(self.IMAGE_BYTES,
                         self.disk_bytes(boot, len(self.IMAGE_BYTES)))
        self.unrescue()
        self.assertEqual('running', self.lpar(self.inst)['state'])
        self.assertEqual(boot, self.booted_from())
        self.assertEqual(before, self.mappings(self.inst))
        self.assertEqual([boot], self.disk_names())

    def test_rescue_from_own_image_and_destroy_while_rescued(self):
        self.stop()
        self.rescue()
        rescue = self.dvr.rescue_disk_name(self.inst)
        self.assertEqual(rescue, self.booted_from())
        self.assertEqual(self.IMAGE_BYTES,
                         self.disk_bytes(rescue, len(self.IMAGE_BYTES)))
        self.destroy(self.inst)
        self.assertEqual([], self.disk_names())
        self.assertEqual([], self.storage_mappings(self.inst))

    def test_rescue_without_an_image_uses_its_own(self):
        # nova's compute manager always names one; nova's driver contract
        # tests do not.
        self.stop()
        self.rescue(objects.ImageMeta.from_dict({}))
        rescue = self.dvr.rescue_disk_name(self.inst)
        self.assertEqual(rescue, self.booted_from())
        self.assertEqual(self.IMAGE_BYTES,
                         self.disk_bytes(rescue, len(self.IMAGE_BYTES)))

    def test_unrescue_removes_what_failures_left(self):
        # A rescue disk and a second, unmapped boot disk (a failed
        # rebuild's): unrescue (and the hard reboot of a server in ERROR)
        # removes both and boots the mapped boot disk.
        boot = self.dvr.boot_disk_name(self.inst)
        self.dvr.create_rescue_disk(self.ctx, self.inst, self.image_meta)
        self.dvr.create_boot_disk(self.ctx, self.inst, self.image_meta,
                                  self.dvr.alt_boot_disk_name(self.inst))
        self.assertEqual(3, len(self.disk_names()))
        self.unrescue()
        self.assertEqual([boot], self.disk_names())
        self.assertEqual(boot, self.booted_from())
        self.assertEqual('running', self.lpar(self.inst)['state'])

    def test_rest_budgets(self):
        self.stop()
        _r, calls = self.count_rest(self.rescue)
        self.assertLessEqual(calls, 12, self.sim.stats()['by_pattern'])
        _r, calls = self.count_rest(self.unrescue)
        self.assertLessEqual(calls, 12, self.sim.stats()['by_pattern'])

    def test_rescue_device_and_bus(self):
        self.stop()
        for props, key in (
                ({'hw_rescue_device': 'cdrom'}, 'hw_rescue_device=cdrom'),
                ({'hw_rescue_bus': 'virtio'}, 'hw_rescue_bus=virtio'),
                ({'hw_rescue_device': 'disk', 'hw_rescue_bus': 'usb'},
                 'hw_rescue_bus=usb')):
            image = self.new_image(RESCUE_BYTES)
            image.properties = image.properties.from_dict(props)
            before = flowbase.normalise(self.sim.state())
            self.sim.reset_stats()
            exc = self.assertRaises(nova_exc.InvalidInput, self.rescue,
                                    image)
            self.assertIn(key, str(exc))
            self.assertEqual(0, self.sim.stats()['total'])
            self.assertEqual(before, flowbase.normalise(self.sim.state()))
        image = self.new_image(RESCUE_BYTES)
        image.properties = image.properties.from_dict(
            {'hw_rescue_device': 'disk', 'hw_rescue_bus': 'scsi'})
        self.rescue(image)
        self.assertEqual(self.dvr.rescue_disk_name(self.inst),
                         self.booted_from())

    def test_rescue_fails_at_each_request(self):
        self.stop()
        self.rescue()
        self.unrescue()
        self.stop()
        self.sim.reset_stats()
        self.rescue()
        requests = sorted(self.sim.stats()['by_pattern'])
        self.unrescue()
        self.stop()
        failed = []
        for request in requests:
            before = flowbase.normalise(self.sim.state())
            self.sim.add_fault(method=request.split(' ')[0],
                               path=_regex(request), count=1)
            try:
                self.rescue()
            except nova_exc.NovaException:
                failed.append(request)
                self.sim.clear_faults()
                # Off, on its own disks: as before the rescue.
                self.assertEqual(before,
                                 flowbase.normalise(self.sim.state()),
                                 request)
            else:
                self.sim.clear_faults()
                self.assertEqual(self.dvr.rescue_disk_name(self.inst),
                                 self.booted_from(), request)
                self.unrescue()
                self.stop()
        self.assertEqual(
            sorted(r for r in requests if not r.startswith('DELETE')),
            sorted(failed))
        # Usable: it starts from its own disk.
        power.power_on(self.hctx, self.inst)
        self.assertEqual(self.dvr.boot_disk_name(self.inst),
                         self.booted_from())

    def test_unrescue_fails_at_each_request(self):
        boot = self.dvr.boot_disk_name(self.inst)
        self.stop()
        self.rescue()
        self.sim.reset_stats()
        self.unrescue()
        requests = sorted(self.sim.stats()['by_pattern'])
        self.assertEqual([boot], self.disk_names())
        for request in requests:
            self.stop()
            self.rescue()
            self.sim.add_fault(method=request.split(' ')[0],
                               path=_regex(request), count=1)
            try:
                self.unrescue()
            except nova_exc.NovaException:
                self.sim.clear_faults()
                # Run again, it finishes.
                self.unrescue()
            self.sim.clear_faults()
            self.assertEqual(boot, self.booted_from(), request)
            self.assertEqual([boot], self.disk_names(), request)
            self.assertEqual([boot], self.disks_of(self.inst), request)
            self.assertEqual([], self.sim.state()['files'], request)


class TestBootDevice(RescueRebuildTestCase):
    """The simulator's firmware boots what the bootstring names."""

    def test_unknown_boot_device_fails_the_power_on(self):
        self.stop()
        opts = pvm_popts.PowerOnOpts().bootstring(
            '/vdevice/v-scsi@30000063/disk@8100000000000000')
        exc = self.assertRaises(nova_exc.InstancePowerOnFailure,
                                power.power_on, self.hctx, self.inst,
                                opts=opts)
        self.assertIn('Boot device', str(exc))
        self.assertEqual('not activated', self.lpar(self.inst)['state'])

    def test_without_bootstring_the_first_disk(self):
        self.stop()
        power.power_on(self.hctx, self.inst)
        self.assertEqual(self.dvr.boot_disk_name(self.inst),
                         self.booted_from())
        self.stop()
        self.assertIsNone(self.booted_from())


class TestRebuild(RescueRebuildTestCase):

    def test_rebuild_replaces_only_the_boot_disk(self):
        lpar = self.lpar(self.inst)
        cnas = self.cnas(self.inst)
        new = self.new_image(NEW_BYTES)
        self.inst.image_ref = new.id
        self.rebuild(new)
        after = self.lpar(self.inst)
        self.assertEqual((lpar['uuid'], lpar['id']),
                         (after['uuid'], after['id']))
        self.assertEqual('running', after['state'])
        self.assertEqual(cnas, self.cnas(self.inst))
        alt = self.dvr.alt_boot_disk_name(self.inst)
        self.assertEqual([alt], self.disk_names())
        self.assertEqual(alt, self.booted_from())
        self.assertEqual(NEW_BYTES, self.disk_bytes(alt, len(NEW_BYTES)))
        self.assertEqual(
            sorted(self.disk_mapping(alt) +
                   [('VirtualOpticalMedia', media.vopt_name(self.inst))]),
            self.mappings(self.inst))
        # And back: the names take turns.
        self.inst.image_ref = self.image_meta.id
        self.rebuild(self.image_meta)
        boot = self.dvr.boot_disk_name(self.inst)
        self.assertEqual([boot], self.disk_names())
        self.assertEqual(boot, self.booted_from())
        self.assertEqual(self.IMAGE_BYTES,
                         self.disk_bytes(boot, len(self.IMAGE_BYTES)))
        self.destroy(self.inst)
        self.assertEqual([], self.disk_names())

    def test_rebuild_of_a_stopped_server(self):
        self.stop()
        self.rebuild(self.new_image(NEW_BYTES))
        self.assertEqual('running', self.lpar(self.inst)['state'])

    def _local_server(self):
        self.destroy(self.inst)
        self.inst = self.instance()
        self.inst.flavor.ephemeral_gb = 1
        self.inst.flavor.swap = 256
        self.spawn(self.inst)
        return self.disk_udids()

    def test_preserve_ephemeral(self):
        udids = self._local_server()
        eph = self.dvr.ephemeral_disk_name(self.inst, 0)
        swap = self.dvr.swap_disk_name(self.inst)
        self.rebuild(self.new_image(NEW_BYTES), preserve_ephemeral=True)
        now = self.disk_udids()
        self.assertEqual(udids[eph], now[eph])
        self.assertEqual(udids[swap], now[swap])
        self.assertEqual(
            sorted([self.dvr.alt_boot_disk_name(self.inst), eph, swap]),
            self.disks_of(self.inst))

    def test_ephemeral_made_again(self):
        udids = self._local_server()
        eph = self.dvr.ephemeral_disk_name(self.inst, 0)
        swap = self.dvr.swap_disk_name(self.inst)
        self.rebuild(self.new_image(NEW_BYTES))
        now = self.disk_udids()
        self.assertNotEqual(udids[eph], now[eph])
        self.assertEqual(udids[swap], now[swap])
        self.assertEqual(
            sorted([self.dvr.alt_boot_disk_name(self.inst), eph, swap]),
            self.disks_of(self.inst))
        self.assertEqual(self.dvr.alt_boot_disk_name(self.inst),
                         self.booted_from())

    def test_rest_budget(self):
        new = self.new_image(NEW_BYTES)
        self.rebuild(new)
        _r, calls = self.count_rest(self.rebuild, self.image_meta)
        self.assertLessEqual(calls, 20, self.sim.stats()['by_pattern'])

    def test_rebuild_fails_at_each_request(self):
        new = self.new_image(NEW_BYTES)
        self.rebuild(new)
        self.sim.reset_stats()
        self.rebuild(self.image_meta)
        requests = sorted(self.sim.stats()['by_pattern'])
        cnas = self.cnas(self.inst)
        for n, request in enumerate(requests):
            image = (new, self.image_meta)[n % 2]
            files = self.sim.state()['files']
            self.sim.add_fault(method=request.split(' ')[0],
                               path=_regex(request), count=1)
            try:
                self.rebuild(image)
            except nova_exc.NovaException:
                self.sim.clear_faults()
                # Usable: a rebuild run again completes.
                self.rebuild(image)
            self.sim.clear_faults()
            self.assertEqual('running', self.lpar(self.inst)['state'],
                             request)
            self.assertEqual(cnas, self.cnas(self.inst), request)
            names = self.disk_names()
            self.assertEqual(1, len(names), (request, names))
            self.assertEqual(names[0], self.booted_from(), request)
            self.assertEqual(
                sorted(self.disk_mapping(names[0]) +
                       [('VirtualOpticalMedia', media.vopt_name(self.inst))]),
                self.mappings(self.inst), request)
            if request != 'DELETE /rest/api/web/File/{uuid}':
                # A failed DELETE of an upload's descriptor leaves it (as
                # in spawn: the upload itself worked).
                self.assertEqual(files, self.sim.state()['files'], request)
            data = NEW_BYTES if image is new else self.IMAGE_BYTES
            self.assertEqual(data, self.disk_bytes(names[0], len(data)),
                             request)


class SSPMixin(flowbase.SSPMixin):
    """The same tests with ``disk_driver = ssp``: disks are LUs.

    Every disk LU is mapped through both VIOSes of the cluster.
    """

    DISK_TYPE = 'LogicalUnit'

    def disk_names(self):
        return sorted(lu['name'] for lu in self.sim.state()['lus']
                      if lu['type'] == 'VirtualIO_Disk')

    def disk_udids(self):
        return {lu['name']: lu['udid'] for lu in self.sim.state()['lus']}

    def disk_bytes(self, name, length):
        return self.lu_bytes(name, length)

    def image_lu(self, image_meta):
        name = self.dvr.image_name(image_meta.id)
        found = [lu for lu in self.sim.state()['lus'] if lu['name'] == name]
        self.assertEqual(1, len(found), name)
        return found[0]


class TestSSPRescue(SSPMixin, TestRescue):
    """Rescue on a Shared Storage Pool: the rescue disk is a linked clone."""

    def test_rescue_disk_is_a_clone_of_the_uploaded_image(self):
        self.stop()
        image = self.new_image(RESCUE_BYTES)
        self.sim.reset_stats()
        self.rescue(image)
        # The rescue image is uploaded once into its image LU...
        self.assertEqual(1, self.sim.stats()['by_pattern'].get(
            'PUT /rest/api/web/File/contents/{uuid}'))
        rescue = self.disk_udids()[self.dvr.rescue_disk_name(self.inst)]
        lus = {lu['udid']: lu for lu in self.sim.state()['lus']}
        img = self.image_lu(image)
        self.assertEqual('VirtualIO_Image', img['type'])
        self.assertEqual(img['udid'][2:], lus[rescue]['cloned_from'][2:])
        # ...and sized as the image, not the flavor's root disk.
        self.assertEqual(1.0, lus[rescue]['capacity_gb'])
        self.unrescue()
        self.stop()
        # A second rescue from the same image uploads nothing.
        self.sim.reset_stats()
        self.rescue(image)
        self.assertNotIn('PUT /rest/api/web/File/contents/{uuid}',
                         self.sim.stats()['by_pattern'])
        self.unrescue()
        # The image LU outlives the rescue until the image cache pass.
        self.assertIn(self.dvr.image_name(image.id),
                      flows.manage_image_cache(self.hctx, self.ctx,
                                               [self.inst]))

    def test_rescue_image_upload_fails(self):
        self.stop()
        before = flowbase.normalise(self.sim.state())
        self.sim.add_fault(method='PUT', path='web/File/contents', count=1)
        self.assertRaises(nova_exc.NovaException, self.rescue,
                          self.new_image(RESCUE_BYTES))
        self.assertEqual(before, flowbase.normalise(self.sim.state()))

    def test_rescue_clone_fails_after_upload(self):
        # The image LU this rescue uploaded goes with the failed clone.
        self.stop()
        before = flowbase.normalise(self.sim.state())
        # PUTs: marker, image LU, then the clone.
        self.sim.add_fault(method='PUT', path='LogicalUnit$', skip=2,
                           count=1)
        self.assertRaises(nova_exc.NovaException, self.rescue,
                          self.new_image(RESCUE_BYTES))
        self.assertEqual(before, flowbase.normalise(self.sim.state()))


class TestSSPRebuild(SSPMixin, TestRebuild):
    """Rebuild on a Shared Storage Pool: the new boot disk is a clone."""

    def test_new_boot_disk_is_a_clone_of_the_new_image(self):
        new = self.new_image(NEW_BYTES)
        self.rebuild(new)
        alt = self.dvr.alt_boot_disk_name(self.inst)
        lus = {lu['name']: lu for lu in self.sim.state()['lus']}
        self.assertEqual(self.image_lu(new)['udid'][2:],
                         lus[alt]['cloned_from'][2:])
        # Sized by the flavor, as the first boot disk.
        self.assertEqual(self.inst.flavor.root_gb, lus[alt]['capacity_gb'])

    def test_blank_lus_are_thin(self):
        _total, used = self.dvr.disk_usage()
        self._local_server()
        lus = {lu['name']: lu for lu in self.sim.state()['lus']}
        eph = self.dvr.ephemeral_disk_name(self.inst, 0)
        swap = self.dvr.swap_disk_name(self.inst)
        self.assertEqual((1.0, 0.25), (lus[eph]['capacity_gb'],
                                       lus[swap]['capacity_gb']))
        self.assertEqual([None, None], [lus[eph]['cloned_from'],
                                        lus[swap]['cloned_from']])
        # Thin: they take nothing from the pool until written (and the
        # boot disk shares the image LU's blocks).
        self.assertEqual(used, self.dvr.disk_usage()[1])
