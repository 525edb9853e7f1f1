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
"""Sphinx directives that build tables from the code, so pages stay true.

``.. powervm-extra-specs::``
    A table of the ``powervm:*`` flavor extra specs, built from the validators
    that ``nova_powervm.virt.powervm.extra_specs.register()`` gives nova's API.

``.. powervm-support-matrix:: support-matrix.ini``
    The feature table, read from an INI file (one section per feature with
    ``title``, ``status``, optional ``hooks``, ``capability`` and ``notes``)
    and checked against ``PowerVMDriver``: a feature marked as working must
    have its driver methods implemented and its capability true; a true
    capability must belong to a feature marked as working.  A mismatch is a
    warning, and ``tox -e docs`` turns warnings into errors.
"""

import configparser
import importlib
import importlib.util

from sphinx.util import docutils as sphinx_docutils
from sphinx.util import logging

LOG = logging.getLogger(__name__)

EXTRA_SPECS_MODULE = 'nova_powervm.virt.powervm.extra_specs'

STATUS = {
    'complete': '✔ works',
    'partial': '◐ partial',
    'missing': '✖ not yet',
    'unsupported': '— not possible on PowerVM',
}
WORKING = ('complete', 'partial')


def _cell(text):
    """One list-table cell body: collapse whitespace, never empty."""
    text = ' '.join((text or '').split())
    return text or ' '


def _list_table(headers, rows, widths):
    """RST lines of a ``list-table``."""
    lines = ['.. list-table::', '   :header-rows: 1',
             '   :widths: %s' % ' '.join(str(w) for w in widths), '']
    for row in [headers] + rows:
        lines.append('   * - %s' % _cell(row[0]))
        lines.extend('     - %s' % _cell(cell) for cell in row[1:])
    return lines


def _describe_value(value):
    """Human description of a nova ``ExtraSpecValidator.value`` dict."""
    kind = value['type']
    if kind is bool:
        return 'boolean (``true``/``false``, ``yes``/``no``, ``1``/``0``)'
    if kind is int:
        text = 'integer'
        if 'min' in value and 'max' in value:
            text += ' from %s to %s' % (value['min'], value['max'])
        elif 'min' in value:
            text += ' >= %s' % value['min']
        elif 'max' in value:
            text += ' <= %s' % value['max']
        return text
    if value.get('description'):
        return value['description']
    if value.get('enum'):
        return 'one of: ' + ', '.join('``%s``' % v for v in value['enum'])
    if value.get('pattern'):
        return 'string matching ``%s``' % value['pattern']
    return 'string'


def _extra_specs(module):
    """``(name, value rule, description)`` of every ``powervm:`` key.

    The module's ``SPECS`` table (key -> spec with ``key``, ``value`` and
    ``description``) is preferred: it keeps the choices that the nova
    validators, being case-insensitive, leave to their own parser.  Without
    it, the validators that ``register()`` returns are used.
    """
    specs = getattr(module, 'SPECS', None)
    prefix = getattr(module, 'PREFIX', '')
    if specs:
        found = [(prefix + spec.key, spec.value, spec.description)
                 for spec in specs.values()]
    else:
        found = [(val.name, val.value,
                  ('(Deprecated) ' if val.deprecated else '')
                  + val.description)
                 for val in module.register()]
    return sorted(found)


class ExtraSpecsDirective(sphinx_docutils.SphinxDirective):
    """Render the ``powervm:*`` extra spec validators as a table."""

    has_content = False

    def run(self):
        if importlib.util.find_spec(EXTRA_SPECS_MODULE) is None:
            text = ('.. note::\n\n   The ``powervm`` extra spec validator '
                    '(``%s``) is not in this tree yet, so no key is listed '
                    'here.' % EXTRA_SPECS_MODULE)
            return self.parse_text_to_nodes(text)
        module = importlib.import_module(EXTRA_SPECS_MODULE)
        rows = []
        for name, value, desc in _extra_specs(module):
            rows.append(['``%s``' % name, _describe_value(value), desc])
        if not rows:
            LOG.warning('%s.register() returned no validator',
                        EXTRA_SPECS_MODULE, location=self.get_location())
            return []
        lines = _list_table(['Key', 'Accepted values', 'Meaning'], rows,
                            [25, 25, 50])
        return self.parse_text_to_nodes('\n'.join(lines))


class SupportMatrixDirective(sphinx_docutils.SphinxDirective):
    """Render the support matrix and check it against the driver."""

    required_arguments = 1
    has_content = False

    def run(self):
        rel, path = self.env.relfn2path(self.arguments[0])
        self.env.note_dependency(rel)
        parser = configparser.ConfigParser(interpolation=None)
        with open(path, encoding='utf-8') as handle:
            parser.read_file(handle)

        from nova.virt import driver as base
        try:
            from nova_powervm.virt.powervm import driver as pvm
        except ImportError as exc:
            self._warn('cannot import the driver: %s' % exc)
            return []

        rows = []
        claimed = set()
        for name in parser.sections():
            sect = parser[name]
            status = sect.get('status', '').strip()
            if status not in STATUS:
                self._warn('[%s] status %r is not one of %s'
                           % (name, status, ', '.join(STATUS)))
                continue
            hooks = [h.strip() for h in sect.get('hooks', '').split(',')
                     if h.strip()]
            cap = sect.get('capability', '').strip()
            self._check(name, status, hooks, cap, base.ComputeDriver,
                        pvm.PowerVMDriver)
            if cap and status in WORKING:
                claimed.add(cap)
            where = ', '.join('``%s()``' % h for h in hooks)
            if cap:
                where += ('; ' if where else '') + '``%s``' % cap
            rows.append([sect.get('title', name), STATUS[status], where,
                         sect.get('notes', '')])

        for cap, value in sorted(pvm.PowerVMDriver.capabilities.items()):
            if value and cap not in claimed:
                self._warn('PowerVMDriver.capabilities[%r] is True but no '
                           'feature marked complete or partial names it: '
                           'update %s' % (cap, rel))
        lines = _list_table(
            ['Feature', 'Status', 'Driver methods; capability', 'Notes'],
            rows, [25, 15, 30, 30])
        return self.parse_text_to_nodes('\n'.join(lines))

    def _check(self, name, status, hooks, cap, base_cls, drv_cls):
        for hook in hooks:
            if not hasattr(base_cls, hook):
                self._warn('[%s] %s is not a ComputeDriver method'
                           % (name, hook))
            elif status in WORKING and not _implements(drv_cls, base_cls,
                                                       hook):
                self._warn('[%s] is marked %s but PowerVMDriver does not '
                           'implement %s()' % (name, status, hook))
        if not cap:
            return
        if cap not in base_cls.capabilities:
            self._warn('[%s] %s is not a capability nova knows'
                       % (name, cap))
        value = drv_cls.capabilities.get(cap, False)
        if status in WORKING and not value:
            self._warn('[%s] is marked %s but capabilities[%r] is False'
                       % (name, status, cap))
        elif status not in WORKING and value:
            self._warn('[%s] is marked %s but capabilities[%r] is True'
                       % (name, status, cap))

    def _warn(self, msg):
        LOG.warning('support matrix: %s', msg, location=self.get_location())


def _implements(drv_cls, base_cls, hook):
    """Whether a class between ``drv_cls`` and ``base_cls`` defines hook."""
    for cls in drv_cls.__mro__:
        if cls is base_cls:
            return False
        if hook in vars(cls):
            return True
    return False


def setup(app):
    app.add_directive('powervm-extra-specs', ExtraSpecsDirective)
    app.add_directive('powervm-support-matrix', SupportMatrixDirective)
    return {'parallel_read_safe': True, 'parallel_write_safe': True,
            'version': '1.0'}
