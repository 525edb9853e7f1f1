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
"""The admin JSON API under ``/sim/`` (never counted in the stats)."""

import os

from nova_powervm.simulator import auth
from nova_powervm.simulator import http
from nova_powervm.simulator import registry
from nova_powervm.simulator import xmlutil as xu

#: Largest latency ``PUT /sim/latency`` accepts (seconds).
MAX_LATENCY = 60.0


def handle(sim, req):
    """Route an admin request.

    Paths about one kind of resource (``/sim/lpar/...``,
    ``/sim/migrate/in``...) are served by the resource modules through
    the ``admin`` hook.

    :param sim: the Simulator.
    :param req: the request.
    """
    auth.check_admin(sim, req)
    parts = req.path.strip('/').split('/')[1:]
    key = (req.method, '/'.join(parts[:2]) if parts else '')
    if key == ('GET', 'state'):
        return http.json_response(sim.state())
    if key == ('GET', 'stats'):
        return http.json_response(sim.stats.as_dict())
    if key == ('POST', 'stats/reset'):
        sim.reset_stats()
        return http.json_response(sim.stats.as_dict())
    if parts[:1] == ['faults']:
        return _faults(sim, req)
    if parts[:1] == ['latency']:
        return _latency(sim, req)
    if parts[:2] == ['host', 'vterm'] and len(parts) == 3:
        return _vterm(sim, req, parts[2])
    if parts[:2] == ['host', 'device'] and len(parts) == 3:
        return _device(sim, parts[2])
    if key == ('POST', 'save'):
        sim.save()
        return http.json_response({'saved': sim.state_dir})
    resp = sim.registry.run_hooks('admin', sim, req, parts)
    if resp is None:
        raise registry.SimError(404, 'Unknown admin path %s' % req.path)
    return resp


def _faults(sim, req):
    if req.method == 'GET':
        return http.json_response(sim.faults.list())
    if req.method == 'DELETE':
        sim.faults.clear()
        return http.json_response([])
    if req.method == 'POST':
        try:
            return http.json_response(sim.faults.add(**req.json()))
        except (ValueError, TypeError) as exc:
            raise registry.SimError(400, str(exc))
    raise registry.SimError(405, 'faults: GET, POST or DELETE')


def _latency(sim, req):
    if req.method == 'PUT':
        try:
            seconds = float(req.json().get('seconds', 0))
        except (ValueError, TypeError) as exc:
            raise registry.SimError(400, str(exc))
        if not 0.0 <= seconds <= MAX_LATENCY:
            raise registry.SimError(400, 'seconds must be between 0 and %s'
                                    % MAX_LATENCY)
        sim.latency = seconds
    return http.json_response({'seconds': sim.latency})


def _device(sim, udid):
    """Where the bytes of a disk the management partition sees are.

    As on a host, the management partition sees a disk only when it is
    the VIOS that serves it, or when the disk is mapped to it (409
    otherwise: a driver that forgot to map would read nothing on a host).
    """
    path = sim.files.disk_path(udid)
    if not os.path.exists(path):
        raise registry.SimError(404, 'No device with UDID %s' % udid)
    with sim.store.lock:
        visible = _visible_to_mgmt(sim, udid)
    if not visible:
        raise registry.SimError(
            409, 'Device %s is not visible to the management partition: '
                 'it neither serves it nor has it mapped' % udid)
    path = sim.files.device_path(udid)
    return http.json_response({'udid': udid, 'path': path,
                               'size': os.path.getsize(path)})


def _holds(elem, udid):
    """Whether a storage element with this UDID is anywhere in ``elem``."""
    for node in elem.iter(xu.qn('UniqueDeviceID')):
        if node.text == udid:
            return True
    return False


def _visible_to_mgmt(sim, udid):
    mgmt_ids = set()
    for kind in ('LogicalPartition', 'VirtualIOServer'):
        for obj in sim.store.all(kind):
            if xu.text(obj.elem, 'IsManagementPartition') == 'true':
                mgmt_ids.add(xu.text(obj.elem, 'PartitionID'))
                if kind == 'VirtualIOServer' and (
                        _holds(obj.elem, udid) or any(
                            _holds(vg.elem, udid) for vg in
                            sim.store.children('VolumeGroup', obj.uuid))):
                    return True
    for vios in sim.store.all('VirtualIOServer'):
        for mapping in xu.findall(vios.elem, 'VirtualSCSIMappings/'
                                             'VirtualSCSIMapping'):
            client = xu.text(mapping, 'ServerAdapter/RemoteLogicalPartitionID')
            stg = xu.find(mapping, 'Storage')
            if (client in mgmt_ids and stg is not None
                    and _holds(stg, udid)):
                return True
    return False


def _vterm(sim, req, uuid):
    if req.method == 'DELETE':
        return http.json_response({'closed': sim.vterms.close(uuid)})
    if req.method != 'POST':
        raise registry.SimError(405, 'POST or DELETE')
    with sim.store.lock:
        obj = sim.store.get(uuid, 'LogicalPartition')
        if obj is None:
            raise registry.SimError(404, 'LPAR %s not found' % uuid)
        name = xu.text(obj.elem, 'PartitionName')
    port = sim.vterms.open(uuid, name)
    return http.json_response({'host': '127.0.0.1', 'port': port})
