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

"""Native or emulated: how this host runs POWER guests.

A native PowerKVM host is a POWER machine running KVM-HV. An emulated host
is any other machine running POWER guests under QEMU's TCG, which is how CI
and developers exercise the driver without POWER hardware.
"""

import dataclasses

from lxml import etree

from powerkvm_nova import exception

POWER_ARCHES = frozenset({'ppc64', 'ppc64le'})

# Models QEMU's pseries machine accepts for a TCG guest (qemu-system-ppc64
# -cpu help; libvirt domcapabilities lists them as custom models).
EMULATED_CPU_MODELS = ('POWER8', 'POWER9', 'POWER10')


@dataclasses.dataclass(frozen=True)
class HostMode:
    """The decision, with the facts it was made from."""

    emulated: bool
    host_arch: str
    reason: str


def decide(option, host_arch):
    """Decide the host mode from [powerkvm] host_mode and libvirt's host arch.

    :param option: 'auto', 'native' or 'emulated'
    :param host_arch: the host CPU arch libvirt reports (capabilities)
    :raises PowerKVMError: native mode asked for on a non-POWER host
    """
    power_host = host_arch in POWER_ARCHES
    if option == 'emulated':
        return HostMode(True, host_arch, 'host_mode = emulated')
    if option == 'native':
        if not power_host:
            raise exception.PowerKVMError(
                '[powerkvm] host_mode = native, but libvirt reports a %s '
                'host CPU: KVM cannot run POWER guests here. Set host_mode '
                '= emulated (test/dev only) or auto.' % host_arch)
        return HostMode(False, host_arch, 'host_mode = native')
    if power_host:
        return HostMode(False, host_arch, 'host_mode = auto, %s host CPU'
                        % host_arch)
    return HostMode(True, host_arch, 'host_mode = auto, %s host CPU is not '
                    'POWER' % host_arch)


QEMU_NS = 'http://libvirt.org/schemas/domain/qemu/1.0'


def add_qemu_args(guest, args):
    """Give guest's domain XML QEMU arguments libvirt has no element for.

    libvirt's <qemu:commandline> (its QEMU namespace; libvirt marks such a
    domain "tainted: custom-argv"). For emulated hosts only: libvirt has
    no host-model CPU for a guest of another architecture, so a POWER
    compatibility mode reaches QEMU's pseries machine this way.
    """
    format_dom = guest.format_dom

    def with_args():
        root = format_dom()
        line = etree.SubElement(root, '{%s}commandline' % QEMU_NS,
                                nsmap={'qemu': QEMU_NS})
        for arg in args:
            etree.SubElement(line, '{%s}arg' % QEMU_NS).set('value', arg)
        return root
    guest.format_dom = with_args
