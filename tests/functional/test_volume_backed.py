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

"""Servers booted from volumes, through nova's volume-backed request path.

nova's API builds such a request's image from the volume's image metadata
(nova/block_device.py, get_image_metadata_from_volume): no image id, and
only the properties ImageMeta has fields for (no os_version). It keeps
every property in the instance's system metadata. The volumes are nova's
CinderFixture's; their image metadata is what Cinder copies from the image
a volume was created from (volume_glance_metadata).
"""

from oslo_utils import uuidutils

from tests.functional import test_endianness


class VolumeBackedTestCase(test_endianness.EndiannessTestBase):

    HOSTS = ('p1', 'p2')

    def volume(self, **image_properties):
        volume_id = uuidutils.generate_uuid()
        self.cinder.volumes[volume_id] = {
            'id': volume_id, 'display_name': 'boot', 'size': 1,
            'bootable': True, 'multiattach': False,
            'availability_zone': 'nova',
            'volume_image_metadata': dict(
                image_id=uuidutils.generate_uuid(), **image_properties)}
        return volume_id

    def boot_volume(self, volume_id, expected_state='ACTIVE'):
        server = self._build_server(image_uuid='', networks='none')
        server['block_device_mapping_v2'] = [{
            'boot_index': 0, 'uuid': volume_id, 'source_type': 'volume',
            'destination_type': 'volume'}]
        server = self.api.post_server({'server': server})
        return self._wait_for_state_change(server, expected_state)

    def test_distribution_label_decides_on_both_sides(self):
        # SLES 11 is big-endian, SLES 12 little-endian (distros.py); with
        # no hw_architecture the scheduler must read os_version as the
        # host does, not assume [powerkvm] default_guest_arch.
        le, be = self.boot('le'), self.boot('be')
        sles11 = self.boot_volume(self.volume(
            os_distro='sles', os_version='11'))
        self.assertEqual(be['OS-EXT-SRV-ATTR:host'],
                         sles11['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('ppc64', self.domain_xml(sles11).find(
            './os/type').get('arch'))
        sles12 = self.boot_volume(self.volume(
            os_distro='sles', os_version='12'))
        self.assertEqual(le['OS-EXT-SRV-ATTR:host'],
                         sles12['OS-EXT-SRV-ATTR:host'])
        self.assertEqual([], [h for h, c in self.colours().items()
                              if len(c) > 1])

    def test_labelled_volume_without_room_says_why(self):
        for host in self.HOSTS:
            self.boot('le', host=host)
        server = self.boot_volume(self.volume(
            os_distro='sles', os_version='11'), expected_state='ERROR')
        self.assertIn('big-endian', self.fault_of(server)['message'])
