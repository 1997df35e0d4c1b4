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

"""What an image's properties say to the endianness detectors.

The properties' readers shared by the host's admission and the scheduler:
an ImageMeta's string properties, the kernel an image names, and the
refusal of an image that asks nova to emulate an architecture.
"""

from nova.image import glance
from nova import utils as nova_utils
from oslo_log import log as logging

from powerkvm_nova import exception

LOG = logging.getLogger(__name__)


def refuse_emulation(image_id, properties):
    """Refuse an image that asks nova to emulate an architecture.

    :raises PowerKVMError: the image sets hw_emulation_architecture
    """
    refusal = emulation_refusal(image_id, properties)
    if refusal:
        raise exception.PowerKVMError(refusal)


def emulation_refusal(image_id, properties):
    """Why a PowerKVM host refuses the image's emulation request, or None.

    nova's libvirt driver builds the domain for hw_emulation_architecture
    rather than hw_architecture (LibvirtDriver._check_emulation_arch), so
    an image could declare one endianness and run as the other. A PowerKVM
    host runs POWER guests natively and emulates nothing per image.
    """
    emulated = properties.get('hw_emulation_architecture')
    if not emulated:
        return None
    return ('image %s sets hw_emulation_architecture=%s; PowerKVM hosts run '
            'POWER guests natively and emulate no architecture: remove the '
            'property and set hw_architecture=ppc64 (big-endian) or ppc64le '
            '(little-endian)' % (image_id, emulated))


def meta_properties(image_meta):
    """The string properties an ImageMeta object carries."""
    return {k: v for k, v in image_meta.properties.obj_to_primitive()[
        'nova_object.data'].items() if isinstance(v, str)}


def instance_image_properties(system_metadata, image_meta=None):
    """The image's own properties: all that nova kept, os_version too.

    nova's API keeps every property of the image an instance boots in its
    system metadata (image_<name>; compute/api.py, _populate_instance_for_
    create), including ones ImageMeta has no field for. For a server booted
    from a volume that image is the volume's image metadata, which has no
    image id to read again from the image service: this is the only full
    record of it, for the scheduler (the build request's instance) and the
    host alike.
    """
    properties = dict(nova_utils.get_image_from_system_metadata(
        system_metadata).get('properties', {}))
    if image_meta is not None:
        for name, value in meta_properties(image_meta).items():
            properties.setdefault(name, value)
    return {k: v for k, v in properties.items() if isinstance(v, str)}


def image_service_properties(context, image_id, properties):
    """An image's properties as the image service has them, os_version too.

    nova's ImageMeta keeps only the properties it has fields for;
    `properties` (those) win. Without the image service's answer, they
    alone.
    """
    try:
        raw = glance.API().get(context, image_id)
    except Exception as e:
        LOG.warning('Image %s properties unavailable (%s); deciding from '
                    'what nova passed', image_id, e)
        return dict(properties)
    return dict(raw.get('properties') or {}, **properties)


# nova's API: an image whose kernel_id is this boots no kernel of its own
# (compute/api.py, _handle_kernel_and_ramdisk).
NO_KERNEL = 'nokernel'


def kernel_of(properties):
    """The kernel image an image's properties name, or None."""
    kernel_id = properties.get('kernel_id')
    return None if kernel_id in (None, '', NO_KERNEL) else kernel_id
