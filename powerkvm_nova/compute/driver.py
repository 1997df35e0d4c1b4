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
driver do the work. Logic that grows here belongs in a policy. The
lifecycle methods are sequences of steps in compute.lifecycle; the guest's
domain config is one here (_get_guest_config, _get_guest_cpu_config).
"""

import nova.conf
from nova import exception as nova_exception
from nova.virt.libvirt import config as vconfig
from nova.virt.libvirt import driver as libvirt_driver
from oslo_log import log as logging

from powerkvm_nova.compute import arrival_steps
from powerkvm_nova.compute import capabilities
from powerkvm_nova.compute import cpu_steps
from powerkvm_nova.compute import departure_steps
from powerkvm_nova.compute import endianness_steps
from powerkvm_nova.compute import image_steps
from powerkvm_nova.compute import lifecycle
from powerkvm_nova import conf as powerkvm_conf
from powerkvm_nova.cpu import compat as cpu_compat
from powerkvm_nova.cpu import emulation
from powerkvm_nova.endianness import guest_arch
from powerkvm_nova import exception
from powerkvm_nova.nova_internals import hooks as nova_hooks

CONF = nova.conf.CONF
powerkvm_conf.register_opts(CONF)
LOG = logging.getLogger(__name__)


class PowerKVMDriver(lifecycle.Lifecycle,
                     cpu_steps.CpuSteps,
                     endianness_steps.EndiannessSteps,
                     arrival_steps.ArrivalSteps,
                     departure_steps.DepartureSteps,
                     image_steps.ImageSteps,
                     libvirt_driver.LibvirtDriver):
    """A libvirt driver for KVM on IBM POWER (pseries guests)."""

    def __init__(self, virtapi, read_only=False):
        # A nova that renamed a hook would leave its override dead code.
        missing = nova_hooks.problems(type(self))
        if missing:
            raise nova_exception.InvalidConfiguration(
                nova_hooks.message(missing))
        super().__init__(virtapi, read_only)
        CONF.set_override(
            'hw_machine_type',
            guest_arch.with_pseries_defaults(CONF.libvirt.hw_machine_type),
            group='libvirt')
        self.capabilities = capabilities.for_power(self.capabilities)
        self.host_mode = None
        self._init_endianness()

    # -- start-up ---------------------------------------------------------

    def init_host(self, host):
        self._host.initialize()
        self.host_mode = self._decide_host_mode()
        self._describe_host()
        super().init_host(host)
        self.ledger.rescan()
        self._log_ledger()

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
        data.update(self._cpu_resources())
        data['stats'] = dict(data.get('stats') or {},
                             **self._endianness_stats(), **self._cpu_stats())
        return data

    def _get_instance_capabilities(self):
        # A PowerKVM host offers POWER guests only, even where the QEMU on
        # it could emulate others.
        return [cap for cap in super()._get_instance_capabilities()
                if cap[0] in emulation.POWER_ARCHES]

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
            cpu = super()._get_guest_cpu_model_config(flavor, arch)
            if (cpu is not None and cpu.mode == 'host-model' and
                    CONF.powerkvm.cpu_compat_mode):
                # libvirt's pseries compatibility mode (max-cpu-compat)
                cpu.model = cpu_compat.libvirt_model(
                    CONF.powerkvm.cpu_compat_mode)
            return cpu
        cpu = vconfig.LibvirtConfigGuestCPU()
        cpu.mode = 'custom'
        cpu.model = CONF.powerkvm.emulated_cpu_model
        return cpu

    # -- the guest's domain -------------------------------------------------

    def _get_guest_config(self, instance, network_info, image_meta,
                          disk_info, *args, **kwargs):
        recorded = self._pin_recorded_arch(instance, image_meta)
        guest = super()._get_guest_config(
            instance, network_info, image_meta, disk_info, *args, **kwargs)
        self._tag_endianness(guest, recorded)
        self._record_cpu_compat(instance, guest)
        return guest

    def _get_guest_cpu_config(self, flavor, image_meta,
                              guest_cpu_numa_config, instance_numa_topology):
        cpu = self._fit_cpu_topology(
            super()._get_guest_cpu_config(
                flavor, image_meta, guest_cpu_numa_config,
                instance_numa_topology),
            flavor, image_meta, instance_numa_topology)
        arch = self._check_emulation_arch(image_meta)
        if cpu is None or arch not in emulation.POWER_ARCHES:
            return cpu
        # The libvirt driver takes a guest arch other than the host's for
        # emulation and drops the CPU mode (a BE guest on an LE host); on
        # POWER both run natively, and emulated hosts get the configured
        # model rather than upstream's fixed POWER8.
        wanted = self._get_guest_cpu_model_config(flavor, arch)
        cpu.mode, cpu.model = wanted.mode, wanted.model
        return cpu

    @property
    def _emulated(self):
        return self.host_mode is not None and self.host_mode.emulated
