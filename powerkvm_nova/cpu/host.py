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
kvmhv_set_smt_mode, arch/powerpc/platforms/powernv/subcore.c):
- POWER8 is "strict": KVM-HV needs the host in SMT1, a guest core's threads
  are a power of two <= the host's threads per subcore, and a guest core
  occupies one (sub)core while it runs. subcores_per_core is 1, 2 or 4.
- POWER9 and later are "loose": 1, 2, 4 or 8 threads per guest core,
  whatever the host's SMT state; there is no static split-core.
"""

import dataclasses

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
                'online_threads_per_core', 'subcores_per_core')

_OS_TRAITS = {POWER8: 'HW_CPU_PPC64LE_POWER8', POWER9: 'HW_CPU_PPC64LE_POWER9'}
TRAIT_PREFIX = 'CUSTOM_POWERKVM_'


@dataclasses.dataclass(frozen=True)
class PowerHost:
    """What one host is; every count is per host core."""

    generation: str
    cores: int
    threads_per_core: int
    online_threads_per_core: int = 1
    subcores_per_core: int = 1
    dynamic_mt_modes: int | None = None

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
        if self.strict and self.online_threads_per_core > 1:
            return ('POWER8 host has SMT on (%d threads a core online): '
                    'KVM-HV runs guests only in SMT1; run '
                    '"ppc64_cpu --smt=off" before starting nova-compute'
                    % self.online_threads_per_core)
        return None

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
        mode (8 a core on POWER8: 1x8, 2x4, 4x2). nova would count the
        online CPUs, which in SMT1 is one a core: an eighth of it.
        """
        return self.cores * self.threads_per_core if self.power else None

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
        return {STAT_PREFIX + f: str(getattr(self, f)) for f in _STAT_FIELDS}

    @classmethod
    def from_stats(cls, stats):
        """The description a compute reported, or None (not reported)."""
        stats = stats or {}
        if STAT_PREFIX + 'generation' not in stats:
            return None
        values = {f: stats[STAT_PREFIX + f] for f in _STAT_FIELDS}
        return cls(generation=values.pop('generation'),
                   **{k: int(v) for k, v in values.items()})


def all_traits():
    """Every trait any host may report: the ones the driver manages."""
    traits = {TRAIT_PREFIX + 'MICRO_THREADING'}
    traits.update(_OS_TRAITS.values())
    for mode in SUBCORE_MODES:
        traits.add('%sSUBCORES_PER_CORE_%d' % (TRAIT_PREFIX, mode))
    for threads in (1, 2, 4, 8):
        traits.add('%sTHREADS_PER_SUBCORE_%d' % (TRAIT_PREFIX, threads))
    return traits
