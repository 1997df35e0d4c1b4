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

"""nova with two PowerKVM computes on two real libvirt hosts.

The hosts are tools/testbed.py's: each its own network namespace, libvirtd,
host UUID and hostname, sharing the instances directory. nova's services
run in this process; each compute talks to its host's libvirtd over its
UNIX socket, and migrates peer to peer to qemu+tcp://<host>/system, which
the source host resolves to the destination's namespace address.
"""

import re
import signal
import time

import libvirt
import libvirt_qemu

from tests.hypervisor import base
from tools import testbed

SOURCE, DEST = 'pkvm-a', 'pkvm-b'
TICK = re.compile(r'POWERKVM-TICK (\d+)')
BOOTED = 'POWERKVM-GUEST-BOOTED'
# how often, and how long each time, a migrated guest is woken and waited
# for (wake_after_migration)
WAKE_ATTEMPTS = 3
WAKE_TIMEOUT = 20


class TwoHostTestBase(base.RealHypervisorTestBase):

    STATE_DIR = '/run/pkvm-testbed-nova'
    DATA_DIR = '/var/lib/pkvm-testbed-nova'
    MIGRATION_TIMEOUT = 180
    STORAGE = 'shared'

    def setUp(self):
        # domain_on() asks for domains that are not there yet (or any
        # more): the exceptions say it, libvirt's printing handler need not
        libvirt.registerErrorHandler(lambda context, error: None, None)
        self.addCleanup(libvirt.registerErrorHandler, None, None)
        self.bed = testbed.TestBed(hosts=(SOURCE, DEST), storage=self.STORAGE,
                                   state_dir=self.STATE_DIR,
                                   data_dir=self.DATA_DIR)
        self.bed.up()
        self.addCleanup(self.bed.down)
        self.hosts = {}
        super().setUp()
        self.instances_path = self.bed.instances_path

    def _setup_compute_service(self):
        self.flags(instances_path=self.bed.instances_path)
        for host in (SOURCE, DEST):
            self.flags(connection_uri=self.bed.uri(host), group='libvirt')
            self.start_real_compute(host)
            self.reconnect(host)
        self.addCleanup(self._disconnect)

    def reconnect(self, host):
        """This test's own connection to host's libvirtd (again)."""
        old = self.hosts.get(host)
        self.hosts[host] = libvirt.open(self.bed.uri(host))
        if old is not None:
            self._close(old)

    def _disconnect(self):
        for conn in self.hosts.values():
            self._close(conn)

    @staticmethod
    def _close(conn):
        try:
            conn.close()
        except libvirt.libvirtError:
            pass  # its libvirtd was killed: nothing to close

    # -- guests on the hosts ----------------------------------------------

    def boot_running_guest(self):
        """A little-endian Linux guest on SOURCE, counting on its console."""
        server = self._create_server(
            image_uuid=self.little_endian_linux_image(), networks='none',
            host=SOURCE)
        self.wait_for_console(server, 'POWERKVM-GUEST-READY')
        self.wait_for_tick_after(server, 0)
        return server

    def domain_on(self, host, server):
        """The server's domain on host, or None."""
        try:
            return self.hosts[host].lookupByUUIDString(server['id'])
        except libvirt.libvirtError:
            return None

    def ticks(self, server):
        return [int(n) for n in TICK.findall(self.console(server))]

    def wait_for_tick_after(self, server, last, timeout=60):
        tick = self._tick_after(server, last, timeout)
        if tick is None:
            self.fail('no tick after %d on the console of %s in %ss:\n%s'
                      % (last, server['id'], timeout,
                         self.console(server)[-2000:]))
        return tick

    def _tick_after(self, server, last, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            later = [t for t in self.ticks(server) if t > last]
            if later:
                return later[0]
            time.sleep(0.5)
        return None

    def assert_running(self, host, server):
        """The server's domain runs on host, not paused.

        Its timebase (QEMU's virtual clock, which stops while a guest is
        paused) goes on. A console can say nothing of a guest whose log a
        failed migration's destination truncated.
        """
        dom = self.domain_on(host, server)
        self.assertEqual(libvirt.VIR_DOMAIN_RUNNING, dom.state()[0])
        first = self.timebase(dom)
        time.sleep(2)
        self.assertGreater(self.timebase(dom), first)

    @staticmethod
    def timebase(dom):
        """The guest CPU's timebase register, from QEMU's monitor."""
        registers = libvirt_qemu.qemuMonitorCommand(
            dom, 'info registers',
            libvirt_qemu.VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP)
        # "TB <upper 32 bits> <the 64 bits>", in decimal
        return int(re.search(r'^TB \d+ (\d+)', registers, re.M).group(1))

    def assert_allocated_on(self, server, host):
        """The server's placement allocations are on host's provider only."""
        allocations = self._get_allocations_by_server_uuid(server['id'])
        self.assertEqual([self._get_provider_uuid_by_host(host)],
                         list(allocations))

    def assert_rolled_back(self, server):
        """A failed move left the guest running on SOURCE, none on DEST.

        :returns: the server as the API shows it now
        """
        server = self.api.get_server(server['id'])
        self.assertEqual(SOURCE, server['OS-EXT-SRV-ATTR:host'])
        self.assert_running(SOURCE, server)
        self.assertEqual([], self.hosts[DEST].listAllDomains())
        self.assert_allocated_on(server, SOURCE)
        return server

    def assert_moved(self, server):
        """The guest's domain left SOURCE for DEST, running and persistent.

        :returns: libvirt's statistics of the completed migration job, on
            the destination
        """
        self.assertIsNone(self.domain_on(SOURCE, server))
        dom = self.domain_on(DEST, server)
        self.assertTrue(dom.isActive())
        self.assertTrue(dom.isPersistent())
        job = dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
        self.assertGreater(job['memory_processed'], 0, job)
        return job

    def assert_counts_on(self, host, server, last):
        """The migrated guest on host counts on past tick last, unbooted.

        :returns: its first tick after last
        """
        tick = None
        for _ in range(WAKE_ATTEMPTS):
            self.wake_after_migration(host, server)
            tick = self._tick_after(server, last, WAKE_TIMEOUT)
            if tick is not None:
                break
        self.assertIsNotNone(tick, 'no tick after %d in %d times %ss:\n%s' % (
            last, WAKE_ATTEMPTS, WAKE_TIMEOUT, self.console(server)[-2000:]))
        self.assertLessEqual(self.console(server).count(BOOTED), 1)
        ticks = self.ticks(server)
        self.assertEqual(list(range(ticks[0], ticks[-1] + 1)), ticks)
        return tick

    @staticmethod
    def record_migration(kind, took, job):
        """Its figures, from libvirt's completed job on the destination."""
        base.record_figure('%s through nova, API to completed (s)' % kind,
                           '%.1f' % took)
        base.record_figure('%s: memory moved (MiB), downtime (ms)' % kind,
                           '%.1f, %d' % (job['memory_processed'] / 2 ** 20,
                                         job['downtime']))

    def wake_after_migration(self, host, server):
        """Wake a migrated guest whose decrementer QEMU < 8.1 lost.

        Growing its disk by 1 MiB raises a virtio configuration interrupt;
        leaving idle, the guest kernel programs its decrementer again.
        Once in a while it goes back to idle first: then it takes another.
        """
        if not testbed.migration_loses_decrementer():
            return
        dom = self.domain_on(host, server)
        capacity = dom.blockInfo('vda')[0]
        dom.blockResize('vda', capacity + 1024 * 1024,
                        libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)

    # -- migrations -------------------------------------------------------

    def live_migrate(self, server, host):
        self.api.post_server_action(server['id'], {'os-migrateLive': {
            'host': host, 'block_migration': 'auto'}})

    def live_migrate_and_kill_destination(self, server):
        """Live migrate to DEST, killing its libvirtd once the guest is there.

        The migration must be slow enough to be caught in flight (nova's
        [libvirt] live_migration_bandwidth). Its libvirtd is back when the
        migration has failed.
        """
        self.live_migrate(server, DEST)
        deadline = time.monotonic() + 60
        while self.domain_on(DEST, server) is None:
            self.assertLess(time.monotonic(), deadline,
                            'the migration never reached %s' % DEST)
            time.sleep(0.05)
        self.bed.stop_libvirtd(DEST, signal.SIGKILL)
        migration = self.wait_for_migration(server, ['error', 'failed'])
        self.bed.start_libvirtd(DEST)
        self.reconnect(DEST)
        return migration

    def live_migrate_and_wait(self, server, host):
        """Seconds from the API call to the migration's 'completed'."""
        started = time.monotonic()
        self.live_migrate(server, host)
        migration = self.wait_for_migration(server, ['completed', 'error',
                                                     'failed'])
        took = time.monotonic() - started
        self.assertEqual('completed', migration['status'])
        self._wait_for_server_parameter(
            server, {'OS-EXT-SRV-ATTR:host': host, 'status': 'ACTIVE'})
        return took

    def migration_of(self, server):
        migrations = [m for m in self.admin_api.get_migrations()
                      if m['instance_uuid'] == server['id']]
        return migrations[0] if migrations else None

    def wait_for_migration(self, server, statuses):
        deadline = time.monotonic() + self.MIGRATION_TIMEOUT
        while time.monotonic() < deadline:
            migration = self.migration_of(server)
            if migration and migration['status'] in statuses:
                return migration
            time.sleep(0.2)
        self.fail('migration of %s not %s after %ss: %s'
                  % (server['id'], statuses, self.MIGRATION_TIMEOUT,
                     self.migration_of(server)))
