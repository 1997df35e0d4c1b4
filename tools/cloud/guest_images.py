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

"""The test guests, public in the cloud's image service, uploaded once.

The little-endian Linux test guest (tools/build-test-guest.sh) and the
big-endian one (tools/build-be-guest.sh), each a kernel, an initramfs and a
disk the guest writes its boot count to.
"""

import os

from tools.cloud import control
from tools import test_guest

# name: (the build's OUTDIR, hw_architecture)
GUESTS = {'le': ('pkvm-ppc64el-linux', test_guest.DIR, 'ppc64le'),
          'be': ('pkvm-ppc64-linux', test_guest.BE_DIR, 'ppc64')}


def ensure():
    """{'le': image id, 'be': image id}, uploading what the cloud lacks."""
    cloud = control.connection()
    known = {i.name: i.id for i in cloud.image.images()}
    for name, where, arch in GUESTS.values():
        if name not in known:
            kernel = _upload(cloud, name + '-vmlinux', where, 'vmlinux',
                             'aki')
            ramdisk = _upload(cloud, name + '-initramfs', where,
                              'initramfs.cpio.gz', 'ari')
            known[name] = _upload(cloud, name, where, 'disk.raw', 'raw',
                                  hw_architecture=arch, kernel_id=kernel,
                                  ramdisk_id=ramdisk)
    return {key: known[name] for key, (name, _, _) in GUESTS.items()}


def _upload(cloud, name, where, file_name, disk_format, **properties):
    container = disk_format if disk_format in ('aki', 'ari') else 'bare'
    image = cloud.create_image(
        name, filename=os.path.join(where, file_name),
        disk_format=disk_format, container_format=container, wait=True,
        disable_vendor_agent=False, meta=properties,
        # every project boots them (tempest's own, made for its tests)
        visibility='public')
    return image.id
