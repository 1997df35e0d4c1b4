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

"""The endianness rule for guests arriving by migration (doc/migration.md).

The guest's endianness is the one recorded in it at spawn. The destination
reserves before the guest's domain exists there (from its live-migration
pre-check, or when nova finishes a cold migration or resize) and releases
if the move fails; the source of a cold move refuses before it powers the
guest off when the destination reported the other endianness.
PowerKVMDriver mixes this in before EndiannessHooks, whose ledger and
record it uses, and nova's LibvirtDriver, whose methods these wrap.
"""

import nova.conf
from nova import exception as nova_exception
from nova.virt.libvirt import driver as libvirt_driver
from oslo_utils import excutils

from powerkvm_nova import admission
from powerkvm_nova import compat
from powerkvm_nova import compute_nodes
from powerkvm_nova.endianness import ledger
from powerkvm_nova import exception

CONF = nova.conf.CONF


class ArrivalHooks:
    """LibvirtDriver hooks that keep the rule for guests that move."""

    def _endianness_move_refusal(self, context, instance, dest_node):
        """Why the destination's guests exclude this one, or None."""
        if (dest_node.stats or {}).get(admission.STAT_POLICY) != \
                ledger.EXCLUSIVE:
            return None
        mine = self._recorded_endianness(instance)
        others = compute_nodes.held(context, dest_node) - {mine}
        if not others:
            return None
        return ('the destination runs %s guests; a host runs guests of one '
                'endianness only, so this %s guest cannot move there '
                '([powerkvm] endianness_policy = exclusive)'
                % (' and '.join(sorted(e.value for e in others)),
                   mine.value))

    def _reserve_arrival(self, instance, lapse_after=None,
                         error=nova_exception.MigrationError):
        try:
            self.ledger.admit(instance.uuid,
                              self._recorded_endianness(instance),
                              lapse_after=lapse_after)
        except exception.PowerKVMError as e:
            raise error(reason=str(e))

    def check_can_live_migrate_destination(self, context, instance,
                                           src_compute_info, dst_compute_info,
                                           block_migration=False,
                                           disk_over_commit=False):
        # The host is held for the guest from here: a boot of the other
        # endianness meanwhile is refused, not the migration later. nova
        # tells the destination nothing when the move fails before it
        # starts here, so the claim also lapses by itself.
        self._reserve_arrival(
            instance, lapse_after=CONF.powerkvm.migration_claim_timeout,
            error=nova_exception.MigrationPreCheckError)
        try:
            return super().check_can_live_migrate_destination(
                context, instance, src_compute_info, dst_compute_info,
                block_migration=block_migration,
                disk_over_commit=disk_over_commit)
        except Exception:
            with excutils.save_and_reraise_exception():
                self.ledger.release(instance.uuid)

    def pre_live_migration(self, context, instance, block_device_info,
                           network_info, disk_info, migrate_data):
        # The incoming domain, which then counts in its own right, is
        # defined here as soon as the source starts the migration.
        self._reserve_arrival(
            instance, lapse_after=CONF.powerkvm.migration_claim_timeout)
        try:
            return super().pre_live_migration(
                context, instance, block_device_info, network_info,
                disk_info, migrate_data)
        except Exception:
            with excutils.save_and_reraise_exception():
                self.ledger.release(instance.uuid)

    def post_live_migration_at_destination(self, context, instance,
                                           network_info,
                                           block_migration=False,
                                           block_device_info=None):
        super().post_live_migration_at_destination(
            context, instance, network_info,
            block_migration=block_migration,
            block_device_info=block_device_info)
        self.ledger.committed(instance.uuid)

    def rollback_live_migration_at_destination(self, context, instance,
                                               network_info,
                                               block_device_info,
                                               destroy_disks=True,
                                               migrate_data=None):
        try:
            super().rollback_live_migration_at_destination(
                context, instance, network_info, block_device_info,
                destroy_disks=destroy_disks, migrate_data=migrate_data)
        finally:
            self.ledger.release(instance.uuid)

    @compat.signature_of(libvirt_driver.LibvirtDriver.finish_migration)
    def finish_migration(self, context, migration, instance, disk_info,
                         network_info, image_meta, resize_instance,
                         allocations, block_device_info=None, power_on=True,
                         **added):
        self._reserve_arrival(instance)
        try:
            super().finish_migration(
                context, migration, instance, disk_info, network_info,
                image_meta, resize_instance, allocations,
                block_device_info=block_device_info, power_on=power_on,
                **added)
        except Exception:
            with excutils.save_and_reraise_exception():
                self.ledger.release(instance.uuid)
        self.ledger.committed(instance.uuid)
