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
"""``powervm-sim``: run the NovaLink REST simulator as a server."""

import argparse
import logging
import os
import signal
import sys
import threading

from nova_powervm.simulator import core
from nova_powervm.simulator import inventory as sim_inv
from nova_powervm.simulator import server as sim_server

LOG = logging.getLogger('powervm-sim')


def parse_args(argv=None):
    """Parse the command line.

    :param argv: arguments (default ``sys.argv[1:]``).
    """
    prs = argparse.ArgumentParser(
        prog='powervm-sim', description='NovaLink REST API simulator.')
    add = prs.add_argument
    add('--host', default='127.0.0.1', help='bind address (loopback)')
    add('--port', type=int, default=12080, help='bind port')
    add('--state-dir', required=True, help='state, tokens and disk files')
    add('--user', help='password-logon user (default: any)')
    add('--password', default=os.environ.get('PVM_SIM_PASSWORD'),
        help='password-logon password (prefer the PVM_SIM_PASSWORD '
             'environment variable: a command line is visible to others)')
    add('--tls-cert', help='PEM certificate: serve HTTPS')
    add('--tls-key', help='PEM private key for --tls-cert')
    add('--latency', type=float, default=0.0,
        help='seconds added to every /rest/api request')
    add('--job-seconds', type=float, default=0.0,
        help='seconds a job runs before completing (0: synchronous)')
    add('--event-timeout', type=float, default=10.0,
        help='seconds an event long poll blocks')
    add('--save-interval', type=float, default=2.0,
        help='seconds between state saves when something changed')
    add('--vioses', type=int, default=2, help='number of VIOSes')
    add('--cores', type=int, default=20, help='processor units')
    add('--memory-gb', type=int, default=256, help='memory in GB')
    add('--lmb-mb', type=int, default=256, help='logical memory block MB')
    add('--fc-ports', type=int, default=2, help='FC ports per VIOS')
    add('--datavg-gb', type=int, default=500, help='datavg size (GB)')
    add('--ssp', action='store_true', help='create an SSP cluster')
    add('--no-ame', action='store_true',
        help='the host is not Active Memory Expansion capable')
    add('--min-proc-units', type=float, default=0.05,
        help='minimum processing units per virtual processor')
    add('--mgmt-vios', action='store_true',
        help='the NovaLink partition is an I/O host owning the VGs')
    add('--vswitches', default='ETHERNET0,MGMTSWITCH,NovaLinkVEABridge',
        help='comma-separated virtual switch names (first = default)')
    add('--proc-pools', default='SharedPool01',
        help='comma-separated shared processor pools besides DefaultPool')
    add('--system-name', default='Server-9009-42A-SN21F64EV')
    add('--debug', action='store_true', help='log every request')
    add('--san-dir', default=None,
        help='directory of the simulated SAN (default: <state-dir>/san)')
    return prs.parse_args(argv)


def build_inventory(args):
    """An Inventory from parsed arguments.

    :param args: the argparse namespace.
    """
    return sim_inv.Inventory(
        cores=args.cores, memory_gb=args.memory_gb, lmb_mb=args.lmb_mb,
        vioses=args.vioses, fc_ports=args.fc_ports, ssp=args.ssp,
        system_name=args.system_name, mgmt_vios=args.mgmt_vios,
        ame_capable=not args.no_ame,
        min_proc_units_per_vcpu=args.min_proc_units,
        vswitches=[v for v in args.vswitches.split(',') if v],
        proc_pools=[p for p in args.proc_pools.split(',') if p],
        volume_groups=[('rootvg', 100, 10), ('datavg', args.datavg_gb,
                                             None)])


def _saver(sim, interval, stop):
    while not stop.wait(interval):
        if sim.store.dirty.is_set():
            try:
                sim.save()
            except OSError:
                LOG.exception('Saving state failed')


def main(argv=None):
    """Entry point of ``powervm-sim``.

    :param argv: arguments (default ``sys.argv[1:]``).
    """
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format='%(asctime)s %(levelname)s %(message)s')
    sim = core.Simulator(build_inventory(args), state_dir=args.state_dir,
                         event_timeout=args.event_timeout,
                         job_seconds=args.job_seconds, latency=args.latency,
                         user=args.user, password=args.password,
                         san_dir=args.san_dir)
    srv = sim_server.SimServer(sim, args.host, args.port, args.tls_cert,
                               args.tls_key)
    stop = threading.Event()
    saver = threading.Thread(target=_saver, daemon=True,
                             args=(sim, args.save_interval, stop))
    saver.start()

    def _shutdown(signum, _frame):
        LOG.info('Signal %d: shutting down', signum)
        threading.Thread(target=srv.httpd.shutdown, daemon=True).start()
    signal.signal(signal.SIGINT, _shutdown)
    signal.signal(signal.SIGTERM, _shutdown)
    LOG.info('NovaLink simulator on %s (state in %s)', sim.base_url,
             args.state_dir)
    sys.stdout.flush()
    try:
        srv.serve_forever()
    finally:
        stop.set()
        saver.join(args.save_interval + 5)
        srv.httpd.server_close()
        sim.close(save=True)
        LOG.info('State saved; bye')
    return 0


if __name__ == '__main__':
    sys.exit(main())
