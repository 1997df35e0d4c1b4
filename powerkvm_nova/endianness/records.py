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

"""What a guest records of its endianness, and what a host reports of it.

A guest records at spawn the endianness it was admitted as, in its
instance's system metadata; a host reports what it runs to the scheduler in
its ComputeNode stats. The compute, the scheduler and the status checks
read both through this module alone.
"""

from nova.compute import vm_states
from oslo_log import log as logging

from powerkvm_nova.endianness import Endianness

LOG = logging.getLogger(__name__)

# HostState.stats keys (nova copies a driver's 'stats' there).
# STAT_ENDIANNESS: every guest and claim of the host, as of the last
# periodic resource update. STAT_UNLISTED: those of guests nova does not list
# on the host with their endianness recorded (defined by hand, arriving by
# migration, a resize's source); the readers take the others from nova's
# instance records, which follow each build and delete at once.
STAT_ENDIANNESS = 'powerkvm_endianness'
STAT_UNLISTED = 'powerkvm_endianness_unlisted'
STAT_POLICY = 'powerkvm_endianness_policy'
MIXED = 'mixed'

# A guest's endianness is recorded at spawn under two system metadata keys:
# - SM_RECORD, the driver's own, outside nova's image_ namespace: nova's API
#   rewrites every image_* key of a rebuilt instance before the rebuild is
#   scheduled (compute/api.py, rebuild, _reset_image_metadata), so only a
#   key of our own stays true to what runs while the rebuild is decided;
# - SM_ARCH, nova's copy of the image's hw_architecture
#   (nova.utils.SM_IMAGE_PROP_PREFIX): nova rebuilds instance.image_meta
#   from it for every later operation.
SM_RECORD = 'powerkvm_endianness'
SM_ARCH = 'image_hw_architecture'


def recorded_endianness(instance):
    """The Endianness recorded in the instance at spawn, or None.

    A guest spawned before SM_RECORD existed has only SM_ARCH.
    """
    sysmeta = instance.system_metadata
    recorded = sysmeta.get(SM_RECORD)
    if recorded:
        try:
            return Endianness(recorded)
        except ValueError:
            LOG.warning('Instance %s: unreadable %s=%r ignored',
                        instance.uuid, SM_RECORD, recorded)
    return Endianness.from_arch(sysmeta.get(SM_ARCH))


def counted_endianness(instance):
    """The Endianness other hosts and the schedulers count it as, or None.

    The record, written when a host admits the guest. nova's own
    image_hw_architecture (SM_ARCH) is in the instance from its API on, so
    it counts only for a guest past its build (one spawned before SM_RECORD
    existed): a guest being built counts once admitted, not while its host
    is refusing it.
    """
    sysmeta = instance.system_metadata
    if not sysmeta.get(SM_RECORD) and \
            instance.obj_attr_is_set('vm_state') and \
            instance.vm_state == vm_states.BUILDING:
        return None
    return recorded_endianness(instance)


def record(instance, endianness):
    """Record the endianness the guest runs as; True if anything changed.

    The caller saves the instance.
    """
    wanted = {SM_RECORD: endianness.value, SM_ARCH: endianness.arch}
    changed = {k: v for k, v in wanted.items()
               if instance.system_metadata.get(k) != v}
    instance.system_metadata.update(changed)
    return bool(changed)


def reported_endianness(stats, key=STAT_ENDIANNESS):
    """The set of Endiannesses a host's stat says it runs (empty: none).

    The reader of what host_stats() writes.
    """
    stat = (stats or {}).get(key)
    if stat == MIXED:
        return set(Endianness)
    return {Endianness(stat)} if stat else set()


def unlisted_endianness(stats):
    """What the host holds for guests nova does not list there, or None.

    None: the host reports no such stat (a compute of an earlier release,
    whose STAT_ENDIANNESS counts every guest).
    """
    if STAT_UNLISTED not in (stats or {}):
        return None
    return reported_endianness(stats, STAT_UNLISTED)


def running(stats, listed, reported_less=frozenset()):
    """The set of Endiannesses a compute runs (empty: none).

    What it reported of the guests nova does not list there, and `listed`:
    the endiannesses recorded in the guests nova lists there, whose records
    follow each build and delete at once, where the report is as old as the
    compute's last periodic task. A compute of an earlier release reports
    every guest: its report, less `reported_less`, and `listed`.
    """
    unlisted = unlisted_endianness(stats)
    if unlisted is not None:
        return unlisted | listed
    return (reported_endianness(stats) - reported_less) | listed


def recorded_endiannesses(instances):
    """The Endiannesses these instances count as (counted_endianness)."""
    return {e for e in map(counted_endianness, instances) if e is not None}


def host_stats(holders, policy, listed=frozenset()):
    """What the host tells the scheduler, as HostState.stats entries.

    :param holders: the host ledger's holders()
    :param policy: the host's endianness_policy
    :param listed: UUIDs of the guests nova lists on this host with their
        endianness recorded (compute.reconcile.listed)
    """
    unlisted = {e for u, e in holders.items() if u not in listed}
    return {STAT_ENDIANNESS: _stat(set(holders.values())),
            STAT_UNLISTED: _stat(unlisted),
            STAT_POLICY: policy}


def _stat(endiannesses):
    if len(endiannesses) > 1:
        return MIXED
    return next(iter(endiannesses)).value if endiannesses else ''
