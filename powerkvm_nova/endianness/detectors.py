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

"""Detectors: what an image says about its endianness.

Each detector looks at one kind of evidence and answers an Endianness with
the evidence it saw, or None when it cannot say. They are stevedore plugins
(entry point group powerkvm_nova.endianness_detectors) run in the order of
[powerkvm] endianness_detectors. The first answer wins; any later answer
that differs means the image is mislabelled, and it is refused.
"""

import dataclasses
import struct
import typing

from stevedore import named

from powerkvm_nova.endianness import distros
from powerkvm_nova.endianness import Endianness
from powerkvm_nova import exception

NAMESPACE = 'powerkvm_nova.endianness_detectors'


@dataclasses.dataclass(frozen=True)
class ImageFacts:
    """What the detectors may look at.

    :param image_id: for messages
    :param properties: the image's own properties, as Glance has them
    :param read_kernel: read_kernel(n) returns at most n bytes from the start
        of the image's kernel (its kernel_id image), or None without one
    """

    image_id: str
    properties: typing.Mapping[str, str]
    read_kernel: typing.Optional[typing.Callable[[int], bytes]] = None


@dataclasses.dataclass(frozen=True)
class Finding:
    endianness: Endianness
    detector: str
    evidence: str

    def __str__(self):
        return '%s (%s)' % (self.endianness.value, self.evidence)


class Detector:
    """One kind of evidence. Subclasses set name and implement detect()."""

    name = None

    def detect(self, facts):
        """:returns: a Finding, or None when this evidence cannot say"""
        raise NotImplementedError()

    def _found(self, endianness, evidence):
        return Finding(endianness, self.name, evidence)


class HwArchitecture(Detector):
    """hw_architecture (or the legacy 'architecture'): ppc64 BE, ppc64le LE.

    Debian's spelling ppc64el is little-endian too.
    """

    name = 'hw_architecture'

    def detect(self, facts):
        for key in ('hw_architecture', 'architecture'):
            value = facts.properties.get(key)
            endianness = Endianness.from_arch(value)
            if endianness:
                return self._found(endianness, '%s=%s' % (key, value))
        return None


class OsDistro(Detector):
    """os_distro and os_version through the distribution table."""

    name = 'os_distro'

    def detect(self, facts):
        distro = facts.properties.get('os_distro')
        version = facts.properties.get('os_version')
        endianness = distros.lookup(distro, version)
        if endianness is None:
            return None
        evidence = 'os_distro=%s' % distro
        if version:
            evidence += ' os_version=%s' % version
        return self._found(endianness, evidence)


class KernelElf(Detector):
    """The ELF header of the image's kernel: EI_DATA says the byte order.

    Reads HEADER_BYTES bytes at most, whatever the kernel's size. Only a
    64-bit ELF for PowerPC (e_machine EM_PPC64) counts; a compressed or
    wrapped kernel says nothing.
    """

    name = 'kernel_elf'
    HEADER_BYTES = 64
    _EM_PPC64 = 21
    _ORDERS = {1: ('<', Endianness.LITTLE), 2: ('>', Endianness.BIG)}

    def detect(self, facts):
        if facts.read_kernel is None:
            return None
        head = facts.read_kernel(self.HEADER_BYTES) or b''
        head = head[:self.HEADER_BYTES]
        if len(head) < 20 or head[:4] != b'\x7fELF' or head[4] != 2:
            return None
        order = self._ORDERS.get(head[5])
        if order is None:
            return None
        machine, = struct.unpack(order[0] + 'H', head[18:20])
        if machine != self._EM_PPC64:
            return None
        return self._found(order[1], 'kernel ELF header EI_DATA=%s' % (
            'ELFDATA2LSB' if head[5] == 1 else 'ELFDATA2MSB'))


def detect(facts, detectors):
    """The image's endianness by the first detector that can say.

    :returns: a Finding, or None when none can say
    :raises PowerKVMError: two detectors disagree (a mislabelled image)
    """
    findings = [f for f in (d.detect(facts) for d in detectors) if f]
    if not findings:
        return None
    first = findings[0]
    for other in findings[1:]:
        if other.endianness != first.endianness:
            raise exception.PowerKVMError(
                'image %s is mislabelled: %s says %s, but %s says %s. Fix '
                'the image properties so they agree.'
                % (facts.image_id, first.detector, first, other.detector,
                   other))
    return first


def load(names):
    """The detectors named (in that order), through their entry points.

    :raises PowerKVMError: a name no installed plugin has
    """
    def missing(names):
        raise exception.PowerKVMError(
            '[powerkvm] endianness_detectors names %s, which no installed '
            'plugin provides (entry point group %s)'
            % (', '.join(sorted(names)), NAMESPACE))

    manager = named.NamedExtensionManager(
        NAMESPACE, names=list(names), name_order=True, invoke_on_load=True,
        on_missing_entrypoints_callback=missing)
    return [ext.obj for ext in manager]
