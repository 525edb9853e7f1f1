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

from oslo_config import cfg

from nova_powervm.conf import powervm

CONF = cfg.CONF
GROUP = powervm.powervm_group.name


class InvalidOption(ValueError):
    """A ``[powervm]`` value, or a combination of values, is invalid."""

    def __init__(self, option, reason):
        self.option = option
        super().__init__('Invalid [%s] %s: %s' % (GROUP, option, reason))


def register_opts(conf=CONF):
    """Register the ``[powervm]`` options on ``conf``."""
    conf.register_group(powervm.powervm_group)
    conf.register_opts(powervm.ALL_OPTS, group=powervm.powervm_group)


def register_fabric_opts(conf=CONF):
    """Register ``fabric_<X>_port_wwpns`` for each of ``fabrics``.

    Their names come from another option's value, so they are registered
    when that value is known (``validate``, the NPIV connector).
    """
    register_opts(conf)
    for name in conf.powervm.fabrics:
        conf.register_opt(cfg.ListOpt(
            'fabric_%s_port_wwpns' % name, default=[],
            help='WWPNs of the physical FC ports on fabric %s (npiv).'
                 % name), group=GROUP)


def list_opts():
    """Options for oslo-config-generator (``--namespace nova_powervm``)."""
    return [(powervm.powervm_group, powervm.ALL_OPTS)]


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

    if grp.pvm_password and not grp.pvm_user:
        raise InvalidOption('pvm_user', 'must be set when pvm_password is')
    if grp.pvm_user and not grp.pvm_password:
        raise InvalidOption('pvm_password', 'must be set when pvm_user is')
    if (grp.disk_driver.lower() == 'localdisk'
            and not grp.volume_group_name.strip()):
        raise InvalidOption('volume_group_name',
                            'must name a volume group when disk_driver is '
                            'localdisk')
    if grp.vnc_use_x509_auth:
        for option in ('vnc_ca_certs', 'vnc_server_cert', 'vnc_server_key'):
            _check_file(grp, option)
    if grp.fc_attach_strategy == 'npiv':
        if not grp.fabrics:
            raise InvalidOption('fabrics', 'must name at least one fabric '
                                           'when fc_attach_strategy is npiv')
        register_fabric_opts(conf)
        for name in grp.fabrics:
            option = 'fabric_%s_port_wwpns' % name
            if not getattr(grp, option):
                raise InvalidOption(option, 'must list the physical FC port '
                                            'WWPNs of fabric %s' % name)


register_opts(CONF)
