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
destination's own checks (finish_migration) still catch a stale report.
"""

from nova import exception as nova_exception
from oslo_log import log as logging

from powerkvm_nova import compute_nodes

LOG = logging.getLogger(__name__)


class ColdMoveHooks:
    """The source's pre-check, before the libvirt driver powers off.

    It asks _cpu_move_refusal (CpuHooks) and _endianness_move_refusal
    (EndiannessHooks) of the same driver.
    """

    def migrate_disk_and_power_off(self, context, instance, dest,
                                   flavor, network_info,
                                   block_device_info=None,
                                   timeout=0, retry_interval=0):
        node = compute_nodes.migration_destination(context, instance)
        if node is not None:
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
        return super().migrate_disk_and_power_off(
            context, instance, dest, flavor, network_info,
            block_device_info=block_device_info, timeout=timeout,
            retry_interval=retry_interval)
