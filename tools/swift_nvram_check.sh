#!/bin/bash
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
#
# The Swift NVRAM store against a real Swift: the swift package's account,
# container, object and proxy servers on a temporary directory (one
# replica, no auth middleware), as Swift's all-in-one setups run them.
#
# Usage: tools/swift_nvram_check.sh SWIFT_VENV [PYTHON]
#   SWIFT_VENV  a virtualenv with the swift package (pip install swift)
#   PYTHON      the driver's python (default .tox/py3/bin/python)
set -euo pipefail
venv=$1
py=${2:-.tox/py3/bin/python}
work=$(mktemp -d /tmp/swift-aio-XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
mkdir -p "$work/etc" "$work/srv/d1" "$work/run"
cat > "$work/etc/swift.conf" <<CONF
[swift-hash]
swift_hash_path_suffix = nvram-check
[storage-policy:0]
name = gold
default = yes
CONF
declare -A ports=([object]=$(free_port) [container]=$(free_port)
                  [account]=$(free_port))
proxy_port=$(free_port)
for kind in object container account; do
    ( cd "$work/etc"
      "$venv/bin/swift-ring-builder" "$kind.builder" create 10 1 1 >/dev/null
      "$venv/bin/swift-ring-builder" "$kind.builder" add \
          "r1z1-127.0.0.1:${ports[$kind]}/d1" 1 >/dev/null
      "$venv/bin/swift-ring-builder" "$kind.builder" rebalance >/dev/null )
    cat > "$work/etc/$kind-server.conf" <<CONF
[DEFAULT]
devices = $work/srv
mount_check = false
bind_ip = 127.0.0.1
bind_port = ${ports[$kind]}
swift_dir = $work/etc
workers = 0
[pipeline:main]
pipeline = $kind-server
[app:$kind-server]
use = egg:swift#$kind
CONF
    "$venv/bin/swift-$kind-server" "$work/etc/$kind-server.conf" \
        > "$work/run/$kind.log" 2>&1 &
    pids+=($!)
done
cat > "$work/etc/proxy-server.conf" <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $proxy_port
swift_dir = $work/etc
workers = 0
[pipeline:main]
pipeline = catch_errors proxy-server
[filter:catch_errors]
use = egg:swift#catch_errors
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
CONF
"$venv/bin/swift-proxy-server" "$work/etc/proxy-server.conf" \
    > "$work/run/proxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    if curl -s -o /dev/null "http://127.0.0.1:$proxy_port/info"; then break; fi
    sleep 0.2
done
endpoint="http://127.0.0.1:$proxy_port/v1/AUTH_nvram"
OS_NOVA_DISABLE_EVENTLET_PATCHING=1 "$py" - "$endpoint" <<'PY'
import sys

from keystoneauth1 import session
from keystoneauth1 import token_endpoint
import openstack

from nova_powervm.virt.powervm import nvram

endpoint = sys.argv[1]
sess = session.Session(auth=token_endpoint.Token(endpoint, 'unused'))
store = nvram.SwiftStore(openstack.connection.Connection(session=sess),
                         'powervm-nvram')
key = '6F819919-5F9D-4FCE-B28E-7823D9BF9E47'
assert store.fetch(key) is None
store.store(key, 'first')
store.store(key, 'second')
assert store.fetch(key.lower()) == 'second', store.fetch(key)
store.delete(key)
assert store.fetch(key) is None
store.delete(key)
print('Swift NVRAM store: store, replace, fetch, delete OK against', endpoint)
PY
