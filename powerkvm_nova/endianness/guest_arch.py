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

"""Which POWER architecture a guest is, and which machine type it gets."""

from powerkvm_nova.cpu import emulation
from powerkvm_nova import exception

PSERIES = 'pseries'


def resolve(declared, default):
    """The guest arch: the image's hw_architecture, else the default.

    In nova's canonical spelling: nova's API and scheduler take the
    property in any case (Architecture.canonicalize lowercases it), and
    the instance keeps the image's own spelling.

    :raises PowerKVMError: the image declares a non-POWER architecture
    """
    arch = (declared or default or '').strip().lower()
    if arch not in emulation.POWER_ARCHES:
        raise exception.PowerKVMError(
            'image architecture %s cannot run on a PowerKVM host; '
            'PowerKVM runs ppc64 (big-endian) and ppc64le (little-endian) '
            'guests' % arch)
    return arch


def with_pseries_defaults(mapping):
    """[libvirt] hw_machine_type with pseries for POWER arches it omits.

    nova's libvirt driver has a default machine type for ppc64le only; a
    big-endian ppc64 guest would get none, and QEMU's own default for
    qemu-system-ppc64 is not what PowerKVM runs. Entries the operator set
    win.

    :param mapping: the option's value, a list of 'arch=machine' strings
    :returns: a new list
    """
    mapping = list(mapping or [])
    mapped = {entry.partition('=')[0] for entry in mapping}
    for arch in sorted(emulation.POWER_ARCHES - mapped):
        mapping.append('%s=%s' % (arch, PSERIES))
    return mapping
