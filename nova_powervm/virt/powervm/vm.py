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
"""Partitions (LPARs) of nova instances: lookup, create, delete.

Everything takes a pypowervm ``Adapter`` and nova objects, and nothing here
reads host identity or module state, so several drivers can share it.
REST cost of each function is given in its docstring.  Power operations
are in ``power.py``.
"""

import json
import re

from nova.compute import power_state
from nova import exception as nova_exc
from oslo_config import cfg
from oslo_log import log as logging
from pypowervm.utils import uuid as pvm_uuid
from pypowervm.wrappers import base_partition as pvm_bp
from pypowervm.wrappers import logical_partition as pvm_lpar

from nova_powervm.virt.powervm import cache as pvm_cache
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import lpar_builder

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_S = pvm_bp.LPARState

# Suffix of quick property reads (pypowervm has no constant for it).
_QUICK = 'quick'

# Every PowerVM partition state -> nova power state.
POWERVM_TO_NOVA_STATE = {
    _S.RUNNING: power_state.RUNNING,
    _S.STARTING: power_state.RUNNING,
    _S.OPEN_FIRMWARE: power_state.RUNNING,
    _S.SHUTTING_DOWN: power_state.RUNNING,
    _S.MIGRATING_RUNNING: power_state.RUNNING,
    _S.SUSPENDING: power_state.SUSPENDED,
    _S.SUSPENDED: power_state.SUSPENDED,
    _S.RESUMING: power_state.SUSPENDED,
    _S.NOT_ACTIVATED: power_state.SHUTDOWN,
    _S.MIGRATING_NOT_ACTIVE: power_state.SHUTDOWN,
    _S.ERROR: power_state.CRASHED,
    _S.HARDWARE_DISCOVERY: power_state.NOSTATE,
    _S.NOT_AVAILBLE: power_state.NOSTATE,
    _S.UNKNOWN: power_state.NOSTATE,
}


def to_nova_state(pvm_state):
    """Map a PowerVM partition state to a nova power state.

    :param pvm_state: ``PartitionState`` text (any case).
    :returns: an int of ``nova.compute.power_state``; NOSTATE if unknown.
    """
    if pvm_state is None:
        return power_state.NOSTATE
    for key, value in POWERVM_TO_NOVA_STATE.items():
        if key.lower() == str(pvm_state).lower():
            return value
    return power_state.NOSTATE


def get_pvm_uuid(instance):
    """The PowerVM UUID of an instance's partition, upper case.

    PowerVM UUIDs have the top bit cleared, so it is the instance UUID with
    its first digit ANDed with 7.

    :param instance: nova ``Instance`` (or an object with ``uuid``).
    :returns: str.
    """
    return pvm_uuid.convert_uuid_to_pvm(instance.uuid).upper()


def nova_uuid_candidates(pvm_uuid_str):
    """The two nova UUIDs that map to a PowerVM UUID (top bit 0 or 1).

    :param pvm_uuid_str: a PowerVM partition UUID.
    :returns: list of two lower-case UUID strings.
    """
    low = pvm_uuid_str.lower()
    first = int(low[0], 16) & 7
    return ['%x%s' % (first, low[1:]), '%x%s' % (first | 8, low[1:])]


def get_instance_wrapper(adapter, instance):
    """Read the LPAR wrapper of an instance (1 GET).

    :param adapter: pypowervm ``Adapter``.
    :param instance: nova ``Instance``.
    :returns: pypowervm ``LPAR`` wrapper.
    :raises nova.exception.InstanceNotFound: if the partition is missing.
    """
    with errors.translate('read partition', instance=instance):
        return pvm_lpar.LPAR.get(adapter, uuid=get_pvm_uuid(instance))


def get_vm_qp(adapter, lpar_uuid, prop=None):
    """Read one quick property of a partition (1 GET).

    :param adapter: pypowervm ``Adapter``.
    :param lpar_uuid: PowerVM UUID of the partition.
    :param prop: property name (``PartitionState``, ``PartitionID``, ...);
                 None reads the dict of all of them.
    :returns: the JSON-decoded value.
    :raises nova.exception.InstanceNotFound: if the partition is missing.
    """
    kwargs = {'suffix_type': _QUICK}
    if prop:
        kwargs['suffix_parm'] = prop
    with errors.translate('read %s' % (prop or 'quick properties'),
                          instance=lpar_uuid):
        resp = adapter.read(pvm_lpar.LPAR.schema_type, root_id=lpar_uuid,
                            **kwargs)
    return json.loads(resp.body)


def get_power_state(adapter, instance):
    """The nova power state of an instance (1 GET).

    :raises nova.exception.InstanceNotFound: if the partition is missing.
    """
    state = get_vm_qp(adapter, get_pvm_uuid(instance), 'PartitionState')
    return to_nova_state(state)


def instance_exists(adapter, instance):
    """Whether the instance's partition exists (1 GET)."""
    try:
        get_vm_qp(adapter, get_pvm_uuid(instance), 'PartitionID')
    except nova_exc.InstanceNotFound:
        return False
    return True


# A printf conversion of nova's instance name template.
_PRINTF_RE = re.compile(
    r'%(\([^)]*\))?[-#0 +]*\d*(\.\d+)?[diouxXeEfFgGcrs]')


def name_matcher(template):
    """A predicate telling partition names nova's template can produce.

    nova names instances with ``[DEFAULT] instance_name_template``
    (``instance-%08x``); partitions with other names were not made by nova
    and are not reported as instances (a new compute refuses to start when
    its hypervisor reports any).  A name cut to PowerVM's 31 characters
    only has to start like the template.

    :param template: the instance name template.
    :returns: callable taking a partition name, returning bool.
    """
    literals = _PRINTF_RE.sub('\0', template).split('\0')
    full = re.compile('.+'.join(re.escape(lit) for lit in literals),
                      re.DOTALL)
    head = literals[0]
    limit = lpar_builder.MAX_NAME_LEN

    def matches(name):
        if full.fullmatch(name):
            return True
        return len(name) >= limit and name.startswith(head)
    return matches


def get_lpars(adapter):
    """Client partitions of the host, without the management partition.

    1 GET of the LogicalPartition feed.

    :returns: list of pypowervm ``LPAR`` wrappers.
    """
    with errors.translate('list partitions'):
        lpars = pvm_lpar.LPAR.get(adapter)
    return [lpar for lpar in lpars if not lpar.is_mgmt_partition]


def partition_states(adapter):
    """``PartitionState`` of every partition of the host (1 GET).

    One read of the LogicalPartition feed (no extended groups).

    :param adapter: pypowervm ``Adapter``.
    :returns: dict ``{PowerVM UUID: state}``.
    """
    with errors.translate('list partitions'):
        lpars = pvm_lpar.LPAR.get(adapter)
    return {lpar.uuid: lpar.state for lpar in lpars}


def instance_lpars(ctx):
    """Client partitions named like nova instances (1 GET).

    The feed read also refreshes the host's partition state snapshot, so
    the ``get_info`` calls of a periodic pass that follow cost nothing.

    :param ctx: ``HostContext``.
    :returns: list of pypowervm ``LPAR`` wrappers.
    """
    matches = name_matcher(CONF.instance_name_template)
    lpars = []

    def read():
        lpars.extend(get_lpars(ctx.adapter))
        return {lpar.uuid: lpar.state for lpar in lpars}
    ctx.cache.lpar_states.store(read)
    return [lpar for lpar in lpars if matches(lpar.name)]


def cached_state(ctx, instance):
    """The ``PartitionState`` of an instance from the host's snapshot.

    One LPAR feed GET serves every call for ``cache.LPAR_STATE_TTL``
    seconds; a partition events marked stale is read alone (1 GET).

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :raises InstanceNotFound: when the partition does not exist.
    """
    states = ctx.cache.lpar_states
    lpar_uuid = get_pvm_uuid(instance)
    found, state = states.lookup(lpar_uuid)
    if found == pvm_cache.MISS and not states.is_fresh():
        read = states.refresh(lambda: partition_states(ctx.adapter))
        if read and lpar_uuid in read:
            # Read after this call began: good for it, even if an event
            # marked the partition stale for later calls.
            return read[lpar_uuid]
        found, state = states.lookup(lpar_uuid)
    if found == pvm_cache.HIT:
        return state
    return states.store_one(lpar_uuid, lambda: get_vm_qp(
        ctx.adapter, lpar_uuid, 'PartitionState'))


def create_lpar(adapter, host_wrapper, instance, image_meta=None):
    """Create the partition of an instance (1 PUT; +1 GET for a named pool).

    :param adapter: pypowervm ``Adapter``.
    :param host_wrapper: pypowervm ``System`` wrapper of the host.
    :param instance: nova ``Instance``.
    :param image_meta: nova ``ImageMeta``; ``os_distro=ibmi`` makes an
                       IBM i partition.
    :returns: the created pypowervm ``LPAR`` wrapper.
    :raises InvalidExtraSpec: for a bad ``powervm:*`` extra spec.
    """
    lpar_w = lpar_builder.build_lpar(adapter, host_wrapper, instance,
                                     image_meta)
    with errors.translate(_create_operation(instance), instance=None):
        created = lpar_w.create(parent=host_wrapper)
    LOG.info('Created partition %(name)s (%(uuid)s).',
             {'name': created.name, 'uuid': created.uuid},
             instance=instance)
    return created


def _create_operation(instance):
    """"create partition", with the flavor's processor and memory keys.

    When the host refuses the partition (not enough processing units
    left in the shared pool, say), the fault then names what the flavor
    asked for.
    """
    specs = instance.flavor.extra_specs or {}
    asked = ['%s=%s' % (key, specs[key]) for key in sorted(specs)
             if key.startswith('powervm:')]
    what = '%d vCPUs, %d MB' % (instance.flavor.vcpus,
                                instance.flavor.memory_mb)
    if asked:
        what += ', ' + ', '.join(asked)
    return 'create partition (%s)' % what


def delete_lpar(adapter, instance):
    """Delete the partition of an instance; a missing one is success.

    1 DELETE.  The partition should be powered off first.

    :param adapter: pypowervm ``Adapter``.
    :param instance: nova ``Instance``.
    """
    with errors.ignore_missing():
        with errors.translate('delete partition'):
            adapter.delete(pvm_lpar.LPAR.schema_type,
                           root_id=get_pvm_uuid(instance))
            LOG.info('Deleted partition.', instance=instance)
