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

"""What an image says of its endianness, through nova's REST API.

The distribution table answers only for releases that shipped in one
endianness. The kernel an endianness detector reads is the one nova boots:
nova's API resolves an image's kernel_id for the instance; 'nokernel'
means none (compute/api.py, _handle_kernel_and_ramdisk). A kernel that
cannot be read leaves the kernel_elf detector silent: the other detectors
and [powerkvm] unknown_endianness decide, and the build goes on.
"""

import copy
import io
import struct

from nova import exception as nova_exception

from tests.fixtures import images
from tests.functional import test_endianness


def ppc64_elf(little):
    """The head of a 64-bit PowerPC ELF kernel (ELF spec, e_ident)."""
    order = '<' if little else '>'
    ident = b'\x7fELF' + bytes([2, 1 if little else 2, 1, 0]) + bytes(8)
    return (ident + struct.pack(order + 'HHI', 2, 21, 1)).ljust(4096, b'\0')


class ImageTestBase(test_endianness.EndiannessTestBase):

    def setUp(self):
        # an image no detector can tell is refused, not assumed: what the
        # detectors say shows (read when the computes start)
        self.flags(unknown_endianness='refuse', group='powerkvm')
        super().setUp()

    def kernel(self, little):
        image = images.record('vmlinux', 'aki', 4096)
        self.glance.create(None, copy.deepcopy(image),
                           data=io.BytesIO(ppc64_elf(little)))
        return image['id']


class KernelImageTestCase(ImageTestBase):

    HOSTS = ('p1',)

    def test_nokernel_boots(self):
        image = self._power_image('ppc64le', kernel_id='nokernel')
        server = self.boot(image)
        self.assertEqual('ppc64le',
                         self.domain_xml(server).find('./os/type').get('arch'))

    def test_kernel_tells_without_properties(self):
        image = self._power_image(None, kernel_id=self.kernel(little=False))
        server = self.boot(image)
        self.assertEqual('ppc64',
                         self.domain_xml(server).find('./os/type').get('arch'))

    def test_unreadable_kernel_leaves_the_others_to_decide(self):
        kernel = self.kernel(little=False)
        image = self._power_image(None, kernel_id=kernel, os_distro='sles',
                                  os_version='11')
        download = self.glance.download

        def gone(context, image_id, *args, **kwargs):
            # deleted from the image service after nova's API checked it
            if image_id == kernel:
                raise nova_exception.ImageNotFound(image_id=image_id)
            return download(context, image_id, *args, **kwargs)

        self.stub_out('nova.tests.fixtures.GlanceFixture.download',
                      lambda fixture, *a, **kw: gone(*a, **kw))
        server = self.boot(image, expected_state='ACTIVE')
        self.assertEqual('ppc64',
                         self.domain_xml(server).find('./os/type').get('arch'))


class DistroTableTestCase(ImageTestBase):
    """RHEL 7.5 is neither endianness by the distribution table.

    RHEL 7.1 and later shipped for both (doc/endianness.md, "Sources"):
    os_distro and os_version cannot say which a guest is.
    """

    HOSTS = ('p1', 'p2')

    def test_rhel_7_5_is_not_taken_for_big_endian(self):
        self.boot('be', host='p1')
        rhel = self._power_image(None, os_distro='rhel', os_version='7.5')
        server = self.boot(rhel, expected_state='ERROR')
        self.assertIn('endianness of image %s is unknown' % rhel,
                      server['fault']['message'])

    def test_rhel_7_5_kernel_decides(self):
        self.boot('be', host='p1')
        rhel = self._power_image(None, os_distro='rhel', os_version='7.5',
                                 kernel_id=self.kernel(little=True))
        server = self.boot(rhel)
        self.assertEqual('p2', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('ppc64le',
                         self.domain_xml(server).find('./os/type').get('arch'))
        self.assert_never_mixed()
