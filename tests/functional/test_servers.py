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

"""Servers through nova's REST API onto PowerKVM hosts."""

from tests.fixtures import power_libvirt
from tests.functional import base


class PowerServersTestCase(base.PowerKVMTestBase):

    def _assert_power_domain(self, server, arch, model_host):
        xml = self.domain_xml(server)
        os_type = xml.find('./os/type')
        self.assertEqual(arch, os_type.get('arch'))
        self.assertTrue(os_type.get('machine').startswith('pseries'),
                        os_type.get('machine'))
        # Both endiannesses run natively under KVM on a POWER host.
        self.assertEqual('kvm', xml.get('type'))
        cpu = xml.find('./cpu')
        self.assertEqual('host-model', cpu.get('mode'))
        topology = cpu.find('./topology')
        vcpus = int(xml.findtext('./vcpu'))
        self.assertEqual(vcpus, int(topology.get('sockets')) *
                         int(topology.get('cores')) *
                         int(topology.get('threads')))
        hypervisor = self.admin_api.api_get(
            '/os-hypervisors/detail').body['hypervisors']
        self.assertIn(server['OS-EXT-SRV-ATTR:host'],
                      [h['service']['host'] for h in hypervisor])
        self.assertEqual(model_host, server['OS-EXT-SRV-ATTR:host'])
        return xml

    def test_little_endian_server_on_power8(self):
        self.start_power_compute('p8', power_libvirt.POWER8)
        server = self.boot('le')
        self.assertEqual('ACTIVE', server['status'])
        self._assert_power_domain(server, 'ppc64le', 'p8')

    def test_big_endian_server_on_power8(self):
        # Upstream gives ppc64 no machine type and emulates it with TCG on
        # a ppc64le host; PowerKVM runs it as a pseries KVM guest.
        self.start_power_compute('p8', power_libvirt.POWER8)
        server = self.boot('be')
        self.assertEqual('ACTIVE', server['status'])
        self._assert_power_domain(server, 'ppc64', 'p8')

    def test_power9_host(self):
        self.start_power_compute('p9', power_libvirt.POWER9)
        server = self.boot('le')
        self._assert_power_domain(server, 'ppc64le', 'p9')

    def test_several_computes_report_power(self):
        self.start_power_compute('p8', power_libvirt.POWER8)
        self.start_power_compute('p9', power_libvirt.POWER9)
        servers = [self.boot('le') for _ in range(4)]
        self.assertEqual({'ACTIVE'}, {s['status'] for s in servers})
        self.assertEqual({'p8', 'p9'},
                         {s['OS-EXT-SRV-ATTR:host'] for s in servers})
        for host, spec in (('p8', power_libvirt.POWER8),
                           ('p9', power_libvirt.POWER9)):
            traits = self._get_provider_traits(self.compute_rp_uuids[host])
            self.assertIn('HW_ARCH_PPC64LE', traits)
            self.assertNotIn('HW_ARCH_X86_64', traits)
            inventory = self._get_provider_inventory(
                self.compute_rp_uuids[host])
            # every hardware thread (doc/cpu.md): 2 cores x 8 or x 4
            self.assertEqual(spec.cpus, inventory['VCPU']['total'])
        hypervisors = self.admin_api.api_get(
            '/os-hypervisors/detail').body['hypervisors']
        self.assertEqual({'QEMU'}, {h['hypervisor_type'] for h in hypervisors})

    def test_image_metadata_prefilter_places_both_endiannesses(self):
        # nova's image metadata prefilter asks placement for the trait
        # HW_ARCH_<hw_architecture> of the request's image (nova/scheduler/
        # request_filter.py, transform_image_metadata), and nova's libvirt
        # driver reports only HW_ARCH_<host arch> (LibvirtDriver.
        # _get_cpu_arch_traits). A POWER host runs ppc64 and ppc64le
        # guests natively, the guest choosing its byte order (MSR[LE]).
        self.flags(image_metadata_prefilter=True, group='scheduler')
        self.start_power_compute('p8', power_libvirt.POWER8)
        self.start_power_compute('p9', power_libvirt.POWER9)
        be, le = self.boot('be'), self.boot('le')
        self.assertEqual('ppc64', self.domain_xml(be).find(
            './os/type').get('arch'))
        self.assertEqual('ppc64le', self.domain_xml(le).find(
            './os/type').get('arch'))
        for host in ('p8', 'p9'):
            traits = self._get_provider_traits(self.compute_rp_uuids[host])
            self.assertIn('HW_ARCH_PPC64', traits)
            self.assertIn('HW_ARCH_PPC64LE', traits)
        # and what the prefilter asks still excludes what POWER cannot run
        x86 = self.boot(self._power_image('x86_64'), expected_state='ERROR')
        self.assertIn('No valid host', x86['fault']['message'])

    def test_architecture_in_capitals(self):
        # nova's API and scheduler take hw_architecture in any case
        # (objects/fields.py, Architecture.canonicalize lowercases it);
        # nova keeps the image's own spelling in the instance's system
        # metadata, which the host reads.
        self.start_power_compute('p8', power_libvirt.POWER8)
        for spelling, arch in (('PPC64LE', 'ppc64le'), ('PPC64', 'ppc64')):
            server = self.boot(self._power_image(spelling))
            self.assertEqual(arch, self.domain_xml(server).find(
                './os/type').get('arch'))
            self._delete_server(server)

    def test_non_power_image_finds_no_host(self):
        self.start_power_compute('p8', power_libvirt.POWER8)
        x86 = self._power_image('x86_64')
        server = self.boot(x86, expected_state='ERROR')
        self.assertIn('No valid host', server['fault']['message'])

    def test_stop_start_reboot_delete(self):
        self.start_power_compute('p8', power_libvirt.POWER8)
        server = self.boot('be')
        conn = self.computes['p8'].driver._host.get_connection()
        self.api.post_server_action(server['id'], {'os-stop': None})
        self._wait_for_state_change(server, 'SHUTOFF')
        self.api.post_server_action(server['id'], {'os-start': None})
        self._wait_for_state_change(server, 'ACTIVE')
        self.api.post_server_action(server['id'],
                                    {'reboot': {'type': 'HARD'}})
        server = self._wait_for_state_change(server, 'ACTIVE')
        # a hard reboot regenerates the XML from the instance's records:
        # it must still be a big-endian pseries guest
        xml = self.domain_xml(server)
        self.assertEqual('ppc64', xml.find('./os/type').get('arch'))
        self._delete_server(server)
        self._wait_until_deleted(server)
        self.assertEqual([], conn.listAllDomains())

    def test_image_without_arch_gets_default_and_keeps_it(self):
        self.start_power_compute('p8', power_libvirt.POWER8)
        server = self.boot(self._power_image(None))
        self.assertEqual('ppc64le',
                         self.domain_xml(server).find('./os/type').get('arch'))
        self.flags(default_guest_arch='ppc64', group='powerkvm')
        # The arch was recorded at spawn: a changed default does not turn
        # an existing guest into another endianness.
        server = self.action(server, {'reboot': {'type': 'HARD'}}, 'ACTIVE')
        self.assertEqual('ppc64le',
                         self.domain_xml(server).find('./os/type').get('arch'))

    def action(self, server, body, state):
        self.api.post_server_action(server['id'], body)
        return self._wait_for_state_change(server, state)
