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

"""A cloud with x86 hosts beside PowerKVM ones, the PowerKVM scheduler
classes enabled for the whole of it (doc/endianness.md, "Clouds with
other architectures").

The x86 compute runs nova's own LibvirtDriver over nova's own fake x86_64
libvirt host; the PowerKVM computes run PowerKVMDriver.
"""

import fixtures

from powerkvm_nova.scheduler import endianness as scheduler_endianness
from tests.functional import test_endianness


class MixedCloudTestCase(test_endianness.EndiannessTestBase):

    ADDITIONAL_FILTERS = ['PowerKVMCpuFilter', 'PowerKVMEndiannessFilter']
    HOSTS = ('p1', 'p2')

    def setUp(self):
        super().setUp()
        self.start_x86_compute('x1')
        self.images['x86'] = self._power_image(
            'x86_64', os_distro='ubuntu', os_version='22.04')
        # cell database reads of guests' endianness, by instance UUID
        self.read = []
        load = scheduler_endianness._instances._load

        def counted(cell_uuid, uuids):
            self.read.extend(uuids)
            return load(cell_uuid, uuids)
        self.useFixture(fixtures.MockPatchObject(
            scheduler_endianness._instances, '_load', side_effect=counted))

    def test_x86_guests_go_to_x86_hosts_unjudged(self):
        x86 = [self.boot('x86') for _ in range(2)]
        self.assertEqual({'x1'}, {s['OS-EXT-SRV-ATTR:host'] for s in x86})
        # POWER guests keep to the PowerKVM hosts, and keep the rule
        le, be = self.boot('le'), self.boot('be')
        self.assertEqual(
            2, len({le['OS-EXT-SRV-ATTR:host'], be['OS-EXT-SRV-ATTR:host']}))
        self.assertNotIn('x1', (le['OS-EXT-SRV-ATTR:host'],
                                be['OS-EXT-SRV-ATTR:host']))
        # nothing of the x86 host's guests was read for their endianness
        self.assertEqual(set(), {s['id'] for s in x86} & set(self.read))
        colours = self.colours(self.HOSTS)
        self.assertEqual([], [h for h, c in colours.items() if len(c) > 1])

    def test_emulation_request_goes_to_an_x86_host(self):
        # nova's emulation feature (LibvirtDriver._check_emulation_arch):
        # the domain is built for hw_emulation_architecture. A PowerKVM
        # host emulates nothing per image; the x86 host takes it.
        image = self._power_image('x86_64', hw_emulation_architecture='x86_64')
        server = self.boot(image)
        self.assertEqual('x1', server['OS-EXT-SRV-ATTR:host'])

    def test_emulation_request_without_other_hosts_says_why(self):
        self.computes['x1'].stop()
        self.admin_api.put_service_force_down(
            self.admin_api.get_services(host='x1',
                                        binary='nova-compute')[0]['id'],
            True)
        image = self._power_image('ppc64le',
                                  hw_emulation_architecture='ppc64le')
        server = self.boot(image, expected_state='ERROR')
        self.assertIn('hw_emulation_architecture',
                      self.fault_of(server)['message'])

    def test_power_hosts_still_take_images_without_arch(self):
        # in a mixed cloud an image with no hw_architecture can land on
        # either kind; on a PowerKVM host it is judged as the default arch
        self.flags(image_properties_default_architecture='ppc64le',
                   group='filter_scheduler')
        be = self.boot('be')
        plain = self.boot(self._power_image(None))
        self.assertIn(plain['OS-EXT-SRV-ATTR:host'], ('p1', 'p2'))
        self.assertNotEqual(be['OS-EXT-SRV-ATTR:host'],
                            plain['OS-EXT-SRV-ATTR:host'])
