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

"""A micro-threading flavor on the real libvirtd and QEMU (TCG)."""

import os

import libvirt
from nova import objects
from nova.virt.libvirt import config as vconfig
import testtools

from powerkvm_nova.cpu.emulation import QEMU_NS
from powerkvm_nova.cpu import host as cpu_host
from powerkvm_nova.cpu import request
from tests.hypervisor import base


class MicroThreadingGuestTestCase(base.RealHypervisorTestBase):

    # The static probe describes a POWER8 in split-core mode 4.
    SUBCORES_PER_CORE = 4

    def test_micro_threading_guest_runs_with_the_topology_tcg_allows(self):
        flavor = self._create_flavor(
            vcpu=4, memory_mb=512, disk=1, ephemeral=0,
            extra_spec={'powerkvm:micro_threading': 'required'})
        server = self._create_server(
            image_uuid=self.little_endian_linux_image(), flavor_id=flavor,
            networks='none')
        self.assertEqual('ACTIVE', server['status'])
        # On a real mode-4 POWER8 the planner gives 1 x 2 x 2; TCG runs one
        # thread a pseries core, so the threads become cores.
        topology = self.domain_xml(server).find('./cpu/topology')
        self.assertEqual(('1', '4', '1'), tuple(
            topology.get(k) for k in ('sockets', 'cores', 'threads')))
        self.assertEqual('4', self.domain_xml(server).findtext('./vcpu'))
        # The guest kernel sees the four vCPUs and the guest runs.
        self.wait_for_console(server, 'POWERKVM-GUEST-READY')
        self.assertIn('Brought up 1 node, 4 CPUs', self.console(server))
        # The host reported what it is to placement.
        rp = self._get_provider_uuid_by_host(base.HOST)
        self.assertIn('CUSTOM_POWERKVM_SUBCORES_PER_CORE_4',
                      self._get_provider_traits(rp))
        # Its VCPUs are hardware threads, 8 a POWER8 core, in placement and
        # in the compute node (os-hypervisors, nova's CPU weigher) alike,
        # whatever this machine's own CPU count.
        threads = 8 * os.cpu_count()
        self.assertEqual(
            threads, self._get_provider_inventory(rp)['VCPU']['total'])
        self.admin_api.microversion = '2.87'  # vcpus left the API at 2.88
        hypervisor = self.admin_api.api_get(
            '/os-hypervisors/detail').body['hypervisors'][0]
        self.admin_api.microversion = 'latest'
        self.assertEqual(threads, hypervisor['vcpus'])
        self._delete_server(server)
        self.assert_nothing_left(server)


class Power9GuestThreadsTestCase(testtools.TestCase):
    """The QEMU arguments libvirt gives a POWER9 guest of 4 threads a core.

    The topology is the driver's plan for 8 vCPUs with
    powerkvm:threads_per_core=4 on a POWER9; libvirt (the real one, which
    only converts here: QEMU 7.2 TCG runs one thread a pseries core)
    turns it into -smp, from which QEMU's pseries machine takes its vsmt
    and, under KVM, KVM_CAP_PPC_SMT (hw/ppc/spapr.c, spapr_set_vsmt_mode;
    doc/cpu.md).
    """

    def test_smp_threads_from_the_planned_topology(self):
        wanted = request.from_specs(8, {'powerkvm:threads_per_core': '4'}, {})
        power9 = cpu_host.PowerHost(cpu_host.POWER9, 22, 4, 4)
        topology = request.plan(wanted, power9)
        cpu = vconfig.LibvirtConfigGuestCPU()
        cpu.mode, cpu.model = 'custom', 'POWER9'
        cpu.sockets, cpu.cores, cpu.threads = (
            topology.sockets, topology.cores, topology.threads)
        xml = DOMAIN % {'name': base.NAME_PREFIX + 'vsmt',
                        'cpu': cpu.to_xml()}
        conn = libvirt.open(base.URI)
        self.addCleanup(conn.close)
        argv = conn.domainXMLToNative('qemu-argv', xml, 0).split()
        self.addDetail('argv', testtools.content.text_content(' '.join(argv)))
        count, *fields = argv[argv.index('-smp') + 1].split(',')
        smp = dict(field.split('=') for field in fields)
        self.assertEqual(('8', '1', '2', '4'), (
            count, smp['sockets'], smp['cores'], smp['threads']))
        self.assertEqual('POWER9', argv[argv.index('-cpu') + 1])


DOMAIN = '''<domain type='qemu'>
  <name>%(name)s</name><memory unit='MiB'>512</memory><vcpu>8</vcpu>
  <os><type arch='ppc64le' machine='pseries'>hvm</type></os>
  %(cpu)s
  <devices><emulator>/usr/bin/qemu-system-ppc64</emulator></devices>
</domain>'''


class CompatModeGuestTestCase(base.RealHypervisorTestBase):
    """A guest of an (emulated) POWER9 host in POWER8 compatibility mode.

    [powerkvm] cpu_compat_mode = POWER8 on a host emulating POWER9: QEMU
    runs the guest's POWER9 CPU in the POWER8 architected mode, as the
    guest's own kernel reports (arch/powerpc/kernel/setup-common.c prints
    the CPU's name and PVRs; 0xf000004 is the architected 2.07 = POWER8
    PVR), which is what makes it movable to a POWER8.
    """

    def _setup_compute_service(self):
        self.flags(static_generation='POWER9', static_threads_per_core=4,
                   emulated_cpu_model='POWER9', cpu_compat_mode='POWER8',
                   group='powerkvm')
        return super()._setup_compute_service()

    def test_guest_runs_in_power8_mode(self):
        server = self.boot(self.little_endian_linux_image())
        self.assertEqual('ACTIVE', server['status'])
        xml = self.domain_xml(server)
        self.assertEqual('POWER9', xml.findtext('./cpu/model'))
        args = [a.get('value') for a in xml.iterfind(
            './{%s}commandline/{%s}arg' % (QEMU_NS, QEMU_NS))]
        self.assertEqual(['-machine', 'max-cpu-compat=power8'], args)
        self.wait_for_console(server, 'POWERKVM-GUEST-READY')
        self.assertIn('POWER8 (architected) 0x4e', self.console(server))
        self.assertIn(' 0xf000004 ', self.console(server))
        instance = objects.Instance.get_by_uuid(self.ctxt, server['id'])
        self.assertEqual('POWER8',
                         instance.system_metadata['powerkvm_cpu_compat'])
        self._delete_server(server)
        self.assert_nothing_left(server)
