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

"""Live migration through nova and PowerKVMDriver against bare virsh.

Two real libvirt hosts on this machine (tools/testbed.py, shared storage).
The same running little-endian Linux guest goes back and forth ROUNDS
times each way: through nova's API (the driver's checks, nova's
pre-migration on the destination, libvirt's peer-to-peer migration, nova's
post-migration on both hosts), timed from the API call to the migration
record 'completed'; and with 'virsh migrate --live --p2p --persistent
--undefinesource' between the same hosts, timed around the command. The
guest's downtime is libvirt's own figure for each (the completed job's
'downtime' on the destination).

Needs root, bindfs, libvirtd and the test guest (tools/setup-host.sh).
Usage: python benchmarks/bench_live_migration.py [--rounds N] [--json FILE]
"""

import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import tests  # noqa: E402,F401  (nova's concurrency mode, first)
from tests.hypervisor import two_hosts  # noqa: E402

import common  # noqa: E402
import libvirt  # noqa: E402

FIGURES = {}


class LiveMigrationBenchmark(two_hosts.TwoHostTestBase):

    ROUNDS = 3
    STATE_DIR = '/run/pkvm-testbed-bench'
    DATA_DIR = '/var/lib/pkvm-testbed-bench'

    def _downtime_ms(self, host, server):
        stats = self.domain_on(host, server).jobStats(
            libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
        return stats.get('downtime')

    def _through_nova(self, server, dest):
        return (self.live_migrate_and_wait(server, dest),
                self._downtime_ms(dest, server))

    def _with_virsh(self, server, source, dest):
        name = self.domain_on(source, server).name()
        start = time.monotonic()
        subprocess.run(['virsh', '-c', self.bed.uri(source), 'migrate',
                        '--live', '--p2p', '--persistent',
                        '--undefinesource', name,
                        'qemu+tcp://%s/system' % dest], check=True,
                       capture_output=True)
        return time.monotonic() - start, self._downtime_ms(dest, server)

    def test_live_migration(self):
        server = self._create_server(
            image_uuid=self.little_endian_linux_image(), networks='none',
            host=two_hosts.SOURCE)
        self.wait_for_console(server, 'POWERKVM-GUEST-READY')
        results = {'nova': [], 'virsh': []}
        hosts = [two_hosts.SOURCE, two_hosts.DEST]
        for i in range(self.ROUNDS):
            for source, dest in (hosts, hosts[::-1]):
                results['nova'].append(self._through_nova(server, dest))
                print('round %d/%d nova  %s -> %s: %.2f s, downtime %s ms'
                      % ((i + 1, self.ROUNDS, source, dest) +
                         results['nova'][-1]), flush=True)
            # virsh moves the guest behind nova's back and back again, so
            # nova still finds it where it left it
            for source, dest in (hosts, hosts[::-1]):
                results['virsh'].append(
                    self._with_virsh(server, source, dest))
                print('round %d/%d virsh %s -> %s: %.2f s, downtime %s ms'
                      % ((i + 1, self.ROUNDS, source, dest) +
                         results['virsh'][-1]), flush=True)
        for way, runs in results.items():
            FIGURES['%s_s' % way] = round(
                statistics.median(t for t, _ in runs), 3)
            downtimes = [d for _, d in runs if d is not None]
            FIGURES['%s_downtime_ms' % way] = (
                statistics.median(downtimes) if downtimes else None)
        FIGURES['ratio'] = round(FIGURES['nova_s'] / FIGURES['virsh_s'], 3)
        FIGURES['migrations_each'] = len(results['nova'])


def main():
    args = common.arguments(__doc__, rounds=3)
    LiveMigrationBenchmark.ROUNDS = args.rounds
    if not common.run_case(LiveMigrationBenchmark('test_live_migration')) \
            or not FIGURES:
        return 1
    f = FIGURES
    print('live migration of a running LE guest between two libvirt hosts '
          '(median of %d each way):' % f['migrations_each'])
    print('  virsh migrate --live --p2p:  %.3f s, downtime %s ms'
          % (f['virsh_s'], f['virsh_downtime_ms']))
    print('  through nova (PowerKVMDriver): %.3f s, downtime %s ms'
          % (f['nova_s'], f['nova_downtime_ms']))
    print('  ratio (total time):          %.2f' % f['ratio'])
    return common.save(f, args.json)


if __name__ == '__main__':
    sys.exit(main())
