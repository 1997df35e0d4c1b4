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

"""The ledger's view of libvirt: compute.domains."""

from nova import test
from nova.tests.fixtures import libvirt as fakelibvirt

from powerkvm_nova.compute import domains
from tests.fixtures import power_libvirt


class LibvirtDomainsMarkerTestCase(test.NoDBTestCase):
    """The change marker: lifecycle events, else counting, per connection."""

    class Host:
        def __init__(self, *conns):
            self.conns = list(conns)

        def get_connection(self):
            return self.conns[0]

    def _conns(self):
        class NoEvents(power_libvirt.PowerConnection):
            # as libvirt says without an event loop
            def domainEventRegister(self, callback, opaque):
                raise fakelibvirt.make_libvirtError(
                    fakelibvirt.libvirtError, 'internal error: could not '
                    'initialize domain event timer',
                    error_code=fakelibvirt.VIR_ERR_INTERNAL_ERROR)
        return NoEvents(), power_libvirt.PowerConnection()

    def test_events_then_counting_then_events_again(self):
        refusing, delivering = self._conns()
        host = self.Host(refusing, delivering)
        source = domains.LibvirtDomains(host, fakelibvirt, events=True)
        # a connection without events: the domains are counted
        self.assertEqual(0, source.marker())
        refusing.defineXML("<domain type='kvm'><name>a</name>"
                           "<memory>1024</memory><vcpu>1</vcpu><os><type "
                           "arch='ppc64le'>hvm</type></os></domain>")
        self.assertEqual(1, source.marker())
        self.assertIn('delivers no domain events', self.stdlog.logger.output)
        # nova's next connection is tried again, and delivers
        host.conns.pop(0)
        first = source.marker()
        self.assertEqual(first, source.marker())
        delivering.defineXML("<domain type='kvm'><name>b</name>"
                             "<memory>1024</memory><vcpu>1</vcpu><os><type "
                             "arch='ppc64le'>hvm</type></os></domain>")
        self.assertNotEqual(first, source.marker())
        self.assertIs(delivering, source._subscribed)
