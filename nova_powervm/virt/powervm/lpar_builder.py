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
"""Flavor + image -> pypowervm LPAR wrapper.

``validate_extra_specs`` checks every ``powervm:*`` key against the table in
``extra_specs``, then what one key alone cannot say: each minimum, desired
and maximum against the flavor and each other, and the processing units
per virtual processor (between the host's minimum, 0.05 on current
firmware, and 1.0).  Given the host, it also checks what the host supports
(capabilities, compatibility modes, memory region size, its configurable
processing units).  It runs before anything is created and every refusal
names the key and the value.  ``build_lpar`` turns the flavor into the
attributes of pypowervm's ``LPARBuilder`` and returns the (not yet created)
wrapper.

What the host has free at the moment (the sum of every partition's
entitlement against the shared pool) is not checked here: the host wrapper
the checks get is a cached one, good for static properties only.  The host
itself refuses a partition that does not fit when it is created.
"""

from pypowervm.utils import lpar_builder as pvm_lb
from pypowervm.utils import uuid as pvm_uuid
from pypowervm.wrappers import base_partition as pvm_bp
from pypowervm.wrappers import shared_proc_pool as pvm_spp

from nova_powervm import conf as pvm_conf
from nova_powervm import exception as exc
from nova_powervm.virt.powervm import extra_specs as pvm_specs

CONF = pvm_conf.CONF

_DEFAULT_POOL = 'DefaultPool'

# Longest partition name PowerVM accepts.
MAX_NAME_LEN = pvm_lb.MAX_LPAR_NAME_LEN

# Host capability each spec needs when it is set to a "real" value.
_HOST_CAPS = {
    'ppt_ratio': 'physical_page_table_ratio_capable',
    'enforce_affinity_check': 'affinity_check_capable',
}
# ManagedSystem capability of Active Memory Expansion.
_AME_CAP = 'active_memory_expansion_capable'


def _flavor_specs(flavor):
    return pvm_specs.powervm_specs(getattr(flavor, 'extra_specs', None))


def _check_host(key, value, host_wrapper):
    """Raise ValueError when the host cannot honour a parsed spec."""
    name = key[len(pvm_specs.PREFIX):]
    if name == 'processor_compatibility':
        modes = host_wrapper.proc_compat_modes or ()
        if value not in modes:
            raise ValueError('the host supports only: %s' % ', '.join(modes))
    elif name in _HOST_CAPS and value:
        if not host_wrapper.get_capability(_HOST_CAPS[name]):
            raise ValueError('the host is not capable of it')
    elif name == 'secure_boot' and value:
        if not host_wrapper.get_capability('partition_secure_boot_capable'):
            raise ValueError('the host is not secure-boot capable')
    elif name == 'ame_expansion_factor' and value:
        if not host_wrapper.get_capability(_AME_CAP):
            raise ValueError('the host is not Active Memory Expansion (AME) '
                             'capable; only 0 (off) is accepted here')
    elif name == 'max_vcpu':
        limit = host_wrapper.max_sys_procs_limit
        if limit and value > limit:
            raise ValueError('more than the %d virtual processors a '
                             'partition may have on this host' % limit)
    elif name in ('min_mem', 'max_mem'):
        lmb = host_wrapper.memory_region_size
        if lmb and value % lmb:
            raise ValueError('memory must be a multiple of the host '
                             'memory region size (%d MB)' % lmb)


def _flavor_value(flavor, field):
    """A flavor field, or None when the flavor object does not carry it."""
    is_set = getattr(flavor, 'obj_attr_is_set', None)
    if is_set is not None and not is_set(field):
        return None
    return getattr(flavor, field, None)


class _Refusal(ValueError):
    """A refused combination, with the key to blame."""

    def __init__(self, key, reason):
        super().__init__(reason)
        self.key = key


def _check_range(flavor, attrs, source, low, high, field, what):
    """``attrs[low] <= flavor.<field> <= attrs[high]`` where they are set."""
    desired = _flavor_value(flavor, field)
    if desired is None:
        return
    if attrs.get(low) is not None and attrs[low] > desired:
        raise _Refusal(source[low], 'more than the flavor\'s %d %s'
                       % (desired, what))
    if attrs.get(high) is not None and attrs[high] < desired:
        raise _Refusal(source[high], 'less than the flavor\'s %d %s'
                       % (desired, what))


def _plural(count, noun):
    return '%g %s%s' % (count, noun, '' if count == 1 else 's')


def _proc_levels(flavor, attrs, source):
    """Minimum, desired and maximum of a shared-processor partition.

    Defaults follow pypowervm's ``DefaultStandardize``: minimum and maximum
    virtual processors and processing units default to the desired value,
    and desired processing units to vCPUs x ``proc_units_factor`` (within
    a given minimum and maximum).

    :returns: list of ``(label, units, vps, blame)``; ``blame`` is the key
              the level's values come from (None when all are defaults).
    """
    vcpus = flavor.vcpus
    units = attrs.get(pvm_lb.PROC_UNITS)
    units_key = source.get(pvm_lb.PROC_UNITS)
    if units is None:
        units = vcpus * CONF.powervm.proc_units_factor
        low = attrs.get(pvm_lb.MIN_PROC_U)
        high = attrs.get(pvm_lb.MAX_PROC_U)
        if low is not None and low > units:
            units, units_key = low, source[pvm_lb.MIN_PROC_U]
        if high is not None and high < units:
            units, units_key = high, source[pvm_lb.MAX_PROC_U]
    levels = [('', units, vcpus, units_key)]
    for label, u_attr, v_attr in (('minimum ', pvm_lb.MIN_PROC_U,
                                   pvm_lb.MIN_VCPU),
                                  ('maximum ', pvm_lb.MAX_PROC_U,
                                   pvm_lb.MAX_VCPU)):
        blame = source.get(u_attr) or source.get(v_attr) or units_key
        levels.append((label, attrs.get(u_attr, units),
                       attrs.get(v_attr, vcpus), blame))
    return levels


def _check_proc_units(flavor, attrs, source, host_wrapper):
    """Processing units against virtual processors and the host.

    PowerVM entitles each virtual processor to between the host's minimum
    (``MinimumProcessorUnitsPerVirtualProcessor``, 0.05 on current
    firmware) and 1.0 processing units, at every level (minimum, desired,
    maximum); no level can exceed the host's configurable processing
    units.
    """
    if attrs.get(pvm_lb.DED_PROCS) or not _flavor_value(flavor, 'vcpus'):
        return
    per_vp_min = pvm_specs.PROC_UNITS_MIN
    capacity = None
    if host_wrapper is not None:
        per_vp_min = host_wrapper.min_proc_units or per_vp_min
        capacity = host_wrapper.proc_units_configurable or None
    per_vp_max = pvm_specs.PROC_UNITS_PER_VP_MAX
    levels = _proc_levels(flavor, attrs, source)
    desired = levels[0][1]
    for label, units, vps, blame in levels:
        what = '%g %sprocessing units on %s' % (
            units, label, _plural(vps, label + 'virtual processor'))
        if label == 'minimum ' and units > desired:
            raise _Refusal(blame, '%g minimum processing units: more than '
                           'the %g processing units' % (units, desired))
        if label == 'maximum ' and units < desired:
            raise _Refusal(blame, '%g maximum processing units: less than '
                           'the %g processing units' % (units, desired))
        if units > vps * per_vp_max + 1e-9:
            raise _Refusal(blame, '%s: more than %g per virtual processor '
                           '(at most %g)' % (what, per_vp_max,
                                             vps * per_vp_max))
        if units < vps * per_vp_min - 1e-9:
            raise _Refusal(blame, '%s: less than the host\'s minimum of %g '
                           'per virtual processor (at least %g)'
                           % (what, per_vp_min, round(vps * per_vp_min, 2)))
        if capacity is not None and units > capacity + 1e-9:
            raise _Refusal(blame, '%g %sprocessing units: more than the '
                           'host\'s %g configurable processing units'
                           % (units, label, capacity))


def validate_extra_specs(flavor, host_wrapper=None):
    """Check every ``powervm:*`` extra spec of a flavor.

    :param flavor: nova ``Flavor`` (``extra_specs``, and ``vcpus`` and
                   ``memory_mb`` where set).
    :param host_wrapper: optional pypowervm ``System`` wrapper; when given,
                         values are also checked against the host's
                         capabilities (compatibility modes, memory region
                         size, PPT ratio, affinity check, secure boot,
                         Active Memory Expansion), its minimum processing
                         units per virtual processor, its configurable
                         processing units and its virtual processor limit.
    :returns: dict of ``LPARBuilder`` attributes from the extra specs.
    :raises nova_powervm.exception.InvalidExtraSpec: naming the first bad
        key (in sorted order) and its value; then the first key of a
        refused combination.
    """
    raw = dict(_flavor_specs(flavor))
    attrs = {}
    source = {}
    for key, value in sorted(raw.items()):
        try:
            attr, parsed = pvm_specs.parse(key, value)
            if attr in source:
                raise ValueError('conflicts with %s' % source[attr])
            if host_wrapper is not None:
                _check_host(key, parsed, host_wrapper)
        except ValueError as error:
            raise exc.InvalidExtraSpec(key=key, value=value,
                                       reason=str(error))
        attrs[attr] = parsed
        source[attr] = key
    try:
        _check_range(flavor, attrs, source, pvm_lb.MIN_MEM, pvm_lb.MAX_MEM,
                     'memory_mb', 'MB of memory')
        _check_range(flavor, attrs, source, pvm_lb.MIN_VCPU,
                     pvm_lb.MAX_VCPU, 'vcpus', 'vCPUs')
        _check_proc_units(flavor, attrs, source, host_wrapper)
    except _Refusal as error:
        if error.key is None:
            # Only defaults: vCPUs x [powervm] proc_units_factor.
            raise exc.InvalidExtraSpec(
                key=pvm_specs.PREFIX + 'proc_units', value='(not set)',
                reason='%s; the default is vCPUs x [powervm] '
                       'proc_units_factor (%g)'
                       % (error, CONF.powervm.proc_units_factor))
        raise exc.InvalidExtraSpec(key=error.key, value=raw[error.key],
                                   reason=str(error))
    return attrs


def _pool_id(adapter, host_wrapper, name, value):
    """Shared processor pool name -> id (one REST GET unless default)."""
    if name == _DEFAULT_POOL:
        return 0
    pools = pvm_spp.SharedProcPool.search(
        adapter, name=name, parent=host_wrapper)
    if len(pools) != 1:
        raise exc.InvalidExtraSpec(
            key='powervm:shared_proc_pool_name', value=value,
            reason='%d shared processor pools have that name' % len(pools))
    return pools[0].id


def lpar_name(instance):
    """The partition name: the instance name, cut to PowerVM's limit."""
    return instance.name[:MAX_NAME_LEN]


def is_ibmi(image_meta):
    """Whether the image asks for an IBM i partition (``os_distro=ibmi``)."""
    if image_meta is None:
        return False
    props = getattr(image_meta, 'properties', None)
    distro = props.get('os_distro') if props is not None else None
    return str(distro or '').lower() == 'ibmi'


def build_attrs(adapter, host_wrapper, instance, image_meta=None,
                flavor=None):
    """The ``LPARBuilder`` attribute dict of an instance.

    :param adapter: pypowervm ``Adapter`` (used only for a named shared
                    processor pool).
    :param host_wrapper: pypowervm ``System`` wrapper.
    :param instance: nova ``Instance`` (name, uuid, flavor).
    :param image_meta: nova ``ImageMeta`` or None.
    :param flavor: nova ``Flavor`` to use instead of the instance's
                   (resize).
    :returns: dict of attributes.
    :raises InvalidExtraSpec: for a bad ``powervm:*`` extra spec.
    """
    flavor = flavor or instance.flavor
    attrs = validate_extra_specs(flavor, host_wrapper)
    attrs.update({
        pvm_lb.NAME: lpar_name(instance),
        pvm_lb.UUID: pvm_uuid.convert_uuid_to_pvm(instance.uuid).lower(),
        pvm_lb.MEM: flavor.memory_mb,
        pvm_lb.VCPU: flavor.vcpus,
        pvm_lb.ENV: (pvm_bp.LPARType.OS400 if is_ibmi(image_meta)
                     else pvm_bp.LPARType.AIXLINUX),
    })
    attrs.setdefault(pvm_lb.SRR_CAPABLE, True)
    if not attrs.get(pvm_lb.AME_FACTOR):
        # 0 is "off", which is what a partition without a factor gets:
        # send nothing a host without AME might trip over.
        attrs.pop(pvm_lb.AME_FACTOR, None)
    pool = attrs.get(pvm_lb.SPP)
    if pool is not None:
        attrs[pvm_lb.SPP] = _pool_id(adapter, host_wrapper, pool, pool)
    return attrs


def build_lpar(adapter, host_wrapper, instance, image_meta=None):
    """Build (without creating it) the LPAR wrapper of an instance.

    :param adapter: pypowervm ``Adapter``.
    :param host_wrapper: pypowervm ``System`` wrapper.
    :param instance: nova ``Instance``.
    :param image_meta: nova ``ImageMeta`` or None.
    :returns: pypowervm ``LPAR`` wrapper, ready for ``create``.
    :raises InvalidExtraSpec: for a bad ``powervm:*`` extra spec.
    :raises LPARBuildFailed: when pypowervm rejects the combination.
    """
    attrs = build_attrs(adapter, host_wrapper, instance, image_meta)
    stdz = pvm_lb.DefaultStandardize(
        host_wrapper, proc_units_factor=CONF.powervm.proc_units_factor,
        uncapped_weight=CONF.powervm.uncapped_proc_weight)
    try:
        return pvm_lb.LPARBuilder(adapter, attrs, stdz).build()
    except (pvm_lb.LPARBuilderException, ValueError) as error:
        raise exc.LPARBuildFailed(instance=instance.name, reason=error)
