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

"""Host probes: how a host's PowerHost description is found.

Plugins of the entry point group powerkvm_nova.host_probes, chosen by
[powerkvm] host_probe:
- sysfs: a real POWER host, read from /proc and /sys;
- static: the [powerkvm] static_* options, for emulated hosts and tests.
"""

import glob
import os
import re

from stevedore import driver as stevedore_driver

from powerkvm_nova.cpu import host as cpu_host
from powerkvm_nova.cpu import platform as cpu_platform
from powerkvm_nova import exception

NAMESPACE = 'powerkvm_nova.host_probes'


def parse_cpu_list(text):
    """'0-3,8,16-17' -> [0, 1, 2, 3, 8, 16, 17] (the kernel's cpulist)."""
    cpus = []
    for part in text.strip().split(','):
        if not part:
            continue
        first, _, last = part.partition('-')
        cpus.extend(range(int(first), int(last or first) + 1))
    return cpus


def generation_of(cpuinfo):
    """POWER generation from /proc/cpuinfo ('cpu : POWER8E (raw), ...')."""
    match = re.search(r'^cpu\s*:\s*POWER(\d+)', cpuinfo, re.MULTILINE)
    if match is None:
        return cpu_host.OTHER
    generation = 'POWER' + match.group(1)
    # POWER8E and POWER8NVL are POWER8s; later ones behave as POWER9 does.
    if generation in cpu_host.GENERATIONS:
        return generation
    return cpu_host.POWER10 if int(match.group(1)) > 10 else cpu_host.OTHER


class SysfsProbe:
    """A real host, read from procfs, sysfs and the device tree.

    Threads per core come from the device tree, as powerpc-utils'
    ppc64_cpu finds them (one 4-byte ibm,ppc-interrupt-server#s entry per
    thread of a core), because in SMT1 sysfs shows only online siblings.
    """

    def __init__(self, conf=None, root='/'):
        self.root = root

    def _read(self, path, default=None):
        try:
            with open(os.path.join(self.root, path.lstrip('/'))) as f:
                return f.read()
        except FileNotFoundError:
            if default is None:
                raise exception.PowerKVMError(
                    'host probe sysfs: %s is missing; set [powerkvm] '
                    'host_probe = static on a host without it' % path)
            return default

    def _threads_per_core(self, present):
        servers = sorted(glob.glob(os.path.join(
            self.root, 'proc/device-tree/cpus/*/ibm,ppc-interrupt-server#s')))
        if servers:
            return os.path.getsize(servers[0]) // 4
        siblings = self._read(
            '/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list'
            % present[0], default='%d' % present[0])
        return len(parse_cpu_list(siblings))

    def describe(self):
        cpuinfo = self._read('/proc/cpuinfo')
        generation = generation_of(cpuinfo)
        platform, mmu = cpu_platform.from_cpuinfo(cpuinfo)
        present = parse_cpu_list(
            self._read('/sys/devices/system/cpu/present'))
        online = parse_cpu_list(self._read('/sys/devices/system/cpu/online'))
        threads = self._threads_per_core(present)
        per_core = {}
        for cpu in online:
            per_core[cpu // threads] = per_core.get(cpu // threads, 0) + 1
        # the kernel prints it in hex (subcore.c, show_subcores_per_core)
        subcores = int(self._read(
            '/sys/devices/system/cpu/subcores_per_core', default='1'), 16)
        modes = self._read('/sys/module/kvm_hv/parameters/dynamic_mt_modes',
                           default='')
        secondaries, offline = subcore_layout(present, online, threads,
                                              subcores)
        return cpu_host.PowerHost(
            generation=generation,
            cores=max(1, len(present) // threads),
            threads_per_core=threads,
            online_threads_per_core=max(per_core.values(), default=1),
            subcores_per_core=subcores,
            dynamic_mt_modes=int(modes) if modes.strip() else None,
            online_secondaries=secondaries,
            subcores_offline=offline,
            platform=platform, mmu=mmu)


def subcore_layout(present, online, threads, subcores):
    """Online threads not first of their subcore, first threads offline.

    Both counted over the host, as (secondaries, subcores offline).
    Subcore k of a core owns its threads k*t .. k*t+t-1, t the threads
    of a subcore (arch/powerpc/platforms/powernv/subcore.c); KVM-HV runs
    a guest core only on a subcore's first thread, with the rest offline
    (arch/powerpc/kvm/book3s_hv.c, on_primary_thread).
    """
    per_subcore = max(1, threads // subcores)
    online = set(online)
    secondaries = sum(1 for cpu in online if cpu % per_subcore)
    firsts = {cpu for cpu in present if cpu % per_subcore == 0}
    return secondaries, len(firsts - online)


class StaticProbe:
    """The host as [powerkvm] static_* says it is."""

    def __init__(self, conf):
        self.conf = conf

    def describe(self):
        group = self.conf.powerkvm
        # Unset: as KVM-HV runs it, the first thread of each subcore on a
        # POWER8, every thread on POWER9 and later (any SMT mode).
        online = group.static_online_threads_per_core or (
            group.static_subcores_per_core
            if group.static_generation == cpu_host.POWER8
            else group.static_threads_per_core)
        return cpu_host.PowerHost(
            generation=group.static_generation,
            cores=group.static_cores,
            threads_per_core=group.static_threads_per_core,
            online_threads_per_core=online,
            subcores_per_core=group.static_subcores_per_core,
            platform=group.static_platform)


def describe(name, conf):
    """The PowerHost the probe called name finds.

    :raises PowerKVMError: no such probe, or the host cannot be described
    """
    try:
        plugin = stevedore_driver.DriverManager(NAMESPACE, name).driver
    except Exception as e:
        raise exception.PowerKVMError(
            'unknown [powerkvm] host_probe %r (%s)' % (name, e))
    probe = plugin(conf)
    try:
        return probe.describe()
    except (OSError, ValueError) as e:
        raise exception.PowerKVMError('host probe %s: %s' % (name, e))
