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

"""Block migration of a qcow2 guest through nova, between two real hosts.

Each host keeps its guests on its own storage and runs its own nova-compute
(tests.hypervisor.host_computes). A running little-endian Linux guest, its
disk a qcow2 overlay on the host's cached base image, moves from one host to
the other through nova's API with block_migration 'auto': nova finds no
shared storage, the destination fetches the base image and makes an empty
overlay on it, and libvirt copies the overlay and the memory. The guest goes
on counting on the destination and never boots again.
"""

import json
import os
import subprocess

import libvirt_qemu

from powerkvm_nova.endianness import Endianness
from tests.hypervisor import host_computes
from tests.hypervisor import two_hosts

SOURCE, DEST = two_hosts.SOURCE, two_hosts.DEST
# Half way into the flavor's 1 GiB root disk, past the image's 16 MiB.
MARK_OFFSET = '512M'
LITTLE = Endianness.LITTLE.value


class BlockMigrationTestBase(host_computes.HostComputesTestBase):

    STORAGE = 'local'

    def on_host(self, host, path):
        """Where the root namespace sees host's path in instances_path."""
        relative = os.path.relpath(path, self.bed.instances_path)
        return os.path.join(self.bed.host_instances_dir(host), relative)

    def disk_holds_mark(self, host, server):
        """Whether the guest's disk file on host holds the pattern."""
        # what QEMU holds in memory of the qcow2 metadata, on the file
        self.monitor_io(host, server, 'flush')
        disk = os.path.join(self.bed.instances_path, server['id'], 'disk')
        # in the host: the overlay names its base by the host's path
        read = self.bed.run(host, [
            'qemu-io', '-r', '-U', '-c',
            'read -P 0x5a %s 64k' % MARK_OFFSET, disk],
            capture_output=True, text=True, check=False)
        # it reads the bytes either way, and fails on another pattern
        self.assertIn('read 65536/65536 bytes', read.stdout, read.stderr)
        return read.returncode == 0

    def monitor_io(self, host, server, command):
        """A qemu-io command on the guest's disk, in its QEMU."""
        dom = self.domain_on(host, server)
        blocks = json.loads(libvirt_qemu.qemuMonitorCommand(
            dom, json.dumps({'execute': 'query-block'}), 0))['return']
        # through the guest's own device, which shares writes with no one
        devices = [b['qdev'] for b in blocks
                   if 'virtio-disk0' in b.get('qdev', '')]
        self.assertEqual(1, len(devices), blocks)
        output = libvirt_qemu.qemuMonitorCommand(
            dom, 'qemu-io -d %s "%s"' % (devices[0], command),
            libvirt_qemu.VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP)
        # the command's own output goes to QEMU's log, errors come here
        self.assertEqual('', output.strip())

    @staticmethod
    def qemu_img_info(path):
        return json.loads(subprocess.run(
            ['qemu-img', 'info', '-U', '--output=json', path], check=True,
            capture_output=True, text=True).stdout)


class BlockMigrationTestCase(BlockMigrationTestBase):

    def test_qcow2_guest_block_migrates_and_keeps_running(self):
        server, _ = self.boot_running_guest()
        source_disk = os.path.join(self.instance_dir_on(SOURCE, server),
                                   'disk')
        overlay = self.qemu_img_info(source_disk)
        self.assertEqual('qcow2', overlay['format'])
        base_image = overlay['full-backing-filename']
        self.assertEqual(os.path.join(self.bed.instances_path, '_base'),
                         os.path.dirname(base_image))
        # storage of its own: the other host has neither the guest's
        # directory nor its base image
        self.assertFalse(os.path.exists(self.instance_dir_on(DEST, server)))
        self.assertFalse(os.path.exists(self.on_host(DEST, base_image)))
        # what the guest's disk holds only on its source: a pattern written
        # through its QEMU into the overlay, where the guest never looks
        self.assertFalse(self.disk_holds_mark(SOURCE, server))
        self.monitor_io(SOURCE, server, 'write -P 0x5a %s 64k' % MARK_OFFSET)
        self.assertTrue(self.disk_holds_mark(SOURCE, server))
        before = self.uptime(SOURCE, server)

        took = self.live_migrate_and_wait(server, DEST)

        job = self.assert_moved(server)
        # the same guest answers, later on, never booted again
        after = self.assert_alive_on(DEST, server, before)
        # its console on the destination is a new file, from the move on
        self.assertNotIn(two_hosts.BOOTED, self.console(server))
        # libvirt copied the disk as well as the memory: the pattern is
        # on the destination (the source drives the disk copy, so only
        # its job, gone with its domain, counted the bytes)
        self.assertTrue(self.disk_holds_mark(DEST, server))
        # the destination made the same overlay on its own copy of the base
        dest_disk = os.path.join(self.instance_dir_on(DEST, server), 'disk')
        moved = self.qemu_img_info(dest_disk)
        self.assertEqual('qcow2', moved['format'])
        self.assertEqual(base_image, moved['full-backing-filename'])
        self.assertTrue(os.path.isfile(self.on_host(DEST, base_image)))
        # the source keeps its image cache, not the guest
        self.assertFalse(os.path.exists(self.instance_dir_on(SOURCE, server)))
        self.assert_allocated_on(server, DEST)
        # the guest's endianness moved with it
        self.wait_for_endianness({SOURCE: '', DEST: LITTLE})
        self.record_migration('block migration', took, job)
        print('block migrated in %.1f s; guest uptime %.1f s before, %.1f s '
              'after' % (took, before, after))


class BlockMigrationRollbackTestCase(BlockMigrationTestBase):

    # slow enough to be caught in flight: 512 MiB at 4 MiB/s
    COMPUTE_OPTIONS = {'libvirt': {'live_migration_bandwidth': 4}}

    def test_destination_libvirtd_killed_mid_block_migration(self):
        server, _ = self.boot_running_guest()
        migration = self.live_migrate_and_kill_destination(server)
        # the guest runs on, on its source, with its disk; the destination
        # has no domain, no disk (the image cache pre_live_migration filled
        # may stay, as any cached image), and no claim once its periodic
        # task has run
        server = self.assert_rolled_back(server)
        self.assertTrue(os.path.isfile(os.path.join(
            self.instance_dir_on(SOURCE, server), 'disk')))
        self.assertFalse(os.path.exists(self.instance_dir_on(DEST, server)),
                         os.listdir(self.bed.host_instances_dir(DEST)))
        self.wait_for_endianness({SOURCE: LITTLE, DEST: ''})
        print('block migration %s; server %s on %s, guest running'
              % (migration['status'], server['status'], SOURCE))
