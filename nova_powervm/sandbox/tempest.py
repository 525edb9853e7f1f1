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
"""``tox -e tempest``: tempest's compute API tests against the sandbox.

Starts the sandbox (2 computes, keystone, placement, Glance, Neutron),
writes ``tempest.conf`` from what it serves (``sandbox.json``: endpoints,
users, images, network, flavors, and the compute features the running
driver really implements), runs the project's selection with the skip
list ``tempest_exclude.txt`` (only what PowerVM cannot do, each with its
reason), prints the result and exits non-zero on any failure.

The same ``tempest.conf`` writer serves third-party CI on a real NovaLink
host (``--config-only`` with ``--sandbox-json`` describing that cloud);
see doc/source/third-party-ci.rst.
"""

import argparse
import configparser
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
EXCLUDE_FILE = os.path.join(HERE, 'tempest_exclude.txt')
# The selection: tempest's compute API tests.  Feature flags (written from
# the driver's capabilities) skip what the driver does not implement yet,
# the exclude list what PowerVM cannot do.
SELECTION = r'^tempest\.api\.compute\.'
START_TIMEOUT = 300
STOP_TIMEOUT = 90


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog='python -m nova_powervm.sandbox.tempest',
        description=__doc__.split('\n\n')[0])
    parser.add_argument('--workspace',
                        help='tempest workspace (default: a new temporary '
                             'directory, removed after a passed run)')
    parser.add_argument('--regex', default=SELECTION,
                        help='tests to run (default: %(default)s)')
    parser.add_argument('--concurrency', type=int,
                        default=int(os.environ.get('TEMPEST_CONCURRENCY',
                                                   '2')),
                        help='tempest workers (default 2)')
    parser.add_argument('--disk-driver', choices=('localdisk', 'ssp'),
                        help="the sandbox's disk driver (default: the "
                             "sandbox's, localdisk); ssp lets servers "
                             "move, so tempest's migration tests run")
    parser.add_argument('--sandbox-json',
                        help='describe an already running cloud instead '
                             'of starting the sandbox')
    parser.add_argument('--config-only', action='store_true',
                        help='write tempest.conf and stop')
    parser.add_argument('--print-features', action='store_true',
                        help="print the installed PowerVM driver's "
                             "[compute-feature-enabled] section (for a "
                             "real cloud's tempest.conf) and stop")
    return parser.parse_args(argv)


def print_features(out=sys.stdout):
    """The PowerVM driver's ``[compute-feature-enabled]`` section."""
    os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')
    from nova import monkey_patch

    monkey_patch.patch(backend='threading')
    from nova import conf as nova_conf  # noqa: F401 (registers options)

    from nova_powervm.sandbox import describe
    from nova_powervm.virt.powervm import driver

    features = describe.compute_features(driver.PowerVMDriver)
    print('[compute-feature-enabled]', file=out)
    for key, value in sorted(features.items()):
        if key != 'scheduler_enabled_filters':
            print('%s = %s' % (key, value), file=out)
    extra = describe.missing_feature_exclusions(driver.PowerVMDriver)
    if extra:
        print('\n# Add to the exclude list while the driver lacks them:',
              file=out)
        for regex, reason in extra:
            print('%s  # %s' % (regex, reason), file=out)


def tempest_conf(info, workspace):
    """``tempest.conf`` contents (a ``ConfigParser``) for a cloud.

    :param info: the cloud's description (``sandbox.json``).
    :param workspace: the tempest workspace (for lock and log paths).
    """
    conf = configparser.ConfigParser(interpolation=None)
    admin = info['users']['admin']
    features = info['compute_features']
    conf.read_dict({
        'DEFAULT': {
            'log_file': os.path.join(workspace, 'tempest.log'),
            'debug': 'False',
        },
        'oslo_concurrency': {'lock_path': os.path.join(workspace, 'locks')},
        'auth': {
            'admin_username': admin['username'],
            'admin_password': admin['password'],
            'admin_project_name': admin['project'],
            'admin_domain_name': 'Default',
            'use_dynamic_credentials': 'True',
            # The shared network serves every project; no routers.
            'create_isolated_networks': 'False',
        },
        'identity': {
            'uri_v3': info['auth_url'],
            'auth_version': 'v3',
            'region': info['region'],
            'v3_endpoint_type': 'public',
        },
        'identity-feature-enabled': {'api_v2': 'False'},
        'compute': {
            'image_ref': info['images'][0],
            'image_ref_alt': info['images'][1],
            'flavor_ref': info['flavors'][0],
            'flavor_ref_alt': info['flavors'][1],
            'fixed_network_name': info['network'],
            'min_compute_nodes': str(len(info['computes'])),
            'max_microversion': info.get('max_microversion', 'latest'),
            'region': info['region'],
            'endpoint_type': 'publicURL',
            'build_timeout': '120',
        },
        'compute-feature-enabled': dict(
            (k, str(v)) for k, v in sorted(features.items())),
        'image': {'region': info['region'], 'endpoint_type': 'public'},
        'network': {
            'region': info['region'], 'endpoint_type': 'public',
            'project_network_cidr': info.get('cidr', '192.168.1.0/24'),
            'shared_physical_network': 'True',
        },
        'network-feature-enabled': {
            'api_extensions': ','.join(info.get('network_extensions',
                                                ['all'])),
            'floating_ips': str(bool(info.get('public_network_id'))),
        },
        'placement': {'region': info['region'],
                      'endpoint_type': 'public'},
        'validation': {'run_validation': 'False'},
        'service_available': {
            'nova': 'True', 'glance': 'True', 'neutron': 'True',
            'cinder': str(info.get('cinder', False)),
            'swift': 'False', 'heat': 'False', 'horizon': 'False',
        },
    })
    if info.get('cinder') and info.get('volume'):
        add_volume_sections(conf, info)
    if info.get('public_network_id'):
        conf['network']['public_network_id'] = info['public_network_id']
        conf['network']['floating_network_name'] = info[
            'floating_network_name']
    return conf


def add_volume_sections(conf, info):
    """``[volume]`` and ``[volume-feature-enabled]`` of a cloud with Cinder.

    :param conf: the ``ConfigParser`` being written.
    :param info: the cloud's description; its ``volume`` entry says what
                 the Cinder backends can do.
    """
    vol = info['volume']
    conf.read_dict({
        'volume': {
            'catalog_type': vol['catalog_type'],
            'region': info['region'],
            'endpoint_type': 'public',
            'backend_names': ','.join(vol['backend_names']),
            'storage_protocol': vol['storage_protocol'],
            'vendor_name': vol['vendor_name'],
            'volume_size': '1',
            'build_timeout': '120',
        },
        'volume-feature-enabled': {
            'multi_backend': str(len(vol['backend_names']) > 1),
            'backup': 'False',
            'snapshot': str(vol['snapshot']),
            'clone': str(vol['clone']),
            'manage_volume': 'False',
            'manage_snapshot': 'False',
            'extend_attached_volume': str(vol['extend_attached_volume']),
        },
    })
    if vol.get('volume_type_multiattach'):
        conf['volume']['volume_type_multiattach'] = vol[
            'volume_type_multiattach']


def write_conf(info, workspace):
    """Write ``<workspace>/etc/tempest.conf``; returns its path."""
    os.makedirs(os.path.join(workspace, 'etc'), exist_ok=True)
    path = os.path.join(workspace, 'etc', 'tempest.conf')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        tempest_conf(info, workspace).write(f)
    return path


class Sandbox(object):
    """The sandbox command in a subprocess, serving until stopped.

    :param state_dir: its state directory.
    :param computes: number of computes.
    :param disk_driver: the sandbox's ``--disk-driver`` (None: its default).
    """

    def __init__(self, state_dir, computes=2, disk_driver=None):
        self.state_dir = state_dir
        self.computes = computes
        self.disk_driver = disk_driver
        self.proc = None
        self.lines = []

    def start(self):
        env = dict(os.environ, OS_NOVA_DISABLE_EVENTLET_PATCHING='1')
        self.proc = subprocess.Popen(
            [sys.executable, '-u', '-m', 'nova_powervm.sandbox.cli',
             '--computes', str(self.computes), '--api-port', '0',
             '--state-dir', self.state_dir] +
            (['--disk-driver', self.disk_driver] if self.disk_driver
             else []),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=env)
        ready = threading.Event()

        def read():
            for raw in self.proc.stdout:
                line = raw.decode('utf8', 'replace')
                self.lines.append(line)
                if line.startswith('Serving;'):
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        ready.wait(START_TIMEOUT)
        if self.proc.poll() is not None or not any(
                line.startswith('Serving;') for line in self.lines):
            self.stop()
            raise RuntimeError('the sandbox did not start:\n%s'
                               % ''.join(self.lines))
        with open(os.path.join(self.state_dir, 'sandbox.json')) as f:
            return json.load(f)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)


def _tempest():
    return os.path.join(os.path.dirname(sys.executable), 'tempest')


def init_workspace(workspace):
    """``tempest init`` (once); returns the tempest directory."""
    path = os.path.join(workspace, 'tempest')
    if not os.path.exists(os.path.join(path, '.stestr.conf')):
        subprocess.run([_tempest(), 'init', '--name',
                        'nova-powervm-%d' % os.getpid(), path], check=True,
                       stdout=subprocess.DEVNULL)
    return path


def write_exclude_list(info, workspace):
    """Write the exclude list of this run; returns its path.

    The project's list, plus the tests needing a driver feature tempest
    has no flag for, while the driver lacks it.
    """
    path = os.path.join(workspace, 'exclude.txt')
    with open(EXCLUDE_FILE) as f:
        text = f.read()
    extra = info.get('missing_feature_exclusions', [])
    if extra:
        text += '\n# Written from the running driver:\n'
        text += ''.join('%s  # %s\n' % (regex, reason)
                        for regex, reason in extra)
    with open(path, 'w') as f:
        f.write(text)
    return path


def run_tempest(workspace, regex, concurrency, exclude):
    """``tempest run`` in the workspace; returns (status, counts).

    :param workspace: the tempest directory (``init_workspace``).
    :param exclude: the exclude list file.
    :returns: exit status and ``{'passed': n, 'skipped': n, 'failed': n,
        'failures': [test id, ...]}``.
    """
    tempest = _tempest()
    cmd = [tempest, 'run', '--regex', regex,
           '--exclude-list', exclude,
           '--concurrency', str(concurrency)]
    print('$ %s' % ' '.join(cmd), flush=True)
    counts = {'passed': 0, 'skipped': 0, 'failed': 0, 'failures': []}
    proc = subprocess.Popen(cmd, cwd=workspace, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    for raw in proc.stdout:
        line = raw.decode('utf8', 'replace')
        sys.stdout.write(line)
        for key, label in (('passed', 'Passed'), ('skipped', 'Skipped'),
                           ('failed', 'Failed')):
            match = re.match(r'^ - %s: (\d+)' % label, line)
            if match:
                counts[key] = int(match.group(1))
        match = re.match(r'^\{\d+\} (.+?)(?: \[[\d.]+s\])? \.\.\. FAILED',
                         line)
        if match:
            counts['failures'].append(match.group(1))
    sys.stdout.flush()
    return proc.wait(), counts


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.print_features:
        print_features()
        return 0
    t0 = time.monotonic()
    workspace = args.workspace or tempfile.mkdtemp(prefix='pvm-tempest-')
    os.makedirs(workspace, exist_ok=True)
    sandbox = None
    status = 1
    failures = []
    try:
        if args.sandbox_json:
            with open(args.sandbox_json) as f:
                info = json.load(f)
        else:
            state_dir = os.path.join(workspace, 'sandbox')
            os.makedirs(state_dir, exist_ok=True)
            sandbox = Sandbox(state_dir, disk_driver=args.disk_driver)
            info = sandbox.start()
            print('Sandbox started in %.1f s (%s).'
                  % (time.monotonic() - t0, ', '.join(info['computes'])),
                  flush=True)
        tempest_dir = init_workspace(workspace)
        path = write_conf(info, tempest_dir)
        print('tempest.conf: %s' % path)
        print('compute features: %s' % ', '.join(
            '%s=%s' % kv for kv in sorted(info['compute_features'].items())))
        if args.config_only:
            return 0
        exclude = write_exclude_list(info, tempest_dir)
        status, counts = run_tempest(tempest_dir, args.regex,
                                     args.concurrency, exclude)
        failures = counts['failures']
        if status == 0 and counts['failed']:
            status = 1
        if status == 0 and not counts['passed']:
            print('tempest ran no test', file=sys.stderr)
            status = 1
        print('tempest: %d passed, %d failed, %d skipped in %.0f s'
              % (counts['passed'], counts['failed'], counts['skipped'],
                 time.monotonic() - t0))
        print('%d passed, %d failed, %d skipped'
              % (counts['passed'], counts['failed'], counts['skipped']))
    finally:
        if sandbox is not None:
            sandbox.stop()
        if status and sandbox is not None:
            print('sandbox output:\n%s' % ''.join(sandbox.lines[-40:]))
            print('Logs kept in %s' % workspace)
            for test_id in failures:
                # Last, as CI logs keep only the end of the output.
                print('FAILED: %s' % test_id)
        elif not args.workspace and not args.config_only:
            shutil.rmtree(workspace, ignore_errors=True)
    return status


if __name__ == '__main__':
    sys.exit(main())
