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

"""The endianness record a PowerKVM guest carries in its libvirt domain.

At spawn the driver writes <powerkvm:guest endianness="..."/> into the
domain's <metadata>, beside nova's own, so the record lives with the domain
(defined or running) and a restarted nova-compute rebuilds its ledger from
libvirt alone. A domain without the record (defined by hand with virsh, or
by an older driver) counts by its <os><type arch=...>.
"""

from lxml import etree
from nova.virt.libvirt import config as vconfig

from powerkvm_nova.endianness import Endianness
from powerkvm_nova.endianness import ledger

NS = 'http://openstack.org/xmlns/libvirt/powerkvm/1.0'
PREFIX = 'powerkvm'


class GuestMetadata(vconfig.LibvirtConfigObject):
    """<powerkvm:guest endianness="big-endian|little-endian"/>."""

    def __init__(self, endianness):
        super().__init__(root_name='guest', ns_prefix=PREFIX, ns_uri=NS)
        self.endianness = Endianness(endianness)

    def format_dom(self):
        node = super().format_dom()
        node.set('endianness', self.endianness.value)
        return node


def endianness_from_xml(xml):
    """The Endianness a domain XML records, or its arch implies, or None."""
    tree = etree.fromstring(xml)
    record = tree.find('./metadata/{%s}guest' % NS)
    if record is not None:
        try:
            return Endianness(record.get('endianness'))
        except ValueError:
            pass
    os_type = tree.find('./os/type')
    return Endianness.from_arch(os_type.get('arch')) if os_type is not None \
        else None


class ConnectionHost:
    """A bare libvirt connection as LibvirtDomains takes nova's Host.

    For the tools that run outside nova-compute (powerkvm-status, the
    admission benchmark).
    """

    def __init__(self, conn):
        self.conn = conn

    def get_connection(self):
        return self.conn


class LibvirtDomains(ledger.DomainSource):
    """The ledger's view of one libvirt connection (nova's Host)."""

    def __init__(self, host, libvirt_module):
        self._host = host
        self._libvirt = libvirt_module

    def marker(self):
        # Two counters, no listing: defined or undefined domains change
        # their sum; starting or stopping one does not.
        conn = self._host.get_connection()
        return conn.numOfDomains() + conn.numOfDefinedDomains()

    def uuids(self):
        return self._list(self._libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE |
                          self._libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)

    def shut_off(self):
        return self._list(self._libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)

    def _list(self, flags):
        return [dom.UUIDString()
                for dom in self._host.get_connection().listAllDomains(flags)]

    def endianness_of(self, uuid):
        try:
            dom = self._host.get_connection().lookupByUUIDString(uuid)
            return endianness_from_xml(dom.XMLDesc(0))
        except self._libvirt.libvirtError:
            return None  # undefined since it was listed
