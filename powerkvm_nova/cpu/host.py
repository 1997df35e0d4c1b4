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

"""A POWER host as KVM sees it: generation, SMT state and split-core mode.

Facts (../shared/design/FACTS.md, Linux arch/powerpc/kvm/book3s_hv.c
kvmhv_set_smt_mode and on_primary_thread, arch/powerpc/platforms/powernv/
subcore.c):
- POWER8 is "strict": a guest core's threads are a power of two <= the
  host's threads per subcore, and a guest core occupies one (sub)core
  while it runs. subcores_per_core is 1, 2 or 4; a core splits along
  thread boundaries, subcore k owning threads k*t .. k*t+t-1 of the core
  (t = threads_per_subcore; subcore.c's table).
- KVM-HV runs a guest core on a subcore's first thread, and only while
  the subcore's other threads are offline (on_primary_thread): the host
  must have each subcore's first thread online and the others offline.
  In whole-core mode that is SMT1; split 2 and 4 have threads 0,4 and
  0,2,4,6 of each core online. A subcore whose first thread is offline
  runs no guest.
- POWER9 and later are "loose": 1, 2, 4 or 8 threads per guest core,
  whatever the host's SMT state; there is no static split-core.
"""

import dataclasses

from powerkvm_nova.cpu import platform as cpu_platform

POWER8 = 'POWER8'
POWER9 = 'POWER9'
POWER10 = 'POWER10'
OTHER = 'other'
GENERATIONS = (POWER8, POWER9, POWER10, OTHER)
SUBCORE_MODES = (1, 2, 4)
LOOSE_MAX_THREADS = 8

# Where the scheduler reads the description: ComputeNode stats.
STAT_PREFIX = 'powerkvm_cpu_'
_STAT_FIELDS = ('generation', 'cores', 'threads_per_core',
                'online_threads_per_core', 'subcores_per_core',
                'online_secondaries', 'subcores_offline', 'platform', 'mmu')
_TEXT_FIELDS = ('generation', 'platform', 'mmu')

TRAIT_PREFIX = 'CUSTOM_POWERKVM_'
# os-traits names POWER8 and POWER9 only (os_traits/hw/cpu/ppc64le); a
# POWER10 host says what it is with a custom trait of the same form.
_OS_TRAITS = {POWER8: 'HW_CPU_PPC64LE_POWER8', POWER9: 'HW_CPU_PPC64LE_POWER9',
              POWER10: TRAIT_PREFIX + 'HW_CPU_PPC64LE_POWER10'}


@dataclasses.dataclass(frozen=True)
class PowerHost:
    """What one host is; every count is per host core."""

    generation: str
    cores: int
    threads_per_core: int
    online_threads_per_core: int = 1
    subcores_per_core: int = 1
    dynamic_mt_modes: int | None = None
    # Host-wide counts: online threads that are not the first of their
    # subcore, and subcores whose first thread is offline. None: from the
    # counts above, as counts_layout() lays the online threads out.
    online_secondaries: int | None = None
    subcores_offline: int | None = None
    # cpu/platform.py: PowerNV (bare metal) or pSeries (a partition), and
    # the MMU a partition runs; None where the probe does not say
    platform: str | None = None
    mmu: str | None = None

    def __post_init__(self):
        if self.generation not in GENERATIONS:
            raise ValueError('unknown POWER generation %r' % self.generation)
        if self.subcores_per_core not in SUBCORE_MODES:
            raise ValueError('subcores_per_core must be one of %s, not %s'
                             % (SUBCORE_MODES, self.subcores_per_core))
        if self.subcores_per_core > 1 and self.generation != POWER8:
            raise ValueError('only POWER8 has split-core modes; %s reports '
                             'subcores_per_core=%s'
                             % (self.generation, self.subcores_per_core))
        if self.cores < 1 or self.threads_per_core < 1:
            raise ValueError('a host has cores and threads')
        if self.online_secondaries is None or self.subcores_offline is None:
            secondaries, offline = counts_layout(
                self.online_threads_per_core, self.subcores_per_core,
                self.threads_per_core)
            # frozen: set the derived defaults once, here
            object.__setattr__(self, 'online_secondaries',
                               secondaries * self.cores)
            object.__setattr__(self, 'subcores_offline',
                               offline * self.cores)

    @property
    def power(self):
        return self.generation != OTHER

    @property
    def strict(self):
        """POWER8 threading: guest threads bounded by the (sub)core."""
        return self.generation == POWER8

    @property
    def threads_per_subcore(self):
        return self.threads_per_core // self.subcores_per_core

    @property
    def micro_threading(self):
        return self.subcores_per_core > 1

    @property
    def max_guest_threads(self):
        """Most threads a guest core may have here; None: not POWER."""
        if self.strict:
            return self.threads_per_subcore
        return LOOSE_MAX_THREADS if self.power else None

    @property
    def kvm_blocker(self):
        """Why KVM cannot run guests on this host as it is, or None."""
        blocked = cpu_platform.blocker(self.platform, self.mmu,
                                       self.generation)
        if blocked or not self.strict:
            return blocked
        if self.online_secondaries:
            return ('POWER8 host has SMT on (%d threads a core online, %d '
                    'threads of the host online that are not the first of '
                    'their subcore): KVM-HV runs guests only in SMT1, '
                    'with only the first thread of each (sub)core online; '
                    'run "ppc64_cpu --smt=off"%s before starting '
                    'nova-compute' % (self.online_threads_per_core,
                                      self.online_secondaries,
                                      self._primaries_hint(' then')))
        if self.subcores_offline >= self.cores * self.subcores_per_core:
            return ('POWER8 host has no (sub)core with its first thread '
                    'online: KVM-HV has nowhere to run a guest; bring it '
                    'online%s' % self._primaries_hint(''))
        return None

    @property
    def warning(self):
        """What runs but wastes part of the host, or None."""
        if self.strict and not self.kvm_blocker and self.subcores_offline:
            return ('%d of the host\'s %d subcores have their first thread '
                    'offline and run no guests (their vCPU capacity is not '
                    'reported)%s' % (self.subcores_offline,
                                     self.cores * self.subcores_per_core,
                                     self._primaries_hint(';')))
        return None

    def disagreement(self, libvirt_threads):
        """Why libvirt's count of the host's CPUs refutes this, or None.

        :param libvirt_threads: libvirt_threads() of the host's node info.
            A description with more threads than that promises VCPUs the
            host does not have.
        """
        described = self.cores * self.threads_per_core
        if described <= libvirt_threads:
            return None
        return ('the host probe describes %d hardware threads (%d cores x '
                '%d threads a core) but libvirt counts %d on this host, '
                'online and offline: correct [powerkvm] static_cores and '
                'static_threads_per_core, or set host_probe = sysfs'
                % (described, self.cores, self.threads_per_core,
                   libvirt_threads))

    def _primaries_hint(self, lead):
        """How to bring each subcore's first thread online."""
        if not self.micro_threading:
            return ''
        first = ','.join(str(k * self.threads_per_subcore)
                         for k in range(self.subcores_per_core))
        return ('%s bring threads %s of each core online (split-core mode '
                '%d): "chcpu -e <cpus>" or "echo 1 > '
                '/sys/devices/system/cpu/cpuN/online"'
                % (lead, first, self.subcores_per_core))

    @property
    def mode(self):
        """The mode in words, for faults and logs."""
        if not self.power:
            return 'a non-POWER host'
        if not self.strict:
            return '%s (up to %d threads a guest core)' % (
                self.generation, LOOSE_MAX_THREADS)
        if self.micro_threading:
            return ('POWER8 split-core mode %d (subcores_per_core=%d, '
                    '%d threads a subcore)' % (
                        self.subcores_per_core, self.subcores_per_core,
                        self.threads_per_subcore))
        return 'POWER8 whole-core mode (%d threads a core)' % (
            self.threads_per_core)

    @property
    def vcpu_capacity(self):
        """VCPU inventory: hardware threads; None: leave nova's.

        A guest vCPU is a hardware thread of a guest core, and a guest core
        owns a (sub)core while it runs, so the host runs at most
        cores x threads_per_core guest vCPUs at once in every split-core
        mode (8 a core on POWER8: 1x8, 2x4, 4x2), less the threads of
        POWER8 subcores whose first thread is offline. nova would count
        the online CPUs, which in SMT1 is one a core: an eighth of it.

        POWER9 and later ("loose"): the online threads. KVM-HV runs each
        vCPU as a host thread on the online CPU it is scheduled on, and
        offline threads run nothing (arch/powerpc/kvm/book3s_hv.c:
        kvmppc_vcpu_run_hv calls kvmhv_run_single_vcpu on ISA v3.0,
        threads_per_vcore() is 1; the POWER8 path that takes a subcore's
        offline threads, kvmppc_run_core and on_primary_thread, warns on
        ISA v3.0). On a POWER host that is nova's own count of the online
        CPUs; on an emulated one, the described host's.
        """
        if not self.power:
            return None
        if not self.strict:
            return self.cores * self.online_threads_per_core
        usable = self.cores * self.subcores_per_core - self.subcores_offline
        return max(0, usable) * self.threads_per_subcore

    def guest_threads(self, online_cpus):
        """The hardware threads the guests of these online CPUs run on.

        Logical CPU n is thread n % threads_per_core of core
        n // threads_per_core (Linux arch/powerpc/include/asm/
        cputhreads.h, cpu_first_thread_sibling). On POWER8 a subcore's
        first thread runs a guest core on all the subcore's threads; on
        POWER9 and later each online CPU runs vCPUs itself, and an offline
        one none (vcpu_capacity). The count agrees with vcpu_capacity: an
        online POWER8 secondary adds nothing (the host has then a
        kvm_blocker).
        """
        if not self.power or not self.strict:
            return set(online_cpus)
        width = self.threads_per_subcore
        threads = set()
        for cpu in online_cpus:
            if cpu % width:
                continue
            first = cpu - cpu % width
            threads.update(range(first, first + width))
        return threads

    def traits(self):
        """Placement traits saying what this host is."""
        if not self.power:
            return set()
        traits = {
            '%sSUBCORES_PER_CORE_%d' % (TRAIT_PREFIX, self.subcores_per_core),
            '%sTHREADS_PER_SUBCORE_%d' % (TRAIT_PREFIX,
                                          self.threads_per_subcore),
        }
        if self.generation in _OS_TRAITS:
            traits.add(_OS_TRAITS[self.generation])
        if self.micro_threading:
            traits.add(TRAIT_PREFIX + 'MICRO_THREADING')
        return traits

    def stats(self):
        return {STAT_PREFIX + f: str(getattr(self, f)) for f in _STAT_FIELDS
                if getattr(self, f) is not None}

    @classmethod
    def from_stats(cls, stats):
        """The description a compute reported, or None (not reported)."""
        stats = stats or {}
        if STAT_PREFIX + 'generation' not in stats:
            return None
        # a compute of an earlier release reports fewer fields
        values = {f: stats[STAT_PREFIX + f] for f in _STAT_FIELDS
                  if STAT_PREFIX + f in stats}
        return cls(**{k: v if k in _TEXT_FIELDS else int(v)
                      for k, v in values.items()})


def libvirt_threads(node_info):
    """Every present hardware thread of a host, online or offline.

    From libvirt's virNodeInfo (virConnect.getInfo()): nodes x sockets x
    cores x threads equals the online CPUs plus the offline ones, a POWER
    subcore's offline secondaries included (libvirt src/util/virhostcpu.c,
    virHostCPUGetInfoPopulateLinux).
    """
    nodes, sockets, cores, threads = node_info[4:8]
    return nodes * sockets * cores * threads


def counts_layout(online, subcores, threads):
    """(online secondaries, subcores offline) a core, from counts alone.

    Where only how many threads a core are online is known (the static
    probe): as many as subcores are the subcores' first threads, the
    layout KVM-HV needs; any other count is the first `online` threads of
    the core, as "ppc64_cpu --smt=N" leaves them (powerpc-utils
    ppc64_cpu.c, set_one_smt_state).
    """
    per_subcore = max(1, threads // subcores)
    if online == subcores:
        return 0, 0
    firsts = -(-online // per_subcore)  # subcores whose first is online
    return online - firsts, max(0, subcores - firsts)


def all_traits():
    """Every trait any host may report: the ones the driver manages."""
    traits = {TRAIT_PREFIX + 'MICRO_THREADING'}
    traits.update(_OS_TRAITS.values())
    for mode in SUBCORE_MODES:
        traits.add('%sSUBCORES_PER_CORE_%d' % (TRAIT_PREFIX, mode))
    for threads in (1, 2, 4, 8):
        traits.add('%sTHREADS_PER_SUBCORE_%d' % (TRAIT_PREFIX, threads))
    return traits
