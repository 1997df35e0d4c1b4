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

"""Which endianness a distribution release runs on POWER.

Keyed by the image's os_distro (Glance's values: 'rhel', 'sles', 'ubuntu',
...) and decided by its os_version. A release that shipped for both
endiannesses answers None ("this table cannot say"): the kernel_elf
detector and [powerkvm] unknown_endianness decide then. So does a release
the table does not list, and a version that does not name one release
('7' covers RHEL 7.0, big-endian only, and 7.1 to 7.9, both).
doc/endianness.md lists the table and the source of each row.

  rhel, redhat         5.x, 6.x, 7.0 big-endian; 7.1 to 7.9 both (None);
                       8 and later little-endian
  centos               7 both (None); 8 and later little-endian
  rocky, alma(linux)   8 and later little-endian
  sles                 10, 11 big-endian; 12 and later little-endian
  opensuse             15.x (Leap) little-endian
  ubuntu               14.04 and later little-endian
  debian               8 and later little-endian (ppc64el); no release
                       named: None (debian-ports' ppc64 is big-endian)
  fedora               21 to 28 both (None); 29 and later little-endian
"""

import re

from powerkvm_nova.endianness import Endianness

BIG = Endianness.BIG
LITTLE = Endianness.LITTLE

# any minor version: the last version of a range that ends with its major
_ANY = 10 ** 9

# (os_distro names, [(first version, last version or None, endianness)]);
# versions compare as (major, minor) tuples, a version in no range answers
# None.
TABLE = (
    (('rhel', 'redhat'), [((5, 0), (6, _ANY), BIG), ((7, 0), (7, 0), BIG),
                          ((8, 0), None, LITTLE)]),
    (('centos',), [((8, 0), None, LITTLE)]),
    (('rocky', 'alma', 'almalinux'), [((8, 0), None, LITTLE)]),
    (('sles',), [((10, 0), (11, _ANY), BIG), ((12, 0), None, LITTLE)]),
    (('opensuse',), [((15, 0), (15, _ANY), LITTLE)]),
    (('ubuntu',), [((14, 4), None, LITTLE)]),
    (('debian',), [((8, 0), None, LITTLE)]),
    (('fedora',), [((29, 0), None, LITTLE)]),
)

_BY_NAME = {name: ranges for names, ranges in TABLE for name in names}
_VERSION = re.compile(r'(\d+)(?:[.](\d+))?')


def parse_version(text):
    """'7' -> (7, 0); '6.10' -> (6, 10); '12-SP5' -> (12, 0); else None."""
    match = _VERSION.match((text or '').strip())
    if not match:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def _in_ranges(ranges, version):
    for first, last, endianness in ranges:
        if version >= first and (last is None or version <= last):
            return endianness
    return None


def lookup(os_distro, os_version):
    """The table's endianness for a release, or None when it cannot say."""
    ranges = _BY_NAME.get((os_distro or '').strip().lower())
    if not ranges:
        return None
    match = _VERSION.match((os_version or '').strip())
    if not match:
        return None
    major = int(match.group(1))
    if match.group(2) is not None:
        return _in_ranges(ranges, (major, int(match.group(2))))
    # a major version alone names every minor release of it: the table
    # answers only when they all agree
    first = _in_ranges(ranges, (major, 0))
    return first if first == _in_ranges(ranges, (major, _ANY)) else None
