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


def here(host):
    """The UUIDs of the guests nova lists on this host, or None: unknown.

    One query of UUIDs alone, whatever the number of guests: what the
    other readers below would otherwise read whole, instance by instance
    (an instance's fields and system metadata, serialized both ways of
    each RPC call to nova-conductor), most reports need only this.
    """
    try:
        return set(objects.InstanceList.get_uuids_by_host(
            nova_context.get_admin_context(), host))
    except Exception as e:
        LOG.warning('PowerKVM: guests of this host unknown (%s)', e)
        return None


class Listing:
    """The UUIDs nova lists on this host (here()), read when it matters.

    A report asks it instead of the database. It is read again when one
    of the host's own guests is shut off: nova may unlist a stopped guest
    behind the host's back (deleted or evacuated while its compute was
    seen down), and its domain must stop holding the host at the next
    report (leftover_domains). Otherwise it is read every REFRESH
    reports (nova's update_resources_interval, 60 s by default), and the
    guests this host admits meanwhile are added (nova sets a guest's host
    before its spawn): a running guest's record only decides which report
    stat counts it (listed).
    """

    REFRESH = 10

    def __init__(self, host):
        self.host = host
        self._uuids = None
        self._age = 0

    def current(self, shut_off=()):
        """The listing, read again when stale for these shut-off domains.

        :param shut_off: UUIDs of the host's shut-off domains
        """
        if (self._uuids is None or self._age >= self.REFRESH or
                not self._uuids.isdisjoint(shut_off)):
            self._uuids, self._age = here(self.host), 0
        self._age += 1
        return self._uuids

    def admitted(self, uuid):
        if self._uuids is not None:
            self._uuids.add(uuid)


def listed(host, uuids, here=None, recorded=None):
    """Of these guests, those nova lists on this host with an endianness.

    The schedulers count these from nova's instance records, which follow
    each build and delete at once, so the host's report leaves them out
    (records.host_stats): it would say a deleted guest's endianness for
    up to one periodic interval. Unknown (the database unreachable): none,
    and the report counts them all.

    :param here: here(host), when known: the guests nova lists elsewhere
        or nowhere are not read
    :param recorded: UUIDs found recorded by earlier calls, kept by the
        caller and updated here: a guest keeps its record for life
        (records.record only rewrites it), so each is read once
    """
    uuids = set(uuids)
    if here is not None:
        uuids &= here
    known = uuids & recorded if recorded is not None else set()
    unread = uuids - known
    found = set()
    if unread:
        ctxt = nova_context.get_admin_context()
        try:
            instances = objects.InstanceList.get_by_filters(
                ctxt, {'uuid': list(unread), 'host': host,
                       'deleted': False},
                expected_attrs=['system_metadata'])
        except Exception as e:
            LOG.warning('PowerKVM: guests of this host unknown (%s); it '
                        'reports every one of them', e)
            return set()
        found = {i.uuid for i in instances
                 if records.counted_endianness(i) is not None}
    if recorded is not None:
        if here is not None:
            recorded &= here  # forget the guests gone from here
        recorded |= found
    return known | found


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


def leftover_domains(host, node, uuids, here=None, deleted=None):
    """Shut-off domains of guests no longer this host's: {uuid: why}.

    A guest deleted while this host was down, or evacuated from it,
    leaves its domain here until nova's own cleanup. A domain no instance
    owns (defined by hand) and one whose guest is moving from or to this
    host (a resize's source waiting for its confirmation) are still the
    host's.

    Moving means what nova means by a node's migrations in progress: a
    migration of the guest whose source or destination is this host and
    node and which is not over (nova_internals/migrations.py,
    in_progress_here). A guest
    gone from here that moves between two other hosts (evacuated, then
    resized elsewhere) leaves its domain here all the same: nothing of
    that move will use it, and nova's cleanup of evacuated guests
    (compute/manager.py, _destroy_evacuated_instances) removes it once
    back. Any migration of the guest, wherever, would keep such a domain
    holding this host for as long as the guest moves elsewhere.

    At most two queries, whatever the number of domains or of guests
    gone (a compute reads the database through the conductor, one RPC
    call a query, at every periodic report): the instances of the domains
    not known yet, and when some of them are gone, the migrations in
    progress on this node, as many as the host's own moves.

    :param host: the host's name as the driver knows it (nova's service)
    :param node: its node's name, as nova's resource tracker has it (the
        libvirt driver's get_available_nodes: the hypervisor's hostname)
    :param here: here(host), when known: a guest nova lists here is the
        host's, and its instance is not read
    :param deleted: UUIDs found deleted by earlier calls, kept by the
        caller and updated here: a deleted instance stays deleted, and
        nova deletes its migrations with it, so each is read once, while
        its domain waits for nova's cleanup (as long as [DEFAULT]
        running_deleted_instance_poll_interval)
    """
    if deleted is not None:
        deleted &= set(uuids)  # forget the domains nova removed
        known = {uuid: 'deleted' for uuid in uuids if uuid in deleted}
    else:
        known = {}
    uuids = [uuid for uuid in uuids if uuid not in known and
             (here is None or uuid not in here)]
    if not uuids:
        return known
    ctxt = nova_context.get_admin_context(read_deleted='yes')
    instances = _instances(ctxt, uuids)
    if instances is None:
        return known
    gone = {}
    for uuid in uuids:
        why = _gone(instances.get(uuid), host, unknown=None)
        if why:
            gone[uuid] = why
    if deleted is not None:
        deleted |= {uuid for uuid, why in gone.items() if why == 'deleted'}
    if not gone:
        return known
    try:
        # read_deleted='no', as the resource tracker asks: nova
        # soft-deletes a guest's migrations with it (db/main/api.py,
        # instance_destroy), and a deleted guest moves nowhere
        moving = migrations.in_progress_here(
            nova_context.get_admin_context(), host, node)
    except Exception as e:
        LOG.warning('PowerKVM: migrations of this host unknown (%s); the '
                    'domains of guests gone from it still hold it', e)
        return known
    return dict(known, **{uuid: why for uuid, why in gone.items()
                          if uuid not in moving})


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
