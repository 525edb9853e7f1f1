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
"""``nova-powervm-sandbox``: an all-in-one cloud on simulated NovaLink hosts.

Native threading is selected in ``main`` before anything imports
oslo.service, futurist or nova's fixtures (nova-compute 2026.2 refuses
eventlet); only the standard library is imported at module level.
"""

import argparse
import faulthandler
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time

DEFAULT_API_PORT = 8774
DEMO_TOKEN = 'demo:demo'
ADMIN_TOKEN = 'admin:demo'


def parse_args(argv):
    """Parse the command line.

    :param argv: arguments without the program name.
    """
    parser = argparse.ArgumentParser(
        prog='nova-powervm-sandbox',
        description='Run real nova services with the PowerVM driver '
                    'against simulated NovaLink hosts, with keystone, '
                    'placement, Glance and Neutron in processes of their '
                    'own. For local use only.')
    parser.add_argument('--computes', type=int, default=2,
                        help='number of nova-compute services, each with '
                             'its own simulated host (default 2)')
    parser.add_argument('--api-port', type=int, default=None,
                        help='compute API port on 127.0.0.1; 0 picks a free '
                             'port (default: 8774 when serving, a free port '
                             'with --demo)')
    parser.add_argument('--demo', action='store_true',
                        help='run the scripted lifecycle, print the table '
                             'and exit (non-zero on any failure)')
    parser.add_argument('--state-dir',
                        help='directory for clouds.yaml, logs and simulator '
                             'state (default: a new temporary directory)')
    parser.add_argument('--driver', choices=('powervm', 'fake'),
                        default='powervm',
                        help="compute driver: 'powervm' (default) or nova's "
                             "'fake' driver, for checking the harness")
    parser.add_argument('--disk-driver', choices=('localdisk', 'ssp'),
                        default='localdisk',
                        help="[powervm] disk_driver: 'localdisk' (a volume "
                             "group on each host, the default) or 'ssp' "
                             "(one Shared Storage Pool all the simulated "
                             "hosts share)")
    parser.add_argument('--network', choices=('none', 'auto'),
                        default='auto',
                        help="'networks' the demo boots with: 'auto' (a "
                             "port on the shared network, the default) or "
                             "'none'")
    parser.add_argument('--image-mb', type=int, default=4,
                        help='size of the default raw image in MiB')
    parser.add_argument('--lite', action='store_true',
                        help='quick start without keystone, Glance, '
                             'Neutron and Cinder: nova\'s in-process test '
                             'fixtures for placement, image, network and '
                             'volumes (no volume demo rows), and a '
                             'token filter trusting any "user:project" '
                             'token (read-only image and network views)')
    parser.add_argument('--debug', action='store_true',
                        help='log at DEBUG (to the log file)')
    parser.add_argument('--vif-type', choices=('pvm_sea', 'ovs', 'pvm_sriov'),
                        default='pvm_sea',
                        help="how Neutron binds ports for the PowerVM "
                             "driver: 'pvm_sea' (a client adapter on the "
                             "VLAN, the default), 'ovs' (an adapter paired "
                             "with a NovaLink trunk in Open vSwitch) or "
                             "'pvm_sriov' (an SR-IOV vNIC)")
    parser.add_argument('--fc-attach-strategy', choices=('vscsi', 'npiv'),
                        default=None,
                        help="[powervm] fc_attach_strategy of the computes: "
                             "how Fibre Channel volumes from Cinder (LUNs "
                             "on the simulated SAN) reach a server: 'vscsi' "
                             "(through the VIOS, the driver's default) or "
                             "'npiv' (virtual FC ports of the server)")
    parser.add_argument('--scale', action='store_true',
                        help='with --demo: instead of the lifecycle, boot '
                             '--scale-servers servers at once across the '
                             'computes, check that each simulated host '
                             'holds exactly its own servers and placement '
                             'the matching usage, then delete them all')
    parser.add_argument('--scale-servers', type=int, default=50,
                        help='servers the --scale demo boots (default 50)')
    parser.add_argument('--scale-scheduler', action='store_true',
                        help="with --scale: let nova's scheduler place the "
                             "servers instead of asking for each host in "
                             "turn (the admin's nova:<host> zone; nova's "
                             "scheduler packs servers requested at once)")
    args = parser.parse_args(argv)
    if args.scale and not args.demo:
        parser.error('--scale needs --demo')
    if args.scale_servers < 1:
        parser.error('--scale-servers must be at least 1')
    if args.computes < 1:
        parser.error('--computes must be at least 1')
    if args.api_port is None:
        args.api_port = 0 if args.demo else DEFAULT_API_PORT
    return args


def setup_logging(state_dir, debug):
    """Send every log record to ``<state_dir>/sandbox.log``.

    :returns: the log file path.
    """
    path = os.path.join(state_dir, 'sandbox.log')
    # Appended: the log of an earlier run on the same state directory
    # is kept.
    handler = logging.FileHandler(path, mode='a')
    handler.setFormatter(logging.Formatter(
        '%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s'))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    return path


def write_clouds_yaml(state_dir, cloud):
    """Write a ``clouds.yaml`` for openstacksdk and the openstack CLI.

    Password auth against the sandbox's keystone for ``sandbox`` (user
    ``demo``) and ``sandbox-admin`` (user ``admin``); with ``--lite``,
    static tokens.

    :returns: its path.
    """
    if cloud.services is None:
        return write_lite_clouds_yaml(state_dir, cloud.api_server.url)
    from nova_powervm.sandbox import services

    path = os.path.join(state_dir, 'clouds.yaml')
    entry = ('  %(name)s:\n    auth:\n      auth_url: %(auth_url)s\n'
             '      username: %(user)s\n      password: "%(password)s"\n'
             '      project_name: %(user)s\n'
             '      user_domain_name: Default\n'
             '      project_domain_name: Default\n'
             '    region_name: %(region)s\n    interface: public\n'
             '    identity_api_version: 3\n')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write('# nova-powervm-sandbox: local use only.\nclouds:\n')
        for name, user in (('sandbox', services.DEMO),
                           ('sandbox-admin', services.ADMIN)):
            f.write(entry % {'name': name, 'user': user,
                             'password': cloud.services.secrets[user],
                             'auth_url': cloud.services.auth_url,
                             'region': services.REGION})
    return path


def write_lite_clouds_yaml(state_dir, base_url):
    """Write the ``--lite`` sandbox's ``clouds.yaml`` (static tokens).

    :param base_url: ``http://127.0.0.1:PORT`` of the sandbox API server.
    :returns: its path.
    """
    from nova_powervm.sandbox import catalog

    path = os.path.join(state_dir, 'clouds.yaml')
    entry = ('  %(name)s:\n    auth_type: admin_token\n    auth:\n'
             '      endpoint: %(base)s/v2.1\n      token: "%(token)s"\n'
             '    compute_endpoint_override: %(base)s/v2.1\n'
             '    image_endpoint_override: %(base)s%(image)s\n'
             '    network_endpoint_override: %(base)s%(network)s\n'
             '    identity_endpoint_override: %(base)s%(identity)s\n'
             '    identity_api_version: "3"\n')
    with open(path, 'w') as f:
        f.write('# nova-powervm-sandbox: local use only.\nclouds:\n')
        for name, token in (('sandbox', DEMO_TOKEN),
                            ('sandbox-admin', ADMIN_TOKEN)):
            f.write(entry % {'name': name, 'base': base_url, 'token': token,
                             'image': catalog.IMAGE_PREFIX,
                             'network': catalog.NETWORK_PREFIX,
                             'identity': catalog.IDENTITY_PREFIX})
    return path


def print_endpoints(cloud, clouds_yaml, log_path, out):
    """Tell the user how to reach the running sandbox."""
    from nova_powervm.sandbox import images

    print('Compute API:   %s' % cloud.compute_url, file=out)
    if cloud.services is None:
        print('Tokens:        X-Auth-Token: %s (member), %s (admin)'
              % (DEMO_TOKEN, ADMIN_TOKEN), file=out)
    else:
        for name in ('keystone', 'placement', 'glance', 'neutron',
                     'cinder'):
            if name not in cloud.services.procs:
                continue
            proc = cloud.services.procs[name]
            print('%-14s %s  (pid %d, log %s)'
                  % (name.capitalize() + ':', proc.url, proc.proc.pid,
                     os.path.join(proc.conf_dir, name + '.log')), file=out)
        print('VNC proxy:     %s  (in this process)'
              % cloud.console_proxy.base_url, file=out)
        print('Users:         demo (project demo), admin (project admin);'
              ' passwords in clouds.yaml', file=out)
    for host, sim in sorted(cloud.simulators.items()):
        flags = sim.driver_flags()
        print('NovaLink sim:  %s -> http://%s:%s/rest/api  (/sim/state)'
              % (host, flags['pvm_host'], flags['pvm_port']), file=out)
    if not cloud.simulators:
        print('Computes:      %s (nova fake driver)'
              % ', '.join(sorted(cloud.computes)), file=out)
    print('Image:         %s (%s, raw)'
          % (images.DEFAULT_IMAGE_ID, images.DEFAULT_IMAGE_NAME), file=out)
    print('Flavors:       m1.tiny (1), m1.small (2), ...', file=out)
    print('clouds.yaml:   %s' % clouds_yaml, file=out)
    print('               export OS_CLIENT_CONFIG_FILE=%s OS_CLOUD=sandbox'
          % clouds_yaml, file=out)
    print('Log:           %s' % log_path, file=out)


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived."""


def _raise_interrupted(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def catch_signals():
    """Turn SIGINT and SIGTERM into ``Interrupted`` (clean stop)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _raise_interrupted)


def ignore_signals():
    """Let a second Ctrl-C not interrupt the stopping itself."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


def wait_for_interrupt():
    """Block until SIGINT or SIGTERM."""
    stop = threading.Event()
    try:
        while not stop.wait(1.0):
            pass
    except Interrupted:
        return


def select_threading():
    """Make nova use native threads (must precede nova's imports)."""
    os.environ['OS_NOVA_DISABLE_EVENTLET_PATCHING'] = '1'
    from nova import monkey_patch

    monkey_patch.patch(backend='threading')


def main(argv=None):
    """Entry point of ``nova-powervm-sandbox``.

    :param argv: arguments; None for the command line, and then the
                 process also ends when threads are left behind.
    :returns: process exit status.
    """
    status = _main(argv)
    if argv is None:
        _exit_past_lingering_threads(status)
    return status


def _exit_past_lingering_threads(status):
    """End the process even if a half-started service left threads.

    A compute whose start failed (``init_host`` raising) is never
    stopped by nova, and its non-daemon threads would keep the process
    alive after everything else was stopped.
    """
    lingering = [t.name for t in threading.enumerate()
                 if t is not threading.main_thread() and not t.daemon
                 and t.is_alive()]
    if not lingering:
        return
    logging.getLogger(__name__).warning(
        'Exiting past threads left running: %s', ', '.join(lingering))
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(status)


def _main(argv):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    t0 = time.monotonic()
    # ``kill -USR1 <pid>`` prints every thread's stack to stderr (a hang).
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    select_threading()
    state_dir = args.state_dir or tempfile.mkdtemp(prefix='pvm-sandbox-')
    os.makedirs(state_dir, exist_ok=True)
    log_path = setup_logging(state_dir, args.debug)
    out = sys.stdout

    from nova_powervm.sandbox import auth
    from nova_powervm.sandbox import cloud as sandbox_cloud

    if args.lite:
        print(auth.WARNING, file=sys.stderr)
    cloud = sandbox_cloud.Cloud(
        computes=args.computes, driver=args.driver, api_port=args.api_port,
        state_dir=state_dir, image_size=args.image_mb * 1024 * 1024,
        disk_driver=args.disk_driver, lite=args.lite, out=out,
        vif_type=args.vif_type,
        fc_attach_strategy=args.fc_attach_strategy)
    catch_signals()
    try:
        cloud.setUp()
    except Exception as exc:
        # fixtures stopped whatever had started before raising.
        ignore_signals()
        first = _first_error(exc)
        if isinstance(first, Interrupted):
            print('Interrupted (%s) during start; stopped.' % first,
                  file=sys.stderr)
            return 130
        logging.getLogger(__name__).exception('sandbox start failed')
        print('Sandbox failed to start: %s; see %s'
              % (_reason(exc), log_path), file=sys.stderr)
        return 1
    status = 1
    try:
        clouds_yaml = write_clouds_yaml(state_dir, cloud)
        if cloud.services is not None:
            from nova_powervm.sandbox import describe

            describe.write(cloud, state_dir)
        print('Sandbox started in %.1f s (%d compute(s), driver %s, disk '
              'driver %s%s).' % (time.monotonic() - t0, args.computes,
                                 args.driver, args.disk_driver,
                                 ', lite' if args.lite else ''), file=out)
        print_endpoints(cloud, clouds_yaml, log_path, out)
        if args.demo:
            status = run_demo(cloud, args, out, t0)
        else:
            print('Serving; press Ctrl-C to stop.', file=out)
            out.flush()
            wait_for_interrupt()
            status = 0
    except Interrupted as exc:
        print('Interrupted (%s).' % exc, file=out)
        status = 130
    finally:
        ignore_signals()
        print('Stopping the sandbox (nova services, simulators%s)...'
              % ('' if args.lite else ', then keystone, placement, Glance, '
                 'Neutron and Cinder'), file=out)
        out.flush()
        cloud.cleanUp()
        print('Stopped.', file=out)
        out.flush()
    if status == 0 and not args.state_dir:
        # A passed demo or a stopped server in a directory of its own
        # leaves nothing behind (a new run cannot find that directory);
        # a failed demo keeps its log for the post-mortem.  Records logged
        # at interpreter exit (pypowervm's session finalizers) must not
        # recreate the log there.
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        root.addHandler(logging.NullHandler())
        shutil.rmtree(state_dir, ignore_errors=True)
    return status


def _first_error(exc):
    """The first real error of a (possibly multiple) setUp failure."""
    while (type(exc).__name__ == 'MultipleExceptions' and exc.args
           and isinstance(exc.args[0], tuple)):
        exc = exc.args[0][1]
    return exc


def _reason(exc):
    """``Type: message`` of the first real error of a setUp failure."""
    exc = _first_error(exc)
    return '%s: %s' % (type(exc).__name__, exc)


def run_demo(cloud, args, out, t0):
    """Run the demo against the started cloud and print the verdict.

    :returns: exit status (0 when the demo passed).
    """
    from nova_powervm.sandbox import demo

    out.flush()
    t1 = time.monotonic()
    if cloud.services is None:
        tokens = DEMO_TOKEN, ADMIN_TOKEN
    else:
        tokens = cloud.services.user_tokens()
    client = demo.ComputeClient(
        cloud.compute_url, tokens[0], admin_token=tokens[1],
        image_url=cloud.image_url)
    if getattr(args, 'scale', False):
        return _run_scale_demo(cloud, client, args, out, t0, t1)
    ok = demo.run_demo(cloud, client, out, network=args.network,
                       snapshot=_snapshot_supported(cloud),
                       rescue=_rescue_supported(cloud, args.disk_driver))
    print('Demo %s in %.1f s (total %.1f s).'
          % ('PASSED' if ok else 'FAILED', time.monotonic() - t1,
             time.monotonic() - t0), file=out)
    return 0 if ok else 1


def _rescue_supported(cloud, disk_driver):
    """Whether the driver, on this disk driver, implements rescue."""
    from oslo_utils import importutils

    from nova_powervm.sandbox import describe

    drv = next(iter(cloud.computes.values())).manager.driver
    if not describe.implements(drv, 'rescue', 'unrescue'):
        return False
    if cloud.driver != 'powervm':
        return True
    from nova_powervm.virt.powervm import disk
    from nova_powervm.virt.powervm.disk import base

    adapter = importutils.import_class(disk.ADAPTERS[disk_driver])
    return describe.implements(adapter, 'create_rescue_disk',
                               base=base.DiskAdapter)


def _snapshot_supported(cloud):
    """Whether the running driver implements ``snapshot``."""
    from nova.virt import driver as virt_driver

    drv = next(iter(cloud.computes.values())).manager.driver
    return type(drv).snapshot is not virt_driver.ComputeDriver.snapshot


def _run_scale_demo(cloud, client, args, out, t0, t1):
    """``--demo --scale``: many servers at once (``demo_scale``).

    :returns: exit status (0 when the demo passed).
    """
    from nova_powervm.sandbox import demo_scale

    ok = demo_scale.run(cloud, client, out, count=args.scale_servers,
                        network=args.network,
                        round_robin=not args.scale_scheduler)
    print('Demo %s in %.1f s (total %.1f s).'
          % ('PASSED' if ok else 'FAILED', time.monotonic() - t1,
             time.monotonic() - t0), file=out)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
