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

"""What a PowerKVM host can do, stated key by key.

nova's libvirt driver computes its capabilities for whatever host it runs
on, mostly x86. A PowerKVM host is a pseries machine, and some features do
not exist there; the rest are probed from libvirt at start-up exactly as the
libvirt driver does, and are named here so nothing is implied.
"""

# Fixed for every PowerKVM host, whatever libvirt reports.
FIXED = {
    'has_imagecache': True,
    'supports_evacuate': True,
    'supports_migrate_to_same_host': False,
    'supports_attach_interface': True,
    'supports_device_tagging': True,
    'supports_tagged_attach_interface': True,
    'supports_tagged_attach_volume': True,
    'supports_extend_volume': True,
    'supports_multiattach': True,
    'supports_trusted_certs': True,
    'supports_pcpus': True,
    'supports_accelerators': True,
    'supports_bfv_rescue': True,
    'supports_socket_pci_numa_affinity': True,
    # nova's vTPM emits tpm-tis/tpm-crb devices; pseries has only
    # tpm-spapr, so a vTPM flavor must not land here.
    'supports_vtpm': False,
    # Secure boot and stateless firmware are UEFI features; pseries boots
    # SLOF (or a kernel directly), never UEFI.
    'supports_secure_boot': False,
    'supports_stateless_firmware': False,
    # maxphysaddr is an x86 CPU property.
    'supports_address_space_passthrough': False,
    'supports_address_space_emulated': False,
    # Image formats the qcow2 image backend converts or uses directly.
    'supports_image_type_aki': True,
    'supports_image_type_ari': True,
    'supports_image_type_ami': True,
    'supports_image_type_raw': True,
    'supports_image_type_iso': True,
    'supports_image_type_ploop': False,
    'supports_image_type_vdi': False,
    'supports_image_type_vhd': False,
    'supports_image_type_vhdx': False,
    'supports_image_type_vmdk': False,
}

# Probed by nova's libvirt driver from the host and its image backend.
FROM_LIBVIRT = (
    'supports_image_type_qcow2',
    'supports_remote_managed_ports',
    'supports_virtio_fs',
    'supports_mem_backing_file',
    'supports_ephemeral_encryption',
    'supports_ephemeral_encryption_luks',
    'supports_ephemeral_encryption_plain',
)


def for_power(libvirt_capabilities):
    """The PowerKVM capabilities, given what the libvirt driver found.

    A key the libvirt driver has not probed yet (before init_host) is
    False until it has.
    """
    caps = {key: bool(libvirt_capabilities.get(key, False))
            for key in FROM_LIBVIRT}
    caps.update(FIXED)
    return caps
