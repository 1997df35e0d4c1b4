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

"""powerkvm-status over recorded host states."""

import io
import os
from unittest import mock

import fixtures
import nova.conf
from nova import test
from oslo_upgradecheck import upgradecheck

from powerkvm_nova.cmd import status
from powerkvm_nova.compute import domains
from powerkvm_nova.cpu import host as cpu_host
from powerkvm_nova.endianness import Endianness
from powerkvm_nova.status import checks
from powerkvm_nova.status import facts as host_facts
from tests.fixtures import power_cpus

Code = upgradecheck.Code
CONF = nova.conf.CONF
P8 = cpu_host.POWER8

CAPS = ("<capabilities><host><cpu><arch>%s</arch></cpu></host>"
        "</capabilities>")
DOMAIN = ("<domain><uuid>%s</uuid><metadata><powerkvm:guest "
          "xmlns:powerkvm='%s' endianness='%s'/></metadata>"
          "<os><type arch='ppc64le'>hvm</type></os></domain>")


class FakeLibvirt:
    VIR_CONNECT_LIST_DOMAINS_ACTIVE = 1
    VIR_CONNECT_LIST_DOMAINS_INACTIVE = 2

    class libvirtError(Exception):
        pass


class RecordedConnection:
    """A libvirt connection as a recorded host answers it."""

    def __init__(self, arch='ppc64le', lib=9000000, qemu=7002000,
                 guests=(), cores=4, threads=8):
        self.arch, self.lib, self.qemu = arch, lib, qemu
        self.cores, self.threads = cores, threads
        self.doms = {'00000000-0000-0000-0000-%012d' % i: e
                     for i, e in enumerate(guests)}

    def getLibVersion(self):
        return self.lib

    def getVersion(self):
        return self.qemu

    def getCapabilities(self):
        return CAPS % self.arch

    def getInfo(self):
        # virNodeInfo of a POWER8 in split-core mode 4 with threads 0,2,4,6
        # of each core online: cores are the physical cores, threads the
        # online siblings times the threads a subcore, so that nodes x
        # sockets x cores x threads counts every present thread (libvirt
        # src/util/virhostcpu.c, virHostCPUParseNode)
        return [self.arch, 64 << 20, self.cores * self.threads, 3690,
                1, 1, self.cores, self.threads]

    def numOfDomains(self):
        return 0

    def numOfDefinedDomains(self):
        return len(self.doms)

    def listAllDomains(self, flags):
        return [mock.Mock(UUIDString=mock.Mock(return_value=u))
                for u in self.doms]

    def lookupByUUIDString(self, uuid):
        xml = DOMAIN % (uuid, domains.NS, self.doms[uuid])
        return mock.Mock(XMLDesc=mock.Mock(return_value=xml))


class StatusTestCase(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path
        self.flags(compute_driver='powerkvm.PowerKVMDriver')
        self.flags(host_mode='native', group='powerkvm')

    def record(self, files):
        for path, text in files.items():
            full = os.path.join(self.root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, 'w') as f:
                f.write(text)

    def power8(self, online=power_cpus.kvm_ready(4, subcores=4),
               subcores='4', ksm='1', zswap='Y'):
        self.record({
            'proc/cpuinfo': 'cpu\t\t: POWER8E (raw), altivec supported\n',
            'sys/devices/system/cpu/present': '0-31',
            'sys/devices/system/cpu/online': online,
            'sys/devices/system/cpu/subcores_per_core': subcores,
            'proc/device-tree/cpus/PowerPC,POWER8@20/'
            'ibm,ppc-interrupt-server#s': 'x' * 32,
            'sys/module/kvm_hv/parameters/dynamic_mt_modes': '6',
            'sys/kernel/mm/ksm/run': ksm,
            'sys/module/zswap/parameters/enabled': zswap,
            'dev/kvm': '',
        })

    def gather(self, conn=None):
        return host_facts.gather(CONF, lambda: conn or RecordedConnection(),
                                 FakeLibvirt, root=self.root)

    def test_healthy_power8_split_core_host(self):
        self.power8()
        facts = self.gather(RecordedConnection(
            guests=['little-endian', 'little-endian']))
        self.assertEqual(cpu_host.PowerHost(P8, 4, 8, 4, 4, 6),
                         facts.power_host)
        self.assertEqual({Endianness.LITTLE: 2}, facts.guest_counts)
        for check in (checks.config, checks.kvm, checks.cpu,
                      checks.endianness, checks.memory):
            result = check(facts, CONF)
            self.assertEqual(Code.SUCCESS, result.code, result.details)
        self.assertIn('POWER8 split-core mode 4', checks.cpu(
            facts, CONF).details)
        self.assertEqual(Code.WARNING, checks.versions(facts, CONF).code)

    def test_static_probe_larger_than_the_host(self):
        self.power8()
        self.flags(host_probe='static', static_generation='POWER8',
                   static_cores=8, static_threads_per_core=8,
                   group='powerkvm')
        result = checks.cpu(self.gather(), CONF)
        self.assertEqual(Code.FAILURE, result.code)
        self.assertIn('the host probe describes 64 hardware threads (8 '
                      'cores x 8 threads a core) but libvirt counts 32',
                      result.details)

    def test_static_probe_of_an_emulated_host_not_compared(self):
        # an x86 machine emulating a POWER8 of 8 cores with QEMU TCG
        self.flags(host_probe='static', static_generation='POWER8',
                   static_cores=8, static_threads_per_core=8,
                   group='powerkvm')
        result = checks.cpu(self.gather(RecordedConnection(
            arch='x86_64', cores=2, threads=1)), CONF)
        self.assertNotEqual(Code.FAILURE, result.code, result.details)

    def test_power8_with_smt_on(self):
        self.power8(online='0-31')
        result = checks.cpu(self.gather(), CONF)
        self.assertEqual(Code.FAILURE, result.code)
        self.assertIn('ppc64_cpu --smt=off', result.details)

    def test_split_core_host_with_subcores_unused(self):
        # split-core mode 4 after "ppc64_cpu --smt=off": runs guests on
        # subcore 0 of each core only
        self.power8(online=power_cpus.smt(4, 1))
        result = checks.cpu(self.gather(), CONF)
        self.assertEqual(Code.WARNING, result.code)
        self.assertIn("12 of the host's 16 subcores have their first "
                      "thread offline", result.details)
        self.assertIn('chcpu -e', result.details)

    def test_mixed_guests_break_the_rule(self):
        self.power8()
        result = checks.endianness(self.gather(RecordedConnection(
            guests=['little-endian', 'big-endian'])), CONF)
        self.assertEqual(Code.FAILURE, result.code)
        self.assertIn('1 big-endian, 1 little-endian', result.details)
        self.flags(endianness_policy='mixed', group='powerkvm')
        self.assertEqual(Code.SUCCESS, checks.endianness(self.gather(
            RecordedConnection(guests=['little-endian', 'big-endian'])),
            CONF).code)

    def test_old_libvirt_and_unreachable_libvirtd(self):
        self.power8()
        result = checks.versions(self.gather(RecordedConnection(
            lib=7010000)), CONF)
        self.assertEqual(Code.FAILURE, result.code)
        self.assertIn('libvirt 7.10.0 is older than nova needs (8.0.0)',
                      result.details)

        def refuse():
            raise OSError('Failed to connect socket')
        facts = host_facts.gather(CONF, refuse, FakeLibvirt, root=self.root)
        result = checks.versions(facts, CONF)
        self.assertEqual(Code.FAILURE, result.code)
        self.assertIn('start it', result.details)

    def test_kvm_hv_missing_on_native(self):
        self.power8()
        os.unlink(os.path.join(self.root, 'dev/kvm'))
        result = checks.kvm(self.gather(), CONF)
        self.assertEqual(Code.FAILURE, result.code)
        self.assertIn('modprobe kvm_hv', result.details)

    def test_kvm_in_a_powervm_partition(self):
        self.record({
            'proc/cpuinfo': 'cpu\t\t: POWER10 (architected), altivec '
                            'supported\nplatform\t: pSeries\nMMU\t\t: '
                            'Radix\n',
            'sys/devices/system/cpu/present': '0-31',
            'sys/devices/system/cpu/online': '0-31',
            'proc/device-tree/cpus/PowerPC,POWER10@0/'
            'ibm,ppc-interrupt-server#s': 'x' * 32,
            'proc/device-tree/ibm,powervm-partition': '',
        })
        result = checks.kvm(self.gather(), CONF)
        self.assertEqual(Code.FAILURE, result.code)
        self.assertIn('not available in this logical partition (/dev/kvm '
                      'missing): it needs Linux 6.7 or later', result.details)
        self.record({'dev/kvm': '', 'sys/module/kvm_hv/refcnt': '0'})
        result = checks.kvm(self.gather(), CONF)
        self.assertEqual(Code.SUCCESS, result.code)
        self.assertIn('on a logical partition (pSeries, PowerVM, Radix MMU)',
                      result.details)
        self.assertEqual(Code.SUCCESS, checks.cpu(self.gather(), CONF).code)

    def test_emulated_host_is_a_warning(self):
        self.record({'proc/cpuinfo': 'vendor_id\t: GenuineIntel\n',
                     'sys/devices/system/cpu/present': '0-1',
                     'sys/devices/system/cpu/online': '0-1'})
        self.flags(host_mode='auto', group='powerkvm')
        self.flags(virt_type='qemu', group='libvirt')
        facts = self.gather(RecordedConnection(arch='x86_64'))
        self.assertEqual(Code.WARNING, checks.kvm(facts, CONF).code)
        self.assertEqual(Code.WARNING, checks.cpu(facts, CONF).code)
        self.assertEqual(Code.SUCCESS, checks.config(facts, CONF).code)
        self.flags(virt_type='kvm', group='libvirt')
        result = checks.config(facts, CONF)
        self.assertEqual(Code.FAILURE, result.code)
        self.assertIn('needs [libvirt] virt_type = qemu', result.details)

    def test_config_errors(self):
        self.power8()
        self.flags(endianness_detectors=['hw_architecture', 'nope'],
                   group='powerkvm')
        self.flags(compute_driver='libvirt.LibvirtDriver')
        result = checks.config(self.gather(), CONF)
        self.assertEqual(Code.FAILURE, result.code)
        self.assertIn('endianness_detectors', result.details)
        self.assertIn("compute_driver is 'libvirt.LibvirtDriver'",
                      result.details)

    def test_memory_overcommit_without_ksm(self):
        self.power8(ksm='0', zswap='N')
        self.flags(ram_allocation_ratio=1.5)
        result = checks.memory(self.gather(), CONF)
        self.assertEqual(Code.WARNING, result.code)
        self.assertIn('KSM off, zswap off', result.details)
        self.flags(ram_allocation_ratio=1.0)
        self.assertEqual(Code.SUCCESS,
                         checks.memory(self.gather(), CONF).code)

    def test_flavors_against_the_mode(self):
        self.power8()
        facts = self.gather()
        mt = ('mt', 4, {'powerkvm:micro_threading': 'required'})
        whole = ('whole', 8, {'powerkvm:threads_per_core': '8'})
        broken = ('broken', 4, {'powerkvm:threads_per_core': '4',
                                'hw:cpu_threads': '2'})
        result = checks.flavors(facts, CONF, [mt, whole, ('plain', 2, {})])
        self.assertEqual(Code.SUCCESS, result.code)
        self.assertIn('serves mt; needs another mode: whole', result.details)
        self.assertEqual(Code.WARNING,
                         checks.flavors(facts, CONF, [whole]).code)
        result = checks.flavors(facts, CONF, [mt, broken])
        self.assertEqual(Code.FAILURE, result.code)
        self.assertIn('broken: powerkvm:threads_per_core=4 contradicts',
                      result.details)
        self.assertEqual(Code.WARNING, checks.flavors(
            facts, CONF, 'no [api_database] connection').code)

    def test_scheduler_filter_and_weigher(self):
        # a compute's nova.conf that configures no scheduler
        result = checks.scheduler(None, CONF)
        self.assertEqual(Code.SUCCESS, result.code)
        self.assertIn('configures no scheduler filters', result.details)
        self.flags(enabled_filters=['ComputeFilter'],
                   group='filter_scheduler')
        result = checks.scheduler(None, CONF)
        self.assertEqual(Code.WARNING, result.code)
        self.assertIn('enabled_filters lacks PowerKVMEndiannessFilter',
                      result.details)
        self.assertIn('weight_classes lacks', result.details)
        self.flags(enabled_filters=['ComputeFilter',
                                    'PowerKVMEndiannessFilter'],
                   group='filter_scheduler')
        result = checks.scheduler(None, CONF)
        self.assertIn('available_filters lacks', result.details)
        self.flags(available_filters=[
            'nova.scheduler.filters.all_filters',
            'powerkvm_nova.scheduler.filters.PowerKVMEndiannessFilter'],
            weight_classes=['nova.scheduler.weights.all_weighers',
                            checks.WEIGHER],
            group='filter_scheduler')
        result = checks.scheduler(None, CONF)
        self.assertEqual(Code.SUCCESS, result.code, result.details)

    def test_command_reports_the_worst(self):
        self.power8(online='0-31')
        command = status.Checks(
            gather=lambda: self.gather(RecordedConnection(
                guests=['little-endian'])),
            flavors=lambda: [])
        with mock.patch('sys.stdout', new_callable=io.StringIO) as out:
            code = command.check()
        self.assertEqual(Code.FAILURE, code)
        self.assertIn('POWER CPU, SMT and split-core mode', out.getvalue())
        self.assertIn('SMT on', out.getvalue())
