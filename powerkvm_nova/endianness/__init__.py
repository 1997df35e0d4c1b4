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

"""Guest endianness: what an image is, and whether a host may take it.

PowerKVM hosts run only big-endian (ppc64) or only little-endian (ppc64le)
guests. Nothing below the management layer enforces it, so this package
does: detectors say what an image is (detect), the host ledger says what a
host holds and admits or refuses a guest under a lock (ledger).
"""

import enum


class Endianness(str, enum.Enum):
    BIG = 'big-endian'
    LITTLE = 'little-endian'

    @property
    def arch(self):
        """The libvirt/nova architecture of a POWER guest of this kind."""
        return 'ppc64' if self is Endianness.BIG else 'ppc64le'

    @classmethod
    def from_arch(cls, arch):
        """ppc64 is big-endian; ppc64le (Debian: ppc64el) little-endian.

        :returns: an Endianness, or None for a non-POWER arch
        """
        return _ARCHES.get((arch or '').strip().lower())


_ARCHES = {
    'ppc64': Endianness.BIG,
    'ppc64le': Endianness.LITTLE,
    'ppc64el': Endianness.LITTLE,
}
