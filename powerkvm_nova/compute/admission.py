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

"""A guest's endianness, decided on the host from its instance and image.

Gathers what the detectors look at (the image's own properties, which nova
keeps in the instance's system metadata, and a bounded reader of its kernel
image) and applies [powerkvm] unknown_endianness.
"""

from oslo_log import log as logging

from powerkvm_nova.compute import image_head
from powerkvm_nova.endianness import detectors
from powerkvm_nova.endianness import Endianness
from powerkvm_nova.endianness import evidence
from powerkvm_nova.endianness import guest_arch
from powerkvm_nova import exception

LOG = logging.getLogger(__name__)


class Admission:
    """Decides a guest's endianness from its image."""

    def __init__(self, detector_list, unknown, default_arch):
        self.detectors = detector_list
        self.unknown = unknown
        self.default = Endianness.from_arch(default_arch)

    @classmethod
    def from_config(cls, conf):
        return cls(detectors.load(conf.endianness_detectors),
                   conf.unknown_endianness, conf.default_guest_arch)

    def endianness(self, context, instance, image_meta):
        """The Endianness of the guest an instance's image makes.

        :raises PowerKVMError: a non-POWER or mislabelled image, or an
            unknown one under unknown_endianness = refuse
        """
        image_id = image_meta.id if 'id' in image_meta else \
            instance.image_ref
        # The kernel nova boots: the one its API resolved for the instance
        # (none for 'nokernel'), not the raw image property.
        return self.of_image(context, image_id or 'volume',
                             evidence.instance_image_properties(
                                 instance.system_metadata, image_meta),
                             kernel_id=instance.kernel_id or None)

    def of_image(self, context, image_id, properties, default=None,
                 kernel_id=None):
        """The Endianness an image's properties (and kernel) say.

        :param default: for an image no detector can tell, instead of
            [powerkvm] unknown_endianness
        :param kernel_id: the kernel image the guest boots, if any
        """
        evidence.refuse_emulation(image_id, properties)
        declared = properties.get('hw_architecture')
        if declared:
            guest_arch.resolve(declared, None)
        facts = detectors.ImageFacts(
            image_id, properties, kernel_reader(context, kernel_id))
        finding = detectors.detect(facts, self.detectors)
        if finding is not None:
            LOG.debug('Image %s: %s', image_id, finding)
            return finding.endianness
        if default is not None:
            return default
        if self.unknown == 'refuse':
            raise exception.PowerKVMError(
                'the endianness of image %s is unknown to the detectors '
                '(%s): set hw_architecture=ppc64 (big-endian) or ppc64le '
                '(little-endian) on the image, or os_distro and os_version'
                % (image_id, ', '.join(d.name for d in self.detectors)))
        LOG.info('Endianness of image %s unknown; assuming %s '
                 '([powerkvm] default_guest_arch).', image_id,
                 self.default.value)
        return self.default


def kernel_reader(context, kernel_id):
    """read(n): the first n bytes of image kernel_id; None without one.

    A kernel that cannot be read (gone from the image service, no access)
    reads as nothing: that detector then cannot say, and the others and
    [powerkvm] unknown_endianness decide.
    """
    if not kernel_id or kernel_id == evidence.NO_KERNEL:
        return None

    def read(n):
        try:
            return image_head.read(context, kernel_id, n)
        except Exception as e:
            LOG.warning('Kernel image %s unreadable (%s); its ELF header '
                        'says nothing of the guest\'s endianness',
                        kernel_id, e)
            return None
    return read
