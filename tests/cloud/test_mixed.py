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

"""An x86 compute beside the POWER ones, every PowerKVM scheduler class
enabled for the whole cloud (doc/endianness.md, "Clouds with other
architectures").

kvm-x86 runs nova's own LibvirtDriver; its libvirtd has only the x86
emulators (tools/testbed.py). The guests boot a blank disk: SeaBIOS finds
nothing to boot and waits, and the domain runs, which is what nova's
ACTIVE means. They take no port: the host has no network agent.
"""

from tests.cloud import base
from tests.cloud import servers
from tools.cloud import layout


class MixedCloudTestCase(servers.ServerTestCase):

    def blank_image(self, name, **properties):
        argv = ['--disk-format', 'raw', '--container-format', 'bare',
                '--file', self.blank_disk()]
        for key, value in properties.items():
            argv += ['--property', '%s=%s' % (key, value)]
        return self.image(argv, name)

    def boot_portless(self, name, image):
        name = self.prefix + name
        self.addCleanup(self.delete_named, name)
        server = self.openstack(
            '--os-compute-api-version', servers.HOST_VERSION, 'server',
            'create', '--flavor', self.flavor, '--image', image, '--nic',
            'none', name)
        return self.wait_for_server(server['id'])

    def assert_gone_everywhere(self, server):
        self.openstack('server', 'delete', '--wait', server['id'],
                       parse=False, timeout=base.BOOT_TIMEOUT)
        self.assertEqual({}, servers.leftovers(server['id']))

    def test_x86_server_runs_on_the_x86_host(self):
        server = self.boot_portless('x86', self.blank_image(
            'x86', hw_architecture='x86_64'))
        self.assertEqual(layout.X86_COMPUTE, self.host_of(server))
        self.assert_gone_everywhere(server)

    def test_emulation_request_runs_on_the_x86_host(self):
        # nova's emulation feature (COMPUTE_ARCH_X86_64 the prefilter's
        # trait): the PowerKVM filter leaves the request to the other
        # hosts instead of refusing it whole
        server = self.boot_portless('x86-emulated', self.blank_image(
            'x86-emulated', hw_architecture='x86_64',
            hw_emulation_architecture='x86_64'))
        self.assertEqual(layout.X86_COMPUTE, self.host_of(server))
        self.assert_gone_everywhere(server)

    def test_power_servers_keep_to_the_power_hosts(self):
        le = self.create_server('le', 'le', wait=())
        be = self.create_server('be', 'be', wait=())
        hosts = {self.host_of(self.wait_for_server(s['id']))
                 for s in (le, be)}
        self.assertEqual(2, len(hosts))
        self.assertLessEqual(hosts, set(layout.COMPUTES))
