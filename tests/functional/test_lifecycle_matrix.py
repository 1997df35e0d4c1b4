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

"""The rest of the lifecycle matrix (doc/endianness.md), through the API.

Pause, suspend and resume keep a guest's hold on its host; a shelved and
offloaded guest frees it, and its unshelve is admitted like a boot; an
evacuation's destination admits the guest like a boot.
"""

from powerkvm_nova.endianness import Endianness
from tests.functional import test_lifecycle


class PauseSuspendTestCase(test_lifecycle.OneHostTestBase):
    """A paused or suspended guest keeps its host (one host, no filter)."""

    def assert_le_only(self, *servers):
        self.assertEqual('ppc64le', self.arch_of(self.le))
        self.assertEqual([], self.mixed_moments)
        self.assert_never_mixed()
        self.assert_nothing_leaked(list(servers))

    def test_paused_guest_keeps_the_host(self):
        self.api.post_server_action(self.le['id'], {'pause': None})
        self._wait_for_state_change(self.le, 'PAUSED')
        be = self.settled(self.post('be'))
        self.assert_refused(be)
        self.api.post_server_action(self.le['id'], {'unpause': None})
        server = self._wait_for_state_change(self.le, 'ACTIVE')
        self.assert_le_only(server, be)

    def test_suspended_guest_keeps_the_host(self):
        self.api.post_server_action(self.le['id'], {'suspend': None})
        self._wait_for_state_change(self.le, 'SUSPENDED')
        be = self.settled(self.post('be'))
        self.assert_refused(be)
        self.assertEqual('SUSPENDED',
                         self.api.get_server(self.le['id'])['status'])
        self.api.post_server_action(self.le['id'], {'resume': None})
        server = self._wait_for_state_change(self.le, 'ACTIVE')
        self.assert_le_only(server, be)

    def test_resume_keeps_the_host(self):
        self.api.post_server_action(self.le['id'], {'suspend': None})
        self._wait_for_state_change(self.le, 'SUSPENDED')
        # a big-endian build that reaches the host while nova makes the
        # suspended guest's domain run again
        be = self.race_a_build('be', self.le, lambda: (
            self.api.post_server_action(self.le['id'], {'resume': None})))
        self.assert_refused(be)
        server = self._wait_for_state_change(self.le, 'ACTIVE')
        self.assert_le_only(server, be)


class ShelveTestCase(test_lifecycle.LifecycleTestBase):
    """Shelving off the host frees it; unshelving is admitted as a boot."""

    ADDITIONAL_FILTERS = []
    WEIGHER = False
    HOSTS = ('p1',)

    def test_unshelve_where_the_host_turned_big_endian(self):
        le = self.boot('le')
        # nova's default shelved_offload_time, 0: off the host at once
        self._shelve_server(le)
        self.assertIsNone(self.domain_of(le))
        self.assertIsNone(self.computes['p1'].driver.ledger.holds())
        be = self.boot('be')
        self.watch_for_mixing()

        self.api.post_server_action(le['id'], {'unshelve': None})
        event = self._wait_for_instance_action_event(
            le, 'unshelve', 'compute_unshelve_instance', 'Error')
        self.assertIn('PowerKVM host p1 runs 1 big-endian guest',
                      event['details'])
        # nova leaves the server shelved, off every host, for a later try
        server = self._wait_for_server_parameter(
            le, {'status': 'SHELVED_OFFLOADED',
                 'OS-EXT-STS:task_state': None,
                 'OS-EXT-SRV-ATTR:host': None})
        self.assertIsNone(self.domain_of(server))
        self.assertEqual({}, self._get_allocations_by_server_uuid(le['id']))
        self.assertEqual({}, self.computes['p1'].driver.ledger._reserved)
        self.assertEqual(Endianness.BIG,
                         self.computes['p1'].driver.ledger.holds())
        self.assertEqual([], self.mixed_moments)

        # once the host is free again, the same unshelve succeeds
        self._delete_server(be)
        server = self._unshelve_server(server)
        self.assertEqual('ppc64le', self.arch_of(server))
        self.assertEqual(Endianness.LITTLE, self.recorded(server))
        self.assertEqual([], self.mixed_moments)
        self.assert_nothing_leaked([server])


class EvacuateTestCase(test_lifecycle.LifecycleTestBase):
    """An evacuation's destination admits the guest as a boot would."""

    HOSTS = ('p1', 'p2', 'p3')

    def setUp(self):
        super().setUp()
        self.le = self.boot('le', host='p1')
        self.be = self.boot('be', host='p2')
        self.host_down('p1')
        self.watch_for_mixing()

    def host_down(self, host):
        self.computes[host].stop()
        service = self.admin_api.get_services(
            host=host, binary='nova-compute')[0]
        self.admin_api.put_service(service['id'], {'forced_down': 'true'})

    def evacuate(self, server, **args):
        """The server once its evacuation has ended, and the migration."""
        self.admin_api.post_server_action(server['id'], {'evacuate': args})
        migration = self._wait_for_migration_status(
            server, ['done', 'failed', 'error'])
        return self.settled(server), migration

    def test_scheduler_sends_the_guest_where_its_endianness_runs(self):
        # p2 runs a big-endian guest; p3 is free
        server, migration = self.evacuate(self.le)
        self.assertEqual('done', migration['status'])
        self.assertEqual('p3', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('ppc64le', self.arch_of(server, 'p3'))
        self.assertEqual([], self.mixed_moments)
        self.assertEqual(Endianness.BIG,
                         self.computes['p2'].driver.ledger.holds())

    def test_destination_refuses_the_other_endianness(self):
        # p3 away too, and the target named with force (microversion
        # 2.29 to 2.67): only p2's own admission can refuse
        self.host_down('p3')
        microversion = self.admin_api.microversion
        self.admin_api.microversion = '2.67'
        try:
            server, migration = self.evacuate(self.le, host='p2',
                                              force=True)
        finally:
            self.admin_api.microversion = microversion
        event = self._wait_for_instance_action_event(
            self.le, 'evacuate', 'compute_rebuild_instance', 'Error')
        self.assertIn('PowerKVM host p2 runs 1 big-endian guest',
                      event['details'])
        # refused before nova touched anything: the server stays p1's, in
        # the state it had, for an evacuation elsewhere; the migration
        # says it failed
        self.assertEqual('p1', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('ACTIVE', server['status'])
        self.assertIn(migration['status'], ('failed', 'error'))
        self.assertEqual('evacuation', migration['migration_type'])
        self.assertIsNone(self.domain_of(server, 'p2'))
        self.assertEqual(Endianness.BIG,
                         self.computes['p2'].driver.ledger.holds())
        self.assertEqual({}, self.computes['p2'].driver.ledger._reserved)
        self.assertEqual([], self.mixed_moments)
        # nothing of the guest allocated on p2
        p2 = self._get_provider_uuid_by_host('p2')
        self.assertNotIn(
            p2, self._get_allocations_by_server_uuid(self.le['id']))
