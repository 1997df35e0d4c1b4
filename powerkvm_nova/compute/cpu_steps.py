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

"""The steps that fit guests to the POWER host's CPU mode.

The host is described once at start-up by the configured probe; the
split-core mode cannot change while guests run (the kernel refuses with
EBUSY), so a restart of nova-compute follows any change.
"""

import copy

from nova.compute import provider_tree as nova_provider_tree
import nova.conf
from nova import exception as nova_exception
import os_traits
from oslo_log import log as logging

from powerkvm_nova.compute import other_hosts
from powerkvm_nova.cpu import compat as cpu_compat
from powerkvm_nova.cpu import emulation
from powerkvm_nova.cpu import host as cpu_host
from powerkvm_nova.cpu import moves
from powerkvm_nova.cpu import platform as cpu_platform
from powerkvm_nova.cpu import probes
from powerkvm_nova.cpu import request
from powerkvm_nova import exception

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

POWER_ARCH_TRAITS = (os_traits.HW_ARCH_PPC64, os_traits.HW_ARCH_PPC64LE)
# every trait a host may report of its POWER CPU: the ones the driver manages
_POWER_TRAITS = frozenset(cpu_host.all_traits())


class CpuSteps:
    """Describe the host, report it, and give guests a topology it runs.

    Overrides the LibvirtDriver methods of its concern alone (reporting,
    NUMA); its steps of lifecycle methods are called by compute.lifecycle
    and compute.driver, in the order those state.
    """

    power_host = None
    # set with power_host (_describe_host)
    _power_traits = {}
    _vcpu_total = None
    _static_with_power = None

    def _describe_host(self):
        try:
            self.power_host = probes.describe(CONF.powerkvm.host_probe, CONF)
        except exception.PowerKVMError as e:
            raise nova_exception.InvalidConfiguration(str(e))
        if not self._emulated:
            # An emulated host's probe describes the POWER host QEMU
            # emulates, not this machine.
            refuted = self.power_host.disagreement(cpu_host.libvirt_threads(
                self._host.get_connection().getInfo()))
            if refuted:
                raise nova_exception.InvalidConfiguration(
                    'PowerKVM: %s.' % refuted)
        self._check_compat_config()
        # what each periodic report gives placement, fixed with the
        # description (the options read are not mutable): the traits join
        # nova's static ones (static_traits), the VCPU total goes through
        # _PowerProvider
        present = self.power_host.traits()
        self._power_traits = {t: t in present for t in _POWER_TRAITS}
        self._vcpu_total = self._vcpu_capacity()
        LOG.info('PowerKVM host CPU (probe %s): %s, %d cores, %d threads a '
                 'core, %d online, on %s; guest vCPU capacity %s.',
                 CONF.powerkvm.host_probe, self.power_host.mode,
                 self.power_host.cores, self.power_host.threads_per_core,
                 self.power_host.online_threads_per_core,
                 cpu_platform.describe(self.power_host.platform,
                                       self.power_host.mmu),
                 self.power_host.vcpu_capacity or "nova's")
        if self.power_host.kvm_blocker and not self._emulated:
            LOG.error('PowerKVM: %s. The scheduler filter PowerKVMCpuFilter '
                      'sends no guest here until then.',
                      self.power_host.kvm_blocker)
        elif self.power_host.warning and not self._emulated:
            LOG.warning('PowerKVM: %s.', self.power_host.warning)

    def _cpu_stats(self):
        return self.power_host.stats() if self.power_host else {}

    def _vcpu_capacity(self):
        """The VCPUs this host offers (hardware threads), or None.

        None leaves nova's count: with cpu_shared_set (or the older
        vcpu_pin_set) the operator has counted the CPUs guests get.
        """
        if (self.power_host is None or CONF.compute.cpu_shared_set or
                CONF.vcpu_pin_set):
            return None
        return self.power_host.vcpu_capacity or None

    def _get_host_numa_topology(self):
        # nova fits a NUMA guest's shared vCPUs against each cell's
        # cpuset, which libvirt fills with the node's online CPUs only
        # (doc/cpu.md, "NUMA guests on POWER8"). Where placement counts
        # threads, so do the cells: one capacity, not two.
        topology = super()._get_host_numa_topology()
        if (topology is None or self._emulated or
                self._vcpu_capacity() is None):
            return topology
        for cell in topology.cells:
            cell.cpuset = self.power_host.guest_threads(cell.cpuset)
        return topology

    def _get_guest_numa_config(self, instance_numa_topology, flavor,
                               image_meta):
        # The cells' offline threads are capacity, not places to run:
        # libvirt writes each pin into the vCPU's cgroup cpuset.cpus, and
        # cgroup v1 refuses a CPU that is not active (Linux kernel/cgroup/
        # cpuset.c: the root cpuset follows cpu_active_mask). A vCPU
        # floating over its cell floats over the cell's online CPUs.
        config = super()._get_guest_numa_config(
            instance_numa_topology, flavor, image_meta)
        tune = config.cputune
        if tune is None or self.power_host is None:
            return config
        online = self._host.get_online_cpus()
        for pin in tune.vcpupin + tune.iothreadpin:
            pin.cpuset = set(pin.cpuset) & online
        if tune.emulatorpin is not None:
            tune.emulatorpin.cpuset = set(tune.emulatorpin.cpuset) & online
        return config

    def _cpu_resources(self):
        # The compute node's vcpus (os-hypervisors, nova's CPU weigher)
        # agree with placement's VCPU total.
        capacity = self._vcpu_capacity()
        return {'vcpus': capacity} if capacity else {}

    def update_provider_tree(self, provider_tree, nodename, allocations=None):
        if self.power_host is not None and self._vcpu_total:
            provider_tree = _PowerProvider(provider_tree, nodename,
                                           self._vcpu_total)
        super().update_provider_tree(provider_tree, nodename,
                                     allocations=allocations)

    def _get_cpu_traits(self):
        traits = super()._get_cpu_traits()
        if self._emulated:
            traits = self._emulated_cpu_traits(traits)
        # nova reports HW_ARCH_<host arch> alone (LibvirtDriver.
        # _get_cpu_arch_traits), and its image metadata prefilter asks for
        # HW_ARCH_<hw_architecture> of the image (request_filter.py,
        # transform_image_metadata). A POWER host runs ppc64 and ppc64le
        # guests natively, the guest choosing its byte order (MSR[LE]).
        traits.update(dict.fromkeys(POWER_ARCH_TRAITS, True))
        return traits

    @property
    def static_traits(self):
        # nova's, and the host's POWER CPU, mode and generation (cpu.host.
        # traits), the ones it has not unset (as after a change of mode):
        # nova's update_provider_tree sets and unsets them with its own.
        # Not through _get_cpu_traits, whose result nova keeps to the
        # os-traits standard ones (os_traits.check_traits), dropping
        # CUSTOM_POWERKVM_*. Read for every trait of every report: kept.
        if self._static_with_power is None:
            traits = super().static_traits
            if self.power_host is None:
                return traits
            self._static_with_power = dict(traits, **self._power_traits)
        return self._static_with_power

    def _emulated_cpu_traits(self, traits):
        # nova reads these from the machine: its own CPU's features, its
        # arch (HW_ARCH_X86_64) and every emulator libvirt finds. Guests
        # here run on the emulated POWER host, so a flavor asking for an
        # x86 feature must not land on it; the host reports what a POWER
        # host would (capabilities' <arch>ppc64le</arch>; nova maps no
        # POWER CPU feature to a trait). Set False, nova removes them.
        emulated = {trait: False for trait in traits
                    if trait != os_traits.HW_CPU_HYPERTHREADING}
        # os-traits has COMPUTE_ARCH_PPC64LE only, for qemu-system-ppc64
        emulated[os_traits.COMPUTE_ARCH_PPC64LE] = traits.get(
            os_traits.COMPUTE_ARCH_PPC64LE, False)
        emulated[os_traits.HW_CPU_HYPERTHREADING] = traits.get(
            os_traits.HW_CPU_HYPERTHREADING, False)
        return emulated

    def _check_compat_config(self):
        generation = CONF.powerkvm.cpu_compat_mode
        if not generation:
            return
        if self._emulated and cpu_compat.older(
                CONF.powerkvm.emulated_cpu_model, generation):
            raise nova_exception.InvalidConfiguration(
                'PowerKVM: [powerkvm] cpu_compat_mode = %s is newer than '
                'the emulated_cpu_model %s' % (
                    generation, CONF.powerkvm.emulated_cpu_model))
        if cpu_compat.older(self.power_host.generation, generation):
            raise nova_exception.InvalidConfiguration(
                'PowerKVM: [powerkvm] cpu_compat_mode = %s on a %s host, '
                'which runs only its own and older compatibility modes'
                % (generation, self.power_host.generation))
        if not self._emulated and CONF.libvirt.cpu_mode not in (
                None, 'host-model'):
            raise nova_exception.InvalidConfiguration(
                'PowerKVM: [powerkvm] cpu_compat_mode needs [libvirt] '
                'cpu_mode = host-model (or unset), not %s'
                % CONF.libvirt.cpu_mode)

    # -- the guest ---------------------------------------------------------

    def _record_cpu_compat(self, instance, guest):
        """Record the guest's CPU compatibility mode in its instance."""
        # Whatever defines the domain (spawn, hard reboot, rebuild, resize,
        # unshelve) records the mode it asks for; a live migration keeps
        # the domain, and the record with it.
        # On an emulated host the domain keeps the emulated CPU model
        # (libvirt has no host-model CPU for a guest of another arch) and
        # asks QEMU for the mode directly.
        if self.power_host is not None and self.power_host.power:
            mode = (CONF.powerkvm.cpu_compat_mode if self._emulated
                    else cpu_compat.of_cpu(guest.cpu))
            if mode and self._emulated:
                emulation.add_qemu_args(guest, [
                    '-machine', 'max-cpu-compat=%s'
                    % cpu_compat.libvirt_model(mode)])
            if cpu_compat.record(instance, mode):
                instance.save()

    def _check_cpu_fit(self, instance, image_meta):
        """Abort a build this host's CPU mode cannot serve, with the reason.

        Not a reschedule: the mode is fixed while nova-compute runs and
        reported at its start, so a guest arrives here only when the
        scheduler filter is not enabled, and nova's retry fault would then
        hide the reason.
        """
        if self.power_host is None:
            return
        try:
            request.check_fit(request.of_nova(instance.flavor, image_meta),
                              self.power_host)
        except request.RequestError as e:
            raise nova_exception.BuildAbortException(
                instance_uuid=instance.uuid, reason=str(e))
        except request.NoFit as e:
            LOG.warning('%s', e, instance=instance)
            raise nova_exception.BuildAbortException(
                instance_uuid=instance.uuid, reason=(
                    '%s (enable the scheduler filter PowerKVMCpuFilter so '
                    'that nova sends a flavor only to hosts it fits)' % e))

    def _fit_cpu_topology(self, cpu, flavor, image_meta,
                          instance_numa_topology):
        """Give nova's guest CPU config a topology this host runs."""
        if cpu is None or self.power_host is None:
            return cpu
        if instance_numa_topology is not None:
            # nova derives a NUMA guest's topology from its cells and, when
            # pinned, from the host threads its vCPUs are pinned to: each
            # guest core stays in one NUMA node and on one host core.
            # Packing the vCPUs as threads would split guest cores across
            # both (doc/cpu.md, "NUMA and pinned guests").
            self._check_nova_threads(cpu)
            return cpu
        topology = request.plan(request.of_nova(flavor, image_meta),
                                self.power_host, emulated=self._emulated)
        if topology is None:
            return cpu
        if self._emulated and topology.threads < (cpu.threads or 1):
            LOG.info('Emulated host: QEMU TCG runs one thread a pseries '
                     'core, so the guest gets %s instead of %s sockets x %s '
                     'cores x %s threads.', topology, cpu.sockets, cpu.cores,
                     cpu.threads)
        cpu.sockets, cpu.cores, cpu.threads = (
            topology.sockets, topology.cores, topology.threads)
        return cpu

    def _check_nova_threads(self, cpu):
        # QEMU TCG runs one thread a pseries core
        limit = 1 if self._emulated else self.power_host.max_guest_threads
        if limit and (cpu.threads or 1) > limit:
            raise exception.PowerKVMError(
                'nova gave the NUMA guest %s threads a core; this host is %s '
                'and runs at most %d' % (cpu.threads, self.power_host.mode,
                                         limit))

    # -- guests that move --------------------------------------------------

    def _cpu_move_refusal(self, instance, flavor, dest_stats, live):
        """Why the guest may not move from here to dest, or None."""
        dest = cpu_host.PowerHost.from_stats(dest_stats)
        if dest is None or self.power_host is None:
            return None
        try:
            wanted = request.of_nova(flavor, instance.image_meta)
            request.check_fit(wanted, dest)
            moves.check_move(self.power_host, dest, live=live,
                             flavor_modes=wanted.subcores)
        except exception.PowerKVMError as e:
            return str(e)
        return None

    def _check_live_arrival_cpu(self, instance, src_compute_info):
        """Refuse a live migration from a source whose cores run otherwise."""
        if self.power_host is None:
            return
        source = cpu_host.PowerHost.from_stats(
            other_hosts.stats_of(src_compute_info))
        try:
            moves.check_move(source, self.power_host, live=True,
                             compat_mode=cpu_compat.recorded(instance))
        except moves.MoveRefused as e:
            raise nova_exception.MigrationPreCheckError(reason=str(e))

    def _check_arrival_cpu_fit(self, instance, image_meta):
        """Refuse a cold arrival this host's CPU mode cannot serve.

        The source checked this host's reported mode before powering the
        guest off; this catches a report that was stale.
        """
        if self.power_host is None:
            return
        try:
            request.check_fit(request.of_nova(instance.flavor, image_meta),
                              self.power_host)
        except exception.PowerKVMError as e:
            raise nova_exception.MigrationError(reason=str(e))


class _PowerProvider(nova_provider_tree.ProviderTree):
    """nova's ProviderTree, with this host's POWER VCPU capacity.

    LibvirtDriver.update_provider_tree counts VCPU as the host's usable
    CPUs; placement's VCPU total here is the hardware threads the host's
    mode gives guests (cpu.host.vcpu_capacity). Done as the libvirt driver
    sets the inventory, rather than set again after it, the inventory is
    stored once a report: ProviderTree.update_inventory deep-copies and
    logs every inventory that changed, and each change takes its lock.

    A view, not a copy: it holds nova's tree's own lock and providers
    (the attributes ProviderTree sets, in its __init__ alone), so every
    update through it is the tree's.
    """

    def __init__(self, tree, nodename, vcpus):
        self.__dict__.update(vars(tree))
        self._tree = tree
        self._nodename = nodename
        self._vcpus = vcpus

    def __deepcopy__(self, memo):
        # the libvirt driver keeps a copy of the tree it updated
        # (self.provider_tree): nova's own, not this view of it
        return copy.deepcopy(self._tree, memo)

    def update_inventory(self, name_or_uuid, inventory, generation=None):
        if name_or_uuid == self._nodename and 'VCPU' in inventory:
            inventory['VCPU'].update(total=self._vcpus, max_unit=self._vcpus)
        return super().update_inventory(name_or_uuid, inventory,
                                        generation=generation)
