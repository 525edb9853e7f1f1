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
"""Cinder's API, scheduler and volume services in one process of their own.

``python -m nova_powervm.sandbox.serve_cinder --config-dir DIR --fd FD``
reads ``DIR/cinder.conf``, starts one ``cinder-volume`` per enabled
backend, then ``cinder-scheduler`` (in that order: a scheduler started
first waits a minute for volume capabilities), and serves the
``osapi_volume`` app on the listening socket ``FD`` the sandbox opened.
The services talk over oslo.messaging's in-process ``fake://`` bus.

Cinder 2026.2 still runs on eventlet: this process (and only this one,
never nova's) is monkey-patched, as ``cinder-api`` does.  The process
ends on SIGTERM, and when its parent dies.
"""

# First, as cinder's own commands do: everything after is green.
from cinder import monkey_patch  # noqa: E402,I100
monkey_patch.patch()

import argparse  # noqa: E402,I100
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402

CONF_FILE = 'cinder.conf'


def patch_report_state(service_mod):
    """Let every Service of the process send its own heartbeat.

    Cinder keeps the service's database id in a class attribute
    (``Service.service_id``) that ``report_state`` reads: with several
    Service objects in one process only the last started would stay up.
    """
    orig = service_mod.Service.report_state

    def report_state(self):
        service_mod.Service.service_id = self.origin_service_id
        return orig(self)

    service_mod.Service.report_state = report_state


def start_services(conf_path):
    """Configure cinder and start its volume and scheduler services.

    :param conf_path: path of ``cinder.conf``.
    :returns: ``(services, wsgi app)``.
    """
    from oslo_config import cfg
    from oslo_log import log as logging
    from oslo_service import wsgi as os_wsgi

    from cinder.common import config
    from cinder.common import constants
    from cinder import coordination
    from cinder import objects
    from cinder import rpc
    from cinder import service
    from cinder import version

    conf = cfg.CONF
    objects.register_all()
    sys.argv = sys.argv[:1]
    conf(['--config-file', conf_path], project='cinder',
         version=version.version_string())
    config.set_middleware_defaults()
    logging.setup(conf, 'cinder')
    rpc.init(conf)
    coordination.COORDINATOR.start()
    patch_report_state(service)
    services = [service.Service.create(
        host='%s@%s' % (conf.host, backend), service_name=backend,
        binary=constants.VOLUME_BINARY, coordination=True)
        for backend in conf.enabled_backends if backend]
    services.append(service.Service.create(
        binary=constants.SCHEDULER_BINARY))
    for svc in services:
        svc.start()
    app = os_wsgi.Loader(conf).load_app('osapi_volume')
    return services, app


def serve(app, fd):
    """Serve ``app`` on the inherited listening socket, until killed."""
    # The cinder process is eventlet's (monkey-patched above); nova's
    # never imports this module.
    import eventlet.wsgi  # noqa: N901

    sock = socket.socket(fileno=fd)
    eventlet.wsgi.server(sock, app, log_output=False)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='nova_powervm.sandbox.serve_cinder')
    parser.add_argument('--config-dir', required=True)
    parser.add_argument('--fd', type=int, required=True)
    args = parser.parse_args(argv)
    from nova_powervm.sandbox import serve as sandbox_serve

    sandbox_serve.die_with_parent()
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    _services, app = start_services(os.path.join(
        os.path.abspath(args.config_dir), CONF_FILE))
    print('serving cinder', flush=True)
    serve(app, args.fd)
    return 0


if __name__ == '__main__':
    sys.exit(main())
