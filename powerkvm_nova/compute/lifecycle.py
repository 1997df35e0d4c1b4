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

"""Each lifecycle method PowerKVMDriver overrides, as one sequence of steps.

The steps come from the classes of one concern each (cpu_steps,
endianness_steps, arrival_steps, departure_steps); none of them overrides
these methods, so the order below is the whole order, whatever the order
of PowerKVMDriver's bases, and super() here is nova's LibvirtDriver.
tests/unit/compute/test_lifecycle_order.py holds each sequence to it.

Why this order: a check that refuses (the CPU mode, a cold move's
destination) runs before anything is held; the host is held (the ledger's
admission or claim) before the guest's domain exists here, and released if
nova's step fails.
"""

from nova.virt.libvirt import driver as libvirt_driver
from oslo_utils import excutils

from powerkvm_nova.compute import scheduler_notices
from powerkvm_nova.nova_internals import signatures

_LIBVIRT = libvirt_driver.LibvirtDriver


class Lifecycle:
    """The lifecycle sequences; mixed in first, before the step classes."""

    # -- a guest made here ---------------------------------------------------

    def spawn(self, context, instance, image_meta, injected_files,
              admin_password, allocations, network_info=None,
              block_device_info=None, power_on=True, accel_info=None):
        # create, rebuild, evacuate, unshelve
        self._check_cpu_fit(instance, image_meta)
        self._admit(context, instance, image_meta)
        try:
            super().spawn(context, instance, image_meta, injected_files,
                          admin_password, allocations,
                          network_info=network_info,
                          block_device_info=block_device_info,
                          power_on=power_on, accel_info=accel_info)
        except Exception:
            with excutils.save_and_reraise_exception():
                self._unadmit(context, instance)
        self.ledger.committed(instance.uuid)

    def destroy(self, context, instance, network_info, block_device_info=None,
                destroy_disks=True, destroy_secrets=True):
        # a hard reboot, start and resume destroy and define again
        stays = self._hold_if_staying(instance)
        try:
            super().destroy(context, instance, network_info,
                            block_device_info=block_device_info,
                            destroy_disks=destroy_disks,
                            destroy_secrets=destroy_secrets)
        finally:
            if stays:
                self.ledger.undefined(instance.uuid)
        if not stays:
            self.ledger.release(instance.uuid)

    @signatures.signature_of(_LIBVIRT.rebuild)
    def rebuild(self, context, instance, image_meta, injected_files,
                admin_password, allocations, bdms, detach_block_devices,
                attach_block_devices, network_info=None, evacuate=False,
                block_device_info=None, preserve_ephemeral=False,
                **added):
        # nova then destroys the domain and spawns it anew (above)
        if not evacuate:
            self._check_rebuild(context, instance, image_meta, allocations)
        return super().rebuild(
            context, instance, image_meta, injected_files, admin_password,
            allocations, bdms, detach_block_devices, attach_block_devices,
            network_info=network_info, evacuate=evacuate,
            block_device_info=block_device_info,
            preserve_ephemeral=preserve_ephemeral, **added)

    def rescue(self, context, instance, network_info, image_meta,
               rescue_password, block_device_info, share_info):
        self._check_rescue(context, instance, image_meta)
        super().rescue(context, instance, network_info, image_meta,
                       rescue_password, block_device_info, share_info)

    # -- a guest that leaves by cold migration or resize ---------------------

    def migrate_disk_and_power_off(self, context, instance, dest,
                                   flavor, network_info,
                                   block_device_info=None,
                                   timeout=0, retry_interval=0):
        self._check_departure(context, instance, flavor)
        return super().migrate_disk_and_power_off(
            context, instance, dest, flavor, network_info,
            block_device_info=block_device_info, timeout=timeout,
            retry_interval=retry_interval)

    # -- a guest that arrives ------------------------------------------------

    @signatures.signature_of(_LIBVIRT.finish_migration)
    def finish_migration(self, context, migration, instance, disk_info,
                         network_info, image_meta, resize_instance,
                         allocations, block_device_info=None, power_on=True,
                         **added):
        self._check_arrival_cpu_fit(instance, image_meta)
        self._reserve_arrival(instance)
        try:
            super().finish_migration(
                context, migration, instance, disk_info, network_info,
                image_meta, resize_instance, allocations,
                block_device_info=block_device_info, power_on=power_on,
                **added)
        except Exception:
            with excutils.save_and_reraise_exception():
                self._not_arrived(instance)
        self._arrived(instance)

    def check_can_live_migrate_destination(self, context, instance,
                                           src_compute_info, dst_compute_info,
                                           block_migration=False,
                                           disk_over_commit=False):
        self._check_live_arrival_cpu(instance, src_compute_info)
        self._claim_live_arrival(instance)
        try:
            return super().check_can_live_migrate_destination(
                context, instance, src_compute_info, dst_compute_info,
                block_migration=block_migration,
                disk_over_commit=disk_over_commit)
        except Exception:
            with excutils.save_and_reraise_exception():
                self._not_arrived(instance)

    def pre_live_migration(self, context, instance, block_device_info,
                           network_info, disk_info, migrate_data):
        self._claim_incoming_domain(instance)
        try:
            return super().pre_live_migration(
                context, instance, block_device_info, network_info,
                disk_info, migrate_data)
        except Exception:
            with excutils.save_and_reraise_exception():
                self._not_arrived(instance)

    def post_live_migration_at_destination(self, context, instance,
                                           network_info,
                                           block_migration=False,
                                           block_device_info=None):
        super().post_live_migration_at_destination(
            context, instance, network_info,
            block_migration=block_migration,
            block_device_info=block_device_info)
        self._arrived(instance)
        # nova tells the schedulers nothing of the guest here (its source
        # sends it as the source's own): they would see this host without
        # it until its next instance sync
        scheduler_notices.arrived(context, self.ledger.host, instance)

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
            self._not_arrived(instance)
