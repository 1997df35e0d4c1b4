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
endiannesses (Fedora 21+, CentOS 7, RHEL 7 after 7.1 is also LE) answers
what the table says or nothing: the table is the operator's documented
contract, doc/endianness.md lists it. None means "this table cannot say".

  rhel, redhat         5.x, 6.x, 7.x big-endian; 8 and later little-endian
  centos, rocky, alma  8 and later little-endian
  sles, sled, suse     10, 11 big-endian; 12 and later little-endian
  opensuse             15 and later (Leap) little-endian
  ubuntu               14.04 and later little-endian
  debian               little-endian (ppc64el)
  fedora               both from 21: not decided by the table
"""

import re

from powerkvm_nova.endianness import Endianness

BIG = Endianness.BIG
LITTLE = Endianness.LITTLE

# (os_distro names, [(first version, last version or None, endianness)]);
# versions compare as (major, minor) tuples.
TABLE = (
    (('rhel', 'redhat'), [((5, 0), (7, 99), BIG), ((8, 0), None, LITTLE)]),
    (('centos', 'rocky', 'alma', 'almalinux'), [((8, 0), None, LITTLE)]),
    (('sles', 'sled', 'suse'), [((10, 0), (11, 99), BIG),
                                ((12, 0), None, LITTLE)]),
    (('opensuse',), [((15, 0), None, LITTLE)]),
    (('ubuntu',), [((14, 4), None, LITTLE)]),
    (('debian',), [((0, 0), None, LITTLE)]),
)

_BY_NAME = {name: ranges for names, ranges in TABLE for name in names}
_VERSION = re.compile(r'(\d+)(?:[.](\d+))?')


def parse_version(text):
    """'7' -> (7, 0); '6.10' -> (6, 10); '12-SP5' -> (12, 0); else None."""
    match = _VERSION.match((text or '').strip())
    if not match:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def lookup(os_distro, os_version):
    """The table's endianness for a release, or None when it cannot say."""
    ranges = _BY_NAME.get((os_distro or '').strip().lower())
    if not ranges:
        return None
    if len(ranges) == 1 and ranges[0][0] == (0, 0):
        # every release on POWER: no version needed
        return ranges[0][2]
    version = parse_version(os_version)
    if version is None:
        return None
    for first, last, endianness in ranges:
        if version >= first and (last is None or version <= last):
            return endianness
    return None
