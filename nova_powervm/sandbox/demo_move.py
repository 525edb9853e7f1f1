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
"""The demo's move rows: resize and revert, cold migration, evacuation.

On a Shared Storage Pool (``--disk-driver ssp``) every row runs: resize
(and revert), cold migrate (and confirm), live migrate, live migrate with
an abort (the server stays), evacuate after the source compute is stopped
(and the old host's clean-up when it starts again).
On ``localdisk`` the resize runs on the server's own host (the other
computes are disabled meanwhile) and the cross-host rows say why they are
skipped.  With one compute only the resize runs.

The same rows then run for a server booted from a Cinder volume (vSCSI,
or NPIV with ``--fc-attach-strategy npiv``) when the sandbox has Cinder
and two computes (``--disk-driver ssp``
only, to keep the demo short): resize and revert, cold migrate and
confirm, evacuate.  Its live migration row runs when the driver's own
source check accepts the server's volumes, and otherwise says why it is
skipped in the driver's words (:func:`lpm_refusal`).
"""

import time

from nova_powervm.sandbox import demo
from nova_powervm.sandbox import hosts
from nova_powervm.sandbox import images

BIG_FLAVOR = {'name': 'sandbox-demo-big', 'ram': 1024, 'vcpus': 2,
              'disk': 1}


def _admin(client, method, path, body=None, version='latest'):
    """A compute API call with the admin token (migrate, evacuate)."""
    resp = client.reader.request(
        method, client.url + path, json=body, timeout=30,
        headers={'OpenStack-API-Version': 'compute %s' % version})
    if resp.status_code not in (200, 201, 202, 204):
        raise demo.StepFailed('%s %s -> %d %s' % (
            method, path, resp.status_code, resp.text[:300]))
    return resp.json() if resp.content else None


def _host(srv):
    return srv.get('OS-EXT-SRV-ATTR:host')


def _size(cloud, host, server_id):
    """``(memory MB, vCPUs, state)`` of the server's partition on host."""
    sim = cloud.simulators.get(host)
    if sim is None:
        return None
    for lpar in sim.state()['lpars']:
        if lpar['uuid'].lower()[1:] == server_id.lower()[1:]:
            return lpar['memory_mb'], lpar['vcpus'], lpar['state']
    return None


def lpm_refusal(cloud, host, server_id):
    """Why the driver refuses to live migrate the server for its volumes.

    Probes the driver's real source check on ``host`` (as ``describe``
    probes features): with the server's block devices, then without
    them.  Refused only with them: its words; otherwise None (a refusal
    for another reason is the live migration row's failure to show).
    """
    from nova import context
    from nova import exception as nova_exc
    from nova import objects

    from nova_powervm.sandbox import cloud as sandbox_cloud
    from nova_powervm.virt.powervm import live_migration

    svc = cloud.computes[host]
    drv = svc.manager.driver
    ctxt = context.get_admin_context()
    with context.target_cell(
            ctxt, cloud.cell_mappings[sandbox_cloud.CELL1]) as cctxt:
        inst = objects.Instance.get_by_uuid(
            cctxt, server_id, expected_attrs=['info_cache', 'flavor'])
        bdi = svc.manager._get_instance_block_device_info(cctxt, inst)
    host_ctx = drv._host_ctx()
    try:
        live_migration.check_source(host_ctx, inst, bdi)
    except nova_exc.MigrationPreCheckError as exc:
        reason = exc.format_message()
    else:
        return None
    try:
        live_migration.check_source(host_ctx, inst, None)
    except nova_exc.MigrationPreCheckError:
        return None
    return reason


def steps(cloud, client, network='none', bfv=False):
    """The move rows as ``(name, callable)``; the callables share state.

    :param cloud: the running ``Cloud``.
    :param client: ``demo.ComputeClient``.
    :param network: ``networks`` value for the boot.
    :param bfv: the rows of a server booted from a volume (vSCSI or
                NPIV), named ``bfv ...``.
    """
    state = {}
    # A server booted from a volume keeps its disk on the SAN.
    shared = cloud.disk_driver == 'ssp' or bfv
    several = len(cloud.computes) > 1

    def wait_host(want_not=None):
        deadline = time.monotonic() + demo.WAIT_TIMEOUT
        while time.monotonic() < deadline:
            srv = client.server(state['id'])
            if _host(srv) != want_not:
                return srv
            time.sleep(demo.POLL)
        raise demo.StepFailed('the server stayed on %s' % want_not)

    def boot():
        flavors = _admin(client, 'GET', '/flavors')['flavors']
        found = [f['id'] for f in flavors if f['name'] == BIG_FLAVOR['name']]
        state['big'] = found[0] if found else _admin(
            client, 'POST', '/flavors', {'flavor': BIG_FLAVOR})['flavor']['id']
        body = {'server': {'name': 'sandbox-demo-move',
                           'imageRef': images.DEFAULT_IMAGE_ID,
                           'flavorRef': '1', 'networks': network}}
        if bfv:
            body['server'].update(name='sandbox-demo-move-bfv', imageRef='',
                                  block_device_mapping_v2=[{
                                      'boot_index': 0,
                                      'uuid': images.DEFAULT_IMAGE_ID,
                                      'source_type': 'image',
                                      'destination_type': 'volume',
                                      'volume_size': 1,
                                      'delete_on_termination': True}])
        state['id'] = client.call('POST', '/servers', body)['server']['id']
        srv = client.wait(state['id'], 'ACTIVE')
        state['host'] = _host(srv)
        vols = srv.get('os-extended-volumes:volumes_attached') or []
        if bfv and len(vols) != 1:
            raise demo.StepFailed('volumes attached: %s' % vols)
        return 'ACTIVE on %s, %s%s' % (state['host'], _size(
            cloud, state['host'], state['id']),
            ', root volume %s' % vols[0]['id'][:8] if bfv else '')

    def services(enabled, but=None):
        for svc in _admin(client, 'GET', '/os-services?binary=nova-compute'
                          )['services']:
            if svc['host'] != but:
                _admin(client, 'PUT', '/os-services/%s' % svc['id'],
                       {'status': 'enabled' if enabled else 'disabled'})

    def resize():
        cloud.flags(allow_resize_to_same_host=True)
        if not shared:
            # Only the server's own host can take it: the others rest.
            services(False, but=state['host'])
        try:
            client.call('POST', '/servers/%s/action' % state['id'],
                        {'resize': {'flavorRef': state['big']}})
            srv = client.wait(state['id'], 'VERIFY_RESIZE')
        finally:
            if not shared:
                services(True)
        state['host'] = _host(srv)
        size = _size(cloud, state['host'], state['id'])
        if size[:2] != (1024, 2):
            raise demo.StepFailed('partition is %s' % (size,))
        return 'VERIFY_RESIZE on %s, %s' % (state['host'], size)

    def revert():
        client.call('POST', '/servers/%s/action' % state['id'],
                    {'revertResize': None})
        srv = client.wait(state['id'], 'ACTIVE')
        state['host'] = _host(srv)
        size = _size(cloud, state['host'], state['id'])
        if size[:2] != (512, 1) or size[2] != 'running':
            raise demo.StepFailed('partition is %s' % (size,))
        return 'ACTIVE on %s, %s' % (state['host'], size)

    def migrate():
        _admin(client, 'POST', '/servers/%s/action' % state['id'],
               {'migrate': None})
        srv = client.wait(state['id'], 'VERIFY_RESIZE')
        if _host(srv) == state['host']:
            raise demo.StepFailed('still on %s' % state['host'])
        state['source'], state['host'] = state['host'], _host(srv)
        return '%s -> %s, source partition %s' % (
            state['source'], state['host'],
            _size(cloud, state['source'], state['id'])[2])

    def confirm():
        client.call('POST', '/servers/%s/action' % state['id'],
                    {'confirmResize': None})
        client.wait(state['id'], 'ACTIVE')
        left = _size(cloud, state['source'], state['id'])
        if left is not None:
            raise demo.StepFailed('source partition left: %s' % (left,))
        return 'ACTIVE on %s, nothing left on %s' % (state['host'],
                                                     state['source'])

    def live_migrate():
        source = state['host']
        _admin(client, 'POST', '/servers/%s/action' % state['id'],
               {'os-migrateLive': {'host': None, 'block_migration': 'auto'}})
        srv = wait_host(want_not=source)
        srv = client.wait(state['id'], 'ACTIVE')
        state['host'] = _host(srv)
        if _size(cloud, source, state['id']) is not None:
            raise demo.StepFailed('partition left on %s' % source)
        return '%s -> %s, %s' % (source, state['host'], _size(
            cloud, state['host'], state['id']))

    def bfv_live_migrate():
        why = lpm_refusal(cloud, state['host'], state['id'])
        if why is not None:
            return 'skipped: the driver refuses: %s' % why
        return live_migrate()

    def live_abort():
        source = state['host']
        sim = cloud.simulators[source].sim
        sim.lpm_seconds = 60  # a copy long enough to abort
        # Progress read often: the abort comes at the first copied bytes.
        cloud.flags(lpm_progress_interval=0.2, group='powervm')
        try:
            _admin(client, 'POST', '/servers/%s/action' % state['id'],
                   {'os-migrateLive': {'host': None,
                                       'block_migration': 'auto'}})
            mig = _progress(client, state['id'])
            _admin(client, 'DELETE', '/servers/%s/migrations/%s' % (
                state['id'], mig['id']))
            _wait_migration(client, state['id'], mig['id'], 'cancelled')
        finally:
            sim.lpm_seconds = 0
        srv = client.wait(state['id'], 'ACTIVE')
        if _host(srv) != source:
            raise demo.StepFailed('moved to %s' % _host(srv))
        size = _size(cloud, source, state['id'])
        if size is None or size[2] != 'running':
            raise demo.StepFailed('partition on %s is %s' % (source, size))
        return 'aborted at %d of %d MB copied; ACTIVE on %s, %s' % (
            mig['memory_processed_bytes'] // 2 ** 20,
            mig['memory_total_bytes'] // 2 ** 20, source, size)

    def evacuate():
        down = state['host']
        svc = cloud.computes[down]
        svc.stop()
        sid = [s['id'] for s in _admin(
            client, 'GET', '/os-services?binary=nova-compute&host=%s'
            % down)['services']][0]
        _admin(client, 'PUT', '/os-services/%s' % sid,
               {'forced_down': True})
        state['down'] = down, sid
        _admin(client, 'POST', '/servers/%s/action' % state['id'],
               {'evacuate': {}})
        srv = wait_host(want_not=down)
        # From microversion 2.95 an evacuated server arrives stopped.
        srv = client.wait(state['id'], 'SHUTOFF')
        state['host'] = _host(srv)
        client.call('POST', '/servers/%s/action' % state['id'],
                    {'os-start': None})
        client.wait(state['id'], 'ACTIVE')
        return '%s (stopped) -> %s, %s' % (
            down, state['host'], _size(cloud, state['host'], state['id']))

    def restart_old_host():
        down, sid = state.pop('down')
        _restart_compute(cloud, down)
        _admin(client, 'PUT', '/os-services/%s' % sid,
               {'forced_down': False})
        left = _size(cloud, down, state['id'])
        if left is not None:
            raise demo.StepFailed('partition left on %s' % down)
        return '%s back, its partition deleted, disks kept' % down

    def delete():
        client.call('DELETE', '/servers/%s' % state['id'])
        client.wait(state['id'], None)
        return 'gone'

    def skipped(why):
        return lambda: 'skipped: %s' % why

    rows = [('move: boot', boot), ('resize', resize),
            ('revert resize', revert)]
    if shared and several:
        rows += [('cold migrate', migrate), ('confirm migration', confirm)]
        if cloud.vif_type not in (None, 'pvm_sea'):
            why = 'live migration moves pvm_sea interfaces only'
            rows += [('live migrate', skipped(why))]
        elif bfv:
            rows += [('live migrate', bfv_live_migrate)]
        else:
            rows += [('live migrate', live_migrate),
                     ('live migrate, abort', live_abort)]
        rows += [('evacuate (source stopped)', evacuate),
                 ('old host starts again', restart_old_host)]
    else:
        why = ('needs two computes' if not several else
               'localdisk servers do not move across hosts (use '
               '--disk-driver ssp)')
        rows += [('cold migrate', skipped(why)),
                 ('live migrate', skipped(why)),
                 ('evacuate (source stopped)', skipped(why))]
    rows += [('move: delete', delete)]
    if bfv:
        rows = [('bfv ' + name if not name.startswith('move:')
                 else 'move bfv:' + name[len('move:'):], step)
                for name, step in rows]
    return rows


def bfv_reason(cloud):
    """Why the boot-from-volume move rows do not run here, or None."""
    from nova_powervm.sandbox import demo_volumes

    reason = demo_volumes.unavailable_reason(cloud)
    if reason is not None:
        return reason
    if len(cloud.computes) < 2:
        return 'needs two computes'
    if cloud.disk_driver != 'ssp':
        return 'run with --disk-driver ssp (kept out of the others\' time)'
    return None


def _progress(client, server_id):
    """The server's running migration once some memory is copied."""
    deadline = time.monotonic() + demo.WAIT_TIMEOUT
    while time.monotonic() < deadline:
        migs = _admin(client, 'GET', '/servers/%s/migrations'
                      % server_id)['migrations']
        if migs and migs[0].get('memory_processed_bytes'):
            return migs[0]
        time.sleep(demo.POLL)
    raise demo.StepFailed('no live migration progress')


def _wait_migration(client, server_id, mig_id, status):
    deadline = time.monotonic() + demo.WAIT_TIMEOUT
    while time.monotonic() < deadline:
        migs = _admin(client, 'GET', '/os-migrations?instance_uuid=%s'
                      % server_id)['migrations']
        got = [m['status'] for m in migs if m['id'] == mig_id]
        if got and got[0] == status:
            return
        time.sleep(demo.POLL)
    raise demo.StepFailed('migration %s is %s, not %s' % (
        mig_id, got and got[0], status))


def _restart_compute(cloud, host):
    """Start a stopped compute again on its own simulator.

    As ``Cloud.start_compute`` does, without a new simulator: nova's
    ``init_host`` then deletes the partitions of servers evacuated away.
    """
    from nova.compute import rpcapi as compute_rpcapi
    from nova.tests import fixtures as nova_fixtures

    from nova_powervm.sandbox import cloud as sandbox_cloud

    sim = cloud.simulators[host]
    cloud.flags(group='powervm', disk_driver=cloud.disk_driver,
                **sim.driver_flags())
    cloud.flags(host=host)
    cell = cloud.cell_mappings[sandbox_cloud.CELL1]
    try:
        with hosts.node_identity(host):
            svc = cloud.useFixture(nova_fixtures.ServiceFixture(
                'compute', host, cell=cell,
                topic_alt=compute_rpcapi.RPC_TOPIC_ALT)).service
        hosts.pin_node_identity(svc, host)
        cloud.computes[host] = svc
    finally:
        cloud.flags(host=sandbox_cloud.CONTROLLER_HOST)
    return svc


def run(cloud, client, rows, network='none'):
    """Append the move rows to the demo's table (stop at a failure).

    :returns: True when every row passed.
    """
    for name, step in steps(cloud, client, network):
        rows.append(demo._timed(cloud, name, step))
        if rows[-1][1].startswith('FAILED'):
            return False
    why = bfv_reason(cloud)
    if why is not None:
        rows.append(('bfv moves', 'skipped: %s' % why, 0.0, 0))
        return True
    for name, step in steps(cloud, client, network, bfv=True):
        rows.append(demo._timed(cloud, name, step))
        if rows[-1][1].startswith('FAILED'):
            return False
    return True
