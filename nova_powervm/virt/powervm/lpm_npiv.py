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
"""NPIV volumes in a live migration (``fc_attach_strategy = npiv``).

The partition's virtual FC client adapters travel with it, with their
WWPN pairs (PowerVM logs the second WWPN of each pair in on the
destination while the first still serves the source): Cinder's export
to those WWPNs stays as it is, and nothing is discovered per volume on
the destination.  What the driver decides is where each adapter lands:

* each host publishes the physical ports of its configured fabrics
  (``[powervm] fabrics``, ``fabric_<X>_port_wwpns``) among its static
  live migration facts (:func:`host_stats`, the compute node's stats):
  ``{fabric: [[vios name, vios id, port name], ...]}`` of the NPIV
  capable ports;
* the destination's check (:func:`check_destination`) refuses a server
  with NPIV volumes whose fabrics it has no NPIV capable port on;
* the source builds the migrate job's ``VirtualFCMappings``
  (:func:`fc_mappings`): every client adapter of the partition (slot,
  fabric of its backing port on the source) goes to a port of the same
  fabric on the destination, spread over the fabric's ports.
"""

from nova import exception as nova_exc
from oslo_log import log as logging
from oslo_serialization import jsonutils
from pypowervm import const as pvm_const
from pypowervm.tasks import vfc_mapper
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm import conf as pvm_conf
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm.volume import npiv

LOG = logging.getLogger(__name__)
CONF = pvm_conf.CONF

#: Compute node stats key of the host's NPIV fabric ports (JSON).
STAT_FABRICS = 'powervm_lpm_npiv_fabrics'


def _refuse(reason):
    return nova_exc.MigrationPreCheckError(reason=reason)


def enabled():
    """Whether Fibre Channel volumes attach over NPIV on this host."""
    return CONF.powervm.fc_attach_strategy == 'npiv'


def fabric_facts(vioses):
    """``{fabric: [[vios name, vios id, port name], ...]}`` (no I/O).

    Only the NPIV capable ports (some virtual port available) of the
    configured fabrics, in VIOS and port order.

    :param vioses: VIOS wrappers (their physical FC ports).
    """
    fabrics = npiv.fabric_ports()
    out = {}
    for name in CONF.powervm.fabrics:
        wanted = set(fabrics.get(name) or ())
        out[name] = [[vios_w.name, vios_w.id, port.name]
                     for vios_w in vioses for port in vios_w.pfc_ports
                     if npiv._wwpn(port.wwpn) in wanted and
                     (port.npiv_available_ports or 0) > 0]
    return out


def _read_vioses(ctx, xag=()):
    with errors.translate('read the Virtual I/O Servers'):
        return pvm_vios.VIOS.get(ctx.adapter, xag=list(xag))


def host_stats(ctx):
    """This host's NPIV facts for its compute node stats.

    1 GET of the VIOSes with ``fc_attach_strategy = npiv``; nothing (and
    no I/O) otherwise.

    A failed read leaves the facts out (logged): the resource update goes
    on, and a live migration to this host is refused by the source until
    the next update publishes them.

    :param ctx: ``HostContext``.
    :returns: ``{STAT_FABRICS: JSON}`` or ``{}``.
    """
    if not enabled():
        return {}
    try:
        facts = fabric_facts(_read_vioses(ctx))
    except Exception as exc:
        LOG.warning('Could not read the NPIV ports of the Virtual I/O '
                    'Servers for the live migration facts: %s', exc)
        return {}
    return {STAT_FABRICS: jsonutils.dumps(facts, separators=(',', ':'))}


def dest_fabrics(stats):
    """The destination's ``{fabric: [[vios, id, port], ...]}`` or None."""
    raw = (stats or {}).get(STAT_FABRICS)
    if not raw:
        return None
    try:
        return jsonutils.loads(raw)
    except ValueError:
        return None


def _has_fc_volumes(instance):
    return npiv._other_fc_volumes(instance, ())


def check_destination(ctx, instance):
    """Refuse a server whose NPIV fabrics have no port here.

    The fabrics are those the instance has virtual WWPNs on (kept in
    nova's database).  Database reads, and 1 GET of the VIOSes when the
    server has Fibre Channel volumes over NPIV.

    :param ctx: the destination's ``HostContext``.
    :param instance: nova ``Instance``.
    :raises MigrationPreCheckError: naming the fabric.
    """
    stored = npiv._stored_wwpns(instance)
    if not enabled() or not stored or not _has_fc_volumes(instance):
        return
    facts = fabric_facts(_read_vioses(ctx))
    for name in sorted(stored):
        if not facts.get(name):
            raise _refuse(
                'The destination host %s has no NPIV capable physical FC '
                'port on fabric %s ([powervm] fabrics, fabric_%s_port_wwpns)'
                ': the server\'s virtual FC adapters cannot move there.'
                % (ctx.host, name, name))


def client_adapters(ctx, lpar_uuid):
    """The partition's virtual FC client adapters: ``[(slot, fabric)]``.

    1 GET of the VIOSes (FC mappings).  An adapter whose backing port is
    in no configured fabric has fabric None.

    :param ctx: the source's ``HostContext``.
    :param lpar_uuid: PowerVM UUID of the partition.
    """
    fabrics = npiv.fabric_ports()
    found = []
    for vios_w in _read_vioses(ctx, [pvm_const.XAG.VIO_FMAP]):
        for vfc_map in vfc_mapper.find_maps(vios_w.vfc_mappings, lpar_uuid):
            cla = vfc_map.client_adapter
            if cla is None:
                continue
            found.append((cla.lpar_slot_num,
                          npiv._fabric_of(vfc_map, fabrics)))
    return sorted(found, key=lambda item: item[0])


def build_fc_mappings(adapters, dest_facts, dest_host):
    """The migrate job's ``VirtualFCMappings`` (no I/O).

    Each client adapter goes to a port of its fabric on the
    destination; a fabric's adapters are spread over its ports, in the
    order the destination published them.

    :param adapters: ``[(client slot, fabric)]`` (:func:`client_adapters`).
    :param dest_facts: the destination's ``{fabric: [[vios name, vios id,
        port name], ...]}``.
    :param dest_host: the destination's host name (for the fault).
    :returns: ``['slot/vios-name///port-name', ...]``.
    :raises MigrationPreCheckError: naming a fabric the destination has
        no port on (or an adapter on no configured fabric).
    """
    used = {}
    out = []
    for slot, fabric in adapters:
        if fabric is None:
            raise _refuse(
                'The virtual FC adapter in slot %s is backed by a physical '
                'port of no configured fabric ([powervm] fabrics): its '
                'place on %s is unknown.' % (slot, dest_host))
        ports = (dest_facts or {}).get(fabric)
        if not ports:
            raise _refuse(
                'The destination host %s has no NPIV capable physical FC '
                'port on fabric %s.' % (dest_host, fabric))
        idx = used.get(fabric, 0)
        used[fabric] = idx + 1
        vios_name, _vios_id, port = ports[idx % len(ports)]
        out.append('%d/%s///%s' % (slot, vios_name, port))
    return out


def fc_mappings(ctx, lpar_uuid, stats, dest_host):
    """``VirtualFCMappings`` of the partition for the destination.

    None (no I/O) unless FC volumes attach over NPIV here; otherwise 1
    GET of the VIOSes, and None when the partition has no client adapter.

    :param ctx: the source's ``HostContext``.
    :param lpar_uuid: PowerVM UUID of the partition.
    :param stats: the destination's compute node stats.
    :param dest_host: the destination's host name.
    :raises MigrationPreCheckError: see :func:`build_fc_mappings`; also
        when the destination published no NPIV facts.
    """
    if not enabled():
        return None
    adapters = client_adapters(ctx, lpar_uuid)
    if not adapters:
        return None
    facts = dest_fabrics(stats)
    if facts is None:
        raise _refuse('The destination host %s did not publish its NPIV '
                      'fabric ports (is fc_attach_strategy = npiv there?).'
                      % dest_host)
    return build_fc_mappings(adapters, facts, dest_host)
