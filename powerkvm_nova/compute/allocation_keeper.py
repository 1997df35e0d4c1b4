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

"""The placement allocation of a guest whose rebuild this host refused.

The host refuses a rebuild into the other endianness before nova touches
the guest, which runs on. nova (33 and 34) then deletes the guest's
allocation all the same: ComputeManager.rebuild_instance, on any error of
a rebuild it scheduled, removes the allocation against the scheduled node
(delete_allocation_for_evacuated_instance), which for a rebuild in place
is the guest's own. Placement would then count the host's capacity as
free while the guest still uses it.

So the driver keeps the allocation it was handed and, at its next periodic
task once the rebuild is over, puts it back if placement lost it and the
guest still runs here: what `nova-manage placement heal_allocations` would
do, for this guest only.
"""

import threading

from nova import context as nova_context
from nova import exception as nova_exception
from nova import objects
from nova.scheduler.client import report
from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class AllocationKeeper:

    def __init__(self, host):
        self._host = host
        self._kept = {}
        self._lock = threading.Lock()

    def keep(self, instance, allocations):
        """Remember a refused rebuild's allocation: {rp uuid: {resources}}."""
        if not allocations:
            return
        kept = {rp: {'resources': dict(alloc['resources'])}
                for rp, alloc in allocations.items()}
        with self._lock:
            self._kept[instance.uuid] = (kept, instance.project_id,
                                         instance.user_id)

    def restore(self):
        """Put back what placement lost; forget what needs nothing more."""
        with self._lock:
            kept = dict(self._kept)
        for uuid, entry in kept.items():
            try:
                done = self._restore_one(uuid, *entry)
            except Exception as e:
                LOG.warning('PowerKVM: the allocation of %s is not checked '
                            '(%s); next periodic task again', uuid, e)
                continue
            if done:
                with self._lock:
                    self._kept.pop(uuid, None)

    def _restore_one(self, uuid, allocations, project_id, user_id):
        """True once nothing more is to be done for the guest."""
        ctxt = nova_context.get_admin_context()
        try:
            instance = objects.Instance.get_by_uuid(ctxt, uuid)
        except nova_exception.InstanceNotFound:
            return True
        if instance.host != self._host:
            return True
        if instance.task_state is not None:
            return False  # the rebuild, or what came next, is not over
        client = report.report_client_singleton()
        current = client.get_allocs_for_consumer(ctxt, uuid)
        if current.get('allocations'):
            return True
        payload = {'allocations': allocations, 'project_id': project_id,
                   'user_id': user_id,
                   'consumer_generation': current.get('consumer_generation')}
        if not client.put_allocations(ctxt, uuid, payload):
            return False
        LOG.warning('PowerKVM: put back the placement allocation of %s, '
                    'which nova removed when this host refused its rebuild '
                    'although the guest runs on: %s', uuid, allocations)
        return True
