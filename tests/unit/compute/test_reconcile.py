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

"""What a compute's periodic report asks nova-conductor.

nova-compute has no database: every query of nova's objects is an RPC call
to nova-conductor through NovaObject.indirection_api (nova/conductor/
rpcapi.py, ConductorAPI.object_class_action_versions). The reconciliation
here runs against nova's test database through tests/fixtures/conductor.py,
which counts those calls.
"""

from nova import context as nova_context
from nova import objects
from nova import test
from oslo_utils import uuidutils

from powerkvm_nova.compute import reconcile
from powerkvm_nova.endianness import records
from powerkvm_nova.nova_internals import migrations
from tests.fixtures import conductor

HOST = 'host1'
NODE = 'node1'


def instance(host=HOST, deleted=False):
    """A guest of host in nova's database."""
    ctxt = nova_context.get_admin_context()
    inst = objects.Instance(
        ctxt, uuid=uuidutils.generate_uuid(), host=host,
        project_id='project', user_id='user', vm_state='stopped')
    inst.create()
    if deleted:
        inst.destroy()
    return inst.uuid


def migration(uuid, status, source=HOST, dest='host2'):
    """A move of the guest from source to dest, with its nodes."""
    objects.Migration(
        nova_context.get_admin_context(), instance_uuid=uuid, status=status,
        source_compute=source, source_node=source.replace('host', 'node'),
        dest_compute=dest, dest_node=dest.replace('host', 'node'),
        # nova's Migration.create wants it with dest_node; no query here
        # reads it
        dest_compute_id=1, migration_type='migration').create()


class ConductorCallsTestCase(test.TestCase):

    def calls(self, guests, gone=0):
        """Conductor calls of a report over so many shut-off domains.

        gone of them are guests of other hosts, or deleted, half and half.
        """
        uuids = [instance(host=HOST if n >= gone or not n % 2 else 'host2',
                          deleted=n < gone and not n % 2)
                 for n in range(guests)]
        with conductor.CountingConductor() as calls:
            left = reconcile.leftover_domains(HOST, NODE, uuids)
            self.assertEqual(gone, len(left))
            reconcile.departed(HOST, uuids)
        return calls.calls

    def test_bounded_whatever_the_guest_count(self):
        self.assertEqual(self.calls(10), self.calls(500))
        self.assertEqual([('InstanceList', 'get_by_filters')] * 2,
                         self.calls(500))

    def test_bounded_with_guests_gone(self):
        few = self.calls(10, gone=5)
        self.assertEqual(few, self.calls(500, gone=250))
        self.assertEqual(
            [('InstanceList', 'get_by_filters'),
             ('MigrationList', 'get_in_progress_by_host_and_node'),
             ('InstanceList', 'get_by_filters')], few)


class RememberedTestCase(test.TestCase):
    """What a report learns for good, the next reports do not read."""

    def test_a_deleted_guest_is_read_once(self):
        deleted, mine = instance(deleted=True), instance()
        seen = set()
        here = reconcile.here(HOST)
        self.assertEqual({mine}, here)
        with conductor.CountingConductor() as calls:
            for _ in range(3):
                self.assertEqual({deleted: 'deleted'},
                                 reconcile.leftover_domains(
                                     HOST, NODE, [deleted, mine], here,
                                     seen))
        # the first report read it and this node's migrations
        self.assertEqual(2, len(calls.calls))
        self.assertEqual({deleted}, seen)
        # nova's cleanup removed its domain: forgotten
        self.assertEqual({}, reconcile.leftover_domains(
            HOST, NODE, [mine], here, seen))
        self.assertEqual(set(), seen)

    def test_a_recorded_guest_is_read_once(self):
        ctxt = nova_context.get_admin_context()
        recorded = objects.Instance(
            ctxt, uuid=uuidutils.generate_uuid(), host=HOST,
            project_id='project', user_id='user', vm_state='active',
            system_metadata={records.SM_RECORD: 'big-endian'})
        recorded.create()
        unrecorded = instance()
        seen = set()
        with conductor.CountingConductor() as calls:
            for _ in range(3):
                here = reconcile.here(HOST)
                self.assertEqual({recorded.uuid}, reconcile.listed(
                    HOST, [recorded.uuid, unrecorded], here, seen))
        # here each time; the records once, then the unrecorded guest only
        self.assertEqual([('InstanceList', 'get_uuids_by_host'),
                          ('InstanceList', 'get_by_filters')] * 3,
                         calls.calls)
        self.assertEqual({recorded.uuid}, seen)
        recorded.destroy()
        self.assertEqual(set(), reconcile.listed(
            HOST, [recorded.uuid], reconcile.here(HOST), seen))
        self.assertEqual(set(), seen)


class LeftoverDomainsTestCase(test.TestCase):

    def test_gone_guests_are_said_why(self):
        deleted = instance(deleted=True)
        evacuated = instance(host='host2')
        mine = instance()
        unknown = uuidutils.generate_uuid()
        left = reconcile.leftover_domains(
            HOST, NODE, [deleted, evacuated, mine, unknown])
        self.assertEqual({deleted: 'deleted',
                          evacuated: 'now on host host2'}, left)

    def test_moving_from_or_to_this_node_holds(self):
        # a resize's source waiting for its confirmation: the guest is on
        # its destination already (compute/manager.py, _finish_resize)
        resized = instance(host='host2')
        migration(resized, 'finished')
        # a move to here not over, the guest still on its source
        arriving = instance(host='host3')
        migration(arriving, 'migrating', source='host3', dest=HOST)
        # evacuated from here (done), then moving between two other hosts
        elsewhere = instance(host='host2')
        migration(elsewhere, 'done')
        migration(elsewhere, 'migrating', source='host2', dest='host3')
        # moved away long ago, its migration confirmed
        confirmed = instance(host='host2')
        migration(confirmed, 'confirmed')
        left = reconcile.leftover_domains(
            HOST, NODE, [resized, arriving, elsewhere, confirmed])
        self.assertEqual({elsewhere, confirmed}, set(left))

    def test_another_node_of_this_host_is_not_this_one(self):
        resized = instance(host='host2')
        migration(resized, 'finished')
        self.assertEqual({resized: 'now on host host2'},
                         reconcile.leftover_domains(HOST, 'other-node',
                                                    [resized]))

    def test_deleted_guests_migrations_hold_nothing(self):
        # nova soft-deletes a guest's migrations with it, over or not
        # (db/main/api.py, instance_destroy)
        ctxt = nova_context.get_admin_context()
        uuid = instance()
        migration(uuid, 'migrating')
        objects.Instance.get_by_uuid(ctxt, uuid).destroy()
        self.assertEqual({uuid: 'deleted'},
                         reconcile.leftover_domains(HOST, NODE, [uuid]))

    def test_migrations_unknown_hold_the_host(self):
        gone = instance(host='host2')
        self.stub_out(
            'nova.objects.MigrationList.get_in_progress_by_host_and_node',
            self._unreachable)
        self.assertEqual({}, reconcile.leftover_domains(HOST, NODE, [gone]))

    @staticmethod
    def _unreachable(*args, **kwargs):
        raise IOError('the conductor is away')


class InProgressTestCase(test.TestCase):
    """nova's migrations in progress on a node are those not FINISHED."""

    # the other statuses nova sets (compute/api.py, compute/manager.py
    # with _set_migration_status for live migrations, conductor/)
    ONGOING = ('accepted', 'pre-migrating', 'migrating', 'post-migrating',
               'finished', 'running', 'preparing', 'queued', 'confirming',
               'reverting')

    def test_finished_is_novas_own_list(self):
        uuids = {}
        for status in migrations.FINISHED | set(self.ONGOING):
            uuids[status] = instance(host='host2')
            migration(uuids[status], status)
        self.assertEqual(
            {uuids[s] for s in self.ONGOING},
            migrations.in_progress_here(
                nova_context.get_admin_context(), HOST, NODE))
        for status in migrations.FINISHED | set(self.ONGOING):
            self.assertEqual(
                status not in migrations.FINISHED,
                bool(migrations.in_progress(nova_context.get_admin_context(),
                                            uuids[status])),
                status)
