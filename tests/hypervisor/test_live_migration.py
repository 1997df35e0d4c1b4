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

"""Live migration through nova and PowerKVMDriver between two real hosts.

A running Linux guest, little- or big-endian, moves from one libvirt host
to the other (tools/testbed.py) through nova's API, and goes on running:
its console keeps counting and it does not boot again. The destination's
libvirtd killed mid-migration leaves the guest running on its source and
nothing on the destination.
"""

from powerkvm_nova.endianness import Endianness
from tests.hypervisor import base
from tests.hypervisor import two_hosts
from tools import test_guest

SOURCE, DEST = two_hosts.SOURCE, two_hosts.DEST


class LiveMigrationTestCase(two_hosts.TwoHostTestBase):

    def assert_ledgers(self, holds):
        for host, endianness in holds.items():
            ledger = self.computes[host].driver.ledger
            self.assertEqual(endianness, ledger.holds(), host)
            self.assertEqual({}, ledger._reserved, host)

    def test_running_guest_moves_and_keeps_running(self):
        server, before = self.boot_running_guest()
        took = self.live_migrate_and_wait(server, DEST)
        job = self.assert_moved(server)
        # on shared storage nova chose a plain live migration: libvirt
        # moved the memory and no disk
        self.assertEqual(0, job['disk_total'], job)
        self.assert_ledgers({SOURCE: None, DEST: Endianness.LITTLE})
        # the same guest answers, later on, never booted again
        after = self.assert_alive_on(DEST, server, before)
        self.record_migration('live migration', took, job)
        print('migrated in %.1f s; guest uptime %.1f s before, %.1f s after'
              % (took, before, after))

    def test_big_endian_guest_moves_and_keeps_running(self):
        server, before = self.boot_running_guest(
            self.big_endian_linux_image())
        self.assertIn(test_guest.BE_LINES[1], self.console(server))
        took = self.live_migrate_and_wait(server, DEST)
        job = self.assert_moved(server)
        self.assert_ledgers({SOURCE: None, DEST: Endianness.BIG})
        # the guest that booted big-endian on the source answers, later on
        after = self.assert_alive_on(DEST, server, before)
        self.record_migration('BE guest live migration', took, job)
        base.record_figure(
            'BE guest: uptime (s) before / after live migration',
            '%.1f / %.1f' % (before, after))

    def test_destination_libvirtd_killed_mid_migration(self):
        server, _ = self.boot_running_guest()
        # slow enough to be caught in flight: 512 MiB at 4 MiB/s
        self.flags(live_migration_bandwidth=4, group='libvirt')
        migration = self.live_migrate_and_kill_destination(server)
        # nova 34 sets the server to ERROR when the libvirt migration
        # fails; the guest runs on, on its source, and the destination has
        # no domain, and no claim once nova's periodic task has run there
        server = self.assert_rolled_back(server)
        self._run_periodics()
        self.assert_ledgers({SOURCE: Endianness.LITTLE, DEST: None})
        print('migration %s; server %s on %s, guest running'
              % (migration['status'], server['status'], SOURCE))
