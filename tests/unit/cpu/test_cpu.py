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

"""The POWER CPU policies: host probes, flavor requests, topology, moves."""

from dataclasses import astuple
import os

import fixtures
import nova.conf
from nova import test
import os_traits

from powerkvm_nova.cpu import host as cpu_host
from powerkvm_nova.cpu import moves
from powerkvm_nova.cpu import platform as cpu_platform
from powerkvm_nova.cpu import probes
from powerkvm_nova.cpu import request
from powerkvm_nova import exception
from tests.fixtures import power_cpus

P8, P9 = cpu_host.POWER8, cpu_host.POWER9


def p8(mode=1, smt=None, cores=20):
    """A POWER8, its online threads as KVM-HV needs or as smt says.

    smt None: each subcore's first thread online; else the first smt
    threads of each core, as "ppc64_cpu --smt=smt" leaves them.
    """
    return cpu_host.PowerHost(P8, cores, 8, smt or mode, mode)


P9_HOST = cpu_host.PowerHost(P9, 22, 4, 4)

# Recorded from POWER hosts: /proc/cpuinfo's cpu line, and how many CPUs
# the kernel lists present and online in each SMT state.
CPUINFO = {
    P8: 'processor\t: 0\ncpu\t\t: POWER8E (raw), altivec supported\n'
        'clock\t\t: 3690.000000MHz\nrevision\t: 2.1 (pvr 004b 0201)\n\n'
        'timebase\t: 512000000\nplatform\t: PowerNV\n'
        'model\t\t: 8247-22L\nmachine\t\t: PowerNV 8247-22L\n',
    P9: 'processor\t: 0\ncpu\t\t: POWER9 (raw), altivec supported\n'
        'clock\t\t: 2300.000000MHz\nrevision\t: 2.2 (pvr 004e 1202)\n\n'
        'platform\t: PowerNV\nmodel\t\t: 9006-22P\n',
    'x86': 'processor\t: 0\nvendor_id\t: GenuineIntel\n'
           'model name\t: Intel(R) Xeon(R) CPU\n',
}
# A logical partition, as Linux prints it (arch/powerpc/kernel/
# setup-common.c show_cpuinfo_summary: "platform : pSeries";
# platforms/pseries/setup.c pSeries_show_cpuinfo: "machine : CHRP ...",
# "MMU : Radix|Hash"); a partition runs in an architected mode.
LPAR_CPUINFO = ('processor\t: 0\ncpu\t\t: %s (architected), altivec '
                'supported\nclock\t\t: 2750.000000MHz\nrevision\t: 2.0 '
                '(pvr 0080 0200)\n\ntimebase\t: 512000000\nplatform\t: '
                'pSeries\nmodel\t\t: IBM,9080-HEX\nmachine\t\t: CHRP '
                'IBM,9080-HEX\nMMU\t\t: %s\n')


class SysfsProbeTestCase(test.NoDBTestCase):

    def _tree(self, cpuinfo, present, online, threads_per_core,
              subcores=None, dynamic_mt=None, siblings=None):
        root = self.useFixture(fixtures.TempDir()).path
        files = {
            'proc/cpuinfo': cpuinfo,
            'sys/devices/system/cpu/present': present,
            'sys/devices/system/cpu/online': online,
        }
        if threads_per_core:
            files['proc/device-tree/cpus/PowerPC,POWER8@20/'
                  'ibm,ppc-interrupt-server#s'] = 'x' * 4 * threads_per_core
        if subcores is not None:
            files['sys/devices/system/cpu/subcores_per_core'] = subcores
        if dynamic_mt is not None:
            files['sys/module/kvm_hv/parameters/dynamic_mt_modes'] = \
                dynamic_mt
        if siblings is not None:
            files['sys/devices/system/cpu/cpu0/topology/'
                  'thread_siblings_list'] = siblings
        for path, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(root, path)),
                        exist_ok=True)
            with open(os.path.join(root, path), 'w') as f:
                f.write(text)
        return probes.SysfsProbe(root=root).describe()

    def test_platform_from_cpuinfo(self):
        host = self._tree(CPUINFO[P8], '0-159\n', power_cpus.kvm_ready(20),
                          8, subcores='1\n')
        self.assertEqual(('PowerNV', None, None),
                         (host.platform, host.mmu, host.kvm_blocker))
        lpar = self._tree(LPAR_CPUINFO % ('POWER10', 'Radix'), '0-31\n',
                          '0-31\n', 8)
        self.assertEqual(('POWER10', 'pSeries', 'Radix', None),
                         (lpar.generation, lpar.platform, lpar.mmu,
                          lpar.kvm_blocker))
        self.assertEqual(lpar, cpu_host.PowerHost.from_stats(lpar.stats()))
        hashed = self._tree(LPAR_CPUINFO % ('POWER9', 'Hash'), '0-31\n',
                            '0-31\n', 4)
        self.assertIn('needs the radix MMU', hashed.kvm_blocker)
        p8_lpar = self._tree(LPAR_CPUINFO % ('POWER8', 'Hash'), '0-31\n',
                             '0-31\n', 8)
        self.assertIn('needs POWER9 or later', p8_lpar.kvm_blocker)

    def test_partition_hypervisor_from_the_device_tree(self):
        root = self.useFixture(fixtures.TempDir()).path
        self.assertIsNone(cpu_platform.hypervisor(root))
        os.makedirs(os.path.join(root, 'proc/device-tree/hypervisor'))
        with open(os.path.join(root, 'proc/device-tree/hypervisor/'
                               'compatible'), 'wb') as f:
            f.write(b'linux,kvm\x00')
        self.assertEqual('KVM', cpu_platform.hypervisor(root))
        open(os.path.join(root, 'proc/device-tree/ibm,powervm-partition'),
             'w').close()
        self.assertEqual('PowerVM', cpu_platform.hypervisor(root))

    def test_power8_kvm_layout_each_split_core_mode(self):
        # each subcore's first thread online (tests/fixtures/power_cpus.py
        # has the kernel's sources): 1, 2 or 4 threads a core
        for mode, per_subcore in ((1, 8), (2, 4), (4, 2)):
            online = power_cpus.kvm_ready(20, mode)
            host = self._tree(CPUINFO[P8], '0-159\n', online + '\n', 8,
                              subcores='%d\n' % mode, dynamic_mt='6\n')
            self.assertEqual((P8, 20, 8, mode, mode, per_subcore, 6, 0, 0),
                             (host.generation, host.cores,
                              host.threads_per_core,
                              host.online_threads_per_core,
                              host.subcores_per_core,
                              host.threads_per_subcore,
                              host.dynamic_mt_modes,
                              host.online_secondaries,
                              host.subcores_offline))
            self.assertIsNone(host.kvm_blocker)
            self.assertIsNone(host.warning)
            self.assertEqual(160, host.vcpu_capacity)

    def test_split_core_with_only_the_first_thread_of_each_core(self):
        # "ppc64_cpu --smt=off" in split-core mode 4: subcores 1-3 of
        # every core have their first thread offline and run no guest
        host = self._tree(CPUINFO[P8], '0-159', power_cpus.smt(20, 1), 8,
                          subcores='4')
        self.assertIsNone(host.kvm_blocker)
        self.assertEqual(60, host.subcores_offline)
        self.assertEqual(20 * 2, host.vcpu_capacity)
        self.assertIn("60 of the host's 80 subcores have their first "
                      "thread offline", host.warning)
        self.assertIn('bring threads 0,2,4,6 of each core online',
                      host.warning)

    def test_split_core_with_subcore_threads_online(self):
        # "ppc64_cpu --smt=2" in split-core mode 2: threads 0,1 online,
        # so thread 1 shares subcore 0 with its first thread, and
        # subcore 1 (threads 4-7) has its first thread offline
        host = self._tree(CPUINFO[P8], '0-159', power_cpus.smt(20, 2), 8,
                          subcores='2')
        self.assertEqual((20, 20), (host.online_secondaries,
                                    host.subcores_offline))
        self.assertIn('SMT on (2 threads a core online, 20 threads',
                      host.kvm_blocker)
        self.assertIn('run "ppc64_cpu --smt=off" then bring threads 0,4 of '
                      'each core online (split-core mode 2)',
                      host.kvm_blocker)
        # from counts alone (the static probe), 4 threads a core online in
        # split-core mode 2 are laid out as "ppc64_cpu --smt=4" leaves them
        smt4 = self._tree(CPUINFO[P8], '0-159', power_cpus.smt(20, 4), 8,
                          subcores='2')
        self.assertEqual(smt4, cpu_host.PowerHost(P8, 20, 8, 4, 2,
                                                  platform='PowerNV'))
        self.assertEqual((60, 20), (smt4.online_secondaries,
                                    smt4.subcores_offline))

    def test_power8_smt_on_blocks_kvm(self):
        host = self._tree(CPUINFO[P8], '0-159\n', '0-159\n', 8,
                          subcores='1\n')
        self.assertEqual(8, host.online_threads_per_core)
        self.assertIn('SMT on (8 threads a core online', host.kvm_blocker)
        self.assertIn('ppc64_cpu --smt=off', host.kvm_blocker)
        e = self.assertRaises(request.NoFit, request.check_fit,
                              request.from_specs(2, {}, {}), host)
        self.assertIn('KVM-HV runs guests only in SMT1', str(e))

    def test_power8_smt_partly_on(self):
        online = ','.join('%d-%d' % (c, c + 3) for c in range(0, 160, 8))
        host = self._tree(CPUINFO[P8], '0-159', online, 8, subcores='1')
        self.assertEqual(4, host.online_threads_per_core)
        self.assertIsNotNone(host.kvm_blocker)

    def test_power9_no_split_core_file(self):
        host = self._tree(CPUINFO[P9], '0-87\n', '0-87\n', 4)
        self.assertEqual((P9, 22, 4, 4, 1), (
            host.generation, host.cores, host.threads_per_core,
            host.online_threads_per_core, host.subcores_per_core))
        # POWER9 runs guests with SMT on, up to 8 threads a guest core.
        self.assertIsNone(host.kvm_blocker)
        self.assertEqual(8, host.max_guest_threads)
        self.assertIsNone(host.dynamic_mt_modes)

    def test_non_power_host_is_other(self):
        host = self._tree(CPUINFO['x86'], '0-3\n', '0-3\n', None,
                          siblings='0,2\n')
        self.assertEqual((cpu_host.OTHER, 2, 2), (
            host.generation, host.cores, host.threads_per_core))
        self.assertIsNone(host.vcpu_capacity)
        self.assertEqual(set(), host.traits())

    def test_missing_file_names_it(self):
        root = self.useFixture(fixtures.TempDir()).path
        e = self.assertRaises(exception.PowerKVMError,
                              probes.SysfsProbe(root=root).describe)
        self.assertIn('/proc/cpuinfo', str(e))
        self.assertIn('host_probe = static', str(e))

    def test_generation_names(self):
        for line, generation in (('POWER8 (raw)', P8), ('POWER8E (raw)', P8),
                                 ('POWER8NVL (raw)', P8),
                                 ('POWER9 (architected)', P9),
                                 ('POWER10 (raw)', cpu_host.POWER10),
                                 ('POWER11 (raw)', cpu_host.POWER10),
                                 ('POWER7 (raw)', cpu_host.OTHER)):
            self.assertEqual(generation, probes.generation_of(
                'cpu\t\t: %s, altivec supported\n' % line), line)

    def test_cpu_list(self):
        self.assertEqual([0, 1, 2, 8, 16, 17], probes.parse_cpu_list(
            '0-2,8,16-17\n'))


class StaticProbeTestCase(test.NoDBTestCase):

    def test_from_config_through_stevedore(self):
        self.flags(static_generation='POWER8', static_cores=6,
                   static_subcores_per_core=2, group='powerkvm')
        host = probes.describe('static', nova.conf.CONF)
        # unset online threads: each subcore's first, as KVM-HV needs
        self.assertEqual(cpu_host.PowerHost(P8, 6, 8, 2, 2), host)
        self.assertEqual((0, 0, 48), (host.online_secondaries,
                                      host.subcores_offline,
                                      host.vcpu_capacity))
        self.flags(static_online_threads_per_core=1, group='powerkvm')
        host = probes.describe('static', nova.conf.CONF)
        self.assertEqual((0, 6, 24), (host.online_secondaries,
                                      host.subcores_offline,
                                      host.vcpu_capacity))

    def test_unknown_probe(self):
        e = self.assertRaises(exception.PowerKVMError, probes.describe,
                              'nope', None)
        self.assertIn("host_probe 'nope'", str(e))


class PowerHostTestCase(test.NoDBTestCase):

    def test_traits(self):
        self.assertEqual({'HW_CPU_PPC64LE_POWER8',
                          'CUSTOM_POWERKVM_SUBCORES_PER_CORE_4',
                          'CUSTOM_POWERKVM_THREADS_PER_SUBCORE_2',
                          'CUSTOM_POWERKVM_MICRO_THREADING'},
                         p8(4).traits())
        self.assertEqual({'HW_CPU_PPC64LE_POWER8',
                          'CUSTOM_POWERKVM_SUBCORES_PER_CORE_1',
                          'CUSTOM_POWERKVM_THREADS_PER_SUBCORE_8'},
                         p8(1).traits())
        self.assertIn('HW_CPU_PPC64LE_POWER9', P9_HOST.traits())
        # no os-traits name for it: a custom trait, valid for placement
        p10 = cpu_host.PowerHost('POWER10', 15, 8, 8)
        self.assertEqual({'CUSTOM_POWERKVM_HW_CPU_PPC64LE_POWER10',
                          'CUSTOM_POWERKVM_SUBCORES_PER_CORE_1',
                          'CUSTOM_POWERKVM_THREADS_PER_SUBCORE_8'},
                         p10.traits())
        for trait in p10.traits():
            self.assertTrue(os_traits.is_custom(trait) or
                            trait in os_traits.get_traits(), trait)
        for host in (p8(1), p8(2), p8(4), P9_HOST, p10):
            self.assertLessEqual(host.traits(), cpu_host.all_traits())

    def test_vcpu_capacity_is_hardware_threads_in_every_mode(self):
        for mode in (1, 2, 4):
            self.assertEqual(160, p8(mode).vcpu_capacity)

    def test_power9_capacity_is_the_online_threads(self):
        # KVM-HV on POWER9 and later runs each vCPU as a host thread on
        # the online CPU it is scheduled on: arch/powerpc/kvm/book3s_hv.c,
        # kvmppc_vcpu_run_hv() calls kvmhv_run_single_vcpu() on ARCH_300
        # ("pcpu = smp_processor_id()"), threads_per_vcore() is 1 ("On
        # POWER9, threads are independent ... we consider each thread to
        # be a subcore"), and the POWER8 path that runs a subcore's offline
        # threads (kvmppc_run_core, on_primary_thread) warns on ARCH_300.
        # Offline threads (ppc64_cpu --smt=4 on an SMT8 POWER9) add none:
        # the online threads are the capacity, and libvirt's cells stand.
        smt4_of_8 = cpu_host.PowerHost(P9, 22, 8, 4)
        self.assertEqual(88, smt4_of_8.vcpu_capacity)
        self.assertEqual(88, P9_HOST.vcpu_capacity)
        for host in (P9_HOST, smt4_of_8):
            self.assertEqual({4, 5}, host.guest_threads({4, 5}))

    def test_guest_threads_of_the_online_cpus(self):
        # The online CPUs as the kernel lays them out for KVM
        # (tests/fixtures/power_cpus.py); each runs its (sub)core's
        # threads, so the count is the host's VCPU capacity.
        for mode in (1, 2, 4):
            online = power_cpus.kvm_ready_cpus(20, mode)
            threads = p8(mode).guest_threads(online)
            self.assertEqual(set(range(160)), threads, mode)
            self.assertEqual(p8(mode).vcpu_capacity, len(threads))
        # one NUMA node's primaries: that node's cores only
        self.assertEqual(set(range(80, 96)),
                         p8(4).guest_threads({80, 82, 84, 86, 88, 90, 92,
                                              94}))
        # an online secondary runs no guest core of its own
        self.assertEqual(set(range(8)), p8(1).guest_threads({0, 1}))
        other = cpu_host.PowerHost('other', 2, 1)
        self.assertEqual({0, 1}, other.guest_threads({0, 1}))

    def test_stats_round_trip(self):
        for host in (p8(1), p8(4, smt=8), P9_HOST):
            stats = host.stats()
            self.assertTrue(all(isinstance(v, str) for v in stats.values()))
            self.assertEqual(host, cpu_host.PowerHost.from_stats(stats))
        self.assertIsNone(cpu_host.PowerHost.from_stats({}))

    def test_impossible_hosts_refused(self):
        for args in ((P9, 4, 4, 1, 2), (P8, 4, 8, 1, 3), ('POWER7', 1, 4),
                     (P8, 0, 8)):
            self.assertRaises(ValueError, cpu_host.PowerHost, *args)


# (vcpus, extra specs) -> topology (sockets, cores, threads) on each host, or
# NoFit. Hosts: POWER8 modes 1, 2, 4; POWER9; emulated (TCG) POWER8 mode 4.
HOSTS = ('p8m1', 'p8m2', 'p8m4', 'p9', 'tcg')
X = request.NoFit
TOPOLOGIES = [
    (1, {}, [(1, 1, 1)] * 5),
    (2, {}, [(1, 1, 2), (1, 1, 2), (1, 1, 2), (1, 1, 2), (1, 2, 1)]),
    (6, {}, [(1, 3, 2), (1, 3, 2), (1, 3, 2), (1, 3, 2), (1, 6, 1)]),
    (8, {}, [(1, 1, 8), (1, 2, 4), (1, 4, 2), (1, 1, 8), (1, 8, 1)]),
    (16, {}, [(1, 2, 8), (1, 4, 4), (1, 8, 2), (1, 2, 8), (1, 16, 1)]),
    (16, {'hw:cpu_max_threads': '2'},
     [(1, 8, 2), (1, 8, 2), (1, 8, 2), (1, 8, 2), (1, 16, 1)]),
    (8, {'powerkvm:threads_per_core': '8'},
     [(1, 1, 8), X, X, (1, 1, 8), X]),
    (8, {'powerkvm:threads_per_core': '4'},
     [(1, 2, 4), (1, 2, 4), X, (1, 2, 4), X]),
    (8, {'powerkvm:threads_per_core': '1'}, [(1, 8, 1)] * 5),
    (4, {'powerkvm:micro_threading': 'required'},
     [X, (1, 1, 4), (1, 2, 2), X, (1, 4, 1)]),
    (4, {'powerkvm:micro_threading': 'forbidden'},
     [(1, 1, 4), X, X, (1, 1, 4), X]),
    (4, {'powerkvm:subcores_per_core': '2'},
     [X, (1, 1, 4), X, X, X]),
    (8, {'hw:cpu_sockets': '2'},
     [(2, 1, 4), (2, 1, 4), (2, 2, 2), (2, 1, 4), (2, 4, 1)]),
]


class TopologyTestCase(test.NoDBTestCase):

    def _hosts(self):
        return {'p8m1': (p8(1), False), 'p8m2': (p8(2), False),
                'p8m4': (p8(4), False), 'p9': (P9_HOST, False),
                'tcg': (p8(4), True)}

    def test_table(self):
        hosts = self._hosts()
        for vcpus, specs, expected in TOPOLOGIES:
            wanted = request.from_specs(vcpus, specs, {})
            for name, result in zip(HOSTS, expected):
                host, emulated = hosts[name]
                case = '%d vCPUs %s on %s' % (vcpus, specs, name)
                if result is X:
                    e = self.assertRaises(request.NoFit, request.plan,
                                          wanted, host, emulated)
                    self.assertIn(host.mode, str(e), case)
                    continue
                topology = request.plan(wanted, host, emulated)
                self.assertEqual(result, (topology.sockets, topology.cores,
                                          topology.threads), case)
                self.assertEqual(vcpus, topology.sockets * topology.cores *
                                 topology.threads, case)
                if host.strict and not emulated:
                    self.assertLessEqual(topology.threads,
                                         host.threads_per_subcore, case)

    def test_non_power_host_keeps_nova_topology(self):
        other = cpu_host.PowerHost(cpu_host.OTHER, 2, 2, 2)
        self.assertIsNone(request.plan(request.from_specs(4, {}, {}), other))
        self.assertRaises(request.NoFit, request.plan, request.from_specs(
            4, {'powerkvm:micro_threading': 'required'}, {}), other)

    def test_image_properties_count(self):
        wanted = request.from_specs(8, {}, {'hw_cpu_max_threads': 2})
        self.assertEqual(2, request.plan(wanted, p8(1)).threads)
        wanted = request.from_specs(8, {}, {'hw_cpu_threads': 4})
        self.assertEqual(4, request.plan(wanted, p8(1)).threads)

    def test_guest_cores_fixed_or_capped(self):
        # hw:cpu_cores fixes the cores, so the threads a host must run
        wanted = request.from_specs(8, {'hw:cpu_cores': '2'}, {})
        self.assertEqual((1, 2, 4), astuple(request.plan(wanted, p8(1))))
        self.assertEqual((1, 2, 4), astuple(request.plan(wanted, p8(2))))
        e = self.assertRaises(request.NoFit, request.plan, wanted, p8(4))
        self.assertIn('the flavor needs 4 threads a guest core', str(e))
        wanted = request.from_specs(8, {}, {'hw_cpu_cores': 4})
        self.assertEqual((1, 4, 2), astuple(request.plan(wanted, p8(4))))
        # hw:cpu_max_cores: at least that many threads a core
        wanted = request.from_specs(8, {'hw:cpu_max_cores': '2'}, {})
        self.assertEqual((1, 1, 8), astuple(request.plan(wanted, p8(1))))
        self.assertEqual((1, 2, 4), astuple(request.plan(wanted, p8(2))))
        e = self.assertRaises(request.NoFit, request.check_fit, wanted,
                              p8(4))
        self.assertIn('the flavor needs at most 2 guest cores of 8 vCPUs; '
                      'this host is POWER8 split-core mode 4', str(e))
        wanted = request.from_specs(
            8, {'hw:cpu_max_cores': '4', 'hw:cpu_max_threads': '2'}, {})
        self.assertEqual((1, 4, 2), astuple(request.plan(wanted, P9_HOST)))
        # cores are per socket, as in nova's topology
        wanted = request.from_specs(8, {'hw:cpu_cores': '2',
                                        'hw:cpu_sockets': '2'}, {})
        self.assertEqual((2, 2, 2), astuple(request.plan(wanted, p8(4))))

    def test_fault_names_the_mode(self):
        e = self.assertRaises(request.NoFit, request.check_fit,
                              request.from_specs(
                                  4, {'powerkvm:micro_threading': 'required'},
                                  {}), p8(1))
        self.assertEqual('the flavor needs micro-threading (split-core mode '
                         '2 or 4); this host is POWER8 whole-core mode (8 '
                         'threads a core)', str(e))


class ContradictionTestCase(test.NoDBTestCase):

    CASES = [
        (4, {'powerkvm:threads_per_core': '4', 'hw:cpu_threads': '2'}, {},
         'powerkvm:threads_per_core=4 contradicts hw:cpu_threads=2'),
        (4, {'powerkvm:threads_per_core': '4'}, {'hw_cpu_threads': 2},
         'powerkvm:threads_per_core=4 contradicts image hw_cpu_threads=2'),
        (4, {'powerkvm:threads_per_core': '4', 'hw:cpu_max_threads': '2'},
         {}, '4 threads a guest core exceeds hw:cpu_max_threads=2'),
        (6, {'powerkvm:threads_per_core': '4'}, {},
         '6 vCPUs cannot be made of guest cores of 4 threads'),
        (8, {'powerkvm:threads_per_core': '8',
             'powerkvm:micro_threading': 'required'}, {},
         '8 threads a guest core do not fit micro-threading (split-core '
         'mode 2 or 4) (at most 4 threads a subcore)'),
        (8, {'powerkvm:threads_per_core': '4',
             'powerkvm:subcores_per_core': '4'}, {},
         'do not fit split-core mode 4 (at most 2 threads a subcore)'),
        (4, {'powerkvm:subcores_per_core': '1',
             'powerkvm:micro_threading': 'required'}, {},
         'powerkvm:subcores_per_core=1 contradicts '
         'powerkvm:micro_threading=required'),
        (4, {'powerkvm:subcores_per_core': '2',
             'powerkvm:micro_threading': 'forbidden'}, {},
         'contradicts powerkvm:micro_threading=forbidden'),
        (6, {'hw:cpu_sockets': '4'}, {},
         '6 vCPUs cannot be split into 4 sockets'),
        (4, {'hw:cpu_threads': '3'}, {}, '3 threads a guest core'),
        (4, {'powerkvm:threads_per_core': 'two'}, {}, 'not a whole number'),
        (4, {'powerkvm:micro_threading': 'maybe'}, {},
         'use required or forbidden'),
        (8, {'hw:cpu_cores': '3'}, {},
         '8 vCPUs cannot be made of 3 guest cores'),
        (8, {'hw:cpu_cores': '3', 'hw:cpu_sockets': '2'}, {},
         'cannot be made of 3 guest cores in each of 2 sockets'),
        (8, {'powerkvm:threads_per_core': '4', 'hw:cpu_cores': '4'}, {},
         '4 threads a guest core contradict hw:cpu_cores=4 (2 threads a '
         'core)'),
        (8, {'hw:cpu_cores': '2'}, {'hw_cpu_cores': 4},
         'hw:cpu_cores=2 contradicts image hw_cpu_cores=4'),
        (12, {'hw:cpu_cores': '4'}, {}, '3 threads a guest core'),
        (8, {'hw:cpu_sockets': '2', 'hw:cpu_max_sockets': '1'}, {},
         '2 sockets exceed hw:cpu_max_sockets=1'),
        (8, {'powerkvm:threads_per_core': '2'}, {'hw_cpu_max_cores': 2},
         '4 guest cores of 2 threads exceed image hw_cpu_max_cores=2'),
    ]

    def test_each_contradiction_named(self):
        for vcpus, specs, props, message in self.CASES:
            e = self.assertRaises(request.RequestError, request.from_specs,
                                  vcpus, specs, props)
            self.assertIn(message, str(e), specs)


class MovesTestCase(test.NoDBTestCase):

    def test_live(self):
        moves.check_move(p8(4), p8(4), live=True)
        moves.check_move(None, p8(1), live=True)
        # With a compatibility mode, any host of that generation or newer
        # (libvirt's ppc64CheckCompatibilityMode); a guest from a POWER9
        # only to a whole-core POWER8.
        moves.check_move(p8(1), P9_HOST, live=True, compat_mode='POWER8')
        moves.check_move(P9_HOST, p8(1), live=True, compat_mode='POWER8')
        moves.check_move(P9_HOST, P9_HOST, live=True, compat_mode='POWER9')
        for source, dest, compat_mode, message in (
                (p8(1), p8(4), None, 'source is POWER8 whole-core mode (8 '
                 'threads a core), destination is POWER8 split-core mode 4'),
                (p8(2), p8(4), None, 'a guest keeps its split-core mode'),
                (p8(2), p8(4), 'POWER8', 'a guest keeps its split-core mode'),
                # without a mode libvirt compares the hosts' models
                (P9_HOST, p8(1), None, 'live-migrates only between hosts of '
                 'one generation, not from POWER9 to POWER8 ([powerkvm] '
                 'cpu_compat_mode = POWER8'),
                (p8(1), P9_HOST, None, 'not from POWER8 to POWER9'),
                (P9_HOST, p8(1), 'POWER9', 'a guest in POWER9 compatibility '
                 'mode cannot live-migrate to an older POWER8 host'),
                (P9_HOST, p8(2), 'POWER8', 'to a POWER8 in whole-core mode '
                 'only'),
                (p8(1), p8(1, smt=8), None,
                 'destination: POWER8 host has SMT on')):
            e = self.assertRaises(moves.MoveRefused, moves.check_move,
                                  source, dest, live=True,
                                  compat_mode=compat_mode)
            self.assertIn(message, str(e))
            if compat_mode or 'generation' in message:
                # whole in the instance action's event (255 characters)
                self.assertLessEqual(len(str(e)), 255)

    def test_cold(self):
        # A resize to a flavor naming the destination's mode may change it.
        moves.check_move(p8(1), p8(4), live=False, flavor_modes={2, 4})
        moves.check_move(P9_HOST, p8(1), live=False)
        e = self.assertRaises(moves.MoveRefused, moves.check_move,
                              p8(1), p8(4), live=False)
        self.assertIn('resize to a flavor with powerkvm:subcores_per_core',
                      str(e))
