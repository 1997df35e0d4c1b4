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
host) with N pseries guests defined; each driver's get_available_resource()
and update_provider_tree() timed in the same run.

Usage: python benchmarks/bench_resources.py [--guests N] [--json FILE]
"""

import os
import statistics
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import tests  # noqa: E402,F401  (nova's concurrency mode, first)

from nova.compute import provider_tree  # noqa: E402
from nova import test  # noqa: E402
from nova.virt import fake  # noqa: E402
from nova.virt.libvirt import driver as libvirt_driver  # noqa: E402

from powerkvm_nova.compute import domains  # noqa: E402
from powerkvm_nova.compute import driver  # noqa: E402
from tests.fixtures import power_libvirt  # noqa: E402

import common  # noqa: E402

GUEST = ("<domain type='qemu'><name>g-%(uuid)s</name><uuid>%(uuid)s</uuid>"
         "<memory>262144</memory><vcpu>1</vcpu><metadata><powerkvm:guest "
         "xmlns:powerkvm='%(ns)s' endianness='little-endian'/></metadata>"
         "<os><type arch='ppc64le' machine='pseries'>hvm</type></os>"
         "<devices/></domain>")
FIGURES = {}


class ResourcesBenchmark(test.TestCase):

    GUESTS = 500
    REPEAT = 11

    def setUp(self):
        super().setUp()
        power_libvirt.use_emulated_host(self)

    def _timed(self, drivers):
        """Median seconds of each call for each driver.

        Interleaved, so that both see the same machine load.
        """
        runs = {(d, c): [] for d in range(len(drivers))
                for c in ('get_available_resource', 'update_provider_tree')}
        trees = []
        for drvr in drivers:
            tree = provider_tree.ProviderTree()
            tree.new_root(drvr._host.get_hostname(), str(uuid.uuid4()))
            trees.append(tree)
        for _ in range(self.REPEAT):
            for i, drvr in enumerate(drivers):
                node = drvr._host.get_hostname()
                start = time.perf_counter()
                drvr.get_available_resource(node)
                runs[i, 'get_available_resource'].append(
                    time.perf_counter() - start)
                start = time.perf_counter()
                drvr.update_provider_tree(trees[i], node)
                runs[i, 'update_provider_tree'].append(
                    time.perf_counter() - start)
        return [{c: statistics.median(runs[i, c])
                 for c in ('get_available_resource', 'update_provider_tree')}
                for i in range(len(drivers))]

    def test_resources(self):
        # each driver has its own fake connection: the same guests on both
        guests = [GUEST % {'uuid': uuid.uuid4(), 'ns': domains.NS}
                  for _ in range(self.GUESTS)]
        drivers = (libvirt_driver.LibvirtDriver(fake.FakeVirtAPI(), False),
                   driver.PowerKVMDriver(fake.FakeVirtAPI(), False))
        for drvr in drivers:
            conn = drvr._host.get_connection()
            for xml in guests:
                conn.defineXML(xml)
            drvr.init_host('compute1')
        plain, power = drivers
        self.assertEqual(self.GUESTS, sum(power.ledger.counts().values()))
        base, ours = self._timed([plain, power])
        for call in base:
            FIGURES[call] = {
                'libvirt_driver_ms': round(base[call] * 1e3, 2),
                'powerkvm_driver_ms': round(ours[call] * 1e3, 2),
                'ratio': round(ours[call] / base[call], 3)}
        FIGURES['guests'] = self.GUESTS


def main():
    args = common.arguments(__doc__, guests=500)
    ResourcesBenchmark.GUESTS = args.guests
    if not common.run_case(ResourcesBenchmark('test_resources')) or \
            not FIGURES:
        return 1
    print('guests defined: %d' % FIGURES['guests'])
    for call in ('get_available_resource', 'update_provider_tree'):
        f = FIGURES[call]
        print('%-24s LibvirtDriver %.2f ms, PowerKVMDriver %.2f ms, '
              'ratio %.3f' % (call, f['libvirt_driver_ms'],
                              f['powerkvm_driver_ms'], f['ratio']))
    return common.save(FIGURES, args.json)


if __name__ == '__main__':
    sys.exit(main())
