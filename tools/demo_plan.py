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


"""The demo's cast: its hosts, flavors, boots and refused moves."""

import dataclasses

FILTERS = ('PowerKVMCpuFilter', 'PowerKVMEndiannessFilter')
WEIGHER = 'powerkvm_nova.scheduler.weighers.PowerKVMEndiannessWeigher'
ARCHES = {'le': 'ppc64le', 'be': 'ppc64'}
ENDIAN = {'ppc64le': 'LE', 'ppc64': 'BE'}


@dataclasses.dataclass(frozen=True)
class Host:
    name: str
    generation: str
    subcores_per_core: int
    memory_gb: int      # what the host offers guests in the story


# nova's [DEFAULT] reserved_host_memory_mb default
RESERVED_MB = 512


def memory_scale(reported_mb):
    """1, 1/2, 1/4 ...: the story's memory sizes, fitted to the hosts.

    placement takes no allocation bigger than the memory a host reports
    (its MEMORY_MB max_unit), whatever the allocation ratio, so the
    biggest flavor must fit the smallest host's reported memory; every
    flavor and host size is scaled alike, and the story holds.
    """
    biggest = max(f.ram for f in FLAVORS)
    scale = 1.0
    while biggest * scale > min(reported_mb):
        scale /= 2
    return scale


def ram_allocation_ratio(host, reported_mb, scale,
                         reserved_mb=RESERVED_MB):
    """The ratio that makes a host offer the story's memory (scaled).

    The demo's hosts report what their machine has (real hosts: all the
    same machine; libvirt may count only its first NUMA node), whatever
    the story says they are. placement offers (reported - reserved) x
    ram_allocation_ratio, which nova-compute reads when it starts, so each
    host gets its own.
    """
    usable = reported_mb - reserved_mb
    if usable <= 0:
        raise ValueError('%s reports %d MB, not more than the %d MB nova '
                         'reserves for the host' % (host.name, reported_mb,
                                                    reserved_mb))
    return host.memory_gb * 1024 * scale / usable


THREADS = {'POWER8': 8, 'POWER9': 4}
HOSTS = (Host('p8-whole', 'POWER8', 1, 64),
         Host('p8-split4', 'POWER8', 4, 64),
         Host('p9', 'POWER9', 1, 32))


@dataclasses.dataclass(frozen=True)
class Flavor:
    name: str
    vcpus: int
    ram: int
    specs: dict


# as devstack/plugin.sh creates them, plus a plain one and one asking for a
# split-core mode no host is in
FLAVORS = (
    Flavor('pkvm.mt.small', 2, 2048,
           {'powerkvm:micro_threading': 'required'}),
    Flavor('pkvm.mt.medium', 4, 4096,
           {'powerkvm:micro_threading': 'required'}),
    Flavor('pkvm.whole.large', 8, 8192,
           {'powerkvm:micro_threading': 'forbidden'}),
    Flavor('pkvm.plain', 2, 2048, {}),
    Flavor('pkvm.split2', 4, 4096, {'powerkvm:subcores_per_core': '2'}),
)


@dataclasses.dataclass(frozen=True)
class Boot:
    name: str
    flavor: str
    image: str          # 'le' or 'be'
    why: str
    host: str = None    # where it must land; None: nowhere (ERROR)
    topology: tuple = None  # (sockets, cores, threads) it must get
    fault: str = None   # what the fault must say when it lands nowhere


BOOTS = (
    Boot('le-mt-1', 'pkvm.mt.small', 'le',
         'micro-threading: only the split-core host; 2 threads a subcore',
         host='p8-split4', topology=(1, 1, 2)),
    Boot('le-mt-2', 'pkvm.mt.medium', 'le',
         'micro-threading again: 4 vCPUs as 2 cores x 2 threads',
         host='p8-split4', topology=(1, 2, 2)),
    Boot('le-web', 'pkvm.plain', 'le',
         'any host would do; the weigher packs it with the other LE '
         'guests, keeping the empty hosts free',
         host='p8-split4', topology=(1, 1, 2)),
    Boot('be-db', 'pkvm.whole.large', 'be',
         'big-endian, whole cores: not the split-core host (which runs '
         'LE anyway); of the two empty hosts, nova\'s CPU weigher takes '
         'the one with more hardware threads free (8 a POWER8 core, 4 a '
         'POWER9 core)',
         host='p8-whole', topology=(1, 1, 8)),
    Boot('be-web', 'pkvm.plain', 'be',
         'big-endian: packed with be-db, never beside the LE guests',
         host='p8-whole', topology=(1, 1, 2)),
)

REFUSED_BOOTS = (
    Boot('be-mt', 'pkvm.mt.small', 'be',
         'big-endian micro-threading: the only split-core host runs LE',
         fault='every PowerKVM host left runs guests of the other '
               'endianness'),
    Boot('le-split2', 'pkvm.split2', 'le',
         'split-core mode 2: no host is in that mode',
         fault='the flavor needs split-core mode 2'),
)


@dataclasses.dataclass(frozen=True)
class Refusal:
    server: str
    dest: str
    why: str
    reason: str         # what nova's record of the refusal must say


REFUSED_MOVES = (
    Refusal('le-web', 'p9', 'p9 now runs a big-endian guest',
            'a host runs guests of one endianness only'),
    Refusal('le-web', 'p8-whole',
            'p8-whole is in whole-core mode (and runs BE guests)',
            'a guest keeps its split-core mode'),
)
