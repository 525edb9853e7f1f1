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
"""The ``[powervm]`` options of the ceilometer pollsters.

The connection options are nova-compute's own (the same objects, so the
same names, defaults and help): an operator copies the ``[powervm]``
connection lines of nova.conf into ceilometer.conf.
"""

from oslo_config import cfg

from nova_powervm.conf import powervm as pvm_conf
from nova_powervm.telemetry import stats

GROUP = pvm_conf.powervm_group
CONNECTION_OPTS = [opt for opt in pvm_conf.connection_opts if opt.name in (
    'pvm_host', 'pvm_port', 'pvm_protocol', 'pvm_user', 'pvm_password',
    'pvm_certpath')]
TELEMETRY_OPTS = [
    cfg.IntOpt('pcm_refresh', default=stats.INTERVAL, min=0, help="""
Seconds the ceilometer PowerVM pollsters reuse a performance sample before
reading the long-term monitor again (ceilometer's polling agent only).

The monitor writes a sample every 30 seconds; one poll of all the meters
reads it once.
"""),
]


def register_opts(conf):
    """Register the options on ceilometer's ``ConfigOpts``.

    :param conf: the ``ConfigOpts``.
    """
    conf.register_opts(CONNECTION_OPTS + TELEMETRY_OPTS, group=GROUP)


def list_opts():
    """Options for oslo-config-generator.

    The namespace is ``nova_powervm.telemetry``.
    """
    return [(GROUP, CONNECTION_OPTS + TELEMETRY_OPTS)]
