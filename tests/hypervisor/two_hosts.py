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

import signal
import time

import libvirt

from tests.hypervisor import base
from tests.hypervisor import guest_console
from tools import testbed

SOURCE, DEST = 'pkvm-a', 'pkvm-b'
BOOTED = 'POWERKVM-GUEST-BOOTED'


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

    def boot_running_guest(self, image=None):
        """A Linux guest on SOURCE, answering on its console.

        :param image: the image, by default the little-endian guest's
        :returns: the server, and the guest's uptime when it answered
        """
        server = self._create_server(
            image_uuid=image or self.little_endian_linux_image(),
            networks='none', host=SOURCE)
        self.wait_for_console(server, 'POWERKVM-GUEST-READY')
        return server, self.uptime(SOURCE, server)

    def domain_on(self, host, server):
        """The server's domain on host, or None."""
        try:
            return self.hosts[host].lookupByUUIDString(server['id'])
        except libvirt.libvirtError:
            return None

    def uptime(self, host, server):
        """The guest's uptime on host, in its answer to a console ping."""
        try:
            return guest_console.ping(self.domain_on(host, server))
        except guest_console.NoAnswer as e:
            self.fail('%s on %s: %s' % (server['id'], host, e))

    def assert_running(self, host, server):
        """The server's domain runs on host, and its guest answers."""
        dom = self.domain_on(host, server)
        self.assertEqual(libvirt.VIR_DOMAIN_RUNNING, dom.state()[0])
        self.uptime(host, server)

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

    def assert_alive_on(self, host, server, before):
        """The migrated guest answers on host, the same boot, later on.

        It answers through its console's interrupt, which wakes a guest
        whose decrementer the migration lost (QEMU < 8.1, TCG) as well.

        :param before: its uptime before the migration
        :returns: its uptime now
        """
        after = self.uptime(host, server)
        self.assertGreater(after, before, 'the guest booted again')
        self.assertLessEqual(self.console(server).count(BOOTED), 1)
        return after

    @staticmethod
    def record_migration(kind, took, job):
        """Its figures, from libvirt's completed job on the destination."""
        base.record_figure('%s through nova, API to completed (s)' % kind,
                           '%.1f' % took)
        base.record_figure('%s: memory moved (MiB), downtime (ms)' % kind,
                           '%.1f, %d' % (job['memory_processed'] / 2 ** 20,
                                         job['downtime']))

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
