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
"""Shared base for simulator tests."""

from pypowervm.tasks import partition as pvm_part
from pypowervm.utils import lpar_builder as lpar_bldr
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm.simulator import fixture as pvm_fx
from nova_powervm.tests import base as tests_base


class SimTestCase(tests_base.TestCase):
    """A test with an in-process simulator and a logged-on adapter."""

    mode = 'intercept'

    def setUp(self):
        super(SimTestCase, self).setUp()
        self.fx = self.useFixture(pvm_fx.SimulatorFixture(mode=self.mode))
        self.sim = self.fx.sim
        self.adpt = self.fx.adapter

    def host(self):
        """The ManagedSystem wrapper."""
        return pvm_ms.System.get(self.adpt)[0]

    def make_lpar(self, name='inst-1', mem=2048, vcpus=2, units=0.2,
                  uuid=None):
        """Create an LPAR through LPARBuilder; return the wrapper.

        :param name: partition name.
        :param mem: memory MB.
        :param vcpus: virtual processors.
        :param units: processing units.
        :param uuid: lower-case PowerVM UUID to use, or None.
        """
        host = self.host()
        attrs = {lpar_bldr.NAME: name, lpar_bldr.MEM: mem,
                 lpar_bldr.VCPU: vcpus, lpar_bldr.PROC_UNITS: units}
        if uuid:
            attrs[lpar_bldr.UUID] = uuid
        stdz = lpar_bldr.DefaultStandardize(host)
        wrap = lpar_bldr.LPARBuilder(self.adpt, attrs, stdz).build()
        return wrap.create(parent=host)

    def lpar_state(self, uuid):
        """The simulator's state entry of an LPAR (or None).

        :param uuid: the LPAR UUID.
        """
        for lpar in self.fx.state()['lpars']:
            if lpar['uuid'].upper() == uuid.upper():
                return lpar
        return None

    def vios(self, name='vios1'):
        """UUID of a seeded VIOS.

        :param name: its name.
        """
        for vios in self.fx.state()['vioses']:
            if vios['name'] == name:
                return vios['uuid']
        raise KeyError(name)

    def vg(self, name='datavg', vios='vios1'):
        """The wrapper of a seeded volume group.

        :param name: the volume group's name.
        :param vios: name of the VIOS that holds it.
        """
        vgs = pvm_stg.VG.get(self.adpt, parent_type=pvm_vios.VIOS,
                             parent_uuid=self.vios(vios))
        return [v for v in vgs if v.name == name][0]


__all__ = ['SimTestCase', 'pvm_lpar', 'pvm_part']
