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

"""What other computes run, as this host's driver learns it.

Their ComputeNode stats, as nova hands them to a driver (objects or
primitives) or as the database holds them, and the guests nova's records
place on them.
"""

import collections

from nova import context as nova_context
from nova import objects
from nova import servicegroup
from oslo_log import log as logging

from powerkvm_nova.endianness import ledger
from powerkvm_nova.endianness import records

LOG = logging.getLogger(__name__)


def stats_of(compute_info):
    """The stats dict of a ComputeNode, its primitive, or None."""
    if compute_info is None:
        return None
    if isinstance(compute_info, dict):
        data = compute_info.get('nova_object.data', compute_info)
        return data.get('stats')
    return getattr(compute_info, 'stats', None)


def migration_destination(context, instance):
    """The ComputeNode the instance's ongoing move goes to, or None.

    The source of a cold migration or resize asks before it powers the
    guest off: refusing there keeps the guest running where it is.
    """
    migration_context = instance.migration_context
    if migration_context is None:
        return None
    try:
        migration = objects.Migration.get_by_id(
            context, migration_context.migration_id)
        return objects.ComputeNode.get_by_host_and_nodename(
            context, migration.dest_compute, migration.dest_node)
    except Exception as e:
        # The destination checks again when the guest arrives.
        LOG.warning('PowerKVM: destination of the move unknown (%s)', e,
                    instance=instance)
        return None


def running(context, node):
    """The set of Endiannesses compute node `node` runs (records.running).

    A node of an earlier release reports every guest: nova's records of
    them are not read.
    """
    return running_on(context, [node])[node.host]


def running_on(context, nodes):
    """{host: the set of Endiannesses it runs}, for these compute nodes.

    The guests nova lists on them are read in one query, whatever their
    number: a compute reads the cell database through the conductor, one
    RPC call a query.
    """
    listing = [n.host for n in nodes
               if records.unlisted_endianness(n.stats or {}) is not None]
    guests = collections.defaultdict(list)
    if listing:
        for instance in objects.InstanceList.get_by_filters(
                context, {'host': listing, 'deleted': False},
                expected_attrs=['system_metadata']):
            guests[instance.host].append(instance)
    return {n.host: records.running(
        n.stats or {}, records.recorded_endiannesses(guests[n.host]))
        for n in nodes}


def others_could_take(host, endianness):
    """Could another PowerKVM compute of this cell take such a guest?

    From what each runs (running_on()), among the enabled computes that
    are up but `host`. Hosts that report no PowerKVM stats (another
    driver's) cannot. When it cannot tell, it says yes: nova then retries
    as usual.
    """
    ctxt = nova_context.get_admin_context()
    try:
        services = {s.host: s for s in objects.ServiceList.get_by_binary(
            ctxt, 'nova-compute')}
        group = servicegroup.API()
        candidates = []
        for node in objects.ComputeNodeList.get_all(ctxt):
            service = services.get(node.host)
            if node.host == host or service is None or \
                    service.forced_down or not group.service_is_up(service):
                continue
            stats = node.stats or {}
            if records.STAT_POLICY not in stats:
                continue
            if stats[records.STAT_POLICY] != ledger.EXCLUSIVE:
                return True
            candidates.append(node)
        return any(runs <= {endianness}
                   for runs in running_on(ctxt, candidates).values())
    except Exception as e:
        LOG.warning('PowerKVM: the other computes are unknown (%s)', e)
        return True
