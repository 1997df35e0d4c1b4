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

"""A big-endian Linux guest through nova and PowerKVMDriver.

The guest is tools/build-be-guest.sh's: a ppc64 (big-endian) kernel built
from Debian's Linux source and a static big-endian init, which prints its
`uname -m` and a byte order found at run time on its console, counts its
boots on its disk and answers console pings with its uptime.
"""

import os
import time

from powerkvm_nova.endianness import detectors
from powerkvm_nova.endianness import Endianness
from tests.hypervisor import base
from tests.hypervisor import guest_console
from tools import test_guest

KERNELS = {Endianness.BIG: base.BE_GUEST_DIR,
           Endianness.LITTLE: base.GUEST_DIR}


def disk_mark(count):
    return 'POWERKVM-DISK-WRITE-OK POWERKVM-DISK-MARK count=%d' % count


class BigEndianGuestTestCase(base.RealHypervisorTestBase):

    def uptime(self, server):
        try:
            return guest_console.ping(self.domain(server))
        except guest_console.NoAnswer as e:
            self.fail('%s: %s' % (server['id'], e))

    def boot_and_wait(self, image):
        server = self.boot(image)
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual('ppc64', self.domain_xml(server).find(
            './os/type').get('arch'))
        for line in test_guest.BE_LINES:
            self.wait_for_console(server, line)
        self.wait_for_console(server, 'POWERKVM-GUEST-READY')
        return server

    def test_detectors_read_the_real_kernels(self):
        # the images' own labels absent: the ELF header decides
        for endianness, where in KERNELS.items():
            path = os.path.join(where, 'vmlinux')
            with open(path, 'rb') as kernel:
                head = kernel.read(4096)
            finding = detectors.detect(
                detectors.ImageFacts(image_id=path, properties={},
                                     read_kernel=lambda n, h=head: h[:n]),
                detectors.load(['hw_architecture', 'os_distro',
                                'kernel_elf']))
            self.assertEqual(endianness, finding.endianness, path)
            self.assertEqual('kernel_elf', finding.detector)
        # a disk alone says nothing, and no distribution names it
        finding = detectors.detect(
            detectors.ImageFacts(image_id='disk', properties={}),
            detectors.load(['hw_architecture', 'os_distro', 'kernel_elf']))
        self.assertIsNone(finding)

    def test_unlabelled_image_boots_big_endian_by_its_kernel(self):
        server = self.boot_and_wait(
            self.big_endian_linux_image(labelled=False))
        self._delete_server(server)
        self.assert_nothing_left(server)

    def test_answers_reboots_and_powers_off_cleanly(self):
        posted = time.monotonic()
        server = self.boot_and_wait(self.big_endian_linux_image())
        base.record_figure('BE guest: API create to guest ready (s)',
                           '%.1f' % (time.monotonic() - posted))
        self.wait_for_console(server, disk_mark(1))
        booted = self.uptime(server)
        base.record_figure('BE guest: console', '; '.join(
            test_guest.identity(self.console(server))))

        # a hard reboot boots the same disk again: its count goes on, and
        # the guest's clock starts again (its timebase under TCG runs with
        # the host's clock, so it cannot pass the time since the reboot)
        rebooted_at = time.monotonic()
        server = self.action(server, {'reboot': {'type': 'HARD'}}, 'ACTIVE')
        self.wait_for_console(server, disk_mark(2))
        after = self.uptime(server)
        self.assertLess(after, time.monotonic() - rebooted_at)
        base.record_figure('BE guest: uptime (s) before / after hard reboot',
                           '%.1f / %.1f' % (booted, after))

        # a stop asks the guest (EPOW) and it powers itself off at once:
        # nova does not wait out shutdown_timeout
        self.flags(shutdown_timeout=base.CLEAN_SHUTDOWN_TIMEOUT)
        stopping = time.monotonic()
        server = self.action(server, {'os-stop': None}, 'SHUTOFF')
        stopped = time.monotonic() - stopping
        self.assertIn('POWERKVM-GUEST-POWEROFF', self.console(server))
        self.assertIn('reboot: Power down', self.console(server))
        self.flags(shutdown_timeout=base.SHUTDOWN_TIMEOUT)
        base.record_figure('BE guest: clean stop, API to SHUTOFF (s)',
                           '%.1f' % stopped)
        server = self.action(server, {'os-start': None}, 'ACTIVE')
        self.wait_for_console(server, disk_mark(3))
        self.uptime(server)
        self._delete_server(server)
        self.assert_nothing_left(server)

    def test_snapshot_boots_big_endian_again(self):
        self.keep_uploaded_images()
        server = self.boot_and_wait(self.big_endian_linux_image())
        self.wait_for_console(server, disk_mark(1))
        snapshot_id = self.snapshot(server, 'be-snap')
        snapshot = self.glance.show(None, snapshot_id)
        self.assertEqual('ppc64', snapshot['properties']['hw_architecture'])
        self._delete_server(server)
        self.assert_nothing_left(server)
        # what boots is the snapshot's disk (its count goes on) under the
        # big-endian kernel, which says so from inside
        again = self.boot_and_wait(snapshot_id)
        self.wait_for_console(again, disk_mark(2))
        self.uptime(again)
        self._delete_server(again)
        self.assert_nothing_left(again)
