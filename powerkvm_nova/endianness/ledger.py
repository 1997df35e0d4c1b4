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

"""The host ledger: which endianness a host's guests are, and admission.

The hypervisor is the record: every domain defined on the host, running
or shut off (it will start again), counts, including one defined by hand
behind nova's back. The ledger mirrors it in memory and adds reservations
for guests admitted whose domain does not exist yet. Admission checks and
reserves under one lock, so two concurrent spawns of opposite endianness on
an empty host cannot both pass.

Keeping the mirror current costs no listing per check: the source's
marker() is compared first (in nova-compute the count of libvirt's domain
lifecycle events, else a count of domains), and only when it changed are
domain UUIDs listed and only the new domains read. A change behind nova's
back that the marker misses (a domain replaced by another between two
checks under a count; an event not yet delivered) is seen at the next
check after it, or at the latest at the next resync(), which the driver
runs with every resource update. nova's own moves need neither: their
claims and holds are in the ledger before their domains exist.
"""

import collections
import threading
import time

from powerkvm_nova.endianness import Endianness
from powerkvm_nova import exception

EXCLUSIVE = 'exclusive'
MIXED = 'mixed'


class DomainSource:
    """What the ledger reads from the hypervisor; the driver implements it."""

    def marker(self):
        """A cheap value that changes when domains are defined/undefined.

        It may change more often (any lifecycle event), never less.
        """
        raise NotImplementedError()

    def uuids(self):
        """UUIDs of every domain defined on the host."""
        raise NotImplementedError()

    def endianness_of(self, uuid):
        """The domain's Endianness, None if not a POWER guest or gone."""
        raise NotImplementedError()

    def shut_off(self):
        """UUIDs of the defined domains that are not running."""
        raise NotImplementedError()


class HostLedger:

    def __init__(self, source, host, policy=EXCLUSIVE):
        self._source = source
        self.host = host
        self.policy = policy
        self._lock = threading.Lock()
        self._guests = {}
        self._reserved = {}
        # uuid -> monotonic deadline of a claim that lapses by itself
        self._lapses = {}
        # claims of guests whose domain is being made again (hold()):
        # uuid -> whether its old domain is gone (then the domain listed
        # again is the new one, and the claim ends)
        self._restarting = {}
        # shut-off domains left behind by guests gone from this host
        self._leftovers = set()
        # uuid -> the Endianness a guest rebuilt in place becomes
        self._next = {}
        self._marker = None

    # -- reading the hypervisor -------------------------------------------

    def rescan(self):
        """Read every domain again (start-up)."""
        with self._lock:
            self._guests = {}
            self._sync()

    def resync(self):
        """List the domains now and read the ones not seen yet (periodic).

        Catches a domain replaced behind nova's back between two checks,
        which the count alone misses, without reading every domain again.
        """
        with self._lock:
            self._sync()

    def _sync(self):
        self._marker = self._source.marker()
        present = set(self._source.uuids())
        for uuid in set(self._guests) - present:
            del self._guests[uuid]
        self._leftovers &= present
        for uuid in present - set(self._guests):
            endianness = self._source.endianness_of(uuid)
            if endianness is not None:
                self._guests[uuid] = endianness
        for uuid in set(self._restarting) - present:
            self._restarting[uuid] = True
        for uuid in set(self._reserved) & set(self._guests):
            # A held guest's domain still listed before nova undefines it
            # is the old one: the hold goes on.
            if self._restarting.get(uuid) is not False:
                self._drop_claim(uuid)

    def _drop_claim(self, uuid):
        self._next.pop(uuid, None)
        self._reserved.pop(uuid, None)
        self._lapses.pop(uuid, None)
        self._restarting.pop(uuid, None)

    def _drop_lapsed(self):
        now = time.monotonic()
        for uuid in [u for u, t in self._lapses.items() if t <= now]:
            self._drop_claim(uuid)

    def _refresh(self):
        if self._source.marker() != self._marker:
            self._sync()

    # -- what the host holds ----------------------------------------------

    def counts(self):
        """{Endianness: number of guests and reservations}."""
        with self._lock:
            self._refresh()
            return self._counts()

    def _counts(self, excluding=None):
        return collections.Counter(
            e for u, e in self._holders().items() if u != excluding)

    def _holders(self):
        self._drop_lapsed()
        holders = {u: e for u, e in self._guests.items()
                   if u not in self._leftovers}
        holders.update(self._reserved)
        return holders

    def holders(self):
        """{uuid: Endianness} of every guest and claim that counts."""
        with self._lock:
            self._refresh()
            return self._holders()

    def holds(self):
        """The endianness the host runs: one Endianness, None when empty.

        :raises PowerKVMError: the host already runs both (a violation,
            e.g. a guest defined by hand)
        """
        counts = self.counts()
        if len(counts) > 1:
            raise exception.PowerKVMError(_mixed_message(self.host, counts))
        return next(iter(counts), None)

    # -- admission --------------------------------------------------------

    def admit(self, uuid, endianness, lapse_after=None):
        """Reserve the host for guest uuid of this endianness, or refuse.

        Re-admitting the same guest (a rebuild, a retried spawn, a
        migration arriving after its pre-check) is allowed and replaces its
        record.

        :param lapse_after: seconds after which the claim drops by itself
            (a pre-check whose move may never come); None: until
            committed() or release()
        :raises PowerKVMError: the host runs guests of the other endianness
        """
        endianness = Endianness(endianness)
        with self._lock:
            self._refuse_other(uuid, endianness)
            self._next.pop(uuid, None)
            self._guests.pop(uuid, None)
            self._reserved[uuid] = endianness
            self._lapses.pop(uuid, None)
            if lapse_after is not None:
                self._lapses[uuid] = time.monotonic() + lapse_after

    def check(self, uuid, endianness):
        """Would admit() take this guest now? Reserves nothing.

        :raises PowerKVMError: the host runs guests of the other endianness
        """
        with self._lock:
            self._refuse_other(uuid, Endianness(endianness))

    def rebuilding(self, uuid, endianness):
        """Hold the host for what a guest rebuilt in place becomes, too.

        From the rebuild's check to its spawn's admission the guest holds
        both its old endianness (its domain, then its hold) and the new
        one: nothing else of either is admitted meanwhile, so the spawn is
        never refused, and no domain of the new one is defined beside the
        old. Ends with admit(), release(), or end_rebuild().

        :raises OtherEndianness: other guests keep the other endianness
        """
        endianness = Endianness(endianness)
        with self._lock:
            self._refuse_other(uuid, endianness)
            self._next[uuid] = endianness

    def rebuilds(self):
        """UUIDs of the guests held for what their rebuild makes."""
        with self._lock:
            return list(self._next)

    def end_rebuild(self, uuid):
        """The rebuild is over without its spawn (it failed before)."""
        with self._lock:
            self._next.pop(uuid, None)

    def _refuse_other(self, uuid, endianness):
        self._refresh()
        counts = self._counts(excluding=uuid)
        counts.update(e for u, e in self._next.items() if u != uuid)
        others = {e: n for e, n in counts.items() if e != endianness}
        if self.policy == EXCLUSIVE and others:
            raise exception.OtherEndianness(self.host, _describe(others),
                                            endianness)

    def lapsing(self):
        """UUIDs of the held claims that lapse by themselves."""
        with self._lock:
            self._drop_lapsed()
            return list(self._lapses)

    def hold(self, uuid, endianness):
        """Keep the host for a guest whose domain is about to go and come.

        nova undefines a guest's domain and defines it again on the same
        host for a hard reboot, start, resume and rebuild. A guest the host
        holds does not leave meanwhile, so neither does its claim: it holds
        until undefined() and its domain listed again, committed(), or
        release(). A guest the host no longer holds (its domain gone, its
        claim released: a failed rebuild, a refused arrival left here in
        ERROR) is admitted as a new one would be.

        :raises OtherEndianness: the guest is not held here and the host
            runs guests of the other endianness
        """
        endianness = Endianness(endianness)
        with self._lock:
            self._refresh()
            if uuid not in self._holders():
                self._refuse_other(uuid, endianness)
            present = uuid in self._guests
            self._guests.pop(uuid, None)
            self._reserved[uuid] = endianness
            self._lapses.pop(uuid, None)
            self._restarting[uuid] = not present
            self._marker = None

    def undefined(self, uuid):
        """nova has undefined a held guest's domain.

        The next domain listed under its UUID is the guest's new one, and
        ends the hold.
        """
        with self._lock:
            if uuid in self._restarting:
                self._restarting[uuid] = True
            self._marker = None

    def disregard(self, uuids):
        """Count none of these shut-off domains from now on.

        They are what a guest gone from this host left behind (deleted, or
        now another host's) until nova's own cleanup undefines them; one
        that runs again, or a later call without it, counts again.

        :returns: the UUIDs not disregarded before
        """
        with self._lock:
            new = set(uuids) - self._leftovers
            self._leftovers = set(uuids)
            return new

    def restarting(self):
        """UUIDs of the guests held by hold() whose domain is not back."""
        with self._lock:
            return list(self._restarting)

    def committed(self, uuid):
        """The guest's domain now exists: hold it as a guest, not a claim."""
        with self._lock:
            endianness = self._reserved.pop(uuid, None)
            self._lapses.pop(uuid, None)
            self._restarting.pop(uuid, None)
            if endianness is not None:
                self._guests[uuid] = endianness
            # Read the domains again if more than our own define changed
            # them meanwhile (a migration arriving, virsh define).
            self._refresh()

    def release(self, uuid):
        """Drop the guest's claim: its spawn failed or it was destroyed.

        The hypervisor stays the record: the next check lists the domains
        again, so a domain that is in fact still there keeps counting.
        """
        with self._lock:
            self._drop_claim(uuid)
            self._guests.pop(uuid, None)
            self._marker = None


def _describe(counts):
    return ' and '.join('%d %s guest%s' % (n, e.value, '' if n == 1 else 's')
                        for e, n in sorted(counts.items()))


def _mixed_message(host, counts):
    return ('PowerKVM host %s runs %s at once, against the PowerKVM rule; '
            'move or delete the guests of one endianness'
            % (host, _describe(counts)))
