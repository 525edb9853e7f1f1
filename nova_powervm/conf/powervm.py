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
options to a ``ConfigOpts``; ``validate`` checks values and combinations and
raises :class:`nova_powervm.conf.InvalidOption` naming the offending option.

Every option here is read by the driver.  An option comes with the feature
that reads it: a value that is accepted must change what the driver does.
"""

from oslo_config import cfg

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
                 ('ssp', 'Logical units in a Shared Storage Pool cluster '
                         'that the Virtual I/O Servers of several hosts '
                         'share.')],
        help="""
Where the boot disks of instances are created.

``localdisk`` makes each boot disk a logical volume in a volume group of one
Virtual I/O Server of the host, copied from an image cached in that group.
``ssp`` makes it a logical unit in a Shared Storage Pool: a linked clone of
an image logical unit that the pool holds once for every host of the
cluster, mapped through every VIOS of the host that is a cluster member.

Related options:

* ``volume_group_name``: required with ``localdisk``.
* ``cluster_name``: the cluster, with ``ssp``.
"""),
    cfg.StrOpt(
        'cluster_name',
        default='',
        help="""
Name of the Shared Storage Pool cluster that holds instance disks with the
``ssp`` disk driver.

May be left empty when the NovaLink host sees exactly one cluster, which is
then used; with several, the driver refuses to start until one is named.
At least one Virtual I/O Server of this host must be a node of the cluster.

Related options:

* ``disk_driver``
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

ALL_OPTS = connection_opts + compute_opts + vnc_opts

volume_opts = [
    cfg.StrOpt(
        'fc_attach_strategy',
        default='vscsi',
        choices=[('vscsi', 'The VIOSes discover the LUN (LUA recovery) and '
                           'map its hdisk to the partition over vSCSI.'),
                 ('npiv', 'The partition gets virtual FC adapters with WWPNs '
                          'of its own, mapped to physical ports of the '
                          'fabrics.')],
        help="""
How Fibre Channel Cinder volumes reach partitions.

Related options:

* ``vscsi_vios_connections_required`` (vscsi)
* ``fabrics``, ``ports_per_fabric``, ``fabric_<X>_port_wwpns`` (npiv)
"""),
    cfg.ListOpt(
        'fabrics',
        default=['A'],
        help="""
Names of the FC fabrics NPIV adapters are spread over (npiv).  For each name
X, ``fabric_X_port_wwpns`` lists the WWPNs of the VIOSes' physical FC ports on
that fabric.
"""),
    cfg.IntOpt(
        'ports_per_fabric',
        default=1,
        min=1,
        max=8,
        help="""
How many virtual FC adapters (each a pair of virtual WWPNs) a partition gets
on each fabric (npiv).
"""),
    cfg.IntOpt(
        'vscsi_vios_connections_required',
        default=1,
        min=1,
        help="""
How many Virtual I/O Servers must see a vSCSI volume (Fibre Channel or
iSCSI) for its attach to succeed.  With two VIOSes and 2 here, an attach
fails rather than leave the partition with a single path.
"""),
    cfg.BoolOpt(
        'volume_use_multipath',
        default=False,
        help="""
Report ``multipath`` in the volume connector and log in to every iSCSI
portal Cinder gives.
"""),
]

ALL_OPTS += volume_opts
network_opts = [
    cfg.StrOpt(
        'ovs_vswitch',
        default='NovaLinkVEABridge',
        help="""
Virtual switch of the managed system that joins partitions to Open vSwitch
on the NovaLink partition (``ovs`` VIFs).  Each VIF gets a client network
adapter on the partition and a trunk adapter on the NovaLink partition,
paired on this switch by a port VLAN id of their own.
"""),
    cfg.IntOpt(
        'vnic_required_vfs',
        default=2,
        min=1,
        help="""
Backing devices (SR-IOV logical ports, on different physical ports) of each
SR-IOV vNIC (``pvm_sriov`` VIFs); more than one gives vNIC failover, which
the managed system and a VIOS must support.  A port's binding profile key
``vnic_required_vfs`` overrides it.

Related options:

* ``vnic_vf_capacity``
"""),
    cfg.FloatOpt(
        'vnic_vf_capacity',
        min=0.0,
        max=1.0,
        help="""
Share of its physical port's bandwidth guaranteed to each backing device of
an SR-IOV vNIC, as a fraction (0.02 is 2%).  Unset: the port's smallest
granularity.  The binding profile key ``capacity`` overrides it.

Related options:

* ``vnic_vf_max_capacity``: must not be below this.
"""),
    cfg.FloatOpt(
        'vnic_vf_max_capacity',
        min=0.0,
        max=1.0,
        help="""
Largest share of its physical port's bandwidth a backing device of an
SR-IOV vNIC may use, as a fraction.  Unset: no limit below the port's.  The
binding profile key ``max_capacity`` overrides it.
"""),
]
ALL_OPTS = ALL_OPTS + network_opts
nvram_opts = [
    cfg.StrOpt(
        'nvram_store',
        default='none',
        choices=[('none', 'NVRAM is not kept: a partition re-created on '
                  'another host (cold migration, evacuation, unshelve) '
                  'starts with fresh NVRAM'),
                 ('local', 'Files under ``nvram_local_dir`` (a directory '
                  'every compute shares, or for a single host)'),
                 ('swift', 'Objects in a Swift container, through '
                  'openstacksdk, with the ``[powervm_nvram_swift]`` '
                  'keystoneauth options')],
        help="""
Where the driver keeps a copy of each partition's NVRAM (its firmware
settings, boot list included), so that a partition re-created on another
host gets it back.  The copy is updated from the NovaLink event stream (the
``NVRAM`` events) without blocking it, stored when a server is resized,
migrated, shelved or evacuated, restored on the host that re-creates the
partition and removed when the server is deleted.

Related options:

* ``nvram_local_dir``: required with ``local``.
* ``nvram_swift_container`` and the ``[powervm_nvram_swift]`` group: used
  with ``swift``.
"""),
    cfg.StrOpt(
        'nvram_local_dir',
        default='',
        help="""
Directory of the ``local`` NVRAM store (created when missing).  Every
compute host that may re-create a partition must see the same directory
(a shared file system) for the copy to follow a server across hosts.
"""),
    cfg.StrOpt(
        'nvram_swift_container',
        default='powervm-nvram',
        help='Swift container of the ``swift`` NVRAM store.'),
    cfg.IntOpt(
        'nvram_queue_size',
        default=1000, min=1,
        help="""
Partitions whose NVRAM changed and waits to be copied to the store.  When
the queue is full further NVRAM events are dropped (with a warning) until
it drains; the next event of a partition, or its next move, stores it.
"""),
]

ALL_OPTS = ALL_OPTS + nvram_opts

# Live Partition Mobility (live_migration.py).
lpm_opts = [
    cfg.StrOpt(
        'lpm_mgmt_address',
        help="""
Address (``host`` or ``host:port``) at which the NovaLink of this host is
reached by the NovaLink of another host that live migrates a partition to
it (the migrate job's ``TargetRemoteHMCIPAddress``).

Published in the compute node's stats; the source host reads it there.
Default: ``pvm_host`` when set, else nova's ``my_ip``; with
``host_shim = simulator`` the REST port is appended (the simulator's
migration peer port).
"""),
    cfg.StrOpt(
        'lpm_mgmt_user',
        default='wlp',
        help="""
User of this host's NovaLink that another NovaLink authenticates as (over
the SSH keys exchanged between the two NovaLink partitions) when it live
migrates a partition here: the migrate job's ``TargetRemoteHMCUserID``.
"""),
    cfg.FloatOpt(
        'lpm_progress_interval',
        default=5.0,
        min=0.05,
        help="""
Seconds between two reads of a running live migration's progress (one GET
of the partition each); the progress is saved in nova's migration record
(``memory_total``/``memory_processed``/``memory_remaining``).
"""),
    cfg.IntOpt(
        'lpm_timeout',
        default=7200,
        min=60,
        help="""
Seconds a live migration job may run before the driver aborts it.
"""),
]

ALL_OPTS = ALL_OPTS + lpm_opts
