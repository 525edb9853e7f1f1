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
``extra_specs`` (and, given the host, against what the host supports) before
anything is created.  ``build_lpar`` turns the flavor into the attributes of
pypowervm's ``LPARBuilder`` and returns the (not yet created) wrapper.
"""

from oslo_config import cfg
from pypowervm.utils import lpar_builder as pvm_lb
from pypowervm.utils import uuid as pvm_uuid
from pypowervm.wrappers import base_partition as pvm_bp
from pypowervm.wrappers import shared_proc_pool as pvm_spp

from nova_powervm import exception as pvm_exc
from nova_powervm.virt.powervm import extra_specs as pvm_specs

CONF = cfg.CONF

_DEFAULT_POOL = 'DefaultPool'

# Longest partition name PowerVM accepts.
MAX_NAME_LEN = pvm_lb.MAX_LPAR_NAME_LEN

# Host capability each spec needs when it is set to a "real" value.
_HOST_CAPS = {
    'ppt_ratio': 'physical_page_table_ratio_capable',
    'enforce_affinity_check': 'affinity_check_capable',
}


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
    elif name in ('min_mem', 'max_mem'):
        lmb = host_wrapper.memory_region_size
        if lmb and value % lmb:
            raise ValueError('memory must be a multiple of the host '
                             'memory region size (%d MB)' % lmb)


def validate_extra_specs(flavor, host_wrapper=None):
    """Check every ``powervm:*`` extra spec of a flavor.

    :param flavor: nova ``Flavor`` (only ``extra_specs`` is read).
    :param host_wrapper: optional pypowervm ``System`` wrapper; when given,
                         values are also checked against the host's
                         capabilities (compatibility modes, memory region
                         size, PPT ratio, affinity check, secure boot).
    :returns: dict of ``LPARBuilder`` attributes from the extra specs.
    :raises nova_powervm.exception.InvalidExtraSpec: naming the first bad
        key (in sorted order).
    """
    attrs = {}
    source = {}
    for key, value in _flavor_specs(flavor):
        try:
            attr, parsed = pvm_specs.parse(key, value)
            if attr in source:
                raise ValueError('conflicts with %s' % source[attr])
            if host_wrapper is not None:
                _check_host(key, parsed, host_wrapper)
        except ValueError as exc:
            raise pvm_exc.InvalidExtraSpec(key=key, value=value,
                                           reason=str(exc))
        attrs[attr] = parsed
        source[attr] = key
    return attrs


def _pool_id(adapter, host_wrapper, name, value):
    """Shared processor pool name -> id (one REST GET unless default)."""
    if name == _DEFAULT_POOL:
        return 0
    pools = pvm_spp.SharedProcPool.search(
        adapter, name=name, parent=host_wrapper)
    if len(pools) != 1:
        raise pvm_exc.InvalidExtraSpec(
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


def build_attrs(adapter, host_wrapper, instance, image_meta=None):
    """The ``LPARBuilder`` attribute dict of an instance.

    :param adapter: pypowervm ``Adapter`` (used only for a named shared
                    processor pool).
    :param host_wrapper: pypowervm ``System`` wrapper.
    :param instance: nova ``Instance`` (name, uuid, flavor).
    :param image_meta: nova ``ImageMeta`` or None.
    :returns: dict of attributes.
    :raises InvalidExtraSpec: for a bad ``powervm:*`` extra spec.
    """
    flavor = instance.flavor
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
    except (pvm_lb.LPARBuilderException, ValueError) as exc:
        raise pvm_exc.LPARBuildFailed(instance=instance.name, reason=exc)
