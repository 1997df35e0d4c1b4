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


"""Tell the schedulers at once that a guest took this host, or left it.

nova's compute tells them when a build has ended ([filter_scheduler]
track_instance_changes): under emulation, or with a slow image or network,
minutes after the scheduler chose the host. Until then the scheduler's
endianness filter sees the host free of the guest's endianness and sends
the other one there; the host refuses it and nova reschedules, until the
request's attempts run out (100 concurrent boots of both endiannesses on
the three hosts of tools/cloud: 27 ended in ERROR so). Told when the host
admits the guest, the schedulers count it on the host one RPC cast later:
the guest's endianness is in its system metadata by then
(admission.record), where the filter reads it.
"""

import nova.conf
from nova import objects
from nova.scheduler.client import query
from oslo_log import log as logging

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

_client = None


def _query():
    global _client
    if _client is None:
        _client = query.SchedulerQueryClient()
    return _client


def took(context, host, instance):
    """The guest was admitted here: the schedulers count it on the host."""
    if not CONF.filter_scheduler.track_instance_changes:
        return
    try:
        _query().update_instance_info(
            context.elevated(), host, objects.InstanceList(objects=[instance]))
    except Exception as e:
        # The host's admission keeps the rule; this only spares reschedules.
        LOG.warning('PowerKVM: the schedulers were not told that this '
                    'host took the guest: %s', e, instance=instance)


def arrived(context, host, instance):
    """A live migration brought the guest here: it counts here.

    nova's destination tells the schedulers nothing (its source sends the
    guest as the source's own). Sent as nova records it right after the
    driver's post_live_migration_at_destination: on this host, its task
    over. An entry of a migrating guest is read again for each request
    (scheduler.endianness._live_migrating); this one is not.
    """
    here = instance.obj_clone()
    here.host = host
    here.task_state = None
    took(context, host, here)


def left(context, host, instance):
    """A guest admitted here did not stay (its spawn failed)."""
    if not CONF.filter_scheduler.track_instance_changes:
        return
    try:
        _query().delete_instance_info(context.elevated(), host,
                                      instance.uuid)
    except Exception as e:
        LOG.warning('PowerKVM: the schedulers were not told that the guest '
                    'left this host: %s', e, instance=instance)
