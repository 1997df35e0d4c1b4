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
