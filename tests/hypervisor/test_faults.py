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

"""Faults during spawn on the real hypervisor: QEMU fails to start, the
image download breaks, the instances file system fills. The server ends in
ERROR with a fault, and nothing is left: no domain, disk, cache file,
reservation or allocation.
"""

import os
import subprocess

import fixtures
from nova.virt.libvirt import imagecache
import psutil
from testtools import content

from tests.hypervisor import base

ENOSPC = 'No space left on device'


class SpawnFaultsBase(base.RealHypervisorTestBase):
    """A compute on the real libvirtd, and what "nothing left" means."""

    def setUp(self):
        super().setUp()
        self.work = self.useFixture(fixtures.TempDir()).path

    def image(self, name, **properties):
        path = os.path.join(self.work, name + '.qcow2')
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', path,
                        '64M'], check=True)
        return self._image(name, 'qcow2', path, hw_architecture='ppc64',
                           **properties)

    def assert_clean(self, server):
        self.assertEqual({}, self.computes[base.HOST].driver.ledger._reserved)
        self.assertEqual({}, self._get_allocations_by_server_uuid(
            server['id']))
        cache = os.path.join(self.instances_path, '_base')
        self.assertEqual([], [f for f in os.listdir(cache)
                              if f.endswith(('.part', '.converted'))]
                         if os.path.isdir(cache) else [])
        self._delete_server(server)
        self.assert_nothing_left(server)


class SpawnFaultsTestCase(SpawnFaultsBase):

    def test_qemu_fails_to_start(self):
        # a machine type this QEMU does not have: libvirt defines the
        # domain, QEMU refuses to start it
        image = self.image('no-such-machine',
                           hw_machine_type='pseries-0.1')
        server = self._create_server(image_uuid=image, networks='none',
                                     expected_state='ERROR')
        self.assertTrue(server['fault']['message'])
        self.assert_clean(server)
        base.record_figure('QEMU fails to start: fault',
                           server['fault']['message'][:100])

    def test_image_download_fails_midway(self):
        image = self.image('cut-off')
        download = self.glance.download

        broken_network = [True]

        def broken(context, image_id, data=None, dst_path=None, **kw):
            if dst_path is None or not broken_network[0]:
                return download(context, image_id, data=data,
                                dst_path=dst_path, **kw)
            with open(dst_path, 'wb') as f:
                f.write(self.glance._imagedata[image_id][:4096])
            raise IOError('connection reset by the image service')
        self.useFixture(fixtures.MockPatchObject(
            self.glance, 'download', side_effect=broken))
        server = self._create_server(image_uuid=image, networks='none',
                                     expected_state='ERROR')
        self.assertTrue(server['fault']['message'])
        self.assert_clean(server)
        base.record_figure('image download fails midway: fault',
                           server['fault']['message'][:100])
        # the next boot of the image downloads it afresh and runs
        broken_network[0] = False
        again = self._create_server(image_uuid=image, networks='none')
        self.assertEqual('ACTIVE', again['status'])
        self._delete_server(again)
        self.assert_nothing_left(again)

    # -- the instances filesystem fills -------------------------------------

    def mount_nearly_full_filesystem(self, path, free):
        """A 4 GiB ext4 over path with only free bytes left, until the end.

        A full disk, not a small one: nova tells placement of its 4 GiB,
        room for the flavor's root disk (a tmpfs of 96 MiB would be 0 GiB,
        and nova's inventory update then fails the build before spawn).
        Its image is sparse, and the filler file is fallocated: it takes
        the filesystem's blocks, not the machine's disk.
        """
        image = os.path.join(self.work, 'instances.ext4')
        subprocess.run(['truncate', '-s', '4G', image], check=True)
        subprocess.run(['mkfs.ext4', '-q', '-F', '-m', '0', '-E',
                        'lazy_itable_init=1,lazy_journal_init=1', image],
                       check=True)
        subprocess.run(['mount', '-o', 'loop', image, path], check=True)
        self.addCleanup(subprocess.run, ['umount', '--lazy', path],
                        check=True)
        filler = os.path.join(path, 'filler')
        subprocess.run(['fallocate', '-l',
                        str(psutil.disk_usage(path).free - free), filler],
                       check=True)
        return filler

    def test_instances_filesystem_fills_during_spawn(self):
        image = self.little_endian_linux_image()
        properties = self.glance.show(None, image)['properties']
        complete = {
            imagecache.get_cache_fname(properties['kernel_id']):
                os.path.getsize(os.path.join(base.GUEST_DIR, 'vmlinux')),
            imagecache.get_cache_fname(properties['ramdisk_id']):
                os.path.getsize(os.path.join(base.GUEST_DIR,
                                             'initramfs.cpio.gz')),
        }
        # Room for the kernel and ramdisk (cached in _base and copied into
        # the instance's directory, 90 MiB), not for the root disk's image
        # (16 MiB raw) as well: its download into _base hits ENOSPC.
        filler = self.mount_nearly_full_filesystem(self.instances_path,
                                                   96 * 2 ** 20)
        server = self._create_server(image_uuid=image, networks='none',
                                     expected_state='ERROR')
        self.addDetail('fault', content.text_content(
            server['fault']['message']))
        # The user's fault says the build found no host; the compute's and
        # the conductor's logs say why.
        self.assertIn('Exhausted all hosts available for retrying build '
                      'failures', server['fault']['message'])
        cause = 'was re-scheduled: [Errno 28] %s' % ENOSPC
        self.assertIn(cause, self.stdlog.logger.output)
        # Cleaned by nova as the build failed, not by the delete: no domain,
        # no instance directory, and in the cache only complete images.
        self.assertNotIn(base.NAME_PREFIX + server['id'],
                         [d.name() for d in self.conn.listAllDomains()])
        self.assertFalse(os.path.exists(self.instance_dir(server)))
        cache = os.path.join(self.instances_path, '_base')
        self.assertEqual(complete, {
            name: os.path.getsize(os.path.join(cache, name))
            for name in os.listdir(cache)})
        self.assert_clean(server)
        base.record_figure('instances filesystem full: fault',
                           server['fault']['message'][:100])
        base.record_figure('instances filesystem full: compute log',
                           cause)
        base.record_figure(
            'instances filesystem full: MiB free before / after',
            '96 / %.1f' % (psutil.disk_usage(self.instances_path).free /
                           2 ** 20))
        # room again: the same image boots
        os.unlink(filler)
        again = self._create_server(image_uuid=image, networks='none')
        self.assertEqual('ACTIVE', again['status'])
        self._delete_server(again)
        self.assert_nothing_left(again)

    # -- libvirtd dies ------------------------------------------------------
