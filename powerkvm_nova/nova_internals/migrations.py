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

"""Which of a guest's migrations are still going on.

nova's own MigrationList.get_in_progress_by_instance leaves out 'accepted',
the status a live migration has while the conductor schedules it and the
destination runs its pre-check (conductor/manager.py, _live_migrate), and
'pre-migrating'. The definition that counts is that of the query of a
node's migrations in progress (db/main/api.py,
migration_get_in_progress_by_host_and_node): a migration is in progress
until it reaches one of these statuses. The resource tracker's own query
(migration_get_in_progress_and_error_by_host_and_node) also keeps 'error'
ones, for the resources they may still claim; an errored move goes on
nowhere.
"""

from nova import objects

FINISHED = frozenset(['confirmed', 'reverted', 'error', 'failed',
                      'completed', 'cancelled', 'done'])


def in_progress(context, instance_uuid):
    """The instance's migrations not yet finished, as Migration objects."""
    migrations = objects.MigrationList.get_by_filters(
        context, {'instance_uuid': instance_uuid})
    return [m for m in migrations if m.status not in FINISHED]


def in_progress_here(context, host, node):
    """UUIDs of the instances moving from or to this host's node.

    One query, nova's own for a node's moves (MigrationList.
    get_in_progress_by_host_and_node, as compute/manager.py asks it for
    the server group policies of its node): the migrations whose source
    or destination is host and node and whose status is not one of
    FINISHED. Its list of statuses (db/main/api.py,
    migration_get_in_progress_by_host_and_node) is FINISHED, status for
    status, in nova 34; tests/unit/compute/test_reconcile.py checks it
    against nova's database. Its host and node are the migration's
    source_compute and source_node, or dest_compute and dest_node, which
    nova takes from the instance's host and node (compute/api.py,
    evacuate; conductor/tasks/migrate.py and live_migrate.py).
    """
    return {m.instance_uuid for m in
            objects.MigrationList.get_in_progress_by_host_and_node(
                context, host, node)}
