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
"""Sphinx configuration of the nova-powervm documentation.

Build with ``tox -e docs`` (warnings are errors).  Generated at build time,
never written by hand:

* the configuration reference (``show-options``) and the sample file
  (``oslo_config.sphinxconfiggen``), both from ``nova_powervm.conf``;
* the flavor extra spec table, from the ``powervm`` extra spec validator;
* the support matrix table, checked against the driver's ``capabilities``.
"""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.abspath(os.path.join(_HERE, '..', '..'))

# Document the source tree, not whatever copy is installed.
sys.path.insert(0, _ROOT)
sys.path.insert(0, os.path.join(_HERE, '_ext'))

# The pages import the driver, which imports nova: select native threading
# as nova-compute does, so nothing tries to use eventlet.
os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')
from nova import monkey_patch  # noqa: E402
monkey_patch.patch(backend='threading')

# -- General -----------------------------------------------------------------

extensions = [
    'oslo_config.sphinxext',
    'oslo_config.sphinxconfiggen',
    'openstackdocstheme',
    'powervm_docs',
]

project = 'nova-powervm'
copyright = '2026, The nova-powervm authors'
author = 'The nova-powervm authors'

root_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = ['_build', '_generated']
pygments_style = 'native'
add_module_names = False

# -- Generated sample configuration -----------------------------------------

config_generator_config_file = os.path.join(
    _ROOT, 'etc', 'nova', 'nova-powervm-config-generator.conf')
sample_config_basename = '_generated/nova-powervm'

# -- HTML ------------------------------------------------------------------

html_theme = 'openstackdocs'
html_title = 'nova-powervm'
openstackdocs_repo_name = 'openstack/nova-powervm'
openstackdocs_auto_name = False
openstackdocs_pdf_link = False
