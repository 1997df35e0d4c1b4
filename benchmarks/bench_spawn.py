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

"""Spawn through PowerKVMDriver against nova's plain LibvirtDriver: same
image, same libvirtd, same run.

In-process nova with two nova-compute services on this machine's libvirtd
(qemu:///system): one runs PowerKVMDriver, one nova's LibvirtDriver. The
same big-endian pseries image (a blank 64 MiB qcow2: the guest runs SLOF)
is booted on each in turn, ROUNDS times, timing API create to ACTIVE, after
one boot each to fill the image caches. The difference is what the
PowerKVM policies cost a spawn (endianness admission, CPU fit and topology,
image head inspection is skipped once cached). Target: under 2 %.

Needs root, a running libvirtd and qemu-img.
Usage: python benchmarks/bench_spawn.py [--rounds N] [--json FILE]
"""

import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import tests  # noqa: E402,F401  (nova's concurrency mode, first)
from tests.hypervisor import base  # noqa: E402

import common  # noqa: E402

HOSTS = {'powerkvm': 'powerkvm.PowerKVMDriver',
         'libvirt': 'libvirt.LibvirtDriver'}
FIGURES = {}


class SpawnBenchmark(base.RealHypervisorTestBase):

    ROUNDS = 9

    def _setup_compute_service(self):
        for host, driver in HOSTS.items():
            self.start_real_compute(host, driver=driver)

    def test_spawn(self):
        path = os.path.join(self.instances_path, 'bench.qcow2')
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', path,
                        '64M'], check=True)
        # nova's driver has no default machine type for big-endian ppc64
        image = self._image('bench-be', 'qcow2', path,
                            hw_architecture='ppc64',
                            hw_machine_type='pseries')
        os.unlink(path)
        flavor = self._create_flavor(vcpu=1, memory_mb=512, disk=1,
                                     ephemeral=0)
        times = {name: [] for name in self.computes}

        def boot(host):
            start = time.monotonic()
            server = self._create_server(image_uuid=image, flavor_id=flavor,
                                         networks='none', host=host)
            elapsed = time.monotonic() - start
            self._delete_server(server)
            return elapsed

        for host in self.computes:
            boot(host)
        for i in range(self.ROUNDS):
            for host in self.computes:
                times[host].append(boot(host))
                print('round %d/%d %s: %.2f s' % (i + 1, self.ROUNDS, host,
                                                  times[host][-1]),
                      flush=True)
        ours, plain = (statistics.median(times[h])
                       for h in ('powerkvm', 'libvirt'))
        FIGURES.update({'powerkvm_driver_s': round(ours, 3),
                        'libvirt_driver_s': round(plain, 3),
                        'ratio': round(ours / plain, 4),
                        'rounds': self.ROUNDS})


def main():
    args = common.arguments(__doc__, rounds=9)
    SpawnBenchmark.ROUNDS = args.rounds
    if not common.run_case(SpawnBenchmark('test_spawn')) or not FIGURES:
        return 1
    f = FIGURES
    print('spawn, API create to ACTIVE (median of %d):' % f['rounds'])
    print('  nova LibvirtDriver:  %.3f s' % f['libvirt_driver_s'])
    print('  PowerKVMDriver:      %.3f s' % f['powerkvm_driver_s'])
    print('  ratio:               %.4f (%+.1f %%)'
          % (f['ratio'], 100 * (f['ratio'] - 1)))
    return common.save(f, args.json)


if __name__ == '__main__':
    sys.exit(main())
