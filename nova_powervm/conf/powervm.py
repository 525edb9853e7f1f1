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
"""The ``[powervm]`` configuration options.

Nothing here reads configuration at import time.  ``register_opts`` adds the
static options to a ``ConfigOpts``; ``register_fabric_opts`` adds the dynamic
``fabric_<X>_port_wwpns`` options once ``fabrics`` has been read from the
configuration files; ``validate`` checks values and combinations and raises
:class:`nova_powervm.conf.InvalidOption` naming the offending option.
"""

from oslo_config import cfg
from oslo_config import types

powervm_group = cfg.OptGroup(
    'powervm',
    title='PowerVM Options',
    help="""
Options for the PowerVM compute driver (nova-powervm).

These options are used when ``[DEFAULT] compute_driver`` is
``powervm_ext.driver.PowerVMDriver``.  The driver runs on the NovaLink
partition of an IBM Power server and manages the server's logical partitions
(LPARs) through the NovaLink REST API.
""")

connection_opts = [
    cfg.HostAddressOpt(
        'pvm_host',
        default='localhost',
        help="""
Host name or IP address of the NovaLink REST API server.

The driver normally runs on the NovaLink partition itself and talks to the
local REST server.  Set this to reach a NovaLink REST server elsewhere (for
example the simulator).

Related options:

* ``pvm_port``, ``pvm_protocol``, ``pvm_user``, ``pvm_password``
"""),
    cfg.PortOpt(
        'pvm_port',
        help="""
TCP port of the NovaLink REST API server.

When unset the port follows the protocol: 12080 for ``http`` and 12443 for
``https``, the ports pvm-rest listens on.
"""),
    cfg.StrOpt(
        'pvm_protocol',
        choices=[('http', 'Plain HTTP; the default for local file logon.'),
                 ('https', 'TLS; the default for password logon.')],
        help="""
Protocol used to reach the NovaLink REST API server.

When unset, ``http`` is used with local (file based) logon and ``https`` with
password logon.
"""),
    cfg.StrOpt(
        'pvm_user',
        help="""
User name for password logon to the NovaLink REST API.

When unset, the driver uses local file based logon: the REST server writes a
session token to a file that only the local nova user can read.  This is the
normal mode on a NovaLink partition.

Related options:

* ``pvm_password``: required when this is set.
"""),
    cfg.StrOpt(
        'pvm_password',
        secret=True,
        help="""
Password for password logon to the NovaLink REST API.

Only used with ``pvm_user``.  The value is never logged.
"""),
    cfg.StrOpt(
        'pvm_certpath',
        help="""
Path of a CA certificate (or bundle) used to verify the NovaLink REST API
server's TLS certificate when ``pvm_protocol`` is ``https``.
"""),
    cfg.IntOpt(
        'pvm_connect_timeout',
        default=600,
        min=1,
        help="""
Seconds to wait at service start for the NovaLink REST API to accept a logon.

pvm-rest can take several minutes to come up after the NovaLink partition
boots; nova-compute waits this long, retrying, before it gives up and stops
with an error.
"""),
    cfg.IntOpt(
        'vios_active_wait_timeout',
        default=300,
        min=1,
        help="""
Seconds to wait at service start for the Virtual I/O Server partitions to be
running with an active RMC connection.

Storage and network operations need at least one active VIOS.  nova-compute
stops with an error when none becomes active within this time.
"""),
    cfg.StrOpt(
        'host_shim',
        default='local',
        choices=[('local', 'Run the NovaLink OS commands (mkvterm, rmvterm) '
                           'on this partition.'),
                 ('simulator', 'Ask the NovaLink REST simulator\'s admin API '
                               'at pvm_host:pvm_port instead.')],
        help="""
Where the operations that pypowervm does on the NovaLink operating system
itself (opening VNC terminals, finding the block device of a disk mapped to
the management partition) are carried out.

Use ``local`` on a real NovaLink partition.  ``simulator`` is for the
bundled NovaLink REST simulator (``powervm-sim``) and the sandbox.
"""),
]

compute_opts = [
    cfg.FloatOpt(
        'proc_units_factor',
        default=0.1,
        min=0.05,
        max=1,
        help="""
Physical processor entitlement given per virtual CPU.

When a flavor sets no ``powervm:proc_units`` extra spec, a shared-processor
partition is given ``vcpus * proc_units_factor`` processing units.  For
example 4 vCPUs with the default 0.1 entitle the partition to 0.4 of a
physical core while it may use up to 4 cores when spare cycles exist.

Possible values:

* A number from 0.05 to 1.0.
"""),
    cfg.IntOpt(
        'uncapped_proc_weight',
        default=64,
        min=1,
        max=255,
        help="""
Weight with which new uncapped shared-processor partitions compete for spare
processor cycles.

A flavor's ``powervm:shared_weight`` extra spec overrides it.  Higher values
win more of the spare cycles.

Possible values:

* An integer from 1 to 255.
"""),
    cfg.StrOpt(
        'disk_driver',
        default='localdisk',
        ignore_case=True,
        choices=[('localdisk', 'Logical volumes in a volume group of a '
                               'Virtual I/O Server.'),
                 ('ssp', 'Logical units in a Shared Storage Pool.')],
        help="""
Where the boot and ephemeral disks of instances are created.

Related options:

* ``volume_group_name``: required with ``localdisk``.
* ``cluster_name``: optional with ``ssp``.
"""),
    cfg.StrOpt(
        'volume_group_name',
        default='',
        help="""
Name of the volume group that holds instance disks with the ``localdisk``
disk driver.

The group must exist on a Virtual I/O Server (or on the NovaLink partition
when it hosts storage).  Avoid ``rootvg``: filling it can make the VIOS
unusable.

Related options:

* ``disk_driver``
"""),
    cfg.StrOpt(
        'cluster_name',
        default='',
        help="""
Name of the Shared Storage Pool cluster used with the ``ssp`` disk driver.

When empty the driver uses the only cluster the host belongs to, and stops
with an error if there is none or more than one.
"""),
    cfg.StrOpt(
        'vopt_media_volume_group',
        default='rootvg',
        help="""
Volume group in which the virtual optical media repository is created when
none exists.  Config drives are attached as virtual optical media from that
repository.

Related options:

* ``vopt_media_rep_size``
"""),
    cfg.IntOpt(
        'vopt_media_rep_size',
        default=1,
        min=1,
        help="""
Size in GB of the virtual optical media repository when the driver has to
create it.  Ignored when a repository already exists.
"""),
    cfg.BoolOpt(
        'remove_vopt_media_on_boot',
        default=False,
        help="""
Ask PowerVM to remove the config drive's virtual optical media from the
partition some time after it was powered on.

Related options:

* ``remove_vopt_media_time``
"""),
    cfg.IntOpt(
        'remove_vopt_media_time',
        default=60,
        min=1,
        help="""
Minutes after power on after which the config drive media is removed, when
``remove_vopt_media_on_boot`` is true.
"""),
    cfg.BoolOpt(
        'use_rmc_mgmt_vif',
        default=True,
        help="""
Give each partition a management network adapter on the internal management
switch, through which RMC talks to the NovaLink partition.

RMC enables dynamic changes (network and volume hot plug, live migration)
while the partition runs.

Related options:

* ``use_rmc_ipv6_scheme``
"""),
    cfg.BoolOpt(
        'use_rmc_ipv6_scheme',
        default=True,
        help="""
Configure the RMC management adapter with an IPv6 link-local address through
the config drive.  Only used with ``use_rmc_mgmt_vif`` and a config drive.
"""),
    cfg.StrOpt(
        'pvm_vswitch_for_novalink_io',
        default='NovaLinkVEABridge',
        help="""
Name of the PowerVM virtual switch that bridges Open vSwitch ports on the
NovaLink partition to partitions' virtual Ethernet adapters.
"""),
]

volume_opts = [
    cfg.StrOpt(
        'fc_attach_strategy',
        default='vscsi',
        ignore_case=True,
        mutable=True,
        choices=[('vscsi', 'Map the volume through the VIOS as a virtual '
                           'SCSI disk.'),
                 ('npiv', 'Give the partition virtual Fibre Channel '
                          'adapters with their own WWPNs.')],
        help="""
How Fibre Channel volumes from Cinder are presented to partitions.

Related options:

* ``fabrics``, ``fabric_<X>_port_wwpns`` and ``ports_per_fabric`` for
  ``npiv``.
* ``vscsi_vios_connections_required`` for ``vscsi``.
"""),
    cfg.IntOpt(
        'vscsi_vios_connections_required',
        default=1,
        min=1,
        help="""
Number of Virtual I/O Servers that must see a vSCSI volume for an attach to
succeed.  Set it to 2 to insist on a redundant path through two VIOSes.
"""),
    cfg.BoolOpt(
        'volume_use_multipath',
        default=False,
        help="""
Tell Cinder that this host uses multipath for iSCSI and Fibre Channel
volumes.
"""),
    cfg.StrOpt(
        'iscsi_iface',
        default='default',
        help="""
iSCSI transport interface on the VIOS used to log in to targets.  ``default``
uses the software initiator; name an offload interface to use it instead.
"""),
    cfg.StrOpt(
        'rbd_user',
        default='',
        help="""
Ceph user the VIOS uses for RBD volumes.
"""),
    cfg.IntOpt(
        'ports_per_fabric',
        default=1,
        min=1,
        help="""
Number of physical Fibre Channel ports of each fabric given to a partition
with NPIV.  Ports are spread across the VIOSes for redundancy.

Related options:

* ``fabrics``, ``fabric_<X>_port_wwpns``
"""),
    cfg.ListOpt(
        'fabrics',
        default=['A'],
        item_type=types.String(regex=r'^[A-Za-z0-9]+$'),
        help="""
Names of the Fibre Channel fabrics used with NPIV.

For each name ``X`` an option ``fabric_X_port_wwpns`` lists the WWPNs of the
physical ports on that fabric.  Names are letters and digits only.

Related options:

* ``fc_attach_strategy``, ``ports_per_fabric``
"""),
]

nvram_opts = [
    cfg.StrOpt(
        'nvram_store',
        default='none',
        ignore_case=True,
        choices=[('none', 'Do not keep partition NVRAM.'),
                 ('swift', 'Keep it in an OpenStack Swift container.')],
        help="""
Where partition NVRAM is kept so that an instance can be rebuilt or evacuated
on another host with its firmware settings.

Related options:

* the ``swift_*`` options for ``swift``.
"""),
    cfg.StrOpt('swift_container', default='powervm_nvram',
               help='Swift container holding NVRAM. Use the same container '
                    'on every host.'),
    cfg.StrOpt('swift_username', default='powervm',
               help='Keystone user for the NVRAM Swift store.'),
    cfg.StrOpt('swift_user_domain_name', default='powervm',
               help='Domain of ``swift_username``.'),
    cfg.StrOpt('swift_password', secret=True,
               help='Password of ``swift_username``. Never logged.'),
    cfg.StrOpt('swift_project_name', default='powervm',
               help='Keystone project for the NVRAM Swift store.'),
    cfg.StrOpt('swift_project_domain_name', default='powervm',
               help='Domain of ``swift_project_name``.'),
    cfg.StrOpt('swift_auth_version', default='3',
               help='Keystone API version used by the Swift client.'),
    cfg.URIOpt('swift_auth_url',
               help='Keystone URL used by the Swift client. Required with '
                    '``nvram_store = swift``.'),
    cfg.StrOpt('swift_cacert',
               help='CA bundle the Swift client uses to verify TLS.'),
    cfg.StrOpt('swift_endpoint_type',
               choices=['public', 'internal', 'admin'],
               help='Service catalog interface used to reach Swift.'),
]

vnc_opts = [
    cfg.BoolOpt(
        'vnc_use_x509_auth',
        default=False,
        help="""
Protect the VNC console of partitions with VeNCrypt x509 TLS.

Related options:

* ``vnc_ca_certs``, ``vnc_server_cert``, ``vnc_server_key``: required when
  this is true.
"""),
    cfg.StrOpt('vnc_ca_certs',
               help='CA certificates file for VNC x509 authentication.'),
    cfg.StrOpt('vnc_server_cert',
               help='Server certificate file for VNC x509 authentication.'),
    cfg.StrOpt('vnc_server_key',
               help='Server private key file for VNC x509 authentication.'),
]

ALL_OPTS = connection_opts + compute_opts + volume_opts + nvram_opts + vnc_opts

_WWPN_HELP = """
Comma separated WWPNs of the physical Fibre Channel ports on fabric {name}
(16 hexadecimal digits each, colons allowed).  Used with NPIV.
"""


def fabric_opt_name(fabric):
    """The name of the WWPN list option of a fabric."""
    return 'fabric_%s_port_wwpns' % fabric


def fabric_opts(fabrics):
    """The dynamic ``fabric_<X>_port_wwpns`` options for the given fabrics."""
    return [cfg.ListOpt(fabric_opt_name(name), default=[],
                        help=_WWPN_HELP.format(name=name))
            for name in fabrics]
