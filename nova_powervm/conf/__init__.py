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
"""Configuration of the PowerVM driver: the ``[powervm]`` group."""

import os
import re

from oslo_config import cfg

from nova_powervm.conf import powervm

CONF = cfg.CONF
GROUP = powervm.powervm_group.name

_WWPN_RE = re.compile(r'^[0-9a-f]{16}$')


class InvalidOption(ValueError):
    """A ``[powervm]`` value, or a combination of values, is invalid."""

    def __init__(self, option, reason):
        self.option = option
        super().__init__('Invalid [%s] %s: %s' % (GROUP, option, reason))


def register_opts(conf=CONF):
    """Register the static ``[powervm]`` options on ``conf``."""
    conf.register_group(powervm.powervm_group)
    conf.register_opts(powervm.ALL_OPTS, group=powervm.powervm_group)


def register_fabric_opts(conf=CONF):
    """Register ``fabric_<X>_port_wwpns`` for every fabric in ``fabrics``.

    Call after the configuration files have been parsed, since the set of
    options depends on the value of ``fabrics``.
    """
    register_opts(conf)
    opts = powervm.fabric_opts(conf.powervm.fabrics)
    conf.register_opts(opts, group=powervm.powervm_group)
    return opts


def list_opts():
    """Options for oslo-config-generator (``--namespace nova_powervm``)."""
    return [(powervm.powervm_group,
             powervm.ALL_OPTS + powervm.fabric_opts(['A']))]


def normalize_wwpn(value):
    """Lower-case a WWPN and strip its colons."""
    return value.replace(':', '').strip().lower()


def _read_all(conf_group, opts):
    for opt in opts:
        try:
            getattr(conf_group, opt.dest)
        except (ValueError, cfg.Error) as exc:
            raise InvalidOption(opt.name, exc)


def _check_file(conf_group, option):
    path = getattr(conf_group, option)
    if not path:
        raise InvalidOption(option, 'must be set')
    if not os.path.isfile(path):
        raise InvalidOption(option, 'file %s does not exist' % path)


def validate(conf=CONF):
    """Check ``[powervm]`` values and combinations.

    Types, choices and bounds are checked by oslo.config when a value is
    read; this reads every option (so those errors surface now, not in the
    middle of an operation) and then checks what oslo.config cannot.

    :raises InvalidOption: naming the first offending option.
    """
    register_opts(conf)
    grp = conf.powervm
    _read_all(grp, powervm.ALL_OPTS)
    _read_all(grp, register_fabric_opts(conf))

    if grp.pvm_password and not grp.pvm_user:
        raise InvalidOption('pvm_user', 'must be set when pvm_password is')
    if grp.pvm_user and not grp.pvm_password:
        raise InvalidOption('pvm_password', 'must be set when pvm_user is')
    if (grp.disk_driver.lower() == 'localdisk'
            and not grp.volume_group_name.strip()):
        raise InvalidOption('volume_group_name',
                            'must name a volume group when disk_driver is '
                            'localdisk')
    if grp.fc_attach_strategy.lower() == 'npiv':
        for fabric in grp.fabrics:
            name = powervm.fabric_opt_name(fabric)
            wwpns = getattr(grp, name)
            if not wwpns:
                raise InvalidOption(name, 'must list the WWPNs of fabric %s '
                                          'when fc_attach_strategy is npiv'
                                    % fabric)
            for wwpn in wwpns:
                if not _WWPN_RE.match(normalize_wwpn(wwpn)):
                    raise InvalidOption(name, '%r is not a WWPN (16 hex '
                                              'digits)' % wwpn)
    if grp.nvram_store.lower() == 'swift':
        for option in ('swift_auth_url', 'swift_password'):
            if not getattr(grp, option):
                raise InvalidOption(option,
                                    'must be set when nvram_store is swift')
    if grp.vnc_use_x509_auth:
        for option in ('vnc_ca_certs', 'vnc_server_cert', 'vnc_server_key'):
            _check_file(grp, option)


register_opts(CONF)
