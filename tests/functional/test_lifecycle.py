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

"""The endianness rule along nova's lifecycle, through its REST API.

Each path here once let a host run both endiannesses or left a server's
record untrue (doc/endianness.md, "The lifecycle"): a guest's hold on its
host while nova makes its domain again, a rebuild into the other
endianness, nova's hw_emulation_architecture.
"""

import copy
import io
import os
import time
from unittest import mock

import fixtures
import nova.conf
from nova import context as nova_context
from nova import objects
from nova.virt.libvirt import driver as libvirt_driver

from powerkvm_nova.compute import driver
from powerkvm_nova.endianness import Endianness
from powerkvm_nova.endianness import records
from powerkvm_nova.scheduler import move_requests
from tests.fixtures import images
from tests.fixtures import power_libvirt
from tests.functional import test_endianness
from tests.functional import test_image_evidence

CONF = nova.conf.CONF
LIBVIRT = libvirt_driver.LibvirtDriver


class LifecycleTestBase(test_endianness.EndiannessTestBase):

    # nova's API answers these actions at once and the compute works on;
    # a failure shows in the server, as a user sees it.
    CAST_AS_CALL = False

    def settled(self, server, timeout=60):
        """The server once it is ACTIVE, ERROR or SHUTOFF."""
        deadline = time.monotonic() + timeout
        while True:
            server = self.api.get_server(server['id'])
            if server['status'] in ('ACTIVE', 'ERROR', 'SHUTOFF') and \
                    not server.get('OS-EXT-STS:task_state'):
                return server
            if time.monotonic() > deadline:
                self.fail('server %s still %s' % (server['id'],
                                                  server['status']))
            time.sleep(0.1)

    def post(self, image):
        """Ask for a server; its build goes on (see settled())."""
        body = self._build_server(image_uuid=self.images.get(image, image),
                                  networks='none')
        return self.api.post_server({'server': body})

    def domain_of(self, server, host='p1'):
        """The server's libvirt domain on host, or None."""
        conn = self.computes[host].driver._host.get_connection()
        return next((dom for dom in conn._vms.values()
                     if dom.UUIDString() == server['id']), None)

    def arch_of(self, server, host='p1'):
        return self.domain_of(server, host)._def['os']['arch']

    def recorded(self, server):
        ctxt = nova_context.get_admin_context()
        instance = objects.Instance.get_by_uuid(
            ctxt, server['id'], expected_attrs=['system_metadata'])
        return records.recorded_endianness(instance)

    def resources_of(self, server):
        """The server's allocated resources: {provider: {class: amount}}."""
        return {rp: alloc['resources'] for rp, alloc in
                self._get_allocations_by_server_uuid(server['id']).items()}

    def race_a_build(self, image, server, action):
        """Boot image while action has undefined server's domain.

        From inside the window between nova's destroy of the domain and
        its define again (LibvirtDriver._create_guest_with_network, which
        _hard_reboot calls next), a build is asked for and followed to its
        end; it reaches the same host. :returns: the raced server, settled
        """
        raced = []
        create = LIBVIRT._create_guest_with_network

        def define_again(driver, context, xml, instance, *args, **kwargs):
            if instance.uuid == server['id'] and not raced:
                raced.append(self.settled(self.post(image)))
            return create(driver, context, xml, instance, *args, **kwargs)

        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.'
            '_create_guest_with_network', define_again))
        action()
        for _ in range(600):
            if raced:
                break
            time.sleep(0.1)
        self.assertEqual(1, len(raced), 'the action defined no domain')
        self.settled(server)
        return raced[0]


class OneHostTestBase(LifecycleTestBase):
    """A little-endian guest on the one host, no scheduler filter.

    The host's own admission is what keeps the rule here.
    """

    ADDITIONAL_FILTERS = []
    WEIGHER = False
    HOSTS = ('p1',)

    def setUp(self):
        super().setUp()
        self.le = self.boot('le')
        self.watch_for_mixing()

    def assert_refused(self, be):
        """The big-endian build ended in ERROR, by the host's admission."""
        self.assertEqual('ERROR', be['status'])
        event = self._wait_for_instance_action_event(
            be, 'create', 'powerkvm_endianness_admission', 'Error')
        self.assertIn('PowerKVM host p1 runs 1 little-endian guest',
                      event['details'])


class RestartHoldTestCase(OneHostTestBase):
    """A guest holds its host while nova makes its domain again."""

    def assert_kept(self, raced):
        self.assert_refused(raced)
        server = self.settled(self.le)
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual('ppc64le', self.arch_of(self.le))
        self.assertEqual([], self.mixed_moments)
        self.assert_never_mixed()
        self.assert_nothing_leaked([server, raced])

    def test_hard_reboot_keeps_the_host(self):
        raced = self.race_a_build(
            'be', self.le, lambda: self.api.post_server_action(
                self.le['id'], {'reboot': {'type': 'HARD'}}))
        self.assert_kept(raced)

    def test_start_keeps_the_host(self):
        self._stop_server(self.le)
        raced = self.race_a_build(
            'be', self.le, lambda: self.api.post_server_action(
                self.le['id'], {'os-start': None}))
        self.assert_kept(raced)

    def test_delete_frees_the_host(self):
        self._reboot_server(self.le, hard=True)
        self._delete_server(self.le)
        self.assertEqual({}, self.computes['p1'].driver.ledger._reserved)
        self.assertEqual('ACTIVE', self.boot('be')['status'])

    def test_failed_hard_reboot_holds_until_the_guest_leaves(self):
        with mock.patch.object(LIBVIRT, '_create_guest_with_network',
                               side_effect=ValueError('QEMU failed')):
            self.api.post_server_action(self.le['id'],
                                        {'reboot': {'type': 'HARD'}})
            server = self._wait_for_state_change(self.le, 'ERROR')
        self.assertIsNone(self.domain_of(server))
        # the guest is still this host's: a big-endian build is refused
        self._run_periodics()
        be = self.settled(self.post('be'))
        self.assertEqual('ERROR', be['status'])
        # until it is deleted
        self._delete_server(server)
        self._run_periodics()
        self.assertEqual([], self.computes['p1'].driver.ledger.restarting())
        self.assertEqual('ACTIVE', self.boot('be')['status'])


class RebuildWindowTestCase(OneHostTestBase):
    """A rebuild into the other endianness holds its host for both.

    From the host's check until its spawn: nothing of either endianness
    is admitted meanwhile.
    """

    def test_build_of_the_old_endianness_meanwhile_is_refused(self):
        raced = []
        destroy = LIBVIRT.destroy

        def then_build(driver, context, instance, *args, **kwargs):
            destroy(driver, context, instance, *args, **kwargs)
            if instance.uuid == self.le['id'] and not raced:
                raced.append(self.settled(self.post('le')))

        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.destroy', then_build))
        self.api.post_server_action(
            self.le['id'], {'rebuild': {'imageRef': self.images['be']}})
        server = self._wait_for_state_change(self.le, 'ACTIVE')
        for _ in range(600):
            if raced or self.settled(server)['status'] != 'REBUILD':
                break
            time.sleep(0.1)
        server = self.settled(server)
        self.assertEqual(1, len(raced))
        self.assertEqual('ERROR', raced[0]['status'])
        self.assertIn('PowerKVM host p1', self.fault_of(raced[0])['message'])
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual('ppc64', self.arch_of(server))
        self.assertEqual(Endianness.BIG, self.recorded(server))
        self.assertEqual([], self.mixed_moments)
        self.assert_never_mixed()
        self.assertEqual({}, self.computes['p1'].driver.ledger._reserved)
        self.assertEqual([], self.computes['p1'].driver.ledger.rebuilds())


class FailedRebuildTestCase(OneHostTestBase):
    """A rebuild in place whose spawn fails leaves the server here, ERROR.

    nova keeps the server on its host with no domain and says "You may be
    able to recover the instance by hard rebooting it".
    """

    def fail_rebuild(self, image):
        with mock.patch.object(LIBVIRT, 'spawn',
                               side_effect=ValueError('image unreadable')):
            self.api.post_server_action(
                self.le['id'], {'rebuild': {'imageRef': self.images[image]}})
            server = self._wait_for_state_change(self.le, 'ERROR')
        self.assertIsNone(self.domain_of(server))
        return server

    def tracked(self):
        """The instances nova's scheduler counts on p1."""
        return set(self.scheduler.manager.host_manager._instance_info[
            'p1']['instances'])

    def test_the_schedulers_still_count_it_here(self):
        self.assertIn(self.le['id'], self.tracked())
        self.fail_rebuild('le')
        self.assertIn(self.le['id'], self.tracked())

    def test_hard_reboot_is_admitted_again(self):
        # rebuilt into big-endian, failed: the host is free, and a
        # little-endian guest takes it; the hard reboot nova suggests would
        # define a big-endian domain beside it
        server = self.fail_rebuild('be')
        self.assertEqual(Endianness.BIG, self.recorded(server))
        other = self.boot('le')
        self.api.post_server_action(server['id'],
                                    {'reboot': {'type': 'HARD'}})
        event = self._wait_for_instance_action_event(
            server, 'reboot', 'compute_reboot_instance', 'Error')
        self.assertIn('no longer defined here', event['details'])
        server = self.settled(server)
        self.assertEqual('ERROR', server['status'])
        self.assertIn('PowerKVM host p1 runs 1 little-endian guest',
                      self.fault_of(server)['message'])
        self.assertIsNone(self.domain_of(server))
        self.assertEqual([], self.mixed_moments)
        self.assert_never_mixed()
        # once the little-endian guest is gone, it is made again
        self._delete_server(other)
        server = self._reboot_server(server, hard=True)
        self.assertEqual('ppc64', self.arch_of(server))
        self.assert_never_mixed()
        self.assertEqual(Endianness.BIG,
                         self.computes['p1'].driver.ledger.holds())
        self.assertEqual({}, self.computes['p1'].driver.ledger._reserved)


class RescueTestCase(LifecycleTestBase):
    """A rescue guest is of the guest's endianness, by every evidence.

    nova's LibvirtDriver.rescue boots the rescue image with [libvirt]
    rescue_kernel_id, else the instance's kernel; nova's compute manager
    powers the guest off before it calls the driver (rescue_instance).
    """

    HOSTS = ('p1',)

    def instance_dir(self, server):
        # nova's fake image backend makes none; rescue writes unrescue.xml
        # there first (LibvirtDriver.rescue)
        os.makedirs(os.path.join(CONF.instances_path, server['id']),
                    exist_ok=True)

    def rescue(self, server, image):
        self.instance_dir(server)
        self.api.post_server_action(
            server['id'], {'rescue': {'rescue_image_ref': image}})
        event = self._wait_for_instance_action_event(
            server, 'rescue', 'compute_rescue_instance', 'Error')
        return event, self.settled(server)

    def assert_refused_and_running(self, server, event, why):
        self.assertIn(why, event['details'])
        self.assertEqual('ERROR', server['status'])
        fault = self.fault_of(server)['message']
        self.assertIn('openstack server set --state active', fault)
        # the guest was not rescued, and runs again as it was
        self.assertTrue(self.domain_of(server).isActive())
        self.assertEqual('ppc64', self.arch_of(server))
        self.assert_never_mixed()

    def test_distribution_label_of_the_rescue_image(self):
        be = self.boot('be')
        # SLES 12 is little-endian (distros.py); os_version is known to the
        # image service only, not to nova's ImageMeta
        rescuer = self._power_image(None, os_distro='sles', os_version='12')
        event, server = self.rescue(be, rescuer)
        self.assert_refused_and_running(server, event, 'little-endian')

    def test_rescue_kernel(self):
        kernel = images.record('vmlinux', 'aki', 4096)
        self.glance.create(None, copy.deepcopy(kernel), data=io.BytesIO(
            test_image_evidence.ppc64_elf(little=True)))
        self.flags(rescue_kernel_id=kernel['id'], group='libvirt')
        be = self.boot('be')
        event, server = self.rescue(be, self._power_image(None))
        self.assert_refused_and_running(server, event, 'little-endian')

    def test_rescue_of_the_guest_endianness_is_taken(self):
        be = self.boot('be')
        rescuer = self._power_image(None, os_distro='sles', os_version='11')
        self.instance_dir(be)
        self.api.post_server_action(
            be['id'], {'rescue': {'rescue_image_ref': rescuer}})
        server = self._wait_for_state_change(be, 'RESCUE')
        self.assertEqual('ppc64', self.arch_of(server))


class RebuildTestCase(LifecycleTestBase):
    """The rebuild rule, with the scheduler filter (the advised set-up)."""

    HOSTS = ('p1', 'p2')

    def test_only_guest_rebuilt_into_the_other_endianness(self):
        le = self.boot('le', host='p1')
        server = self._rebuild_server(le, self.images['be'])
        self.assertEqual('p1', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('ppc64', self.arch_of(server))
        self.assertEqual(Endianness.BIG, self.recorded(server))
        self.assertEqual(Endianness.BIG,
                         self.computes['p1'].driver.ledger.holds())
        self.assert_nothing_leaked([server])

    def test_rebuild_refused_where_others_keep_the_old_endianness(self):
        le = self.boot('le', host='p1')
        other = self.boot('le', host='p1')
        allocations = self._get_allocations_by_server_uuid(le['id'])
        self.api.post_server_action(
            le['id'], {'rebuild': {'imageRef': self.images['be']}})
        server = self._wait_for_state_change(le, 'ERROR')
        fault = self.fault_of(server)['message']
        self.assertIn('cannot be rebuilt into a big-endian image', fault)
        # untouched: its domain runs as it was, its record and allocation
        # say what runs, nova rolled back its image
        self.assertTrue(self.domain_of(server).isActive())
        self.assertEqual('ppc64le', self.arch_of(server))
        self.assertEqual(Endianness.LITTLE, self.recorded(server))
        self.assertEqual(allocations,
                         self._get_allocations_by_server_uuid(le['id']))
        self.assertEqual(self.images['le'], server['image']['id'])
        # what the user does: a hard reboot makes it ACTIVE, still LE
        server = self._reboot_server(server, hard=True)
        self.assertEqual('ppc64le', self.arch_of(server))
        self.assert_never_mixed()
        self.assert_nothing_leaked([server, other])


class HostSideRebuildTestCase(LifecycleTestBase):
    """Without the scheduler filter, the host refuses before nova starts."""

    ADDITIONAL_FILTERS = []
    HOSTS = ('p1',)

    def test_rebuild_refused_before_the_guest_is_touched(self):
        le = self.boot('le')
        other = self.boot('le')
        allocations = self.resources_of(le)
        self.assertTrue(allocations)
        self.watch_for_mixing()
        self.api.post_server_action(
            le['id'], {'rebuild': {'imageRef': self.images['be']}})
        event = self._wait_for_instance_action_event(
            le, 'rebuild', 'compute_rebuild_instance', 'Error')
        server = self.settled(le)
        # nova keeps the server's state on the driver's rollback; the
        # reason is the rebuild's event ('openstack server event show'):
        # nova shows no fault of an ACTIVE server
        self.assertEqual('ACTIVE', server['status'])
        self.assertIn('refused before the guest was touched',
                      event['details'])
        self.assertIn('PowerKVM host p1 runs 1 little-endian guest',
                      event['details'])
        self.assertTrue(self.domain_of(server).isActive())
        self.assertEqual('ppc64le', self.arch_of(server))
        self.assertEqual(Endianness.LITTLE, self.recorded(server))
        self.assertEqual([], self.mixed_moments)
        self.assert_never_mixed()
        self.assertEqual({}, self.computes['p1'].driver.ledger._reserved)
        self.assertEqual('ACTIVE', self.settled(other)['status'])
        # nova removed the guest's allocation on the refusal; the host's
        # next periodic task puts it back (allocation_keeper)
        self._run_periodics()
        self.assertEqual(allocations, self.resources_of(le))


class EmulationArchTestCase(LifecycleTestBase):
    """hw_emulation_architecture cannot make a guest the other endianness."""

    HOSTS = ('p1',)

    def setUp(self):
        super().setUp()
        self.disguised = self._power_image(
            'ppc64le', hw_emulation_architecture='ppc64')

    def test_refused_by_the_scheduler(self):
        server = self.boot(self.disguised, expected_state='ERROR')
        self.assertIn('hw_emulation_architecture',
                      server['fault']['message'])
        self.assertEqual({}, self.colours()['p1'])

    def test_refused_by_the_host(self):
        self.flags(enabled_filters=['ComputeFilter'],
                   group='filter_scheduler')
        self.restart_compute_service('p1')
        server = self.settled(self.post(self.disguised))
        self.assertEqual('ERROR', server['status'])
        self.assertIn('hw_emulation_architecture',
                      server['fault']['message'])
        self.assertEqual({}, self.colours()['p1'])

    def test_guest_spawned_before_keeps_its_arch(self):
        le = self.boot('le')
        # an instance from before the refusal, whose image set the property
        ctxt = nova_context.get_admin_context()
        instance = objects.Instance.get_by_uuid(
            ctxt, le['id'], expected_attrs=['system_metadata'])
        instance.system_metadata['image_hw_emulation_architecture'] = 'ppc64'
        instance.save()
        server = self._reboot_server(le, hard=True)
        self.assertEqual('ppc64le', self.arch_of(server))
        self.assertEqual('ACTIVE', self.boot('le')['status'])
        self.assert_never_mixed()


class LeftoverDomainTestCase(LifecycleTestBase):
    """A shut-off domain left by a guest gone from its host holds nothing.

    nova removes such a domain itself only later (its cleanup of evacuated
    guests when the compute restarts; its reaping task, every 30 minutes,
    and only of running ones).
    """

    ADDITIONAL_FILTERS = []
    WEIGHER = False
    HOSTS = ('p1',)

    def leave_behind(self):
        """A stopped big-endian guest and its instance record."""
        be = self._stop_server(self.boot('be'))
        ctxt = nova_context.get_admin_context()
        return be, objects.Instance.get_by_uuid(ctxt, be['id'])

    def assert_counts(self, counts):
        """A little-endian build is refused if the domain counts."""
        self._run_periodics()
        le = self.settled(self.post('le'))
        self.assertEqual('ERROR' if counts else 'ACTIVE', le['status'])

    def test_domain_of_a_deleted_guest(self):
        be, instance = self.leave_behind()
        instance.destroy()  # deleted while its host was away
        self.assertFalse(self.domain_of(be).isActive())
        self.assert_counts(False)

    def test_domain_of_a_guest_now_on_another_host(self):
        be, instance = self.leave_behind()
        instance.host = 'p9'  # evacuated while its host was away
        instance.save()
        self.assert_counts(False)

    def test_domain_of_a_guest_being_resized_counts(self):
        be, instance = self.leave_behind()
        ctxt = nova_context.get_admin_context()
        # a resize waiting for its confirmation: the guest may come back
        objects.Migration(ctxt, instance_uuid=be['id'], status='finished',
                          source_compute='p1', source_node='p1',
                          dest_compute='p9',
                          migration_type='resize').create()
        instance.host = 'p9'
        instance.save()
        self.assert_counts(True)


class LastHostFaultTestCase(LifecycleTestBase):
    """Without the scheduler filter, the last host says why it refuses."""

    ADDITIONAL_FILTERS = []
    WEIGHER = False
    HOSTS = ('p1', 'p2')

    def test_fault_names_the_rule(self):
        self.boot('le', host='p1')
        self.boot('le', host='p2')
        self._run_periodics()
        be = self.settled(self.post('be'))
        self.assertEqual('ERROR', be['status'])
        fault = be['fault']['message']
        self.assertIn('runs 1 little-endian guest, and no other enabled '
                      'PowerKVM host can take this big-endian guest: a host '
                      'runs guests of one endianness only', fault)
        self.assert_never_mixed()

    def test_retried_where_another_host_could(self):
        self.boot('le', host='p1')
        self._run_periodics()
        be = self.settled(self.post('be'))
        self.assertEqual('ACTIVE', be['status'])
        self.assertEqual('p2', be['OS-EXT-SRV-ATTR:host'])


class LiveMigrationStatusTestCase(LifecycleTestBase):
    """A live migration is in progress from 'accepted' on.

    nova's conductor schedules it and the destination runs its pre-check
    while the migration is 'accepted' (conductor/manager.py,
    _live_migrate).
    """

    HOSTS = ('p1', 'p2')

    def test_accepted_live_migration(self):
        le = self.boot('le', host='p1')
        ctxt = nova_context.get_admin_context()
        migration = objects.Migration(
            ctxt, instance_uuid=le['id'], status='accepted',
            source_compute='p1', source_node='p1',
            migration_type='live-migration')
        migration.create()
        instance = objects.Instance.get_by_uuid(
            ctxt, le['id'], expected_attrs=['system_metadata'])
        # the scheduler applies the live-migration rules
        spec = objects.RequestSpec.get_by_instance_uuid(ctxt, le['id'])
        self.assertTrue(move_requests.of(spec).live)
        # the destination's claim from its pre-check stays
        destination = self.computes['p2'].driver
        destination._reserve_arrival(instance, lapse_after=600)
        self._run_periodics()
        self.assertIn(le['id'], destination.ledger._reserved)
        migration.status = 'error'
        migration.save()
        self._run_periodics()
        self.assertNotIn(le['id'], destination.ledger._reserved)


class AcceptedLiveMigrationTestCase(LifecycleTestBase):
    """The same, through nova's API.

    While the destination's pre-check runs the migration is 'accepted': the
    host's periodic pass then keeps the destination's claim, and the
    scheduler sees a live migration.
    """

    HOSTS = ('p1', 'p2')

    def test_claim_kept_through_a_periodic_pass(self):
        self.useFixture(power_libvirt.LiveMigrations(self.computes))
        le = self.boot('le', host='p1')
        ctxt = nova_context.get_admin_context()
        seen = []
        precheck = driver.PowerKVMDriver.check_can_live_migrate_destination

        def checked(drv, context, instance, *args, **kwargs):
            result = precheck(drv, context, instance, *args, **kwargs)
            migration = objects.MigrationList.get_by_filters(
                ctxt, {'instance_uuid': instance.uuid})[0]
            spec = objects.RequestSpec.get_by_instance_uuid(
                ctxt, instance.uuid)
            # the host's periodic pass (the resource tracker's
            # get_available_resource) while the migration is 'accepted'
            drv._endianness_stats()
            seen.append((migration.status, move_requests.of(spec).live,
                         instance.uuid in drv.ledger._reserved))
            return result

        self.useFixture(fixtures.MonkeyPatch(
            'powerkvm_nova.compute.driver.PowerKVMDriver.'
            'check_can_live_migrate_destination', checked))
        self.api.post_server_action(le['id'], {'os-migrateLive': {
            'host': None, 'block_migration': 'auto'}})
        self._wait_for_migration_status(le, ['completed'])
        self.assertEqual([('accepted', True, True)], seen)
        server = self.settled(le)
        self.assertEqual('p2', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('ppc64le', self.arch_of(server, 'p2'))


class LedgerFreshnessTestCase(LifecycleTestBase):
    """What changed on a host is seen at once, by the host and scheduler."""

    HOSTS = ('p1',)

    def test_domain_defined_during_a_spawn_counts(self):
        self.flags(enabled_filters=['ComputeFilter'],
                   group='filter_scheduler')
        self.restart_compute_service('p1')
        create = LIBVIRT._create_guest_with_network
        conn = self.computes['p1'].driver._host.get_connection()

        def with_a_neighbour(driver, *args, **kwargs):
            # defined behind nova's back while the guest is made
            conn.defineXML(
                "<domain type='kvm'><name>by-hand</name>"
                "<memory>1024</memory><vcpu>1</vcpu><os>"
                "<type arch='ppc64' machine='pseries'>hvm</type></os>"
                "<devices/></domain>")
            self.useFixture(fixtures.MonkeyPatch(
                'nova.virt.libvirt.driver.LibvirtDriver.'
                '_create_guest_with_network', create))
            return create(driver, *args, **kwargs)

        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.'
            '_create_guest_with_network', with_a_neighbour))
        self.boot('le')
        self.assertEqual({Endianness.LITTLE: 1, Endianness.BIG: 1},
                         self.computes['p1'].driver.ledger.counts())
        # the host is mixed by hand: it takes no guest until it is mended
        self.assertEqual('ERROR', self.settled(self.post('le'))['status'])

    def test_scheduler_sees_a_rebuilt_guest_at_once(self):
        le = self.boot('le')
        self._rebuild_server(le, self.images['be'])
        # before the host's next report: the scheduler reads the guest's
        # new endianness, not the one it remembered
        server = self.boot('le', expected_state='ERROR')
        self.assertIn('every PowerKVM host left runs guests of the other '
                      'endianness', server['fault']['message'])
