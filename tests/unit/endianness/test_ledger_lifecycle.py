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

"""The host ledger and the scheduler's guest table along a guest's life."""

from nova import objects
from nova import test

from powerkvm_nova.endianness import Endianness
from powerkvm_nova.endianness import ledger
from powerkvm_nova import exception
from powerkvm_nova.scheduler import endianness as sched_endianness
from tests.unit.endianness import test_endianness

BE = Endianness.BIG
LE = Endianness.LITTLE


class OneGuestTestBase(test.NoDBTestCase):
    """A host whose one domain is little-endian guest 'g'."""

    def setUp(self):
        super().setUp()
        self.source = test_endianness.FakeDomains(g=LE)
        self.book = ledger.HostLedger(self.source, 'host1')
        self.book.rescan()


class HoldTestCase(OneGuestTestBase):
    """hold(): a guest whose domain nova makes again keeps its host."""

    def test_held_while_the_domain_is_away(self):
        self.book.hold('g', LE)
        del self.source.domains['g']  # nova undefines it
        self.assertRaises(exception.PowerKVMError, self.book.admit, 'b', BE)
        self.assertEqual(['g'], self.book.restarting())

    def test_hold_ends_when_the_domain_is_back(self):
        self.book.hold('g', LE)
        del self.source.domains['g']
        self.book.counts()
        self.source.domains['g'] = LE
        self.assertEqual({LE: 1}, self.book.counts())
        self.assertEqual([], self.book.restarting())
        self.assertEqual({}, self.book._reserved)

    def test_release_ends_a_hold(self):
        self.book.hold('g', LE)
        del self.source.domains['g']
        self.book.release('g')
        self.assertEqual([], self.book.restarting())
        self.book.admit('b', BE)

    def test_read_before_nova_undefines_keeps_the_hold(self):
        # nova's destroy undefines the domain last, seconds after the hold
        # (unplugging, disconnecting): a resync or another admission in
        # that interval still lists it
        self.book.hold('g', LE)
        self.book.resync()
        self.assertRaises(exception.PowerKVMError, self.book.admit, 'b', BE)
        del self.source.domains['g']
        self.assertRaises(exception.PowerKVMError, self.book.admit, 'b', BE)
        self.assertEqual(['g'], self.book.restarting())

    def test_hold_ends_when_defined_again_after_undefined(self):
        # undefined and defined again between two reads of the domains
        self.book.hold('g', LE)
        self.book.undefined('g')
        self.assertEqual({LE: 1}, self.book.counts())
        self.assertEqual([], self.book.restarting())
        self.assertEqual({}, self.book._reserved)

    def test_guest_not_held_is_admitted_again(self):
        # a guest whose domain is gone and whose claim was released (a
        # failed rebuild, a refused arrival left in ERROR here) is made
        # again only if the host may take it
        self.book.hold('g', LE)
        del self.source.domains['g']
        self.book.release('g')
        self.book.admit('b', BE)
        self.source.domains['b'] = BE
        self.book.committed('b')
        self.assertRaises(exception.OtherEndianness, self.book.hold, 'g', LE)
        self.assertEqual(BE, self.book.holds())
        self.book.hold('b', BE)  # a guest held already is not checked

    def test_rebuild_may_change_its_own_endianness(self):
        self.book.hold('g', LE)
        del self.source.domains['g']
        self.book.admit('g', BE)
        self.assertEqual(BE, self.book.holds())


class RebuildingTestCase(OneGuestTestBase):
    """rebuilding(): a guest rebuilt into the other endianness holds both."""

    def test_nothing_else_is_admitted_until_its_spawn(self):
        self.book.rebuilding('g', BE)
        for endianness in (LE, BE):
            self.assertRaises(exception.OtherEndianness, self.book.admit,
                              'other', endianness)
        # nova's destroy and spawn
        self.book.hold('g', LE)
        del self.source.domains['g']
        self.book.undefined('g')
        self.book.admit('g', BE)
        self.source.domains['g'] = BE
        self.book.committed('g')
        self.assertEqual([], self.book.rebuilds())
        self.book.admit('other', BE)
        self.assertRaises(exception.OtherEndianness, self.book.admit,
                          'third', LE)

    def test_refused_where_others_keep_the_old_endianness(self):
        self.source.domains['o'] = LE
        self.book.resync()
        self.assertRaises(exception.OtherEndianness, self.book.rebuilding,
                          'g', BE)
        self.assertEqual([], self.book.rebuilds())

    def test_a_rebuild_that_ended_before_its_spawn_frees_the_hold(self):
        self.book.rebuilding('g', BE)
        self.book.end_rebuild('g')
        self.book.admit('other', LE)
        self.assertEqual(LE, self.book.holds())


class CommittedTestCase(test.NoDBTestCase):

    def test_domain_defined_meanwhile_counts_at_once(self):
        source = test_endianness.FakeDomains()
        book = ledger.HostLedger(source, 'host1')
        book.rescan()
        book.admit('a', LE)
        # the guest's domain, and one defined behind nova's back (virsh)
        source.domains.update(a=LE, by_hand=BE)
        book.committed('a')
        self.assertEqual({LE: 1, BE: 1}, book.counts())
        self.assertRaises(exception.PowerKVMError, book.holds)


class InstanceTableTestCase(test.NoDBTestCase):
    """The scheduler's table of guests' endianness (scheduler/endianness)."""

    def setUp(self):
        super().setUp()
        self.now = 1000.0
        self.table = sched_endianness._InstanceEndianness(
            clock=lambda: self.now)
        self.db = {'u1': LE}
        self.loads = []

        def load(cell, uuids):
            self.loads.append(list(uuids))
            return {u: self.db[u] for u in uuids if u in self.db}
        self.table._load = load

    def test_read_once_within_an_interval(self):
        self.assertEqual({LE}, self.table('cell', ['u1']))
        self.assertEqual({LE}, self.table('cell', ['u1']))
        self.assertEqual([['u1']], self.loads)

    def test_read_again_after_an_interval(self):
        self.flags(update_resources_interval=30)
        self.table('cell', ['u1'])
        self.db['u1'] = BE  # rebuilt
        self.now += 31
        self.assertEqual({BE}, self.table('cell', ['u1']))

    def test_read_afresh_while_rebuilt(self):
        self.table('cell', ['u1'])
        self.table.forget('u1')
        # read during the rebuild: still the old one, not remembered
        self.assertEqual({LE}, self.table('cell', ['u1']))
        self.db['u1'] = BE
        self.assertEqual({BE}, self.table('cell', ['u1']))
        self.assertEqual(3, len(self.loads))
        # remembered again an interval later
        self.now += 61
        self.table('cell', ['u1'])
        self.table('cell', ['u1'])
        self.assertEqual(4, len(self.loads))

    def test_rebuild_request_names_its_guest(self):
        objects.register_all()
        rebuild = objects.RequestSpec(
            scheduler_hints={'_nova_check_type': ['rebuild']},
            instance_uuid='7e1e4a3c-3f6e-4f57-9d0c-2a5e8d1c7b10')
        self.assertEqual(rebuild.instance_uuid,
                         sched_endianness.rebuilt(rebuild))
        boot = objects.RequestSpec(scheduler_hints={},
                                   instance_uuid=rebuild.instance_uuid)
        self.assertIsNone(sched_endianness.rebuilt(boot))

    def test_overflow_keeps_what_it_answers(self):
        # past LIMIT entries the table starts again; what it knew a moment
        # before still answers the call that overflowed it
        self.table.LIMIT = 2
        self.db.update(u2=LE, u3=LE, u4=BE)
        self.table('cell', ['u1', 'u2', 'u3'])
        self.assertEqual({LE, BE}, self.table('cell', ['u1', 'u4']))

    def test_guest_rebuilt_through_another_scheduler_is_read_again(self):
        # another scheduler worker scheduled the rebuild (its forget() is
        # its own); the compute's notice gives every worker the instance
        # with its new image
        self.assertEqual({LE}, self.table('cell', {'u1': 'image-le'}))
        self.db['u1'] = BE
        self.assertEqual({BE}, self.table('cell', {'u1': 'image-be'}))
        self.assertEqual({BE}, self.table('cell', {'u1': None}))
        self.assertEqual(2, len(self.loads))
