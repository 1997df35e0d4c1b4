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

import itertools

from lxml import etree
from nova.virt.libvirt import config as vconfig
from oslo_log import log as logging

from powerkvm_nova.endianness import Endianness
from powerkvm_nova.endianness import ledger

NS = 'http://openstack.org/xmlns/libvirt/powerkvm/1.0'
PREFIX = 'powerkvm'

LOG = logging.getLogger(__name__)


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
    """The ledger's view of one libvirt connection (nova's Host).

    With events=True (nova-compute, whose Host runs libvirt's event loop)
    the marker is a count of the connection's domain lifecycle events, so
    a check in steady state costs no call that walks libvirtd's domain
    list. A connection that cannot deliver events, and the tools that run
    no event loop, count domains instead: two calls, each walking the list
    inside libvirtd (about 1 ms each with 1,000 domains).
    """

    def __init__(self, host, libvirt_module, events=False):
        self._host = host
        self._libvirt = libvirt_module
        self._events = events
        self._subscribed = None
        self._refused = None  # the connection that refused events
        self._counter = itertools.count()
        self._generation = next(self._counter)

    def marker(self):
        conn = self._host.get_connection()
        if (self._events and conn is not self._subscribed and
                conn is not self._refused):
            self._subscribe(conn)
        if conn is self._subscribed:
            return self._generation
        # Two counters, no listing: defined or undefined domains change
        # their sum; starting or stopping one does not.
        return conn.numOfDomains() + conn.numOfDefinedDomains()

    def _subscribe(self, conn):
        # The connection-wide lifecycle callback of the newer API is nova's
        # (libvirt refuses a second one: "event callback already tracked");
        # libvirt-python's older domainEventRegister() keeps any number of
        # callbacks beside it, each given every lifecycle event.
        try:
            conn.domainEventRegister(self._changed, None)
        except self._libvirt.libvirtError as e:
            # Until nova's next connection, which is tried again.
            LOG.warning('libvirt connection delivers no domain events (%s): '
                        'the endianness ledger counts domains at every '
                        'check instead', e)
            self._refused = conn
            return
        self._subscribed = conn
        self._changed()  # whatever happened before the subscription

    def _changed(self, *args):
        # Runs in libvirt's event thread: one assignment of a value never
        # returned before, so a reader sees a new marker after any event.
        self._generation = next(self._counter)

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
