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
"""Per-host helpers: node identities and what a simulator holds.

Several nova-compute services share one process here, while nova keeps a
node identity per process and finds "this host" through ``CONF.host``;
these helpers give each compute its own.  They also read a simulator's
``/sim/state`` for what servers left behind.
"""

import uuid

import fixtures
from nova import context
from nova import objects
from nova.virt import driver as virt_driver

MGMT_LPAR_ID = 1
# Node identities derive from the host name so that restarts agree.
_NODE_NS = uuid.UUID('0b5b5e1c-7f0e-4a35-9d5e-6c1f3d2a9e11')


def node_uuid_for(host):
    """The stable compute-node UUID the sandbox gives a host.

    :param host: nova host name.
    """
    return str(uuid.uuid5(_NODE_NS, host))


def pin_node_identity(svc, host):
    """Give one compute driver its own node UUID after it started.

    nova keeps one node UUID per process (``nova.virt.node``), as a real
    deployment runs one compute per process; drivers using the base
    ``get_nodenames_by_uuid`` (the PowerVM driver among them) would then
    all report the same node, and the resource tracker would stamp that
    UUID on every compute node it updates.  Start the service under
    ``node_identity(host)`` and call this afterwards: the driver then
    reports its host's own UUID in both places.

    :param svc: the started ``nova.service.Service``.
    :param host: its host name.
    """
    drv = svc.manager.driver
    base = virt_driver.ComputeDriver.get_nodenames_by_uuid
    if type(drv).get_nodenames_by_uuid is not base:
        return
    nodename = drv.get_available_nodes()[0]
    node_id = node_uuid_for(host)
    drv.get_nodenames_by_uuid = lambda refresh=False: {node_id: nodename}
    resources = drv.get_available_resource

    def get_available_resource(node):
        res = resources(node)
        res['uuid'] = node_id
        return res
    drv.get_available_resource = get_available_resource


class node_identity(fixtures.Fixture):
    """Fixture making nova's node identity answer for ``host``.

    Both ``get_local_node_uuid`` and ``read_local_node_uuid`` (which a
    compute restarted on kept databases checks) answer the host's stable
    node UUID.

    :param host: nova host name of the compute being started.
    """

    def __init__(self, host):
        super().__init__()
        self.host = host

    def _setUp(self):
        node_id = node_uuid_for(self.host)
        for name in ('get_local_node_uuid', 'read_local_node_uuid'):
            self.useFixture(fixtures.MonkeyPatch(
                'nova.virt.node.%s' % name, lambda: node_id))


def is_mgmt_lpar(lpar):
    """Whether a ``/sim/state`` LPAR entry is the NovaLink partition.

    :param lpar: one entry of the state's ``lpars`` list.
    """
    return bool(lpar.get('mgmt') or lpar.get('is_mgmt')
                or lpar.get('id') == MGMT_LPAR_ID)


def leftovers_of(state, baseline=None):
    """What a simulator holds of servers, from its ``/sim/state``.

    :param state: the ``/sim/state`` dict.
    :param baseline: the state before any server (what the host's own
                     inventory holds: VIOS adapters, seeded media...);
                     its items are not leftovers.
    :returns: ``{kind: [items]}`` with only the non-empty kinds: client
              LPARs, virtual disks, optical media, CNAs, files, the
              SCSI/FC mappings of every VIOS and the NovaLink's OVS ports.
    """
    held = _holdings(state)
    before = _holdings(baseline) if baseline else {}
    out = {}
    for kind, items in held.items():
        seen = {repr(i) for i in before.get(kind, ())}
        new = [i for i in items if repr(i) not in seen]
        if new:
            out[kind] = new
    return out


def _holdings(state):
    vioses = state.get('vioses', [])
    return {
        'lpars': [lp['name'] for lp in state.get('lpars', [])
                  if not is_mgmt_lpar(lp)],
        'virtual_disks': [d['name'] for d in state.get('virtual_disks', [])],
        'optical_media': [m['name'] for m in state.get('optical_media', [])],
        'cnas': [c['mac'] for c in state.get('cnas', [])],
        'scsi_mappings': [m for v in vioses
                          for m in v.get('scsi_mappings', [])],
        'fc_mappings': [m for v in vioses for m in v.get('fc_mappings', [])],
        'vnics': list(state.get('vnics', [])),
        'lus': list(state.get('lus', [])),
        'files': [f.get('name') for f in state.get('files', [])],
        'ovs_ports': [p.get('name') for p in state.get('ovs_ports', [])],
    }


def image_cache_pass(svc, host, cell):
    """One compute's image cache pass, as nova's periodic task runs it.

    nova's own pass (``_run_image_cache_manager_pass``) finds the host's
    instances through ``CONF.host``, which is process-global with several
    computes in one process; this hands the driver its own host's.

    :param svc: the compute ``Service``.
    :param host: its host name.
    :param cell: the ``CellMapping`` of its cell.
    :returns: 1 when the driver keeps an image cache (and ran), else 0.
    """
    drv = svc.manager.driver
    if not drv.capabilities.get('has_imagecache'):
        return 0
    ctxt = context.get_admin_context()
    with context.target_cell(ctxt, cell) as cctxt:
        drv.manage_image_cache(
            cctxt, objects.InstanceList.get_by_host(cctxt, host))
    return 1


def host_inventory(index):
    """A simulator inventory with a host-unique ManagedSystem.

    Every simulator would otherwise model the same system (same name and
    UUID), and placement refuses two providers of one name.

    :param index: 1-based compute number.
    """
    from nova_powervm.simulator import inventory

    serial = '21F64E%d' % index if index < 10 else '21F6%03d' % index
    return inventory.Inventory(system_name='Server-9009-42A-SN%s' % serial,
                               mtms='9009-42A*%s' % serial)
