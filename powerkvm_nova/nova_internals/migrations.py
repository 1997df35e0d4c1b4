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
'pre-migrating'. The resource tracker's definition is the one that counts
(db/main/api.py, migration_get_in_progress_by_host_and_node): a migration
is in progress until it reaches one of these statuses.
"""

from nova import objects

FINISHED = frozenset(['confirmed', 'reverted', 'error', 'failed',
                      'completed', 'cancelled', 'done'])


def in_progress(context, instance_uuid):
    """The instance's migrations not yet finished, as Migration objects."""
    migrations = objects.MigrationList.get_by_filters(
        context, {'instance_uuid': instance_uuid})
    return [m for m in migrations if m.status not in FINISHED]
