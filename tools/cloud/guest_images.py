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

The little-endian Linux test guest (tools/build-test-guest.sh) and, for
big-endian, a blank disk declared ppc64: it boots SLOF firmware and stays
there, which is all a host's endianness needs of it.
"""

import os

from tools.cloud import control
from tools import test_guest

LE = 'pkvm-ppc64el-linux'
BE = 'pkvm-ppc64-blank'


def ensure():
    """{'le': image id, 'be': image id}, uploading what the cloud lacks."""
    cloud = control.connection()
    known = {i.name: i.id for i in cloud.image.images()}
    if LE not in known:
        kernel = _upload(cloud, 'pkvm-ppc64el-vmlinux', 'vmlinux', 'aki')
        ramdisk = _upload(cloud, 'pkvm-ppc64el-initramfs',
                          'initramfs.cpio.gz', 'ari')
        known[LE] = _upload(cloud, LE, 'disk.raw', 'raw',
                            hw_architecture='ppc64le', kernel_id=kernel,
                            ramdisk_id=ramdisk)
    if BE not in known:
        known[BE] = _upload(cloud, BE, 'disk.raw', 'raw',
                            hw_architecture='ppc64')
    return {'le': known[LE], 'be': known[BE]}


def _upload(cloud, name, file_name, disk_format, **properties):
    container = disk_format if disk_format in ('aki', 'ari') else 'bare'
    image = cloud.create_image(
        name, filename=os.path.join(test_guest.DIR, file_name),
        disk_format=disk_format, container_format=container, wait=True,
        disable_vendor_agent=False, meta=properties,
        # every project boots them (tempest's own, made for its tests)
        visibility='public')
    return image.id
