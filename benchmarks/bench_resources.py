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

"""What the resource tracker asks of the driver, with 500 guests defined:
PowerKVMDriver against nova's plain LibvirtDriver on the same host.

nova's fake libvirt (tests/fixtures/power_libvirt.py, an emulated POWER
host) with N pseries guests defined and nova's test database holding their
instances: of each ten, nine run here, active on this host, and one is the
shut-off domain of a guest deleted while the host was away (reconcile.py,
leftover_domains, its gone path). Each driver's get_available_resource()
and update_provider_tree() timed in the same run, twice:

- directly, nova's objects reading the database in process (as before);
- through the conductor, as a compute pays for it: each query of nova's
  objects an RPC call to nova-conductor (tests/fixtures/conductor.py),
  with a stated round trip of --latency-ms (2 ms by default), and each
  driver's conductor calls per call counted.

Usage: python benchmarks/bench_resources.py [--guests N] [--latency-ms MS]
                                            [--json FILE]
"""

import gc
import os
import statistics
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

# nova-compute's concurrency mode in nova 34 (2026.2): native threads by
# default (doc/source/admin/concurrency.rst, "Nova service concurrency");
# set before nova is imported.
os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')

import tests  # noqa: E402,F401  (nova's concurrency mode, first)

from nova.compute import provider_tree  # noqa: E402
from nova import context as nova_context  # noqa: E402
from nova import objects  # noqa: E402
from nova import test  # noqa: E402
from nova.virt import fake  # noqa: E402
from nova.virt.libvirt import driver as libvirt_driver  # noqa: E402

from powerkvm_nova.compute import domains  # noqa: E402
from powerkvm_nova.compute import driver  # noqa: E402
from powerkvm_nova.endianness import Endianness  # noqa: E402
from powerkvm_nova.endianness import records  # noqa: E402
from tests.fixtures import conductor  # noqa: E402
from tests.fixtures import power_libvirt  # noqa: E402

import common  # noqa: E402

GUEST = ("<domain type='qemu'><name>g-%(uuid)s</name><uuid>%(uuid)s</uuid>"
         "<memory>262144</memory><vcpu>1</vcpu><metadata><powerkvm:guest "
         "xmlns:powerkvm='%(ns)s' endianness='little-endian'/></metadata>"
         "<os><type arch='ppc64le' machine='pseries'>hvm</type></os>"
         "<devices/></domain>")
CALLS = ('get_available_resource', 'update_provider_tree')
# of each so many guests, one is a domain left by a deleted guest
LEFT_EVERY = 10
FIGURES = {}


class ResourcesBenchmark(test.TestCase):

    GUESTS = 500
    LATENCY_MS = 2
    # rounds, and calls timed together in each: update_provider_tree takes
    # a fraction of a millisecond, and its many cheap rounds outweigh a
    # moment of load on one side of a few
    REPEAT = {'get_available_resource': 15, 'update_provider_tree': 101}
    BATCH = {'get_available_resource': 1, 'update_provider_tree': 50}

    def setUp(self):
        super().setUp()
        power_libvirt.use_emulated_host(self)

    def _timed(self, drivers, calls=None):
        """Each driver's median seconds for each call, and the ratio.

        Paired: each round times the drivers one after the other (in
        turn first), and the ratio is the median of the rounds' ratios,
        so load that comes and goes slows both sides of each pair alike.
        Python's collector runs before each report's timing, and never
        during a timing (as timeit does). update_provider_tree takes a
        fraction of a millisecond: timed BATCH calls at a time, in more
        rounds. With calls (a CountingConductor in use), also each
        driver's conductor calls for each call, the most any run made.
        """
        runs = {(d, c): [] for d in range(len(drivers)) for c in CALLS}
        asked = {(d, c): 0 for d in range(len(drivers)) for c in CALLS}
        args = []
        for drvr in drivers:
            node = drvr._host.get_hostname()
            tree = provider_tree.ProviderTree()
            tree.new_root(node, str(uuid.uuid4()))
            args.append({'get_available_resource': (node,),
                         'update_provider_tree': (tree, node)})
        for n in range(max(self.REPEAT.values())):
            order = list(enumerate(drivers))
            for i, drvr in order[n % 2:] + order[:n % 2]:
                for call in CALLS:
                    if n >= self.REPEAT[call]:
                        continue
                    batch = self.BATCH[call]
                    if calls:
                        calls.reset()
                    if call == 'get_available_resource':
                        # a report's garbage, collected before the next
                        # one; update_provider_tree makes little, and a
                        # collection before each of its timings would
                        # take longer than all of them
                        gc.collect()
                    gc.disable()
                    start = time.perf_counter()
                    for _ in range(batch):
                        getattr(drvr, call)(*args[i][call])
                    took = time.perf_counter() - start
                    gc.enable()
                    runs[i, call].append(took / batch)
                    if calls:
                        asked[i, call] = max(asked[i, call],
                                             len(calls.calls) // batch)
        return {call: {
            'libvirt_driver_ms': round(
                statistics.median(runs[0, call]) * 1e3, 2),
            'powerkvm_driver_ms': round(
                statistics.median(runs[1, call]) * 1e3, 2),
            'ratio': round(statistics.median(
                ours / base for base, ours in zip(runs[0, call],
                                                  runs[1, call])), 3),
            'libvirt_driver_calls': asked[0, call],
            'powerkvm_driver_calls': asked[1, call]} for call in CALLS}

    def _guests(self, host):
        """The guests' domain XMLs, and which of them are left (deleted).

        The instances are in nova's database, the left ones deleted.
        """
        ctxt = nova_context.get_admin_context()
        guests, left = [], set()
        for n in range(self.GUESTS):
            guest = str(uuid.uuid4())
            guests.append(GUEST % {'uuid': guest, 'ns': domains.NS})
            # as PowerKVMDriver's spawn leaves them: endianness recorded
            instance = objects.Instance(
                ctxt, uuid=guest, host=host, project_id='project',
                user_id='user', vm_state='active', system_metadata={})
            records.record(instance, Endianness.LITTLE)
            instance.create()
            if n % LEFT_EVERY == LEFT_EVERY - 1:
                instance.destroy()
                left.add(guest)
        return guests, left

    def test_resources(self):
        # each driver has its own fake connection: the same guests on both
        drivers = (libvirt_driver.LibvirtDriver(fake.FakeVirtAPI(), False),
                   driver.PowerKVMDriver(fake.FakeVirtAPI(), False))
        plain, power = drivers
        guests, left = self._guests(power.ledger.host)
        for drvr in drivers:
            conn = drvr._host.get_connection()
            for xml in guests:
                dom = conn.defineXML(xml)
                if dom.UUIDString() not in left:
                    dom.create()
            drvr.init_host('compute1')
        self.assertEqual(self.GUESTS, sum(power.ledger.counts().values()))
        # the first report disregards the domains of the deleted guests
        power.get_available_resource(power._host.get_hostname())
        self.assertEqual(self.GUESTS - len(left),
                         sum(power.ledger.counts().values()))
        FIGURES.update(self._timed([plain, power]))
        for call in CALLS:
            # no conductor in the way: nothing to count
            del FIGURES[call]['libvirt_driver_calls']
            del FIGURES[call]['powerkvm_driver_calls']
        with conductor.CountingConductor(self.LATENCY_MS / 1e3) as calls:
            FIGURES['through_conductor'] = dict(
                self._timed([plain, power], calls),
                latency_ms=self.LATENCY_MS)
        FIGURES['guests'] = self.GUESTS
        FIGURES['left_by_deleted_guests'] = len(left)


def main():
    args = common.arguments(__doc__, guests=500, **{'latency-ms': 2})
    ResourcesBenchmark.GUESTS = args.guests
    ResourcesBenchmark.LATENCY_MS = args.latency_ms
    if not common.run_case(ResourcesBenchmark('test_resources')) or \
            not FIGURES:
        return 1
    print('guests defined: %d, of which %d shut-off domains of deleted '
          'guests' % (FIGURES['guests'], FIGURES['left_by_deleted_guests']))
    print('directly:')
    for call in CALLS:
        f = FIGURES[call]
        print('  %-24s LibvirtDriver %.2f ms, PowerKVMDriver %.2f ms, '
              'ratio %.3f' % (call, f['libvirt_driver_ms'],
                              f['powerkvm_driver_ms'], f['ratio']))
    through = FIGURES['through_conductor']
    print('through the conductor, %d ms a call:' % through['latency_ms'])
    for call in CALLS:
        f = through[call]
        print('  %-24s LibvirtDriver %.2f ms (%d calls), PowerKVMDriver '
              '%.2f ms (%d calls), ratio %.3f' % (
                  call, f['libvirt_driver_ms'], f['libvirt_driver_calls'],
                  f['powerkvm_driver_ms'], f['powerkvm_driver_calls'],
                  f['ratio']))
    return common.save(FIGURES, args.json)


if __name__ == '__main__':
    sys.exit(main())
