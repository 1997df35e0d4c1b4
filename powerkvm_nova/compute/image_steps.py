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

"""The step that inspects an image's head before nova fetches or clones it.

Runs inside nova's image cache, under its per-image lock. With a local
image backend (qcow2, raw, flat) it runs only when the image is not cached
yet: one bounded read per image per host, before the one full download that
the concurrent boots of that image share. With images_type = rbd nova
clones the image in Ceph for each disk, or downloads it when it cannot
clone (LibvirtDriver._create_and_inject_local_root, clone_fallback_to_fetch):
the same check runs before either, once per image and flavor root size per
process (an image's data never changes once it is active in Glance).
"""

import threading

import nova.conf
from nova import exception as nova_exception
from nova.image import glance
from oslo_log import log as logging

from powerkvm_nova.compute import image_head
from powerkvm_nova import exception
from powerkvm_nova.images import inspection

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

# (image id, root disk bytes) whose head passed, most recent last: a clone
# per boot would otherwise read the head again for each boot of the image.
_PASSED_KEPT = 1024


class ImageSteps:
    """Overrides LibvirtDriver's image cache fetch, and nothing else."""

    def _try_fetch_image_cache(self, image, fetch_func, context, filename,
                               image_id, instance, size,
                               fallback_from_host=None):
        # Every fetch nova passes here brings image_id into a disk: nova's
        # fetch_image, or the closure that clones the image in Ceph and
        # downloads it only when it cannot.
        return super()._try_fetch_image_cache(
            image, _inspected(fetch_func, size), context, filename,
            image_id, instance, size, fallback_from_host=fallback_from_host)


class _Passed:
    """The heads that passed inspection, the most recent _PASSED_KEPT."""

    def __init__(self, kept):
        self.kept = kept
        self._keys = {}
        self._lock = threading.Lock()

    def __contains__(self, key):
        with self._lock:
            return key in self._keys

    def add(self, key):
        with self._lock:
            self._keys.pop(key, None)
            self._keys[key] = True
            while len(self._keys) > self.kept:
                del self._keys[next(iter(self._keys))]


_passed = _Passed(_PASSED_KEPT)


def _inspected(fetch_func, root_bytes):
    """fetch_func, after the image's head passed inspection."""

    def fetch(context, target, image_id, trusted_certs=None):
        if (image_id, root_bytes) not in _passed:
            _inspect(context, image_id, root_bytes)
            _passed.add((image_id, root_bytes))
        return fetch_func(context, target, image_id,
                          trusted_certs=trusted_certs)
    return fetch


def _inspect(context, image_id, root_bytes):
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
