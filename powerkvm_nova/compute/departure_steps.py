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

"""The source's check before a cold migration or resize powers a guest off.

nova gives a driver no hook on the destination before the source powers
the guest off, so the source asks what the destination reported (its
ComputeNode stats: CPU mode and endianness) and refuses there: the guest
stays as it was and the user reads the reason in the instance fault. The
destination's own checks (arrival_steps, CpuSteps) still catch a stale
report.
"""

from nova import exception as nova_exception
from oslo_log import log as logging

from powerkvm_nova.compute import other_hosts
from powerkvm_nova.endianness import ledger
from powerkvm_nova.endianness import records

LOG = logging.getLogger(__name__)


class DepartureSteps:
    """The source's pre-check, before the libvirt driver powers off.

    It asks _cpu_move_refusal (CpuSteps) and _endianness_move_refusal of
    the same driver.
    """

    def _check_departure(self, context, instance, flavor):
        """Refuse a cold move the destination's report says it cannot take.

        :raises InstanceFaultRollback: nova keeps the guest as it was
        """
        node = other_hosts.migration_destination(context, instance)
        if node is None:
            return
        reason = (
            self._cpu_move_refusal(instance, flavor, node.stats or {},
                                   live=False) or
            self._endianness_move_refusal(context, instance, node))
        if reason:
            LOG.warning('PowerKVM: move refused: %s', reason,
                        instance=instance)
            raise nova_exception.InstanceFaultRollback(
                inner_exception=nova_exception.MigrationPreCheckError(
                    reason=reason))

    def _endianness_move_refusal(self, context, instance, dest_node):
        """Why the destination's guests exclude this one, or None."""
        if (dest_node.stats or {}).get(records.STAT_POLICY) != \
                ledger.EXCLUSIVE:
            return None
        mine = self._recorded_endianness(instance)
        others = other_hosts.running(context, dest_node) - {mine}
        if not others:
            return None
        return ('the destination runs %s guests; a host runs guests of one '
                'endianness only, so this %s guest cannot move there '
                '([powerkvm] endianness_policy = exclusive)'
                % (' and '.join(sorted(e.value for e in others)),
                   mine.value))
