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
"""PowerVM performance metrics (PCM) for the driver and for ceilometer.

Nothing in this package imports nova: ceilometer's polling agent runs in
a virtualenv of its own (ceilometer downgrades python-dateutil, which nova
needs), where this package is installed without its dependencies.

* ``stats``: reads the long-term monitor's samples (phyp, VIOS, lpar) and
  reduces them to per-partition figures; the driver's diagnostics use it.
* ``pollsters`` (imports ceilometer): compute pollsters and their PCM
  inspector, registered under ``ceilometer.poll.compute``.
"""
