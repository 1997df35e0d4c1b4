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

"""What 'up' leaves in the cloud for a first server, as devstack does.

The little- and big-endian guest images (tools/cloud/guest_images.py), a
few public flavors sized for the emulated hosts, micro-threading's among
them; the provider network and cinder's volume type are made with their
services.
"""

from tools.cloud import control
from tools.cloud import guest_images

# name: (vCPUs, MiB, GiB, extra specs); the test guest boots in 512 MiB
FLAVORS = {
    'pkvm.tiny': (1, 512, 1, {}),
    'pkvm.small': (2, 1024, 2, {}),
    # a split-core host's (doc/cpu.md)
    'pkvm.mt': (2, 512, 1, {'powerkvm:micro_threading': 'required'}),
}


def provide():
    """The images and flavors; what a first server is made of."""
    guest_images.ensure()
    cloud = control.connection()
    for name, (vcpus, ram, disk, specs) in FLAVORS.items():
        flavor(cloud, name, vcpus, ram, disk, specs)


def flavor(cloud, name, vcpus, ram, disk=1, specs=None):
    """The public flavor of this name, made as given if the cloud lacks it."""
    found = cloud.compute.find_flavor(name)
    if found:
        return found
    made = cloud.compute.create_flavor(name=name, vcpus=vcpus, ram=ram,
                                       disk=disk, is_public=True)
    if specs:
        cloud.compute.create_flavor_extra_specs(made, specs)
    return made
