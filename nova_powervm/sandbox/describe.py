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
"""What the running sandbox serves, for clients that configure themselves.

``describe`` builds the ``sandbox.json`` the sandbox writes to its state
directory: endpoints, users, images, network, flavors, computes, and the
compute features the running driver really implements (as tempest's
``[compute-feature-enabled]`` flags), so ``tox -e tempest`` never keeps a
hand-written list that goes stale as the driver grows.
"""

import json
import os

from nova.api.openstack import api_version_request
from nova.virt import driver as virt_driver
from oslo_config import cfg

from nova_powervm.sandbox import images
from nova_powervm.sandbox import services as sandbox_services

CONF = cfg.CONF


# The driver's way of saying "not yet": a method that raises it is a
# refusal with a clear message, not an implementation.
REFUSAL = 'NotSupportedYet'


def implements(drv, *names, base=virt_driver.ComputeDriver):
    """Whether the driver implements every named method of ``base``.

    Implemented means overridden, and not by a method that only refuses
    (one whose code names ``NotSupportedYet``).

    :param drv: a driver (or disk adapter) instance or class.
    :param base: the class declaring the methods.
    """
    cls = drv if isinstance(drv, type) else type(drv)
    for name in names:
        method = getattr(cls, name, None)
        if method is None or method is getattr(base, name):
            return False
        code = getattr(method, '__code__', None)
        if code is not None and REFUSAL in code.co_names:
            return False
    return True


def shared_storage(drv):
    """Whether the driver's disks are shared by hosts (no REST).

    A started driver asks its disk adapter; a driver class reads
    ``[powervm] disk_driver``.
    """
    ctx = getattr(drv, '_ctx', None)
    if ctx is not None:
        return bool(ctx.disk_dvr.capabilities.get('shared_storage'))
    group = getattr(CONF, 'powervm', None)
    return getattr(group, 'disk_driver', None) == 'ssp'


def compute_features(drv):
    """tempest's ``[compute-feature-enabled]`` flags for a driver.

    :param drv: a started compute driver (its capabilities as its host
                found them), or a driver class.
    :returns: ``{option: bool or str}``.
    """
    caps = drv.capabilities
    migrate = implements(drv, 'migrate_disk_and_power_off',
                         'finish_migration', 'confirm_migration')
    live = implements(
        drv, 'live_migration', 'check_can_live_migrate_destination',
        'check_can_live_migrate_source') and shared_storage(drv)
    return {
        # nova's scheduler sends a resize to another host (the sandbox
        # keeps allow_resize_to_same_host at its default, False), which
        # needs shared storage (disk_driver = ssp); local disks resize on
        # their own host only (the demo's resize row disables the others).
        'resize': migrate and shared_storage(drv),
        'cold_migration': migrate and shared_storage(drv),
        # Partition Mobility moves servers whose disks are shared (SSP).
        'live_migration': live,
        'block_migration_for_live_migration': False,
        'snapshot': implements(drv, 'snapshot'),
        'shelve': implements(drv, 'snapshot'),
        'shelve_migrate': implements(drv, 'snapshot'),
        'pause': implements(drv, 'pause', 'unpause'),
        'suspend': implements(drv, 'suspend', 'resume'),
        'rescue': implements(drv, 'rescue', 'unrescue'),
        'stable_rescue': bool(caps.get('supports_bfv_rescue')),
        'console_output': implements(drv, 'get_console_output'),
        'vnc_console': implements(drv, 'get_vnc_console'),
        'spice_console': implements(drv, 'get_spice_console'),
        'serial_console': implements(drv, 'get_serial_console'),
        'interface_attach': bool(caps.get('supports_attach_interface'))
        and implements(drv, 'attach_interface', 'detach_interface'),
        'change_password': implements(drv, 'set_admin_password'),
        'swap_volume': implements(drv, 'swap_volume'),
        'volume_multiattach': bool(caps.get('supports_multiattach')),
        'attach_encrypted_volume': False,
        # Boot-from-volume servers move (vSCSI, iSCSI and NPIV volumes).
        'volume_backed_live_migration': live,
        # The driver builds a config drive when one is asked for.
        'config_drive': True,
        # Needs the image's partitions resized by the hypervisor.
        'disk_config': False,
        'personality': False,
        'metadata_service': False,
        'xenapi_apis': False,
        'ide_bus': False,
        'unified_limits': False,
        'scheduler_enabled_filters': ','.join(
            CONF.filter_scheduler.enabled_filters),
    }


# Tests tempest runs whatever [compute-feature-enabled] says, but which
# need a driver method: left out while the running driver lacks it, run
# as soon as it has it.  (methods, test regex, what is missing)
NEEDS = (
    (('snapshot',),
     r'^tempest\.api\.compute\.admin\.test_servers_on_multinodes\.'
     r'UnshelveToHostMultiNodesTest\.',
     'shelve (no [compute-feature-enabled] check in this class)'),
    (('get_diagnostics', 'get_instance_diagnostics'),
     r'^tempest\.api\.compute\.admin\.test_server_diagnostics\.',
     'server diagnostics'),
    (('suspend', 'resume'),
     r'^tempest\.api\.compute\.admin\.test_live_migration_negative\.'
     r'LiveMigrationNegativeTest\.test_live_block_migration_suspended',
     'suspend (no [compute-feature-enabled] check in this test)'),
)


def missing_feature_exclusions(drv):
    """``[(regex, reason)]`` of tests needing what the driver lacks.

    :param drv: a driver instance or class.
    """
    return [(regex, 'the driver does not implement %s yet' % what)
            for methods, regex, what in NEEDS
            if not implements(drv, *methods)]


def describe(cloud):
    """The ``sandbox.json`` document of a started (full) ``Cloud``."""
    svc = cloud.services
    drv = next(iter(cloud.computes.values())).manager.driver
    session = svc.keystone.session_for(
        sandbox_services.ADMIN, svc.secrets[sandbox_services.ADMIN],
        sandbox_services.ADMIN)
    exts = session.get(svc.url('neutron') + '/v2.0/extensions',
                       timeout=30).json()['extensions']
    return {
        'auth_url': svc.auth_url,
        'region': sandbox_services.REGION,
        'compute_url': cloud.compute_url,
        'users': {
            name: {'username': name, 'password': svc.secrets[name],
                   'project': name}
            for name in (sandbox_services.ADMIN, sandbox_services.DEMO)},
        'images': [images.DEFAULT_IMAGE_ID, images.ALT_IMAGE_ID],
        'network': sandbox_services.NETWORK_NAME,
        'public_network_id': svc.public_network_id,
        'floating_network_name': sandbox_services.PUBLIC_NAME,
        'cidr': sandbox_services.SUBNET_CIDR,
        'network_extensions': sorted(e['alias'] for e in exts),
        'flavors': ['1', '2'],
        'computes': sorted(cloud.computes),
        'max_microversion': api_version_request._MAX_API_VERSION,
        'compute_features': compute_features(drv),
        'missing_feature_exclusions': missing_feature_exclusions(drv),
        'cinder': bool(getattr(svc, 'cinder', False)),
        'volume': volume_description(svc, drv),
    }


def volume_description(svc, drv):
    """What tempest needs of the sandbox's Cinder, or None without it.

    :param svc: the ``Services`` fixture.
    :param drv: a started compute driver.
    """
    if not getattr(svc, 'cinder', False):
        return None
    caps = drv.capabilities
    return {
        'catalog_type': 'block-storage',
        'backend_names': [b[1] for b in sandbox_services.CINDER_BACKENDS],
        'volume_types': [b[0] for b in sandbox_services.CINDER_BACKENDS],
        'volume_type_multiattach': sandbox_services.MULTIATTACH_TYPE,
        # The default volume type's protocol.
        'storage_protocol': 'FC',
        'vendor_name': 'nova-powervm sandbox',
        # The sandbox's Cinder driver makes snapshots and clones (LUNs of
        # their own), and can extend an attached volume when the compute
        # driver can.
        'snapshot': True,
        'clone': True,
        'extend_attached_volume': bool(caps.get('supports_extend_volume')),
    }


def write(cloud, state_dir):
    """Write ``<state_dir>/sandbox.json`` (mode 0600: it has passwords)."""
    path = os.path.join(state_dir, 'sandbox.json')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        json.dump(describe(cloud), f, indent=2, sort_keys=True)
    return path
