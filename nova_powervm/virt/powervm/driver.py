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
"""The PowerVM compute driver.

The driver is thin: it validates, then delegates to the modules beside it
(``flows`` for the TaskFlow graphs, ``vm``, ``host``, ``disk``, ``vif``,
``media``, ``event``).  See ``doc/source/devref/architecture.rst``.
"""

from nova.virt import driver

from nova_powervm import conf as pvm_conf


class PowerVMDriver(driver.ComputeDriver):
    """PowerVM implementation of nova's ``ComputeDriver``."""

    # Every key nova knows is listed, so the dict states plainly what works.
    capabilities = {
        'has_imagecache': False,
        'supports_evacuate': False,
        'supports_migrate_to_same_host': False,
        'supports_attach_interface': False,
        'supports_device_tagging': False,
        'supports_tagged_attach_interface': False,
        'supports_tagged_attach_volume': False,
        'supports_extend_volume': False,
        'supports_multiattach': False,
        'supports_trusted_certs': False,
        'supports_pcpus': False,
        'supports_accelerators': False,
        'supports_bfv_rescue': False,
        'supports_vtpm': False,
        'supports_secure_boot': False,
        'supports_socket_pci_numa_affinity': False,
        'supports_remote_managed_ports': False,
        'supports_address_space_passthrough': False,
        'supports_address_space_emulated': False,
        'supports_virtio_fs': False,
        'supports_mem_backing_file': False,
        'supports_ephemeral_encryption': False,
        'supports_ephemeral_encryption_luks': False,
        'supports_ephemeral_encryption_plain': False,
        'supports_image_type_aki': False,
        'supports_image_type_ami': False,
        'supports_image_type_ari': False,
        'supports_image_type_iso': False,
        'supports_image_type_qcow2': False,
        'supports_image_type_raw': False,
        'supports_image_type_vdi': False,
        'supports_image_type_vhd': False,
        'supports_image_type_vhdx': False,
        'supports_image_type_vmdk': False,
        'supports_image_type_ploop': False,
    }

    def __init__(self, virtapi):
        super().__init__(virtapi)
        # Fail fast: an invalid [powervm] value stops the service here.
        pvm_conf.validate()
