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
"""The VIOS storage-mapping layer.

An operation that maps or unmaps storage (spawn, destroy, rescue, a volume
attach) collects every change in one :class:`VIOSMappings`: the disk
adapter adds its disks, the config drive its media, each volume connector
its volumes.  :meth:`VIOSMappings.execute` then reads the VIOS feed once,
with only the extended groups the changes need (``?group=ViosSCSIMapping``
for vSCSI), applies every change to the wrappers, and POSTs each VIOS that
changed, once.  Concurrent operations share that GET and those POSTs
(``batch.VIOSWriter``); pypowervm's wrappers and ``scsi_mapper`` do the
work; no XML is built here.

Cost: 1 GET, plus 1 POST per changed VIOS; nothing when no change was
added.
"""

import copy

from oslo_log import log as logging
from pypowervm import const as pvm_const
from pypowervm.tasks import scsi_mapper as pvm_smap
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm import exception as exc
from nova_powervm.virt.powervm import batch
from nova_powervm.virt.powervm import errors

LOG = logging.getLogger(__name__)

# Extended attribute group of the VIOS's vSCSI mappings.
SCSI = pvm_const.XAG.VIO_SMAP
# Extended attribute group of the VIOS's virtual FC mappings.
FC = pvm_const.XAG.VIO_FMAP


def storage_named(names):
    """A match function for storage elements by name.

    Names are compared without a path prefix (VDisks may be reported as
    ``<vg>/<name>``).

    :param names: iterable of names.
    :returns: callable taking a storage element (or None), returning bool.
    """
    wanted = frozenset(names)

    def match(stg):
        return stg is not None and stg.name.split('/')[-1] in wanted
    return match


def boot_string(scsi_map):
    """The Open Firmware path of a mapped disk, for a PowerOn bootstring.

    The client adapter's unit address is ``30000000`` plus its slot, and
    the disk's unit address the mapping's logical unit address:
    ``/vdevice/v-scsi@30000002/disk@8100000000000000``.

    :param scsi_map: pypowervm ``VSCSIMapping`` with client adapter and
                     target device (as the VIOS returns it).
    :returns: str, or None when the mapping lacks either.
    """
    cla, tgt = scsi_map.client_adapter, scsi_map.target_dev
    if cla is None or tgt is None or not tgt.lua:
        return None
    lua = tgt.lua.lower()
    lua = lua[2:] if lua.startswith('0x') else lua
    return '/vdevice/v-scsi@%x/disk@%s' % (0x30000000 + cla.lpar_slot_num,
                                           lua)


def mapped_names(adapter, lpar_uuid):
    """Names of the storage mapped to a partition (1 GET of the VIOSes).

    :param adapter: pypowervm ``Adapter``.
    :param lpar_uuid: PowerVM UUID of the partition.
    """
    with errors.translate('read storage mappings'):
        vioses = pvm_vios.VIOS.get(adapter, xag=[SCSI])
    return {scsi_map.backing_storage.name.split('/')[-1]
            for vios_w in vioses
            for scsi_map in pvm_smap.find_maps(vios_w.scsi_mappings,
                                               client_lpar_id=lpar_uuid)
            if scsi_map.backing_storage is not None}


def _add_vscsi(vios_w, vios_uuid, lpar_uuid, stg):
    """Subtask: map ``stg`` to the partition on the VIOS ``vios_uuid``."""
    if vios_w.uuid != vios_uuid:
        return False
    # The mapping takes the storage element's XML node into its own tree;
    # a copy keeps one element added for several VIOSes (whose updates run
    # in parallel) from moving from one mapping to the other.
    stg = type(stg).wrap(copy.deepcopy(stg.element))
    mapping = pvm_smap.build_vscsi_mapping(None, vios_w, lpar_uuid, stg)
    return pvm_smap.add_map(vios_w, mapping) is not None


def _remove_vscsi(vios_w, lpar_uuid, match, vios_uuids):
    """Subtask: drop matching vSCSI mappings; returns what it removed."""
    if vios_uuids is not None and vios_w.uuid not in vios_uuids:
        return []
    return pvm_smap.remove_maps(vios_w, lpar_uuid, match_func=match,
                                include_orphans=True)


class VIOSMappings(object):
    """The VIOS mapping changes of one operation.

    :param adapter: pypowervm ``Adapter``.
    :param name: name of the operation (logs and messages).
    :param instance: nova ``Instance`` concerned, if any (messages).
    """

    def __init__(self, adapter, name, instance=None):
        self.adapter = adapter
        self.name = name
        self.instance = instance
        self._xags = set()
        self._subtasks = []
        self.removed = []
        # The VIOS wrappers as the last execute left them.
        self.vioses = []

    def __len__(self):
        return len(self._subtasks)

    def add_subtask(self, func, *args, xag=SCSI, **kwargs):
        """Add a change: ``func(vios_w, *args, **kwargs)`` on every VIOS.

        ``func`` changes the wrapper in place and returns a true value when
        it changed something (that VIOS is then POSTed).  A returned list
        is also collected in :attr:`removed` as ``(vios_uuid, item)``.

        :param func: the change.
        :param xag: the extended attribute group the change needs.
        """
        self._xags.add(xag)
        self._subtasks.append((func, args, kwargs))

    def add_vscsi(self, vios_uuid, lpar_uuid, storage):
        """Map a storage element to a partition through one VIOS.

        :param vios_uuid: UUID of the VIOS that owns the storage.
        :param lpar_uuid: PowerVM UUID of the client partition.
        :param storage: pypowervm storage element (VDisk, LU, VOptMedia,
                        PV).
        """
        self.add_subtask(_add_vscsi, vios_uuid, lpar_uuid, storage)

    def remove_vscsi(self, match, lpar_uuid=None, vios_uuids=None):
        """Remove the vSCSI mappings of matching storage.

        Mappings whose client adapter is gone (the partition was deleted)
        are included.

        :param match: callable taking a storage element, True to remove.
        :param lpar_uuid: only mappings to this partition (None: any).
        :param vios_uuids: only on these VIOSes (None: every VIOS).
        """
        self.add_subtask(_remove_vscsi, lpar_uuid, match,
                         None if vios_uuids is None else set(vios_uuids))

    def execute(self):
        """Apply the changes: 1 GET of the VIOS feed, 1 POST per change.

        The host's batching writer (``batch.vios_writer``) applies the
        changes of concurrent operations together: one GET and one POST
        per changed VIOS for all of them.

        :returns: :attr:`removed`, the ``(vios_uuid, storage)`` pairs of the
                  removed mappings.
        """
        if not self._subtasks:
            return self.removed
        edit = batch.VIOSEdit(self._subtasks, self._xags)
        with errors.translate(self.name.replace('_', ' '),
                              instance=None):
            rets, self.vioses = batch.vios_writer(self.adapter).submit(edit)
        for vios_uuid, values in rets.items():
            for value in values:
                if isinstance(value, list):
                    self.removed.extend(
                        (vios_uuid, m.backing_storage) for m in value
                        if getattr(m, 'backing_storage', None) is not None)
        return self.removed

    def names_mapped_to(self, lpar_uuid):
        """Names of the storage mapped to a partition (after execute).

        :param lpar_uuid: PowerVM UUID of the partition.
        """
        return {scsi_map.backing_storage.name.split('/')[-1]
                for vios_w in self.vioses
                for scsi_map in pvm_smap.find_maps(vios_w.scsi_mappings,
                                                   client_lpar_id=lpar_uuid)
                if scsi_map.backing_storage is not None}

    def boot_string(self, lpar_uuid, match, required=True):
        """The bootstring of a disk mapped to a partition (after execute).

        Read from the VIOS wrappers :meth:`execute` read and updated, so
        it costs nothing.

        :param lpar_uuid: PowerVM UUID of the partition.
        :param match: callable taking a storage element, True for the disk.
        :param required: raise when not found (else return None).
        :raises PowerVMAPIFailed: when no VIOS maps such a disk to it.
        """
        for vios_w in self.vioses:
            for scsi_map in pvm_smap.find_maps(vios_w.scsi_mappings,
                                               client_lpar_id=lpar_uuid,
                                               match_func=match):
                found = boot_string(scsi_map)
                if found:
                    return found
        if not required:
            return None
        raise exc.PowerVMAPIFailed(
            operation=self.name.replace('_', ' '),
            reason='no Virtual I/O Server maps the boot disk to partition '
                   '%s' % lpar_uuid)
