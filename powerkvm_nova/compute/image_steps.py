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

"""The step that inspects an image's head before nova fetches it.

Runs inside nova's image cache, under its per-image lock and only when the
image is not cached yet: one bounded read per image per host, before the
one full download that the concurrent boots of that image share.
"""

import nova.conf
from nova import exception as nova_exception
from nova.image import glance
from nova.virt.libvirt import utils as libvirt_utils
from oslo_log import log as logging

from powerkvm_nova.compute import image_head
from powerkvm_nova import exception
from powerkvm_nova.images import inspection

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


class ImageSteps:
    """Overrides LibvirtDriver's image cache fetch, and nothing else."""

    def _say_unchecked_fetches(self):
        """Say at start-up which fetches the head inspection cannot see.

        With images_type = rbd nova clones images in Ceph and downloads
        only when it cannot, from inside its own closure
        (clone_fallback_to_fetch, LibvirtDriver._create_and_inject_local_root):
        the inspection, which wraps nova's fetch_image, does not run there.
        A clone is used as raw (nova clones only raw images), so no header
        in it is interpreted; nova's own checks of a download still run.
        """
        if CONF.libvirt.images_type == 'rbd':
            LOG.warning('PowerKVM: [libvirt] images_type = rbd: the image '
                        'head inspection does not run on images nova clones '
                        'in Ceph, nor on the download nova falls back to '
                        'when a clone is impossible; nova\'s own format '
                        'checks of that download still run.')

    def _try_fetch_image_cache(self, image, fetch_func, context, filename,
                               image_id, instance, size,
                               fallback_from_host=None):
        if fetch_func is libvirt_utils.fetch_image:
            fetch_func = _inspected(fetch_func, size)
        return super()._try_fetch_image_cache(
            image, fetch_func, context, filename, image_id, instance, size,
            fallback_from_host=fallback_from_host)


def _inspected(fetch_func, root_bytes):
    """fetch_func, after the image's head passed inspection."""

    def fetch(context, target, image_id, trusted_certs=None):
        meta = glance.API().get(context, image_id)
        data = image_head.read(context, image_id, inspection.HEAD_BYTES)
        complete = len(data) < inspection.HEAD_BYTES or \
            meta.get('size') == len(data)
        try:
            inspection.inspect_head(data, meta.get('disk_format'), complete,
                                    root_bytes=root_bytes)
        except exception.PowerKVMError as e:
            LOG.warning('PowerKVM: image %s refused: %s', image_id, e)
            raise nova_exception.ImageUnacceptable(image_id=image_id,
                                                   reason=str(e))
        return fetch_func(context, target, image_id,
                          trusted_certs=trusted_certs)
    return fetch
