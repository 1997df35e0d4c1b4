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

"""Micro-threading flavors and POWER CPU topology through nova's REST API."""

import fixtures
from nova import exception as nova_exception
from nova.tests.functional.api import client as api_client

from tests.fixtures import power_libvirt
from tests.functional import base

FILTER = 'powerkvm_nova.scheduler.filters.PowerKVMCpuFilter'
MT = {'powerkvm:micro_threading': 'required'}


class CpuTestBase(base.PowerKVMTestBase):

    ADDITIONAL_FILTERS = ['PowerKVMCpuFilter']
    # host -> split-core mode of a POWER8 with 2 x 10 cores
    MODES = {'whole': 1, 'split4': 4}

    def setUp(self):
        self.flags(available_filters=['nova.scheduler.filters.all_filters',
                                      FILTER], group='filter_scheduler')
        super().setUp()
        self.flags(instances=-1, cores=-1, ram=-1, group='quota')
        for host, mode in self.MODES.items():
            self.start_power_compute(host, power_libvirt.POWER8,
                                     subcores_per_core=mode)

    def flavor(self, vcpu, specs):
        return self._create_flavor(vcpu=vcpu, extra_spec=specs)

    def topology(self, server):
        node = self.domain_xml(server).find('./cpu/topology')
        return tuple(int(node.get(k))
                     for k in ('sockets', 'cores', 'threads'))


class FlavorSpecsTestCase(CpuTestBase):

    MODES = {'whole': 1}

    def test_bad_specs_refused_with_400(self):
        flavor = self._create_flavor(vcpu=4)
        bad = [('powerkvm:micro_threading', 'yes'),
               ('powerkvm:subcores_per_core', '3'),
               ('powerkvm:threads_per_core', '16'),
               ('powerkvm:threads_per_core', 'two'),
               ('powerkvm:split_core', '4')]
        for key, value in bad:
            e = self.assertRaises(
                api_client.OpenStackApiException,
                self.admin_api.post_extra_spec, flavor,
                {'extra_specs': {key: value}})
            self.assertEqual(400, e.response.status_code, key)
            self.assertIn('Validation failed', e.response.text, key)
        self.assertEqual({}, self.admin_api.get_flavor(flavor)['extra_specs'])
        # and a good one is taken
        self.admin_api.post_extra_spec(flavor, {'extra_specs': MT})
        self.assertEqual(MT, self.admin_api.get_flavor(flavor)['extra_specs'])

    def test_contradiction_refused_before_any_host(self):
        flavor = self.flavor(4, {'powerkvm:threads_per_core': '4',
                                 'hw:cpu_threads': '2'})
        server = self.boot('le', flavor_id=flavor, expected_state='ERROR')
        self.assertIn('powerkvm:threads_per_core=4 contradicts '
                      'hw:cpu_threads=2', server['fault']['message'])
        self.assertIsNone(server['OS-EXT-SRV-ATTR:host'])


class PlacementTestCase(CpuTestBase):

    def test_micro_threading_flavor_lands_on_split_core_host(self):
        flavor = self.flavor(4, MT)
        for _ in range(2):
            server = self.boot('le', flavor_id=flavor)
            self.assertEqual('split4', server['OS-EXT-SRV-ATTR:host'])
            # mode 4: 2 threads a subcore, vCPUs packed as threads
            self.assertEqual((1, 2, 2), self.topology(server))

    def test_whole_core_flavor_packs_eight_threads(self):
        flavor = self.flavor(8, {'powerkvm:micro_threading': 'forbidden'})
        server = self.boot('le', flavor_id=flavor)
        self.assertEqual('whole', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual((1, 1, 8), self.topology(server))

    def test_eight_threads_never_on_split_core(self):
        flavor = self.flavor(8, {'powerkvm:threads_per_core': '8'})
        for _ in range(3):
            server = self.boot('le', flavor_id=flavor)
            self.assertEqual('whole', server['OS-EXT-SRV-ATTR:host'])
        # with the whole-core host disabled, the fault names the mode left
        self.admin_api.put_service(
            self.admin_api.get_services(host='whole',
                                        binary='nova-compute')[0]['id'],
            {'status': 'disabled'})
        server = self.boot('le', flavor_id=flavor, expected_state='ERROR')
        self.assertIn('the flavor needs 8 threads a guest core; split4 '
                      'is POWER8 split-core mode 4 (subcores_per_core=4, 2 '
                      'threads a subcore), at most 2',
                      server['fault']['message'])

    def test_nova_core_specs_are_honoured(self):
        # hw:cpu_cores fixes the guest cores: 8 vCPUs in 2 cores need 4
        # threads a core, which only the whole-core host runs
        flavor = self.flavor(8, {'hw:cpu_cores': '2'})
        server = self.boot('le', flavor_id=flavor)
        self.assertEqual('whole', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual((1, 2, 4), self.topology(server))
        # 4 cores of 2 threads fit split-core mode 4
        flavor = self.flavor(8, {'hw:cpu_cores': '4', **MT})
        server = self.boot('le', flavor_id=flavor)
        self.assertEqual('split4', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual((1, 4, 2), self.topology(server))
        # hw:cpu_max_cores=1: 8 threads a core, never split-core mode 4
        flavor = self.flavor(8, {'hw:cpu_max_cores': '1'})
        server = self.boot('le', flavor_id=flavor)
        self.assertEqual('whole', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual((1, 1, 8), self.topology(server))
        flavor = self.flavor(8, {'hw:cpu_max_cores': '1', **MT})
        server = self.boot('le', flavor_id=flavor, expected_state='ERROR')
        self.assertIn('the flavor needs at most 1 guest cores of 8 vCPUs',
                      server['fault']['message'])
        # hw:cpu_max_sockets below the sockets asked for
        flavor = self.flavor(8, {'hw:cpu_sockets': '2',
                                 'hw:cpu_max_sockets': '1'})
        server = self.boot('le', flavor_id=flavor, expected_state='ERROR')
        self.assertIn('2 sockets exceed hw:cpu_max_sockets=1',
                      server['fault']['message'])
        # a contradiction with nova's own keys, before any host
        flavor = self.flavor(8, {'hw:cpu_cores': '4', 'hw:cpu_threads': '4'})
        server = self.boot('le', flavor_id=flavor, expected_state='ERROR')
        self.assertIn('4 threads a guest core contradict hw:cpu_cores=4',
                      server['fault']['message'])
        self.assertIsNone(server['OS-EXT-SRV-ATTR:host'])

    def test_placement_traits_and_inventory(self):
        for host, traits in (
                ('whole', {'HW_CPU_PPC64LE_POWER8',
                           'CUSTOM_POWERKVM_SUBCORES_PER_CORE_1',
                           'CUSTOM_POWERKVM_THREADS_PER_SUBCORE_8'}),
                ('split4', {'HW_CPU_PPC64LE_POWER8',
                            'CUSTOM_POWERKVM_SUBCORES_PER_CORE_4',
                            'CUSTOM_POWERKVM_THREADS_PER_SUBCORE_2',
                            'CUSTOM_POWERKVM_MICRO_THREADING'})):
            rp = self._get_provider_uuid_by_host(host)
            reported = set(self._get_provider_traits(rp))
            self.assertLessEqual(traits, reported, host)
            others = {t for t in reported if t.startswith('CUSTOM_POWERKVM')}
            self.assertEqual({t for t in traits
                              if t.startswith('CUSTOM_POWERKVM')}, others)
            vcpu = self._get_provider_inventory(rp)['VCPU']
            spec = power_libvirt.POWER8
            threads = (spec.numa_nodes * spec.sockets * spec.cores *
                       spec.threads)
            # every hardware thread, in every split-core mode
            self.assertEqual(threads, vcpu['total'], host)
            self.assertEqual(threads, vcpu['max_unit'], host)


class SmtOnTestCase(CpuTestBase):
    """A POWER8 left in SMT on: said at start-up, and sent nothing."""

    MODES = {'whole': 1}

    def setUp(self):
        super().setUp()
        self.start_power_compute('smt-on', power_libvirt.POWER8,
                                 online_threads_per_core=8)

    def test_reported_and_avoided(self):
        output = self.stdlog.logger.output
        self.assertIn('PowerKVM: POWER8 host has SMT on (8 threads a core '
                      'online', output)
        self.assertIn('KVM-HV runs guests only in SMT1, with only the first '
                      'thread of each (sub)core online; run "ppc64_cpu '
                      '--smt=off"', output)
        for _ in range(4):
            server = self.boot('le')
            self.assertEqual('whole', server['OS-EXT-SRV-ATTR:host'])


class PartitionTestCase(CpuTestBase):
    """KVM-HV in logical partitions (pSeries): nested, POWER9 or later."""

    MODES = {}

    def setUp(self):
        super().setUp()
        self.flags(static_platform='pSeries', group='powerkvm')
        self.start_power_compute('lpar-p9', power_libvirt.POWER9)
        self.start_power_compute('lpar-p8', power_libvirt.POWER8)

    def test_power9_partition_runs_guests_power8_one_does_not(self):
        output = self.stdlog.logger.output
        self.assertIn('on a logical partition (pSeries): KVM-HV runs nested',
                      output)
        self.assertIn('PowerKVM: KVM-HV inside a logical partition (pSeries) '
                      'needs POWER9 or later with the radix MMU', output)
        for _ in range(3):
            server = self.boot('le')
            self.assertEqual('lpar-p9', server['OS-EXT-SRV-ATTR:host'])
        stats = self.computes['lpar-p9'].driver.power_host.stats()
        self.assertEqual('pSeries', stats['powerkvm_cpu_platform'])


class HugePagesTestCase(CpuTestBase):
    """hw:mem_page_size with the POWER page sizes, fitted by nova.

    The fake hosts have the kernel's sizes (HostSpec.page_sizes): 16 MiB
    huge pages on the hash-MMU POWER8, 2 MiB and 1 GiB on the radix POWER9.
    """

    MODES = {}
    # as nova asks of clouds with NUMA guests
    ADDITIONAL_FILTERS = CpuTestBase.ADDITIONAL_FILTERS + [
        'NUMATopologyFilter']

    def setUp(self):
        super().setUp()
        self.start_power_compute('p8', power_libvirt.POWER8)
        self.start_power_compute('p9', power_libvirt.POWER9)

    def _pages(self, server):
        page = self.domain_xml(server).find(
            './memoryBacking/hugepages/page')
        return int(page.get('size')), page.get('unit')

    def test_each_generation_gets_its_own_sizes(self):
        for size, host in (('16MB', 'p8'), ('2MB', 'p9'), ('1GB', 'p9')):
            flavor = self._create_flavor(
                vcpu=2, memory_mb=1024,
                extra_spec={'hw:mem_page_size': size})
            server = self.boot('le', flavor_id=flavor)
            self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'], size)
            kib = {'16MB': 16384, '2MB': 2048, '1GB': 1048576}[size]
            self.assertEqual((kib, 'KiB'), self._pages(server), size)
        # x86's 4 KiB base page exists on no POWER host
        flavor = self._create_flavor(vcpu=2, memory_mb=1024,
                                     extra_spec={'hw:mem_page_size': '4'})
        server = self.boot('le', flavor_id=flavor, expected_state='ERROR')
        self.assertIn('No valid host', server['fault']['message'])


class PinnedNumaTestCase(CpuTestBase):
    """A pinned NUMA guest keeps the topology nova derives from its pins.

    A POWER9 host of 2 NUMA nodes, 2 cores a node, 4 threads a core
    (SMT4: KVM-HV runs POWER9 guests in any SMT mode). A guest of 4
    dedicated vCPUs over 2 guest NUMA nodes has 2 vCPUs pinned in each host
    node: packed as the threads of one guest core, that core's threads
    would sit in two NUMA nodes and on two host cores.
    """

    MODES = {}
    HOST = power_libvirt.HostSpec(model='POWER9', cores=2, threads=4,
                                  numa_nodes=2)

    def test_guest_cores_stay_on_one_host_core_and_node(self):
        self.flags(cpu_dedicated_set='0-15', cpu_shared_set=None,
                   group='compute')
        self.start_power_compute('p9', self.HOST)
        flavor = self.flavor(4, {'hw:cpu_policy': 'dedicated',
                                 'hw:numa_nodes': '2'})
        server = self.boot('le', flavor_id=flavor)
        xml = self.domain_xml(server)
        sockets, cores, threads = self.topology(server)
        self.assertEqual(4, sockets * cores * threads)
        pins = {int(p.get('vcpu')): int(p.get('cpuset'))
                for p in xml.findall('./cputune/vcpupin')}
        self.assertEqual(4, len(pins))
        cells = [set(_cpu_list(c.get('cpus')))
                 for c in xml.findall('./cpu/numa/cell')]
        self.assertEqual(2, len(cells))
        for core in range(sockets * cores):
            vcpus = range(core * threads, (core + 1) * threads)
            # on one host core (host CPU n is thread n % 4 of core n // 4)
            self.assertEqual(1, len({pins[v] // 4 for v in vcpus}), pins)
            # in one guest NUMA node
            self.assertTrue(any(set(vcpus) <= cell for cell in cells),
                            (cells, threads))


class Power8NumaTestCase(CpuTestBase):
    """NUMA guests on a POWER8 fit the threads placement counts.

    libvirt lists a NUMA node's online CPUs only, and a KVM-ready POWER8
    has one online a (sub)core (the fake follows the kernel and libvirt:
    PowerConnection in tests/fixtures/power_libvirt.py). nova fits a NUMA
    guest's shared vCPUs against those CPUs, so without the driver a
    guest of more vCPUs than a node has cores found no host although
    placement counted 8 threads a core. Each host here: 2 NUMA nodes
    (sockets) of 2 cores, 32 threads, CPUs 0,8 | 16,24 online.
    """

    MODES = {}
    ADDITIONAL_FILTERS = CpuTestBase.ADDITIONAL_FILTERS + [
        'NUMATopologyFilter']
    CAST_AS_CALL = False
    HOST = power_libvirt.HostSpec(model='POWER8', cores=2, numa_nodes=2)
    NODES_ONLINE = ({0, 8}, {16, 24})

    def setUp(self):
        super().setUp()
        # a thread a vCPU, no overcommit
        self.flags(cpu_allocation_ratio=1.0)

    def pins(self, server, xml=None):
        """{vCPU: host CPUs} and the emulator threads' CPUs."""
        xml = self.domain_xml(server) if xml is None else xml
        vcpus = {int(p.get('vcpu')): set(_cpu_list(p.get('cpuset')))
                 for p in xml.findall('./cputune/vcpupin')}
        emulator = set(_cpu_list(
            xml.find('./cputune/emulatorpin').get('cpuset')))
        return vcpus, emulator

    def assert_on_online_cpus(self, server, nodes, xml=None):
        """Each guest node's vCPUs float over one host node's online CPUs."""
        vcpus, emulator = self.pins(server, xml)
        per_node = len(vcpus) // nodes
        self.assertEqual(per_node * nodes, len(vcpus))
        used = []
        for first in range(0, len(vcpus), per_node):
            cpus = vcpus[first]
            self.assertIn(cpus, self.NODES_ONLINE)
            for vcpu in range(first, first + per_node):
                self.assertEqual(cpus, vcpus[vcpu], vcpus)
            used.append(cpus)
        self.assertEqual(set().union(*used), emulator)

    def test_numa_guests_fill_the_threads_placement_counts(self):
        self.start_power_compute('p8-1', self.HOST)
        self.start_power_compute('p8-2', self.HOST)
        migrations = self.useFixture(
            power_libvirt.LiveMigrations(self.computes))
        two_nodes = self.flavor(16, {'hw:numa_nodes': '2'})
        one_node = self.flavor(8, {'hw:numa_nodes': '1'})
        big = self.boot('le', flavor_id=two_nodes, host='p8-1')
        self.assert_on_online_cpus(big, nodes=2)
        small = [self.boot('le', flavor_id=one_node, host='p8-1')
                 for _ in range(2)]
        for server in small:
            self.assert_on_online_cpus(server, nodes=1)
        # the host is full: 32 threads, as placement counts them
        usage = self._get_provider_usages(
            self._get_provider_uuid_by_host('p8-1'))
        self.assertEqual(32, usage['VCPU'])
        server = self.boot('le', flavor_id=one_node, host='p8-1',
                           expected_state='ERROR')
        self.assertIn('No valid host', self.fault_of(server)['message'])

        # moves claim on the destination the same way (the fake hosts have
        # no disks to copy: the source's part of a cold move is nova's)
        self.useFixture(fixtures.MockPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.'
            'migrate_disk_and_power_off', return_value='[]'))
        self._migrate_server(big, 'p8-2')
        big = self._confirm_resize(big)
        self.assertEqual('p8-2', big['OS-EXT-SRV-ATTR:host'])
        self.assert_on_online_cpus(big, nodes=2)
        self.admin_api.post_server_action(small[0]['id'], {
            'os-migrateLive': {'host': 'p8-2', 'block_migration': 'auto'}})
        self._wait_for_migration_status(small[0], ['completed'])
        moved = self._wait_for_state_change(small[0], 'ACTIVE')
        self.assertEqual('p8-2', moved['OS-EXT-SRV-ATTR:host'])
        self.assertEqual([(moved['id'], 'p8-2')], migrations.moved)
        # the XML the destination was given names its online CPUs only
        self.assert_on_online_cpus(moved, nodes=1)
        # a hard reboot defines the domain again, with the same pins
        moved = self._reboot_server(moved, hard=True)
        self.assert_on_online_cpus(moved, nodes=1)

    def test_cpus_the_operator_counted_are_kept(self):
        # [compute] cpu_shared_set (or the older vcpu_pin_set) names the
        # CPUs guests float over: placement and the NUMA cells count those
        # CPUs, as nova does, not threads.
        for host, option in (('shared', 'cpu_shared_set'),
                             ('pinset', 'vcpu_pin_set')):
            group = 'compute' if option == 'cpu_shared_set' else None
            self.flags(**{option: '0,16'}, group=group)
            self.start_power_compute(host, self.HOST)
            self.flags(**{option: None}, group=group)
            inventory = self._get_provider_inventory(
                self._get_provider_uuid_by_host(host))
            self.assertEqual(2, inventory['VCPU']['total'], option)
        flavor = self.flavor(2, {'hw:numa_nodes': '1'})
        server = self.boot('le', flavor_id=flavor, expected_state='ERROR')
        self.assertIn('No valid host', self.fault_of(server)['message'])

    def test_pinned_vcpu_holds_a_whole_core(self):
        # cpu_dedicated_set names online CPUs only (nova refuses others at
        # start-up): on a KVM-ready POWER8, one a core. Each pinned vCPU
        # then holds a core of its own, as a guest core of one thread.
        self.flags(cpu_dedicated_set='0,8,16,24', cpu_shared_set=None,
                   group='compute')
        self.start_power_compute('p8', self.HOST)
        inventory = self._get_provider_inventory(
            self._get_provider_uuid_by_host('p8'))
        self.assertEqual(4, inventory['PCPU']['total'])
        # a pinned guest is one guest NUMA node unless hw:numa_nodes says
        # otherwise (nova): 2 vCPUs, the 2 cores of a host node
        pinned = self.flavor(2, {'hw:cpu_policy': 'dedicated'})
        used = []
        for _ in self.NODES_ONLINE:
            server = self.boot('le', flavor_id=pinned)
            vcpus, _ = self.pins(server)
            # each vCPU on a core of its own, both in one node
            self.assertEqual([1, 1], [len(c) for c in vcpus.values()])
            cpus = set().union(*vcpus.values())
            self.assertIn(cpus, self.NODES_ONLINE)
            self.assertEqual(1, self.topology(server)[2])
            used.append(cpus)
        self.assertEqual({0, 8, 16, 24}, set().union(*used))
        server = self.boot('le', flavor_id=self.flavor(
            1, {'hw:cpu_policy': 'dedicated'}), expected_state='ERROR')
        self.assertIn('No valid host', self.fault_of(server)['message'])

    def test_split_core_node(self):
        # split-core mode 4: threads 0,2,4,6 of each core online, each
        # running a 2-thread subcore
        self.start_power_compute('split4', power_libvirt.POWER8,
                                 subcores_per_core=4)
        server = self.boot('le', flavor_id=self.flavor(
            16, {'hw:numa_nodes': '1'}))
        vcpus, emulator = self.pins(server)
        online = set(range(0, 16, 2))
        self.assertEqual({vcpu: online for vcpu in range(16)}, vcpus)
        self.assertEqual(online, emulator)
        self.assertLessEqual(self.topology(server)[2], 2)


def _cpu_list(text):
    cpus = []
    for part in text.split(','):
        first, _, last = part.partition('-')
        cpus.extend(range(int(first), int(last or first) + 1))
    return cpus


class ProbeCheckTestCase(CpuTestBase):
    """A host probe describing more CPUs than libvirt counts is refused."""

    MODES = {}

    def test_compute_refuses_to_start(self):
        # libvirt counts 1 socket x 2 cores x 8 threads; the probe says the
        # host has 4 cores.
        self._next_spec = power_libvirt.POWER8
        self.flags(host_probe='static', static_generation='POWER8',
                   static_cores=4, static_threads_per_core=8,
                   group='powerkvm')
        error = self.assertRaises(nova_exception.InvalidConfiguration,
                                  self.start_compute, 'overstated')
        self.assertIn('the host probe describes 32 hardware threads (4 '
                      'cores x 8 threads a core) but libvirt counts 16',
                      str(error))
        self.assertIn('correct [powerkvm] static_cores', str(error))

    def test_kernel_ready_description_accepted(self):
        # SMT1 leaves 7 of 8 threads a core offline: libvirt still counts
        # them, so the same 16 threads are described and the host starts.
        compute = self.start_power_compute('exact', power_libvirt.POWER8)
        self.assertEqual(16, compute.driver.power_host.vcpu_capacity)


class HostCheckTestCase(CpuTestBase):
    """Without the filter the host itself refuses, naming its mode."""

    ADDITIONAL_FILTERS = []
    MODES = {'split4': 4}

    def test_build_aborted_with_the_mode(self):
        flavor = self.flavor(8, {'powerkvm:threads_per_core': '8'})
        server = self.boot('le', flavor_id=flavor, expected_state='ERROR')
        message = server['fault']['message']
        self.assertIn('this host is POWER8 split-core mode 4', message)
        self.assertIn('enable the scheduler filter PowerKVMCpuFilter',
                      message)
        conn = self.computes['split4'].driver._host.get_connection()
        self.assertEqual({}, conn._vms)


class MoveTestCase(CpuTestBase):
    """The hosts' own checks, without the filter.

    With it these moves are refused before any host
    (tests/functional/test_live_migration.py).
    """

    ADDITIONAL_FILTERS = []
    CAST_AS_CALL = False

    def setUp(self):
        super().setUp()
        self.server = self.boot('le', host='whole')
        # the computes' reports the source reads
        self._run_periodics()

    def assert_stayed(self):
        server = self.api.get_server(self.server['id'])
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual('whole', server['OS-EXT-SRV-ATTR:host'])
        return server

    def test_cold_migration_to_other_mode_refused_before_power_off(self):
        self.admin_api.post_server_action(self.server['id'],
                                          {'migrate': {'host': 'split4'}})
        self._wait_for_migration_status(self.server, ['error'])
        self.assert_stayed()
        conn = self.computes['whole'].driver._host.get_connection()
        self.assertEqual(1, len([d for d in conn._vms.values()
                                 if d.isActive()]))
        event = self._wait_for_instance_action_event(
            self.server, 'migrate', 'compute_resize_instance', 'Error')
        self.assertIn('a guest keeps its split-core mode', event['details'])

    def test_live_migration_to_other_mode_refused(self):
        self.admin_api.microversion = '2.67'
        self.admin_api.post_server_action(
            self.server['id'], {'os-migrateLive': {
                'host': 'split4', 'block_migration': 'auto',
                'force': True}})
        migration = self._wait_for_migration_status(self.server, ['error'])
        self.assertEqual('error', migration['status'])
        self.assert_stayed()
        self.admin_api.microversion = 'latest'  # events' details: 2.84
        event = self._wait_for_instance_action_event(
            self.server, 'live-migration',
            'compute_check_can_live_migrate_destination', 'Error')
        self.assertIn('a guest keeps its split-core mode when it moves: '
                      'source is POWER8 whole-core mode (8 threads a core), '
                      'destination is POWER8 split-core mode 4',
                      event['details'])
