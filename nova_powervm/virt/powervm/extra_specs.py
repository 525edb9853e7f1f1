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
"""The ``powervm:*`` flavor extra specs: one table, two users.

``SPECS`` lists every key with its value rule and the pypowervm
``LPARBuilder`` attribute it feeds.  ``lpar_builder`` uses it to validate a
flavor and build a partition on the compute host; ``register`` exposes the
same rules to nova's API through the ``nova.api.extra_spec_validators``
entry point, so that ``openstack --os-compute-api-version 2.86 flavor set
--property powervm:...`` rejects a bad value up front.

The rules here see one key and its value, nothing else: they hold on every
host (ranges, formats, choices).  What depends on the flavor's other values
or on the host (processing units per virtual processor, the host's
minimum, its capacity and capabilities) is checked at spawn by
``lpar_builder.validate_extra_specs``.  Every error names the key and the
value.

This module imports nothing of pypowervm: nova-api hosts load it.
"""

import dataclasses
import decimal
import typing

from nova.api.validation.extra_specs import base
from nova import exception

PREFIX = 'powervm:'

_TRUE = ('true', 't', 'yes', 'y', '1', 'on')
_FALSE = ('false', 'f', 'no', 'n', '0', 'off')

# Decimal values (processing units, memory expansion factor) are counted in
# hundredths by PowerVM.
_HUNDREDTH = decimal.Decimal('0.01')

# Friendly names of dedicated sharing modes -> pypowervm's REST values
# (pypowervm.wrappers.base_partition.DedicatedSharingMode).
DEDICATED_SHARING_MODES = {
    'share_idle_procs': 'sre idle proces',
    'keep_idle_procs': 'keep idle procs',
    'share_idle_procs_active': 'sre idle procs active',
    'share_idle_procs_always': 'sre idle procs always',
}

# pypowervm.wrappers.base_partition.LPARCompat.ALL_VALUES
PROC_COMPAT_MODES = (
    'default', 'POWER6', 'POWER6_Plus', 'POWER6_Plus_Enhanced', 'POWER7',
    'POWER8', 'POWER8_Enhanced', 'POWER9_Base', 'POWER9', 'POWER9_Enhanced',
    'POWER10')

# pypowervm.utils.lpar_builder.ALLOWED_PPT_RATIOS keys
PPT_RATIOS = ('1:64', '1:128', '1:256', '1:512', '1:1024', '1:2048',
              '1:4096')


def parse_bool(value):
    """Parse a boolean-like extra spec value.

    :param value: the string value.
    :returns: True or False.
    :raises ValueError: if the value is not boolean-like (the reason does
        not repeat the value: callers name the key and the value).
    """
    low = str(value).strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError('not a boolean (true/false, yes/no, on/off, 1/0)')


def _int_rule(low=None, high=None):
    def parse(value):
        try:
            num = int(str(value).strip())
        except ValueError:
            raise ValueError('not an integer')
        if low is not None and num < low:
            raise ValueError('less than the minimum %d' % low)
        if high is not None and num > high:
            raise ValueError('more than the maximum %d' % high)
        return num
    return parse


def _decimal(value):
    """A finite decimal number in hundredths at most.

    PowerVM counts processing units and the memory expansion factor in
    hundredths; pypowervm would silently round a finer value.
    """
    try:
        dec = decimal.Decimal(str(value).strip())
    except decimal.InvalidOperation:
        raise ValueError('not a number')
    if not dec.is_finite():
        raise ValueError('not a finite number')
    try:
        exact = dec == dec.quantize(_HUNDREDTH)
    except decimal.InvalidOperation:
        raise ValueError('too large')
    if not exact:
        raise ValueError('more than two decimal places (PowerVM counts in '
                         'hundredths)')
    return float(dec)


def _float_rule(low):
    def parse(value):
        num = _decimal(value)
        if num < low:
            raise ValueError('less than the minimum %s' % low)
        return num
    return parse


def _parse_ame(value):
    num = _decimal(value)
    if num != 0 and not AME_FACTOR_MIN <= num <= AME_FACTOR_MAX:
        raise ValueError('must be 0 (off) or from %s to %s'
                         % (AME_FACTOR_MIN, AME_FACTOR_MAX))
    return num


def _choice_rule(choices, mapping=None):
    def parse(value):
        for choice in choices:
            if str(value).strip().lower() == choice.lower():
                return mapping[choice] if mapping else choice
        raise ValueError('not one of: %s' % ', '.join(choices))
    return parse


def _parse_compat(value):
    # 'POWER6+' is the name users know; pypowervm says 'POWER6_Plus'.
    return _choice_rule(PROC_COMPAT_MODES)(str(value).replace('+', '_Plus'))


def _parse_uncapped(value):
    return 'uncapped' if parse_bool(value) else 'capped'


def _parse_pool(value):
    value = str(value).strip()
    if not value:
        raise ValueError('the pool name is empty')
    return value


@dataclasses.dataclass(frozen=True)
class Spec:
    """One ``powervm:`` extra spec.

    :param key: the name without the ``powervm:`` prefix.
    :param attr: the pypowervm ``LPARBuilder`` attribute it sets.
    :param parse: callable turning the string into the builder value;
                  raises ValueError with a reason.
    :param value: nova validator value description (``type`` and, for
                  documentation, ``enum``/``min``/``max``/``description``).
    :param description: what the spec does.
    """

    key: str
    attr: str
    parse: typing.Callable[[str], typing.Any]
    value: dict
    description: str


def _spec(key, attr, parse, value, description):
    return Spec(key, attr, parse, value, description)


_BOOL = {'type': bool}
# Fewest processing units PowerVM gives a virtual processor on any
# firmware, and the lowest value pypowervm's LPARBuilder accepts
# (lpar_builder.PROC_UNITS_LOW_BOUND).  A host may ask for more (its
# ManagedSystem's MinimumProcessorUnitsPerVirtualProcessor): checked at
# spawn.
PROC_UNITS_MIN = 0.05
# Most processing units a virtual processor can be entitled to: a whole
# core.
PROC_UNITS_PER_VP_MAX = 1.0
# Processing units: nova's validator has no decimal type, so the bound is
# only stated here and enforced by ``_float_rule``.
_PROC_UNITS = {'type': str,
               'description': 'a decimal number of at least %s, in '
                              'hundredths, e.g. 0.5' % PROC_UNITS_MIN}
# Active Memory Expansion factor (pypowervm lpar_builder.Memory): 0 is
# off, otherwise from 1.0 to 10.0.
AME_FACTOR_MIN = 1.0
AME_FACTOR_MAX = 10.0
_AME = {'type': str,
        'description': '0 (off) or a decimal number from %s to %s, in '
                       'hundredths, e.g. 1.5'
                       % (AME_FACTOR_MIN, AME_FACTOR_MAX)}

SPECS = {s.key: s for s in (
    _spec('min_mem', 'min_mem', _int_rule(128), {'type': int, 'min': 128},
          'Minimum memory (MB) the partition can be shrunk to while '
          'running. Defaults to the flavor memory.'),
    _spec('max_mem', 'max_mem', _int_rule(128), {'type': int, 'min': 128},
          'Maximum memory (MB) the partition can grow to while running. '
          'Defaults to the flavor memory.'),
    _spec('min_vcpu', 'min_vcpu', _int_rule(1), {'type': int, 'min': 1},
          'Minimum virtual processors. Defaults to the flavor vCPUs.'),
    _spec('max_vcpu', 'max_vcpu', _int_rule(1), {'type': int, 'min': 1},
          'Maximum virtual processors. Defaults to the flavor vCPUs.'),
    _spec('proc_units', 'proc_units', _float_rule(PROC_UNITS_MIN),
          _PROC_UNITS,
          'Processing units (physical core entitlement) of a shared-'
          'processor partition. Defaults to vCPUs times '
          '[powervm] proc_units_factor. Must lie between min_proc_units '
          'and max_proc_units, and between the host\'s minimum per '
          'virtual processor (0.05 on current firmware) and 1.0 per vCPU.'),
    _spec('min_proc_units', 'min_proc_units', _float_rule(PROC_UNITS_MIN),
          _PROC_UNITS,
          'Minimum processing units, between the host\'s minimum and '
          '1.0 per min_vcpu virtual processor. Defaults to proc_units.'),
    _spec('max_proc_units', 'max_proc_units', _float_rule(PROC_UNITS_MIN),
          _PROC_UNITS,
          'Maximum processing units, between the host\'s minimum and '
          '1.0 per max_vcpu virtual processor, and at most the host\'s '
          'configurable processing units. Defaults to proc_units.'),
    _spec('ame_expansion_factor', 'ame_factor', _parse_ame, _AME,
          'Active Memory Expansion factor: the partition\'s operating '
          'system sees its memory times this factor (AIX only; the host '
          'must be AME capable). 0 turns expansion off.'),
    _spec('dedicated_proc', 'dedicated_proc', parse_bool, _BOOL,
          'Give the partition whole dedicated processors instead of '
          'shared processing units.'),
    _spec('uncapped', 'sharing_mode', _parse_uncapped, _BOOL,
          'Whether a shared-processor partition may use spare cycles '
          'beyond its entitlement (default true).'),
    _spec('dedicated_sharing_mode', 'sharing_mode',
          _choice_rule(tuple(DEDICATED_SHARING_MODES),
                       DEDICATED_SHARING_MODES),
          {'type': str, 'enum': list(DEDICATED_SHARING_MODES)},
          'Whether idle dedicated processors are lent to other '
          'partitions.'),
    _spec('shared_weight', 'uncapped_weight', _int_rule(0, 255),
          {'type': int, 'min': 0, 'max': 255},
          'Weight of an uncapped partition when competing for spare '
          'cycles. Defaults to [powervm] uncapped_proc_weight.'),
    _spec('shared_proc_pool_name', 'proc_pool', _parse_pool, {'type': str},
          'Name of the shared processor pool of the partition.'),
    _spec('availability_priority', 'avail_priority', _int_rule(0, 255),
          {'type': int, 'min': 0, 'max': 255},
          'Priority of the partition when processors fail (default 127).'),
    _spec('processor_compatibility', 'processor_compatibility',
          _parse_compat, {'type': str, 'enum': list(PROC_COMPAT_MODES)},
          'Processor compatibility mode; must be supported by the host. '
          '"+" may be written for "_Plus".'),
    _spec('srr_capability', 'srr_capability', parse_bool, _BOOL,
          'Enable simplified remote restart (on capable hosts).'),
    _spec('enable_lpar_metric', 'enable_lpar_metric', parse_bool, _BOOL,
          'Allow performance data collection for the partition.'),
    _spec('ppt_ratio', 'ppt_ratio', _choice_rule(PPT_RATIOS),
          {'type': str, 'enum': list(PPT_RATIOS)},
          'Physical page table ratio (on capable hosts).'),
    _spec('enforce_affinity_check', 'enforce_affinity_check', parse_bool,
          _BOOL, 'Fail a live migration that would lower the partition '
                 'affinity score (on capable hosts).'),
    _spec('secure_boot', 'secure_boot', _int_rule(0, 9),
          {'type': int, 'min': 0, 'max': 9},
          'PowerVM secure boot policy, 0 (off) to 9 (AIX/Linux only, on '
          'capable hosts).'),
)}


def parse(key, value):
    """Check one ``powervm:`` extra spec and return its builder value.

    :param key: the full key, ``powervm:<name>``.
    :param value: the string value.
    :returns: ``(builder attribute, converted value)``.
    :raises ValueError: with a reason, for an unknown key or a bad value.
    """
    name = key[len(PREFIX):] if key.startswith(PREFIX) else key
    spec = SPECS.get(name)
    if spec is None:
        raise ValueError('unknown key; known keys are: %s'
                         % ', '.join(PREFIX + k for k in sorted(SPECS)))
    return spec.attr, spec.parse(value)


def powervm_specs(extra_specs):
    """The ``powervm:`` items of a flavor's extra specs, sorted by key.

    :param extra_specs: dict of the flavor's extra specs.
    :returns: list of ``(key, value)``.
    """
    return sorted((k, v) for k, v in (extra_specs or {}).items()
                  if k.startswith(PREFIX))


def _fix_value_for_nova(value):
    """nova's validator knows int/str/bool; our parser does the rest.

    Choices are dropped from what nova checks because ours are
    case-insensitive; the parser enforces them.
    """
    out = {k: v for k, v in value.items() if k not in ('enum',)}
    if out['type'] is str:
        out['pattern'] = r'.+'
    return out


def describe_error(key, value, reason):
    """The text of an extra spec error: names the key and the value.

    :param key: the full key.
    :param value: the value as given.
    :param reason: why it is refused.
    """
    return 'invalid flavor extra spec %s=%s: %s' % (key, value, reason)


class _Validator(base.ExtraSpecValidator):
    """nova validator that applies the rule from ``SPECS``.

    nova's base class only knows ints, bools, enums and regexes and its
    messages do not name the key; the table's parser checks first (adding
    bounds on decimals and case-insensitive choices) and every message
    names the key and the value.
    """

    def validate(self, name, value):
        try:
            parse(name, value)
        except ValueError as exc:
            raise exception.ValidationError(
                'Validation failed; %s.' % describe_error(name, value, exc))
        try:
            super().validate(name, value)
        except exception.ValidationError as exc:
            raise exception.ValidationError(
                'Validation failed; %s.' % describe_error(
                    name, value, exc.format_message()))


def register():
    """Entry point of ``nova.api.extra_spec_validators`` (``powervm``).

    :returns: list of nova ``ExtraSpecValidator``, one per key.
    """
    return [
        _Validator(name=PREFIX + spec.key, description=spec.description,
                   value=_fix_value_for_nova(spec.value))
        for spec in SPECS.values()]
