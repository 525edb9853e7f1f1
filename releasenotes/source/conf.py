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
"""Sphinx configuration of the nova-powervm release notes.

Build with ``tox -e releasenotes``.  reno reads the notes of
``releasenotes/notes/`` from the git history, so the checkout needs its
history (a shallow clone shows only the notes of the commits it has).
"""

extensions = [
    'openstackdocstheme',
    'reno.sphinxext',
]

project = 'nova-powervm Release Notes'
copyright = '2026, The nova-powervm authors'
author = 'The nova-powervm authors'

root_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = []
pygments_style = 'native'

# Release notes are versioned by the git tags, not by the package.
version = ''
release = ''

html_theme = 'openstackdocs'
html_title = 'nova-powervm Release Notes'
openstackdocs_repo_name = 'openstack/nova-powervm'
openstackdocs_auto_name = False
openstackdocs_pdf_link = False
