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

"""Refuse a hostile or mislabelled image from its first bytes, by name.

nova inspects every image it downloads (oslo.utils' format inspector, then
qemu-img) and refuses an unsafe one, but only after the whole download and
with a generic fault ("Image does not pass safety check", "Image content
does not match disk_format"). Inspecting the first HEAD_BYTES of the image
first refuses it before anything is written on the host, and says what is
wrong. nova's own checks stay on and run after this one.

Only what the head can decide for certain is decided here: formats whose
headers sit at the start (qcow2, vmdk, vdi, qed, vhdx, luks, gpt, iso);
anything else is left to nova's full inspection.
"""

import io

from oslo_utils.imageutils import format_inspector

from powerkvm_nova import exception

# Every header region the prefix-decidable inspectors read lies in the
# first 64 KiB (qcow2 512 B, VMDK descriptor, ISO 32 KiB + descriptors);
# 1 MiB leaves a margin and is a bounded read whatever the image's size.
HEAD_BYTES = 1024 * 1024
# nova's ami formats carry a kernel or ramdisk, or raw content.
_AMI = ('ami', 'aki', 'ari')
# Formats the inspector can only recognise from the end of the file.
_NEEDS_END = ('vhd',)

_CHECKS = {
    'backing_file': 'its qcow2 header names a backing file, which would '
                    'make QEMU open a file on the host',
    'data_file': 'its qcow2 header names an external data file, which '
                 'would make QEMU open a file on the host',
    'unknown_features': 'its qcow2 header sets feature bits QEMU may not '
                        'handle safely',
    'descriptor': 'its VMDK descriptor is not a single monolithic sparse '
                  'extent (flat or multi-file VMDKs open host files)',
    'banned': 'its format is never accepted',
}


class UnsafeImage(exception.PowerKVMError):
    """The image is refused; the message says what is wrong with it."""


def _describe(failures):
    return '; '.join('%s (%s)' % (_CHECKS.get(name, name), failure)
                     for name, failure in sorted(failures.items()))


def _hybrid_iso(formats):
    """The ISO inspector of an iso+gpt match, else None.

    A bootable-as-block ISO has a GPT in front of its volume; nova takes
    such an image as the ISO (nova/virt/images.py, get_image_format), and
    so does this check. Any other double match stays refused.
    """
    if {str(f) for f in formats or ()} == {'iso', 'gpt'}:
        return next(f for f in formats if str(f) == 'iso')
    return None


def inspect_head(head, disk_format, complete, root_bytes=None):
    """Refuse what the image's first bytes show to be unsafe or mislabelled.

    :param head: the first bytes of the image (at most HEAD_BYTES)
    :param disk_format: what the image service says it is
    :param complete: head is the whole image
    :param root_bytes: the flavor's root disk size, or None (no limit)
    :raises UnsafeImage: naming what is wrong
    """
    if disk_format not in _AMI and \
            format_inspector.get_inspector(disk_format) is None:
        raise UnsafeImage(
            'disk_format %r is not a disk format a PowerKVM host can '
            'inspect safely (use qcow2 or raw)' % disk_format)
    wrapper = format_inspector.InspectWrapper(io.BytesIO(head))
    try:
        while wrapper.read(65536):
            pass
    finally:
        wrapper.close()
    try:
        found = wrapper.format
    except format_inspector.ImageFormatError as e:
        found = _hybrid_iso(wrapper.formats)
        if found is None:
            raise UnsafeImage('its content matches several formats at once '
                              '(%s): refused as a disguised image' % e)
    name = str(found)
    if name == 'raw' and not complete and disk_format in _NEEDS_END:
        return
    if disk_format not in _AMI and name != disk_format and \
            not (disk_format == 'raw' and name == 'gpt'):
        raise UnsafeImage(
            'its content is %s but its disk_format says %s: fix the '
            'image\'s disk_format or its content' % (name, disk_format))
    try:
        found.safety_check()
    except format_inspector.SafetyCheckFailed as e:
        raise UnsafeImage('refused: %s' % _describe(e.failures))
    if root_bytes and name != 'raw':
        size = found.virtual_size
        if size and size > root_bytes:
            raise UnsafeImage(
                'its virtual size (%d bytes) exceeds the flavor\'s root '
                'disk (%d bytes): use a flavor with a larger disk'
                % (size, root_bytes))
