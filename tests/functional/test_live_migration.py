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

"""Live migration between PowerKVM hosts through nova's REST API.

Four fake hosts: two POWER8 in whole-core mode, a POWER8 in split-core
mode 4 and a POWER9, with both scheduler filters. The fake libvirt moves a
domain the way a peer-to-peer migration does (power_libvirt.LiveMigrations).
"""

import threading
import time

import fixtures
from lxml import etree
from nova import exception as nova_exception
from nova.tests.functional.api import client as api_client

from powerkvm_nova.scheduler import endianness as scheduler_endianness
from tests.fixtures import power_libvirt
from tests.functional import test_endianness


class LiveMigrationTestBase(test_endianness.EndiannessTestBase):

    ADDITIONAL_FILTERS = ['PowerKVMEndiannessFilter', 'PowerKVMCpuFilter']
    HOSTS = ()
    # host -> (spec, split-core mode)
    POWER = {'p8-1': (power_libvirt.POWER8, 1),
             'p8-2': (power_libvirt.POWER8, 1),
             'p8-split4': (power_libvirt.POWER8, 4),
             'p9': (power_libvirt.POWER9, 1)}
    # Migrations are casts in nova: the API answers 202 and the move
    # completes or fails afterwards, as a user sees it.
    CAST_AS_CALL = False

    # [powerkvm] options of every compute, set before they start
    POWERKVM_FLAGS = {}

    def setUp(self):
        super().setUp()
        self.flags(instances=-1, cores=-1, ram=-1, group='quota')
        if self.POWERKVM_FLAGS:
            self.flags(group='powerkvm', **self.POWERKVM_FLAGS)
        for host, (spec, mode) in self.POWER.items():
            self.start_power_compute(host, spec, subcores_per_core=mode)
        self.migrations = self.useFixture(
            power_libvirt.LiveMigrations(self.computes))
        self.watch_for_mixing()

    def live_migrate(self, server, host=None, expect='completed'):
        self.admin_api.post_server_action(server['id'], {'os-migrateLive': {
            'host': host, 'block_migration': 'auto'}})
        migration = self._wait_for_migration_status(server, [expect])
        self.assertEqual(expect, migration['status'])
        return self._wait_for_state_change(server, 'ACTIVE')

    def assert_runs_on(self, server, host, status='ACTIVE'):
        """On host by the API, running there only, no host holding a claim.

        Its allocations are on host alone.
        """
        server = self.api.get_server(server['id'])
        self.assertEqual(status, server['status'])
        self.assertEqual(1, server['OS-EXT-STS:power_state'])
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        for name, compute in self.computes.items():
            conn = compute.driver._host.get_connection()
            running = {d.UUIDString() for d in conn._vms.values()
                       if d.isActive()}
            self.assertEqual(name == host, server['id'] in running, name)
            self.assertEqual({}, compute.driver.ledger._reserved, name)
        allocations = self._get_allocations_by_server_uuid(server['id'])
        self.assertEqual(
            [self._get_provider_uuid_by_host(host)], list(allocations))
        self.assertEqual([], self.mixed_moments)

    def refusal(self, server, action='live-migration'):
        """The reason nova recorded in the failed move's action events."""
        actions = self.api.get_instance_actions(server['id'])
        action = [a for a in actions if a['action'] == action][0]
        events = self.api.get_instance_action_details(
            server['id'], action['request_id'])['events']
        failed = [e for e in events if e['result'] == 'Error']
        self.assertTrue(failed, events)
        return ' '.join(e.get('details') or '' for e in failed)


class SchedulerPickedTestCase(LiveMigrationTestBase):

    def test_goes_only_to_the_compatible_host(self):
        # p9 is another generation (and runs big-endian), p8-split4 is in
        # another mode: only p8-2 can take a little-endian whole-core
        # POWER8 guest without a compatibility mode.
        le = self.boot('le', host='p8-1')
        self.boot('be', host='p9')
        self.live_migrate(le)
        self.assert_runs_on(le, 'p8-2')
        self.assertEqual([(le['id'], 'p8-2')], self.migrations.moved)

    def test_power9_guest_has_nowhere_to_go(self):
        le = self.boot('le', host='p9')
        self.boot('be', host='p8-1')
        self.boot('be', host='p8-2')
        self.live_migrate(le, expect='error')
        self.assert_runs_on(le, 'p9')
        reason = self.refusal(le)
        self.assertIn('No valid host', reason)
        self.assertEqual([], self.migrations.moved)

    def test_named_compatible_host(self):
        le = self.boot('le', host='p8-1')
        self.live_migrate(le, host='p8-2')
        self.assert_runs_on(le, 'p8-2')

    def test_named_incompatible_hosts_refused_with_the_reason(self):
        le = self.boot('le', host='p8-1')
        self.boot('be', host='p8-2')
        be9 = self.boot('be', host='p9')
        cases = [
            (le, 'p8-2', 'p8-1', 'runs guests of one endianness only'),
            (le, 'p8-split4', 'p8-1', 'a guest keeps its split-core mode'),
            # without a compatibility mode, one generation only (nova's
            # CPU comparison through libvirt would refuse it too)
            (be9, 'p8-2', 'p9', 'only between hosts of one generation'),
        ]
        for server, dest, source, reason in cases:
            self.live_migrate(server, host=dest, expect='error')
            self.assert_runs_on(server, source)
            self.assertIn(reason, self.refusal(server), dest)
        self.assertEqual([], self.migrations.moved)


class SchedulersAfterAMoveTestCase(LiveMigrationTestBase):
    """What the schedulers count on a live migration's two hosts after it.

    nova tells them wrongly: the source sends the guest as one of its own
    (ComputeManager._post_live_migration calls
    _update_scheduler_instance_info with its own host), and the
    destination sends nothing. Each host's next instance sync
    ([DEFAULT] scheduler_instance_sync_interval, 120 s) sets it right,
    which no test here waits for.
    """

    def test_the_source_takes_the_other_endianness_at_once(self):
        be = self.boot('be', host='p8-1')
        self.live_migrate(be, host='p8-2')
        le = self.boot('le', host='p8-1')
        self.assert_runs_on(le, 'p8-1')
        self.assert_runs_on(be, 'p8-2')

    def test_the_destination_counts_the_guest_at_once(self):
        # the schedulers hear of p8-2's instances from p8-2 itself (a
        # host they have not heard from yet is read from the database)
        self._delete_server(self.boot('le', host='p8-2'))
        be = self.boot('be', host='p8-1')
        self.live_migrate(be, host='p8-2')
        # told as any guest of the host: no query for it per request
        placed = self.useFixture(fixtures.MockPatchObject(
            scheduler_endianness._instances, 'placed',
            wraps=scheduler_endianness._instances.placed)).mock
        # the scheduler refuses with the rule: the host never sees it
        le = self.boot('le', host='p8-2', expected_state='ERROR')
        fault = self.fault_of(le)['message']
        self.assertIn('No valid host was found', fault)
        self.assertIn('other endianness', fault)
        self.assertNotIn(le['id'], self.computes['p8-2'].driver.ledger
                         .holders())
        self.assert_runs_on(be, 'p8-2')
        self.assertNotIn('p8-2', [c.args[2] for c in placed.call_args_list])


class CompatModeTestCase(LiveMigrationTestBase):
    """[powerkvm] cpu_compat_mode = POWER8 on every host.

    Without it a guest on the POWER9 never goes back to a POWER8
    (SchedulerPickedTestCase); with it the domain asks for POWER8
    compatibility mode, so it may.
    """

    POWERKVM_FLAGS = {'cpu_compat_mode': 'POWER8'}

    def _cpu(self, server, host):
        conn = self.computes[host].driver._host.get_connection()
        xml = etree.fromstring(conn.defined_xml[server['id']])
        return xml.find('./cpu')

    def test_power9_guest_goes_to_a_power8(self):
        le = self.boot('le', host='p9')
        self.boot('be', host='p8-2')
        cpu = self._cpu(le, 'p9')
        # libvirt's pseries compatibility mode: QEMU max-cpu-compat=power8
        self.assertEqual('host-model', cpu.get('mode'))
        self.assertEqual('power8', cpu.find('./model').text)
        # the scheduler picks the whole-core POWER8 of its endianness
        self.live_migrate(le)
        self.assert_runs_on(le, 'p8-1')
        self.assertEqual([(le['id'], 'p8-1')], self.migrations.moved)
        # and back, named
        self.live_migrate(le, host='p9')
        self.assert_runs_on(le, 'p9')

    def test_power8_guest_goes_to_a_power9(self):
        le = self.boot('le', host='p8-1')
        self.assertEqual('power8', self._cpu(le, 'p8-1').find('./model').text)
        self.live_migrate(le, host='p9')
        self.assert_runs_on(le, 'p9')

    def test_to_a_split_core_power8_refused(self):
        le = self.boot('le', host='p9')
        self.live_migrate(le, host='p8-split4', expect='error')
        self.assert_runs_on(le, 'p9')
        self.assertIn('POWER8 in whole-core mode only', self.refusal(le))


class CompatConfigTestCase(test_endianness.EndiannessTestBase):

    HOSTS = ()

    def test_mode_newer_than_the_host_refused_at_start(self):
        self.flags(cpu_compat_mode='POWER9', group='powerkvm')
        e = self.assertRaises(nova_exception.InvalidConfiguration,
                              self.start_power_compute, 'p8',
                              power_libvirt.POWER8)
        self.assertIn('cpu_compat_mode = POWER9 on a POWER8 host', str(e))

    def test_needs_host_model(self):
        self.flags(cpu_compat_mode='POWER8', group='powerkvm')
        self.flags(cpu_mode='host-passthrough', group='libvirt')
        e = self.assertRaises(nova_exception.InvalidConfiguration,
                              self.start_power_compute, 'p9',
                              power_libvirt.POWER9)
        self.assertIn('needs [libvirt] cpu_mode = host-model', str(e))


class RollbackTestCase(LiveMigrationTestBase):

    def test_failed_migration_leaves_both_hosts_clean(self):
        le = self.boot('le', host='p8-1')
        self.migrations.fail_on.add('p8-2')
        self.admin_api.post_server_action(le['id'], {'os-migrateLive': {
            'host': 'p8-2', 'block_migration': 'auto'}})
        self._wait_for_migration_status(le, ['error'])
        # nova 34 sets a server whose libvirt migration failed to ERROR,
        # its guest still running on the source (doc/troubleshooting.md)
        # (and records no fault)
        for _ in range(100):
            if self.api.get_server(le['id'])['status'] == 'ERROR':
                break
            time.sleep(0.1)
        # nova tells the destination nothing when a migration over shared
        # storage fails: its claim is freed at its next periodic task
        self._run_periodics()
        self.assert_runs_on(le, 'p8-1', status='ERROR')
        # the destination's claim is gone: a big-endian guest fits there
        be = self.boot('be', host='p8-2')
        self.assert_runs_on(be, 'p8-2')

    def test_destination_reserves_from_its_check(self):
        # The destination's check holds the host for the guest until the
        # migration ends: a big-endian boot meanwhile is refused there.
        le = self.boot('le', host='p8-1')
        dest = self.computes['p8-2'].driver
        during = {}
        check = dest.check_can_live_migrate_destination

        def check_then_boot(*args, **kwargs):
            result = check(*args, **kwargs)
            during['reserved'] = dict(dest.ledger._reserved)
            return result
        dest.check_can_live_migrate_destination = check_then_boot
        self.live_migrate(le, host='p8-2')
        self.assertEqual({le['id']: test_endianness.ARCH['ppc64le']},
                         during['reserved'])
        self.assert_runs_on(le, 'p8-2')


class ConcurrentMovesTestCase(LiveMigrationTestBase):
    """Migrations and boots of the other endianness at once."""

    # Casts stay casts, as in a cloud: the test waits through the API.
    CAST_AS_CALL = False

    POWER = {'p8-1': (power_libvirt.POWER8, 1),
             'p8-2': (power_libvirt.POWER8, 1),
             'p8-3': (power_libvirt.POWER8, 1)}

    def test_never_a_mixed_host(self):
        flavor = self._create_flavor(memory_mb=128, vcpu=1, disk=1,
                                     ephemeral=0)
        les = [self.boot('le', host='p8-1', flavor_id=flavor)
               for _ in range(4)]
        start = threading.Barrier(8)
        errors, booted = [], []

        def migrate(server):
            start.wait()
            try:
                self.admin_api.post_server_action(
                    server['id'], {'os-migrateLive': {
                        'host': None, 'block_migration': 'auto'}})
            except api_client.OpenStackApiException as e:
                errors.append(e)

        def boot():
            body = self._build_server(image_uuid=self.images['be'],
                                      flavor_id=flavor, networks='none')
            start.wait()
            booted.append(self.api.post_server({'server': body}))

        threads = ([threading.Thread(target=migrate, args=(s,))
                    for s in les] +
                   [threading.Thread(target=boot) for _ in range(4)])
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([], errors)
        # the source runs one live migration at a time
        # ([DEFAULT] max_concurrent_live_migrations): the rest queue
        for server in les:
            self._wait_until_moved(server)
        servers = [self._wait_for_state_change(s, 'ACTIVE')
                   for s in les]
        servers += [self._wait_until_settled(s) for s in booted]
        self.assertEqual([], self.mixed_moments)
        self.assert_never_mixed()
        self.assert_nothing_leaked(servers)

    def _wait_until_moved(self, server):
        for _ in range(1200):
            migrations = [m for m in self.admin_api.get_migrations()
                          if m['instance_uuid'] == server['id']]
            if migrations and migrations[0]['status'] in ('completed',
                                                          'error'):
                return
            time.sleep(0.1)
        self.fail('migration of %s not over: %s' % (server['id'],
                                                    migrations))

    def _wait_until_settled(self, server):
        for _ in range(300):
            server = self.api.get_server(server['id'])
            if server['status'] in ('ACTIVE', 'ERROR'):
                return server
            time.sleep(0.1)
        self.fail('%s still building' % server['id'])
