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

"""The endianness weigher's order, with nova's own weighing of hosts."""

import fixtures
from nova import objects
from nova.scheduler import host_manager
from nova.scheduler import weights
from nova.scheduler.weights import ram
from nova import test

from powerkvm_nova.endianness import Endianness
from powerkvm_nova.endianness import records
from powerkvm_nova.scheduler import weighers

BE = Endianness.BIG
LE = Endianness.LITTLE


def HostState(host, instances=(), free_ram_mb=65536):
    """nova's HostState of a PowerKVM host, as its compute reports it."""
    state = host_manager.HostState(host, host, 'cell1')
    state.instances = dict.fromkeys(instances)
    state.stats = {records.STAT_POLICY: 'exclusive'}
    state.free_ram_mb = free_ram_mb
    return state


class OpeningOrderTestCase(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.flags(endianness_weight_multiplier=10.0, group='powerkvm')
        # instance UUID -> its recorded endianness, as the cell database has
        recorded = {'le1': LE, 'be1': BE}
        self.useFixture(fixtures.MockPatch(
            'powerkvm_nova.scheduler.endianness._instances',
            side_effect=lambda cell, uuids: {recorded[u] for u in uuids}))

    def best(self, hosts, arch):
        """The host nova's weighing puts first, with its RAM weigher."""
        spec = objects.RequestSpec(image=objects.ImageMeta.from_dict(
            {'properties': {'hw_architecture': arch}}))
        weighed = weights.HostWeightHandler().get_weighed_objects(
            [ram.RAMWeigher(), weighers.PowerKVMEndiannessWeigher()],
            list(hosts), spec)
        return weighed[0].obj.host

    def test_concurrent_requests_of_each_endianness_open_other_hosts(self):
        # Two workers choosing at once see the same empty hosts. Without an
        # order of their own, both take nova's first (the emptiest, or the
        # first listed of equals), and that host refuses one of them.
        for names in (('p1', 'p2'), ('p1', 'p2', 'p3', 'p4'),
                      ['node-%d' % i for i in range(50)]):
            hosts = [HostState(n) for n in names]
            self.assertNotEqual(self.best(hosts, 'ppc64le'),
                                self.best(hosts, 'ppc64'), names)

    def test_the_sides_outweigh_free_memory_among_empty_hosts(self):
        # p1 and p4 on little-endian's side of the order, p2 and p3 on
        # big-endian's; whichever has the most memory free
        for emptiest in ('p1', 'p2', 'p3', 'p4'):
            hosts = [HostState('p%d' % i, free_ram_mb=2048)
                     for i in range(1, 5)]
            for host in hosts:
                if host.host == emptiest:
                    host.free_ram_mb = 262144
            le, be = self.best(hosts, 'ppc64le'), self.best(hosts, 'ppc64')
            self.assertIn(le, ('p1', 'p4'), emptiest)
            self.assertIn(be, ('p2', 'p3'), emptiest)

    def test_a_host_of_the_request_s_endianness_comes_first(self):
        hosts = [HostState('p1'), HostState('p2', ['le1'], free_ram_mb=1024),
                 HostState('p3'), HostState('p4', ['be1'], free_ram_mb=1024)]
        self.assertEqual('p2', self.best(hosts, 'ppc64le'))
        self.assertEqual('p4', self.best(hosts, 'ppc64'))

    def test_big_endian_takes_empty_hosts_in_the_reverse_order(self):
        names = ['node-%d' % i for i in range(20)]
        order = {arch: sorted(names, key=lambda n: -weighers.opening_order(
            n, arch)) for arch in (LE, BE)}
        self.assertEqual(order[LE], list(reversed(order[BE])))
