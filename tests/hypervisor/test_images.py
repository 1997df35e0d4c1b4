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

"""qcow2 images on the real hypervisor: overlays, hostile images, snapshots,
one download per image."""

import collections
import json
import os
import subprocess

import fixtures

from tests.hypervisor import base


def qemu_img_info(path):
    return json.loads(subprocess.run(
        ['qemu-img', 'info', '--output=json', '-U', path], check=True,
        capture_output=True, text=True).stdout)


class ImagesTestCase(base.RealHypervisorTestBase):

    def setUp(self):
        super().setUp()
        self.work = self.useFixture(fixtures.TempDir()).path
        # Every download from the image service: image id -> [full|head]
        self.downloads = collections.defaultdict(list)
        download = self.glance.download

        def counted(context, image_id, data=None, dst_path=None, **kw):
            self.downloads[image_id].append('full' if dst_path else 'head')
            return download(context, image_id, data=data, dst_path=dst_path,
                            **kw)
        self.useFixture(fixtures.MockPatchObject(
            self.glance, 'download', side_effect=counted))

    def qemu_img(self, *args):
        subprocess.run(('qemu-img',) + args, check=True, capture_output=True)

    def crafted(self, name, disk_format, path, **properties):
        return self._image(name, disk_format, path, **properties)

    def cache_files(self):
        cache = os.path.join(self.instances_path, '_base')
        return sorted(os.listdir(cache)) if os.path.isdir(cache) else []

    # -- copy-on-write ------------------------------------------------------

    def linux_qcow2_image(self, **properties):
        """The LE test guest with its root disk as a qcow2 image."""
        path = os.path.join(self.work, 'disk.qcow2')
        self.qemu_img('convert', '-O', 'qcow2',
                      os.path.join(base.GUEST_DIR, 'disk.raw'), path)
        kernel = self._image('ppc64el-vmlinux', 'aki',
                             os.path.join(base.GUEST_DIR, 'vmlinux'))
        ramdisk = self._image('ppc64el-initramfs', 'ari', os.path.join(
            base.GUEST_DIR, 'initramfs.cpio.gz'))
        return self._image('ppc64el-linux-qcow2', 'qcow2', path,
                           kernel_id=kernel, ramdisk_id=ramdisk,
                           **properties)

    def test_qcow2_image_boots_as_an_overlay_on_the_cached_base(self):
        image = self.linux_qcow2_image(hw_architecture='ppc64le')
        server = self.boot(image)
        self.assertEqual('ACTIVE', server['status'])
        disk = os.path.join(self.instance_dir(server), 'disk')
        info = qemu_img_info(disk)
        self.assertEqual('qcow2', info['format'])
        backing = info['full-backing-filename']
        self.assertEqual(os.path.join(self.instances_path, '_base'),
                         os.path.dirname(backing))
        base_size = os.path.getsize(backing)
        # thin: the overlay holds only what the guest wrote
        base.record_figure('qcow2 overlay at ACTIVE / cached base (bytes)',
                           '%d / %d' % (info['actual-size'], base_size))
        self.assertLess(info['actual-size'], 2 * 1024 * 1024)
        self.assertLess(info['actual-size'], base_size / 4)
        self.wait_for_console(server, 'POWERKVM-GUEST-READY')
        # one bounded head read, one download
        self.assertEqual(['head', 'full'], self.downloads[image])
        self._delete_server(server)
        self.assert_nothing_left(server)

    # -- hostile images -----------------------------------------------------

    def hostile_images(self):
        """(name, disk_format, path, what the fault must say)"""
        w = self.work
        self.qemu_img('create', '-f', 'qcow2', '-u', '-F', 'raw', '-b',
                      '/etc/shadow', os.path.join(w, 'backing.qcow2'), '1M')
        self.qemu_img('create', '-f', 'qcow2', '-o', 'data_file=%s'
                      % os.path.join(w, 'data.raw'),
                      os.path.join(w, 'datafile.qcow2'), '1M')
        with open(os.path.join(w, 'flat.vmdk'), 'w') as f:
            f.write('# Disk DescriptorFile\nversion=1\nCID=fffffffe\n'
                    'parentCID=ffffffff\ncreateType="monolithicFlat"\n\n'
                    '# Extent description\nRW 2048 FLAT "/etc/shadow" 0\n')
        self.qemu_img('create', '-f', 'qcow2',
                      os.path.join(w, 'really-qcow2.raw'), '1M')
        self.qemu_img('create', '-f', 'qcow2', os.path.join(w, 'big.qcow2'),
                      '4G')
        return [
            ('backing', 'qcow2', 'backing.qcow2',
             'its qcow2 header names a backing file'),
            ('data-file', 'qcow2', 'datafile.qcow2',
             'its qcow2 header names an external data file'),
            ('vmdk-flat', 'vmdk', 'flat.vmdk',
             'its VMDK descriptor is not a single monolithic sparse extent'),
            ('mislabelled', 'raw', 'really-qcow2.raw',
             'its content is qcow2 but its disk_format says raw'),
            ('too-big', 'qcow2', 'big.qcow2',
             "its virtual size (4294967296 bytes) exceeds the flavor's "
             "root disk (1073741824 bytes)"),
            ('unknown', 'ploop', 'big.qcow2',
             "disk_format 'ploop' is not a disk format"),
        ]

    def test_hostile_images_refused_by_name_and_nothing_left(self):
        flavor = self._create_flavor(vcpu=1, memory_mb=512, disk=1,
                                     ephemeral=0)
        refused = 0
        for name, disk_format, path, reason in self.hostile_images():
            image = self.crafted(name, disk_format,
                                 os.path.join(self.work, path),
                                 hw_architecture='ppc64')
            server = self._create_server(image_uuid=image, flavor_id=flavor,
                                         networks='none',
                                         expected_state='ERROR')
            self.assertIn(reason, server['fault']['message'], name)
            self.assertIn('Image %s is unacceptable' % image,
                          server['fault']['message'], name)
            # only the head was read; nothing reached the host's disk
            self.assertEqual(['head'], self.downloads[image], name)
            self.assertEqual([], self.cache_files(), name)
            self.assertFalse(os.path.exists(self.instance_dir(server)), name)
            self.assertEqual(
                {}, self.computes[base.HOST].driver.ledger._reserved, name)
            self._delete_server(server)
            self.assert_nothing_left(server)
            refused += 1
        base.record_figure('hostile images refused by name, nothing left',
                           '%d of 6' % refused)

    # -- one download per image per host ----------------------------------

    def test_concurrent_boots_download_once(self):
        path = os.path.join(self.work, 'blank.qcow2')
        self.qemu_img('create', '-f', 'qcow2', path, '64M')
        image = self._image('blank-be', 'qcow2', path,
                            hw_architecture='ppc64')
        body = self._build_server(image_uuid=image, networks='none')
        body['min_count'] = body['max_count'] = 3
        self.api.post_server({'server': body})
        servers = [s for s in self.api.get_servers()
                   if s['image']['id'] == image]
        self.assertEqual(3, len(servers))
        for server in servers:
            self._wait_for_state_change(server, 'ACTIVE')
        self.assertEqual(['head', 'full'], self.downloads[image])
        base.record_figure('3 concurrent boots of one image: downloads',
                           ' + '.join(self.downloads[image]))
        for server in servers:
            self._delete_server(server)
            self.assert_nothing_left(server)

    # -- snapshots ----------------------------------------------------------

    def test_snapshot_carries_endianness(self):
        self.keep_uploaded_images()
        # known only by os_distro (and its kernel's ELF header)
        image = self.linux_qcow2_image(os_distro='debian')
        server = self.boot(image)
        self.wait_for_console(server, 'POWERKVM-GUEST-READY')
        snapshot_id = self.snapshot(server, 'snap')
        snapshot = self.glance.show(None, snapshot_id)
        self.assertEqual('qcow2', snapshot['disk_format'])
        self.assertEqual('ppc64le',
                         snapshot['properties']['hw_architecture'])
        self.assertEqual('debian', snapshot['properties']['os_distro'])
        self._delete_server(server)
        self.assert_nothing_left(server)
        # the snapshot boots as what it is, with no relabelling
        again = self.boot(snapshot_id)
        self.assertEqual('ppc64le', self.domain_xml(again).find(
            './os/type').get('arch'))
        self.wait_for_console(again, 'POWERKVM-GUEST-READY')
        self._delete_server(again)
        self.assert_nothing_left(again)
