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

"""The PowerKVM rule through nova's REST API: never mix on one host."""

import collections
import threading
import time
from unittest import mock

import fixtures
from nova import context as nova_context
from nova import objects
from nova import test
from nova.tests.functional.api import client as api_client
from testtools import content

from powerkvm_nova.compute import other_hosts
from powerkvm_nova.endianness import Endianness
from powerkvm_nova.endianness import records
from tests.fixtures import power_libvirt
from tests.functional import base

FILTER = 'powerkvm_nova.scheduler.filters.PowerKVMEndiannessFilter'
CPU_FILTER = 'powerkvm_nova.scheduler.filters.PowerKVMCpuFilter'
WEIGHER = 'powerkvm_nova.scheduler.weighers.PowerKVMEndiannessWeigher'
ARCH = {'ppc64': Endianness.BIG, 'ppc64le': Endianness.LITTLE}


class EndiannessTestBase(base.PowerKVMTestBase):

    ADDITIONAL_FILTERS = ['PowerKVMEndiannessFilter']
    WEIGHER = True
    HOSTS = ('p1', 'p2', 'p3')

    def setUp(self):
        self.flags(available_filters=['nova.scheduler.filters.all_filters',
                                      FILTER, CPU_FILTER],
                   group='filter_scheduler')
        weighers = ['nova.scheduler.weights.all_weighers']
        if self.WEIGHER:
            weighers.append(WEIGHER)
        self.flags(weight_classes=weighers, group='filter_scheduler')
        super().setUp()
        for host in self.HOSTS:
            self.start_power_compute(host, power_libvirt.POWER8)

    def colours(self, hosts=None):
        """host -> Counter of the endianness of the domains it has."""
        result = {}
        for host, compute in self.computes.items():
            if hosts is not None and host not in hosts:
                continue
            conn = compute.driver._host.get_connection()
            result[host] = collections.Counter(
                ARCH[dom._def['os']['arch']] for dom in conn._vms.values())
        return result

    def watch_for_mixing(self):
        """Record every definition that leaves a host mixed, as it happens.

        In self.mixed_moments, as (host, endiannesses).
        """
        self.mixed_moments = []
        for host, compute in self.computes.items():
            conn = compute.driver._host.get_connection()
            define = conn.defineXML

            def checked(xml, conn=conn, define=define, host=host):
                dom = define(xml)
                colours = {ARCH[d._def['os']['arch']]
                           for d in conn._vms.values()}
                if len(colours) > 1:
                    self.mixed_moments.append((host, colours))
                return dom
            conn.defineXML = checked

    def define_by_hand(self, host, arch):
        """A domain defined on the host behind nova's back (virsh define)."""
        conn = self.computes[host].driver._host.get_connection()
        conn.defineXML(
            "<domain type='kvm'><name>by-hand</name><memory>1024</memory>"
            "<vcpu>1</vcpu>"
            "<os><type arch='%s' machine='pseries'>hvm</type></os>"
            "<devices/></domain>" % arch)

    def assert_never_mixed(self):
        for host, counts in self.colours().items():
            self.assertLessEqual(len(counts), 1, '%s runs %s' % (host,
                                                                 counts))

    def assert_nothing_leaked(self, servers):
        """Domains, reservations and allocations only for live servers."""
        active = {s['id'] for s in servers if s['status'] == 'ACTIVE'}
        domains = set()
        for host, compute in self.computes.items():
            conn = compute.driver._host.get_connection()
            uuids = {dom.UUIDString() for dom in conn._vms.values()}
            domains |= uuids
            book = compute.driver.ledger
            book.rescan()
            self.assertEqual(len(uuids), sum(book.counts().values()), host)
            self.assertEqual({}, book._reserved, host)
        self.assertEqual(active, domains)
        for server in servers:
            allocations = self._get_allocations_by_server_uuid(server['id'])
            self.assertEqual(server['status'] == 'ACTIVE', bool(allocations),
                             server['id'])


class EndiannessRuleTestCase(EndiannessTestBase):

    def test_little_and_big_endian_never_share_a_host(self):
        servers = [self.boot(image) for image in ('le', 'be') * 3]
        self.assertEqual({'ACTIVE'}, {s['status'] for s in servers})
        self.assert_never_mixed()
        hosts = collections.defaultdict(set)
        for s in servers:
            hosts[s['OS-EXT-SRV-ATTR:host']].add(
                self.domain_xml(s).find('./os/type').get('arch'))
        self.assertEqual(2, len(hosts), hosts)  # packed by colour
        self.assert_nothing_leaked(servers)

    def test_big_endian_boot_when_every_host_runs_little_endian(self):
        for host in self.HOSTS:
            self.boot('le', host=host)
        server = self.boot('be', expected_state='ERROR')
        self.assertIn('other endianness', server['fault']['message'])
        self.assertIn('big-endian', server['fault']['message'])
        self.assert_never_mixed()

    def test_host_stats_report_endianness(self):
        self.boot('be', host='p2')
        self._run_periodics()
        hypervisors = {h['hypervisor_hostname']: h for h in
                       self.admin_api.api_get(
                           '/os-hypervisors/detail').body['hypervisors']}
        self.assertIn('p2', hypervisors)
        book = self.computes['p2'].driver.ledger
        self.assertEqual(Endianness.BIG, book.holds())
        self.assertIsNone(self.computes['p1'].driver.ledger.holds())
        # every guest, and those nova does not list there: none
        stats = objects.ComputeNode.get_by_nodename(
            nova_context.get_admin_context(), 'p2').stats
        self.assertEqual('big-endian', stats[records.STAT_ENDIANNESS])
        self.assertEqual('', stats[records.STAT_UNLISTED])

    def test_a_host_emptied_takes_the_other_endianness_at_once(self):
        le = self.boot('le', host='p1')
        # p1 reports its little-endian guest (nova's periodic task)...
        self._run_periodics()
        # ...and is emptied before it reports again: nova tells the
        # scheduler of the delete at once, and that is what counts.
        self._delete_server(le)
        be = self.boot('be', host='p1')
        self.assertEqual('p1', be['OS-EXT-SRV-ATTR:host'])
        self.assert_never_mixed()

    def test_a_deleted_guest_counts_nowhere(self):
        # nova tells the schedulers of a delete by a cast, best effort
        # (ComputeManager._delete_scheduler_instance_info). Until a
        # scheduler has heard it, the guest is still among the host's
        # instances there: the deleted guest's record must not count.
        self.useFixture(fixtures.MockPatch(
            'nova.scheduler.host_manager.HostManager.delete_instance_info'))
        le = self.boot('le', host='p1')
        self._delete_server(le)
        be = self.boot('be', host='p1')
        self.assertEqual('p1', be['OS-EXT-SRV-ATTR:host'])
        self.assert_never_mixed()

    def test_a_host_knows_when_another_is_emptied(self):
        # The host that refuses a guest asks whether another could take it
        # (other_hosts.others_could_take): an emptied host can at once.
        servers = {host: self.boot('le', host=host) for host in self.HOSTS}
        self._run_periodics()
        self.assertFalse(other_hosts.others_could_take('p1', Endianness.BIG))
        self._delete_server(servers['p2'])
        self.assertTrue(other_hosts.others_could_take('p1', Endianness.BIG))
        # and a guest booted since the last report counts as well
        self.boot('le', host='p2')
        self.assertFalse(other_hosts.others_could_take('p1', Endianness.BIG))

    def test_other_hosts_are_read_in_one_query(self):
        # a compute reads the cell database through the conductor, one RPC
        # call a query: bounded, whatever the number of hosts
        for host in self.HOSTS:
            self.boot('le', host=host)
        self._run_periodics()
        reads = []
        for name in ('get_by_host', 'get_by_filters'):
            real = getattr(objects.InstanceList, name)
            self.useFixture(fixtures.MockPatchObject(
                objects.InstanceList, name, side_effect=real,
                autospec=False))
            reads.append(getattr(objects.InstanceList, name))
        self.assertFalse(other_hosts.others_could_take('p1', Endianness.BIG))
        self.assertEqual(1, sum(r.call_count for r in reads))

    def test_compute_restart_keeps_the_rule(self):
        le = self.boot('le', host='p1')
        self.restart_compute_service('p1')
        # The ledger was rebuilt from libvirt: a new driver object.
        self.assertEqual(Endianness.LITTLE,
                         self.computes['p1'].driver.ledger.holds())
        be = self.boot('be', host='p1', expected_state='ERROR')
        self.assertIn('endianness', be['fault']['message'])
        self.assert_never_mixed()
        self.assert_nothing_leaked([le, be])

    def test_guest_defined_by_hand_counts(self):
        driver = self.computes['p3'].driver
        conn = driver._host.get_connection()
        # The ledger learns of it from libvirt's lifecycle event on nova's
        # connection (PowerConnection delivers them as libvirt-python does).
        self.assertIs(conn, driver._domains._subscribed)
        self.define_by_hand('p3', 'ppc64')
        # Before the host reports it, the scheduler does not know: the host
        # itself refuses, the only host the request names, so the last
        # nova has: its fault says why, and so do the build's events.
        first = self.boot('le', host='p3', expected_state='ERROR')
        self.assertIn('PowerKVM host p3 runs 1 big-endian guest, and nova '
                      'has no other host left for this little-endian guest',
                      first['fault']['message'])
        action = self.api.get_instance_actions(first['id'])[0]
        events = {e['event']: e for e in self.api.get_instance_action_details(
            first['id'], action['request_id'])['events']}
        admitted = events['powerkvm_endianness_admission']
        self.assertEqual('Error', admitted['result'])
        self.assertIn('PowerKVM host p3 runs 1 big-endian guest',
                      admitted['details'])
        self.assert_never_mixed()
        self.assertEqual({}, self.computes['p3'].driver.ledger._reserved)
        self.assertEqual({}, self._get_allocations_by_server_uuid(
            first['id']))
        # Once it has (the periodic resource update), the scheduler says so.
        self._run_periodics()
        server = self.boot('le', host='p3', expected_state='ERROR')
        self.assertIn('other endianness', server['fault']['message'])

    def test_mislabelled_image_refused(self):
        image = self._power_image('ppc64', os_distro='ubuntu',
                                  os_version='22.04')
        server = self.boot(image, expected_state='ERROR')
        self.assertIn('mislabelled', server['fault']['message'])
        self.assertIn('os_distro=ubuntu', server['fault']['message'])

    def test_distro_table_places_without_hw_architecture(self):
        sles11 = self._power_image(None, os_distro='sles', os_version='11')
        server = self.boot(sles11)
        self.assertEqual('ppc64',
                         self.domain_xml(server).find('./os/type').get('arch'))


class HostAdmissionTestCase(EndiannessTestBase):
    """Without the scheduler filter the host itself keeps the rule."""

    ADDITIONAL_FILTERS = []
    WEIGHER = False
    HOSTS = ('p1',)

    def test_host_refuses_other_endianness(self):
        le = self.boot('le')
        be = self.boot('be', expected_state='ERROR')
        self.assertEqual('p1', le['OS-EXT-SRV-ATTR:host'])
        self.assert_never_mixed()
        self.assert_nothing_leaked([le, be])
        self._delete_server(le)
        self._wait_until_deleted(le)
        # the host is empty again: either endianness may come
        self.boot('be')

    def test_failed_spawn_releases_its_reservation(self):
        with mock.patch('nova.virt.libvirt.driver.LibvirtDriver.'
                        '_create_guest_with_network',
                        side_effect=test.TestingException('QEMU failed')):
            failed = self.boot('be', expected_state='ERROR')
        book = self.computes['p1'].driver.ledger
        self.assertEqual({}, book._reserved)
        self.assertIsNone(book.holds())
        # nothing of the big-endian attempt holds the host
        le = self.boot('le')
        self.assert_nothing_leaked([failed, le])


class RefusedBuildTestCase(EndiannessTestBase):
    """A guest a host refuses counts on no host, even while refused.

    nova has set the instance's host (the compute's resource claim) before
    the driver's spawn; another host asking what this one runs
    (other_hosts.others_could_take, on its own refusal) must not count the
    guest there, or it judges that no host could take its own guest.
    """

    ADDITIONAL_FILTERS = []
    WEIGHER = False
    HOSTS = ('p1', 'p2')

    def test_a_refused_guest_counts_on_no_host(self):
        self.boot('le', host='p1')
        self.boot('be', host='p2')
        self._run_periodics()
        seen = []
        asked = other_hosts.others_could_take

        def looking(host, endianness):
            ctxt = nova_context.get_admin_context()
            node = objects.ComputeNode.get_by_nodename(ctxt, host)
            seen.append(other_hosts.running_on(ctxt, [node])[host])
            return asked(host, endianness)
        self.useFixture(fixtures.MonkeyPatch(
            'powerkvm_nova.compute.other_hosts.others_could_take', looking))
        refused = self.boot('le', host='p2', expected_state='ERROR')
        self.assertEqual([{Endianness.BIG}], seen)
        instance = objects.Instance.get_by_uuid(
            nova_context.get_admin_context(), refused['id'],
            expected_attrs=['system_metadata'])
        # recorded only once admitted; nova's abort of the claim took the
        # instance off the host
        self.assertNotIn(records.SM_RECORD, instance.system_metadata)
        self.assertIsNone(instance.host)

    def test_a_disabled_host_takes_no_guest_of_the_refused_one(self):
        # The only other host is disabled: nova sends it no build, so the
        # refusing host is sure and ends the build with the rule's reason,
        # not nova's "Exhausted all hosts available for retrying".
        self.boot('le', host='p1')
        service = self.admin_api.get_services(host='p2',
                                              binary='nova-compute')[0]
        self.admin_api.put_service(service['id'], {'status': 'disabled'})
        refused = self.boot('be', host='p1', expected_state='ERROR')
        self.assertIn('no other enabled PowerKVM host can take',
                      self.fault_of(refused)['message'])
        # the host kept the rule: that is no failed build of it
        stats = self.computes['p1'].manager.rt.stats['p1']
        self.assertEqual(0, stats.get('failed_builds', 0))
        self.assertEqual({}, self._get_allocations_by_server_uuid(
            refused['id']))

    def test_a_refusal_is_not_a_failed_build_of_the_host(self):
        # nova counts a RescheduledException as a failed build of the host
        # (ComputeManager._build_failed), and its BuildFailureWeigher puts a
        # host with failed builds last for every request (multiplier
        # 1000000): a host keeping the rule would lose the guests of its
        # own endianness to empty hosts. A refusal is a policy's
        # reschedule, as nova's own late affinity check raises it.
        self.boot('le', host='p1')
        self.boot('be', host='p2')
        self.boot('le', host='p2', expected_state='ERROR')
        stats = self.computes['p2'].manager.rt.stats['p2']
        self.assertEqual(0, stats.get('failed_builds', 0))


class LastAlternateTestCase(EndiannessTestBase):
    """The last host nova offers a build refuses it by the rule.

    The request names an availability zone whose hosts all run
    little-endian guests, so nova's scheduler offers it none but those
    (its filter is off here: it would say no valid host at once). Each
    refuses; each still knows a host that could take the guest by what it
    runs (in another zone), so none is sure on its own.
    """

    ADDITIONAL_FILTERS = []
    WEIGHER = False

    def setUp(self):
        super().setUp()
        aggregate = self.admin_api.post_aggregate({'aggregate': {
            'name': 'little', 'availability_zone': 'little'}})
        for host in ('p1', 'p2'):
            self.admin_api.add_host_to_aggregate(aggregate['id'], host)
        self.boot('le', host='p1')
        self.boot('le', host='p2')
        self.boot('be', host='p3')

    def test_the_fault_names_the_rule(self):
        refused = self.boot('be', az='little',
                            expected_state='ERROR')
        message = self.fault_of(refused)['message']
        # not nova's "Exhausted all hosts available for retrying build
        # failures", which says nothing of why
        self.assertIn('big-endian', message)
        self.assertIn('one endianness', message)
        self.assertEqual({}, self._get_allocations_by_server_uuid(
            refused['id']))

    def test_the_hosts_keeping_the_rule_failed_no_build(self):
        self.boot('be', az='little', expected_state='ERROR')
        for host in ('p1', 'p2'):
            stats = self.computes[host].manager.rt.stats[host]
            self.assertEqual(0, stats.get('failed_builds', 0), host)


class WeigherTestCase(EndiannessTestBase):
    HOSTS = ('p1', 'p2', 'p3', 'p4')

    def test_empty_hosts_kept_for_the_other_endianness(self):
        for _ in range(8):
            self.boot('le')
        used = {h for h, c in self.colours().items() if c}
        self.assertEqual(1, len(used), self.colours())
        server = self.boot('be')
        self.assertNotIn(server['OS-EXT-SRV-ATTR:host'], used)


class NoWeigherTestCase(EndiannessTestBase):
    HOSTS = ('p1', 'p2', 'p3', 'p4')
    WEIGHER = False

    def test_little_endian_spreads_and_starves_big_endian(self):
        for _ in range(8):
            self.boot('le')
        self.assertTrue(all(self.colours().values()), self.colours())
        server = self.boot('be', expected_state='ERROR')
        self.assertIn('other endianness', server['fault']['message'])


class BurstTestCase(EndiannessTestBase):
    """100 concurrent boots, half each endianness, on 4 hosts.

    Every domain definition on every host is checked as it happens, so a
    host mixed even for a moment is seen, not only at the end.
    """

    HOSTS = ('p1', 'p2', 'p3', 'p4')
    BOOTS = 100
    SETTLE_TIMEOUT = 900
    # Casts stay casts, as in a cloud: the test waits for every server
    # through the API, not with each request held until its build ends
    # (nova's CastAsCallFixture).
    CAST_AS_CALL = False
    # setUp, the burst and the settling (SETTLE_TIMEOUT) on a loaded
    # 2-core machine: OS_TEST_TIMEOUT x 4
    TIMEOUT_SCALING_FACTOR = 4

    def setUp(self):
        super().setUp()
        self.watch_for_mixing()

    def _wait_until_settled(self, ids):
        """Every server ACTIVE or ERROR (the computes build in parallel)."""
        deadline = time.monotonic() + self.SETTLE_TIMEOUT
        while True:
            servers = [self.api.get_server(i) for i in ids]
            building = [s['id'] for s in servers
                        if s['status'] not in ('ACTIVE', 'ERROR')]
            if not building:
                return servers
            if time.monotonic() > deadline:
                self.fail('still building after %ss: %s'
                          % (self.SETTLE_TIMEOUT, building))
            time.sleep(1)

    def test_concurrent_mixed_boots(self):
        self.flags(instances=-1, cores=-1, ram=-1, group='quota')
        ids, errors = [], []
        start = threading.Barrier(self.BOOTS)

        # small guests: 25 of each endianness fit a host
        flavor = self._create_flavor(memory_mb=128, vcpu=1, disk=1,
                                     ephemeral=0)

        def post(image):
            body = self._build_server(image_uuid=self.images[image],
                                      flavor_id=flavor, networks='none')
            start.wait()
            try:
                ids.append(self.api.post_server({'server': body})['id'])
            except api_client.OpenStackApiException as e:
                errors.append(e)

        threads = [threading.Thread(target=post, args=(image,))
                   for image in ('le', 'be') * (self.BOOTS // 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([], errors)
        servers = self._wait_until_settled(ids)
        statuses = collections.Counter(s['status'] for s in servers)
        faults = collections.Counter()
        for s in servers:
            if s['status'] == 'ERROR':
                message = s['fault']['message']
                self.assertTrue(message)
                faults['names the rule' if 'endianness' in message
                       else 'nova: no host left to retry'] += 1
        self.assert_never_mixed()
        self.assertEqual([], self.mixed_moments)
        self.assert_nothing_leaked(servers)
        self.assertGreater(statuses['ACTIVE'], 0)
        figures = ('hosts ever mixed: %d; servers: %s; ERROR faults: %s; '
                   'leaked domains, reservations, allocations: 0; hosts: %s'
                   % (len({h for h, _ in self.mixed_moments}),
                      dict(statuses), dict(faults), {
                          h: {e.value: n for e, n in c.items()}
                          for h, c in self.colours().items()}))
        self.addDetail('figures', content.text_content(figures))


class MigrationTestCase(EndiannessTestBase):
    HOSTS = ('p1', 'p2')
    # Migrations are casts in nova: the API answers 202 and the move fails
    # afterwards, as a user sees it.
    CAST_AS_CALL = False

    def setUp(self):
        super().setUp()
        self.le = self.boot('le', host='p1')
        self.be = self.boot('be', host='p2')

    def test_cold_migration_to_other_endianness_refused(self):
        self.admin_api.post_server_action(
            self.le['id'], {'migrate': {'host': 'p2'}})
        self._wait_for_migration_status(self.le, ['error'])
        # nova marks the migration, then gives the server back its state
        server = self._wait_for_server_parameter(
            self.le, {'status': 'ACTIVE', 'OS-EXT-STS:task_state': None})
        self.assertEqual('p1', server['OS-EXT-SRV-ATTR:host'])
        self.assert_never_mixed()

    def test_live_migration_precheck_on_the_host(self):
        # force=True (microversion 2.67) skips the scheduler: the
        # destination's own check refuses, before anything moves.
        self.admin_api.microversion = '2.67'
        self.admin_api.post_server_action(
            self.le['id'], {'os-migrateLive': {
                'host': 'p2', 'block_migration': 'auto', 'force': True}})
        migration = self._wait_for_migration_status(self.le, ['error'])
        server = self._wait_for_server_parameter(
            self.le, {'status': 'ACTIVE', 'OS-EXT-STS:task_state': None})
        self.assertEqual('p1', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual({}, self.computes['p2'].driver.ledger._reserved)
        self.assert_never_mixed()
        self.assertEqual('error', migration['status'])


class HostSideMigrationTestCase(EndiannessTestBase):
    """Without the scheduler filter the destination itself refuses."""

    ADDITIONAL_FILTERS = []
    HOSTS = ('p1', 'p2')
    CAST_AS_CALL = False

    def test_cold_migration_refused_by_the_source_before_power_off(self):
        le = self.boot('le', host='p1')
        # p2's guest booted after p2 last reported (nova's periodic task at
        # its start): the source reads it from nova's records.
        self.boot('be', host='p2')
        self.admin_api.post_server_action(le['id'],
                                          {'migrate': {'host': 'p2'}})
        self._wait_for_migration_status(le, ['error'])
        server = self.api.get_server(le['id'])
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual('p1', server['OS-EXT-SRV-ATTR:host'])
        # still running: the source refused before powering it off
        conn = self.computes['p1'].driver._host.get_connection()
        self.assertTrue(all(d.isActive() for d in conn._vms.values()))
        event = self._wait_for_instance_action_event(
            le, 'migrate', 'compute_resize_instance', 'Error')
        self.assertIn('the destination runs big-endian guests',
                      event['details'])
        self.assertEqual({}, self.computes['p2'].driver.ledger._reserved)
        self.assert_never_mixed()

    def test_cold_migration_refused_for_a_guest_defined_by_hand(self):
        le = self.boot('le', host='p1')
        self.define_by_hand('p2', 'ppc64')
        # nova has no record of it: p2's report says it (periodic task)
        self._run_periodics()
        self.admin_api.post_server_action(le['id'],
                                          {'migrate': {'host': 'p2'}})
        self._wait_for_migration_status(le, ['error'])
        event = self._wait_for_instance_action_event(
            le, 'migrate', 'compute_resize_instance', 'Error')
        self.assertIn('the destination runs big-endian guests',
                      event['details'])
        server = self.api.get_server(le['id'])
        self.assertEqual('p1', server['OS-EXT-SRV-ATTR:host'])

    def test_cold_migration_to_a_host_emptied_since_its_report(self):
        le = self.boot('le', host='p1')
        be = self.boot('be', host='p2')
        self._run_periodics()
        self._delete_server(be)
        self.useFixture(fixtures.MockPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.'
            'migrate_disk_and_power_off', return_value='[]'))
        self._migrate_server(le, 'p2', api=self.admin_api)
        le = self._confirm_resize(le)
        self.assertEqual('p2', le['OS-EXT-SRV-ATTR:host'])
        self.assert_never_mixed()

    def test_cold_migration_refused_at_the_destination(self):
        le = self.boot('le', host='p1')
        # defined behind nova's back after p2 last reported: the source
        # cannot know of it
        self.define_by_hand('p2', 'ppc64')
        # The fake hosts have no disks to copy; the source's part of the
        # move is nova's and is not what is tested here.
        self.useFixture(fixtures.MockPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.'
            'migrate_disk_and_power_off', return_value='[]'))
        self.admin_api.post_server_action(le['id'],
                                          {'migrate': {'host': 'p2'}})
        server = self._wait_for_state_change(le, 'ERROR')
        self.assertIn('PowerKVM host p2 runs 1 big-endian guest',
                      self.fault_of(server)['message'])
        # nothing of the little-endian guest was admitted on p2
        self.assert_never_mixed()
        book = self.computes['p2'].driver.ledger
        self.assertEqual({}, book._reserved)
        self.assertEqual({Endianness.BIG: 1}, book.counts())
