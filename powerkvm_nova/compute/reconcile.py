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

"""What the cell database says of what holds a host, once a periodic task.

The host ledger reads libvirt only. Some of what it holds is no longer this
host's by nova's records, and nova tells the driver nothing of it: claims
of live migrations that ended elsewhere, holds of guests whose restart
failed and that then left, shut-off domains of guests deleted or evacuated
while the host was away. Each function takes the UUIDs in question and
returns those that no longer hold the host, with why; listed() says which
of them nova itself shows on the host. Each takes the host's name as the
driver knows it (nova's own service host).
"""

from nova.compute import task_states
from nova import context as nova_context
from nova import objects
from oslo_log import log as logging

from powerkvm_nova.endianness import records
from powerkvm_nova.nova_internals import migrations

LOG = logging.getLogger(__name__)


def finished_arrivals(host, uuids):
    """Live migrations to here that are over: {uuid: why}.

    When a migration over shared instance storage fails, nova only drops
    its resource claim here and calls the driver nowhere. A migration
    still looking for its destination has none recorded yet.
    """
    over = {}
    ctxt = nova_context.get_admin_context()
    for uuid in uuids:
        try:
            ongoing = migrations.in_progress(ctxt, uuid)
        except Exception as e:
            LOG.warning('PowerKVM: migrations of %s unknown (%s); its '
                        'claim here lapses by itself', uuid, e)
            continue
        if not any(m.dest_compute in (None, host) for m in ongoing):
            over[uuid] = 'its live migration to this host is over'
    return over


def listed(host, uuids):
    """Of these guests, those nova lists on this host with an endianness.

    The schedulers count these from nova's instance records, which follow
    each build and delete at once, so the host's report leaves them out
    (records.host_stats): it would say a deleted guest's endianness for
    up to one periodic interval. Unknown (the database unreachable): none,
    and the report counts them all.
    """
    if not uuids:
        return set()
    ctxt = nova_context.get_admin_context()
    try:
        instances = objects.InstanceList.get_by_filters(
            ctxt, {'uuid': list(uuids), 'host': host, 'deleted': False},
            expected_attrs=['system_metadata'])
    except Exception as e:
        LOG.warning('PowerKVM: guests of this host unknown (%s); it '
                    'reports every one of them', e)
        return set()
    return {i.uuid for i in instances
            if records.counted_endianness(i) is not None}


def departed(host, uuids):
    """Guests gone from this host, or deleted: {uuid: why}."""
    ctxt = nova_context.get_admin_context(read_deleted='yes')
    instances = _instances(ctxt, uuids)
    if instances is None:
        return {}
    gone = {}
    for uuid in uuids:
        why = _gone(instances.get(uuid), host)
        if why:
            gone[uuid] = why
    return gone


def rebuilds_over(host, uuids):
    """Rebuilds in place that ended without their spawn: {uuid: why}.

    A rebuild that fails between the host's check and its spawn (nova's
    power-off, detach or destroy) leaves its hold for the new endianness;
    nova's instance says when it is no longer being rebuilt here.
    """
    ctxt = nova_context.get_admin_context(read_deleted='yes')
    instances = _instances(ctxt, uuids)
    if instances is None:
        return {}
    over = {}
    for uuid in uuids:
        instance = instances.get(uuid)
        why = _gone(instance, host)
        if why:
            over[uuid] = why
        elif instance.task_state not in task_states.rebuild_states:
            over[uuid] = 'no longer rebuilt (%s)' % instance.vm_state
    return over


def leftover_domains(host, uuids):
    """Shut-off domains of guests no longer this host's: {uuid: why}.

    A guest deleted while this host was down, or evacuated from it,
    leaves its domain here until nova's own cleanup. A domain no instance
    owns (defined by hand) and one whose guest is moving (a resize's
    source waiting for its confirmation) are still the host's.

    One query for all the domains' instances, whatever their number (a
    compute reads the database through the conductor, one RPC call a
    query, at every periodic report); the migrations of only the guests
    gone from here, which nova's cleanup makes few.
    """
    ctxt = nova_context.get_admin_context(read_deleted='yes')
    instances = _instances(ctxt, uuids)
    if instances is None:
        return {}
    left = {}
    for uuid in uuids:
        why = _gone(instances.get(uuid), host, unknown=None)
        try:
            if why and not migrations.in_progress(ctxt, uuid):
                left[uuid] = why
        except Exception as e:
            LOG.warning('PowerKVM: migrations of %s unknown (%s)', uuid, e)
    return left


def _instances(ctxt, uuids):
    """{uuid: Instance}, deleted ones too, in one query; None: unknown."""
    try:
        return {i.uuid: i for i in objects.InstanceList.get_by_filters(
            ctxt, {'uuid': list(uuids)})}
    except Exception as e:
        LOG.warning('PowerKVM: the guests of this host unknown (%s); they '
                    'still hold it', e)
        return None


def _gone(instance, host, unknown='no instance'):
    """Why an instance is not this host's guest, or None if it is.

    :param unknown: the answer for a UUID no instance has (None here)
    """
    if instance is None:
        return unknown
    if instance.deleted:
        return 'deleted'
    if instance.host != host:
        return 'now on host %s' % instance.host
    return None
