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

"""PowerKVMDriver: nova's libvirt driver, for PowerKVM hosts.

Wiring only: at each hook it asks a policy module, then lets the libvirt
driver do the work. Logic that grows here belongs in a policy.
"""

import nova.conf
from nova import exception as nova_exception
from nova.virt.libvirt import config as vconfig
from nova.virt.libvirt import driver as libvirt_driver
from oslo_log import log as logging
from oslo_utils import excutils

from powerkvm_nova import admission
from powerkvm_nova import capabilities
from powerkvm_nova import conf as powerkvm_conf
from powerkvm_nova import domains
from powerkvm_nova import emulation
from powerkvm_nova.endianness import Endianness
from powerkvm_nova.endianness import ledger
from powerkvm_nova import exception
from powerkvm_nova import guest_arch

CONF = nova.conf.CONF
powerkvm_conf.register_opts(CONF)
LOG = logging.getLogger(__name__)

# nova keeps every image property of an instance in its system metadata
# under this prefix (nova.utils.SM_IMAGE_PROP_PREFIX); instance.image_meta
# is rebuilt from it for every later operation.
_SM_ARCH = 'image_hw_architecture'


class PowerKVMDriver(libvirt_driver.LibvirtDriver):
    """A libvirt driver for KVM on IBM POWER (pseries guests)."""

    def __init__(self, virtapi, read_only=False):
        super().__init__(virtapi, read_only)
        CONF.set_override(
            'hw_machine_type',
            guest_arch.with_pseries_defaults(CONF.libvirt.hw_machine_type),
            group='libvirt')
        self.capabilities = capabilities.for_power(self.capabilities)
        self.host_mode = None
        try:
            self._admission = admission.Admission.from_config(CONF.powerkvm)
        except exception.PowerKVMError as e:
            raise nova_exception.InvalidConfiguration(str(e))
        # The hypervisor is the record: the ledger reads libvirt (at
        # init_host and whenever domains change), never its own memory.
        self.ledger = ledger.HostLedger(
            domains.LibvirtDomains(self._host, libvirt_driver.libvirt),
            CONF.host, CONF.powerkvm.endianness_policy)

    # -- start-up ---------------------------------------------------------

    def init_host(self, host):
        self._host.initialize()
        self.host_mode = self._decide_host_mode()
        super().init_host(host)
        self.ledger.rescan()
        self._log_ledger()

    def _log_ledger(self):
        try:
            holds = self.ledger.holds()
        except exception.PowerKVMError as e:
            LOG.error('%s', e)
            return
        LOG.info('PowerKVM host %s runs %s guests (endianness_policy = %s).',
                 self.ledger.host, holds.value if holds else 'no POWER',
                 self.ledger.policy)

    def _decide_host_mode(self):
        host_arch = self._host.get_capabilities().host.cpu.arch
        try:
            mode = emulation.decide(CONF.powerkvm.host_mode, host_arch)
        except exception.PowerKVMError as e:
            raise nova_exception.InvalidConfiguration(str(e))
        if not mode.emulated:
            LOG.info('PowerKVM host mode: native (%s).', mode.reason)
            return mode
        if CONF.libvirt.virt_type != 'qemu':
            raise nova_exception.InvalidConfiguration(
                'PowerKVM emulated host mode (%s) runs guests under QEMU '
                'TCG and needs [libvirt] virt_type = qemu, not %s.'
                % (mode.reason, CONF.libvirt.virt_type))
        LOG.warning(
            'PowerKVM host mode: EMULATED (%s). POWER guests run under QEMU '
            'TCG software emulation with one thread per core and CPU model '
            '%s. This is a test/development mode, not for production '
            'guests.', mode.reason, CONF.powerkvm.emulated_cpu_model)
        return mode

    def _update_host_specific_capabilities(self):
        super()._update_host_specific_capabilities()
        self.capabilities = capabilities.for_power(self.capabilities)

    # -- what the scheduler sees ------------------------------------------

    def get_available_resource(self, nodename):
        data = super().get_available_resource(nodename)
        # Catch up with domains defined or undefined behind nova's back.
        self.ledger.rescan()
        data['stats'] = dict(data.get('stats') or {},
                             **admission.host_stats(self.ledger))
        return data

    def _get_instance_capabilities(self):
        # A PowerKVM host offers POWER guests only, even where the QEMU on
        # it could emulate others.
        return [cap for cap in super()._get_instance_capabilities()
                if cap[0] in emulation.POWER_ARCHES]

    # -- guests -----------------------------------------------------------

    def spawn(self, context, instance, image_meta, injected_files,
              admin_password, allocations, network_info=None,
              block_device_info=None, power_on=True, accel_info=None):
        self._admit(context, instance, image_meta)
        try:
            super().spawn(context, instance, image_meta, injected_files,
                          admin_password, allocations,
                          network_info=network_info,
                          block_device_info=block_device_info,
                          power_on=power_on, accel_info=accel_info)
        except Exception:
            with excutils.save_and_reraise_exception():
                self.ledger.release(instance.uuid)
        self.ledger.committed(instance.uuid)

    def _admit(self, context, instance, image_meta):
        """Decide the guest's endianness and reserve this host for it.

        Runs before the domain exists. A guest this host cannot take is
        rescheduled by nova to another host; an image nothing can take
        (mislabelled, unknown) aborts the build with the reason.
        """
        try:
            endianness = self._admission.endianness(
                context, instance, image_meta)
        except exception.PowerKVMError as e:
            raise nova_exception.BuildAbortException(
                instance_uuid=instance.uuid, reason=str(e))
        self._pin_guest_arch(instance, image_meta, endianness.arch)
        try:
            self.ledger.admit(instance.uuid, endianness)
        except exception.PowerKVMError as e:
            LOG.warning('%s', e, instance=instance)
            raise nova_exception.RescheduledException(
                instance_uuid=instance.uuid, reason=str(e))

    # -- guests arriving by migration --------------------------------------
    # The guest's endianness is the one recorded in it at spawn. The
    # destination reserves before the guest's domain exists there and
    # releases if the move fails.

    def _recorded_endianness(self, instance):
        return (Endianness.from_arch(instance.system_metadata.get(_SM_ARCH))
                or Endianness.from_arch(CONF.powerkvm.default_guest_arch))

    def _reserve_arrival(self, instance):
        try:
            self.ledger.admit(instance.uuid,
                              self._recorded_endianness(instance))
        except exception.PowerKVMError as e:
            raise nova_exception.MigrationError(reason=str(e))

    def check_can_live_migrate_destination(self, context, instance,
                                           src_compute_info, dst_compute_info,
                                           block_migration=False,
                                           disk_over_commit=False):
        try:
            self.ledger.check(instance.uuid,
                              self._recorded_endianness(instance))
        except exception.PowerKVMError as e:
            raise nova_exception.MigrationPreCheckError(reason=str(e))
        return super().check_can_live_migrate_destination(
            context, instance, src_compute_info, dst_compute_info,
            block_migration=block_migration,
            disk_over_commit=disk_over_commit)

    def pre_live_migration(self, context, instance, block_device_info,
                           network_info, disk_info, migrate_data):
        self._reserve_arrival(instance)
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

    def finish_migration(self, context, migration, instance, disk_info,
                         network_info, image_meta, resize_instance,
                         allocations, block_device_info=None, power_on=True,
                         share_info=None):
        self._reserve_arrival(instance)
        try:
            super().finish_migration(
                context, migration, instance, disk_info, network_info,
                image_meta, resize_instance, allocations,
                block_device_info=block_device_info, power_on=power_on,
                share_info=share_info)
        except Exception:
            with excutils.save_and_reraise_exception():
                self.ledger.release(instance.uuid)
        self.ledger.committed(instance.uuid)

    def destroy(self, context, instance, network_info, block_device_info=None,
                destroy_disks=True, destroy_secrets=True):
        super().destroy(context, instance, network_info,
                        block_device_info=block_device_info,
                        destroy_disks=destroy_disks,
                        destroy_secrets=destroy_secrets)
        self.ledger.release(instance.uuid)

    def rescue(self, context, instance, network_info, image_meta,
               rescue_password, block_device_info, share_info):
        # The rescue guest replaces the guest on this host: it must be of
        # the guest's endianness. One whose image says nothing rescues the
        # guest as what it is; the instance's own record is left alone.
        guest = self._recorded_endianness(instance)
        try:
            rescuer = self._admission.of_image(
                context, image_meta.id if 'id' in image_meta else 'rescue',
                admission.meta_properties(image_meta), default=guest)
        except exception.PowerKVMError as e:
            raise nova_exception.InstanceNotRescuable(
                instance_id=instance.uuid, reason=str(e))
        if rescuer != guest:
            raise nova_exception.InstanceNotRescuable(
                instance_id=instance.uuid, reason=(
                    'the rescue image is %s but the guest is %s; a PowerKVM '
                    'host runs guests of one endianness only'
                    % (rescuer.value, guest.value)))
        image_meta.properties.hw_architecture = rescuer.arch
        super().rescue(context, instance, network_info, image_meta,
                       rescue_password, block_device_info, share_info)

    def _pin_guest_arch(self, instance, image_meta, arch):
        """Give the guest its POWER arch and record it in the instance.

        Without it nova falls back to the host's arch, which on an emulated
        host is not POWER, and later operations rebuild image_meta from the
        instance's system metadata, so the arch is kept there.
        """
        image_meta.properties.hw_architecture = arch
        if instance.system_metadata.get(_SM_ARCH) != arch:
            instance.system_metadata[_SM_ARCH] = arch
            instance.save()

    def _get_guest_config(self, instance, network_info, image_meta,
                          disk_info, *args, **kwargs):
        guest = super()._get_guest_config(
            instance, network_info, image_meta, disk_info, *args, **kwargs)
        endianness = Endianness.from_arch(guest.os_arch)
        if endianness is not None:
            guest.metadata.append(domains.GuestMetadata(endianness))
        return guest

    def _configure_guest_by_virt_type(self, guest, instance, image_meta,
                                      flavor, old_guest=None):
        super()._configure_guest_by_virt_type(
            guest, instance, image_meta, flavor, old_guest=old_guest)
        # The libvirt driver emulates any guest whose arch differs from the
        # host's; a POWER host runs both endiannesses natively under KVM.
        if (not self._emulated and
                guest.os_arch in emulation.POWER_ARCHES):
            guest.virt_type = CONF.libvirt.virt_type

    def _get_guest_cpu_model_config(self, flavor=None, arch=None):
        if not (self._emulated and arch in emulation.POWER_ARCHES):
            return super()._get_guest_cpu_model_config(flavor, arch)
        cpu = vconfig.LibvirtConfigGuestCPU()
        cpu.mode = 'custom'
        cpu.model = CONF.powerkvm.emulated_cpu_model
        return cpu

    def _get_guest_cpu_config(self, flavor, image_meta,
                              guest_cpu_numa_config, instance_numa_topology):
        cpu = super()._get_guest_cpu_config(
            flavor, image_meta, guest_cpu_numa_config,
            instance_numa_topology)
        arch = self._check_emulation_arch(image_meta)
        if cpu is None or arch not in emulation.POWER_ARCHES:
            return cpu
        # The libvirt driver takes a guest arch other than the host's for
        # emulation and drops the CPU mode (a BE guest on an LE host); on
        # POWER both run natively, and emulated hosts get the configured
        # model rather than upstream's fixed POWER8.
        wanted = self._get_guest_cpu_model_config(flavor, arch)
        cpu.mode, cpu.model = wanted.mode, wanted.model
        if self._emulated and cpu.threads:
            topology = emulation.flatten_threads(
                cpu.sockets, cpu.cores, cpu.threads)
            if topology[2] != cpu.threads:
                LOG.info('Emulated host: guest CPU topology %s sockets x %s '
                         'cores x %s threads flattened to %s x %s x %s.',
                         cpu.sockets, cpu.cores, cpu.threads, *topology)
            cpu.sockets, cpu.cores, cpu.threads = topology
        return cpu

    @property
    def _emulated(self):
        return self.host_mode is not None and self.host_mode.emulated
