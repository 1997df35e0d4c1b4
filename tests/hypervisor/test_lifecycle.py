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

"""The endianness rule along a real guest's life (no scheduler filter).

The host's own admission keeps the rule while nova makes a running guest's
domain again (hard reboot, start) with a build of the other endianness
raced into that window, and decides a rebuild before nova touches the
guest. Guests are real QEMU pseries machines under TCG.
"""

import os
import time

import fixtures
from nova.virt.libvirt import driver as libvirt_driver

from powerkvm_nova.endianness import Endianness
from tests.hypervisor import base

LIBVIRT = libvirt_driver.LibvirtDriver


class EndiannessLifecycleTestCase(base.RealHypervisorTestBase):

    # nova's API answers at once and the compute works on, as in a cloud:
    # a refused build shows as its server's state, not as an API error.
    CAST_AS_CALL = False

    def post(self, image_id):
        body = self._build_server(image_uuid=image_id, networks='none')
        return self.api.post_server({'server': body})

    def settled(self, server):
        """The server once it is ACTIVE, ERROR or SHUTOFF and idle."""
        deadline = time.monotonic() + self.BOOT_TIMEOUT
        while time.monotonic() < deadline:
            server = self.api.get_server(server['id'])
            if server['status'] in ('ACTIVE', 'ERROR', 'SHUTOFF') and \
                    not server.get('OS-EXT-STS:task_state'):
                return server
            time.sleep(0.5)
        self.fail('server %s still %s after %ss' % (
            server['id'], server['status'], self.BOOT_TIMEOUT))

    def blank_image(self, arch):
        """A blank disk of arch: the guest runs SLOF firmware only."""
        return self._image('%s-blank' % arch, 'raw',
                           os.path.join(base.GUEST_DIR, 'disk.raw'),
                           hw_architecture=arch)

    def arch(self, server):
        return self.domain_xml(server).find('./os/type').get('arch')

    def test_hard_reboot_and_start_keep_the_host(self):
        le = self.settled(self.post(self.little_endian_linux_image()))
        self.assertEqual('ACTIVE', le['status'])
        self.wait_for_console(le, 'POWERKVM-DISK-MARK count=1')
        be_image = self.blank_image('ppc64')
        raced = []
        create = LIBVIRT._create_guest_with_network

        def define_again(driver, context, xml, instance, *args, **kwargs):
            # nova has undefined the guest's domain and not yet defined it
            # again: the host has no domain of it now
            if instance.uuid == le['id']:
                self.assertEqual(
                    [], [d for d in self.conn.listAllDomains()
                         if d.UUIDString() == le['id']])
                raced.append(self.settled(self.post(be_image)))
            return create(driver, context, xml, instance, *args, **kwargs)

        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.'
            '_create_guest_with_network', define_again))

        self.api.post_server_action(le['id'], {'reboot': {'type': 'HARD'}})
        le = self.settled(le)
        self.wait_for_console(le, 'POWERKVM-DISK-MARK count=2')
        self.api.post_server_action(le['id'], {'os-stop': None})
        le = self.settled(le)
        self.assertEqual('SHUTOFF', le['status'])
        self.api.post_server_action(le['id'], {'os-start': None})
        le = self.settled(le)
        self.wait_for_console(le, 'POWERKVM-DISK-MARK count=3')

        self.assertEqual(2, len(raced))
        for server in raced:
            self.assertEqual('ERROR', server['status'])
            event = self._wait_for_instance_action_event(
                server, 'create', 'powerkvm_endianness_admission', 'Error')
            self.assertIn('runs 1 little-endian guest', event['details'])
        self.assertEqual('ACTIVE', le['status'])
        self.assertEqual('ppc64le', self.arch(le))
        # libvirt never held a big-endian domain beside it
        self.assertEqual([le['id']],
                         [d.UUIDString() for d in self.conn.listAllDomains()
                          if d.name().startswith(base.NAME_PREFIX)])
        # the guest's hold is its domain again, no claim
        book = self.computes[base.HOST].driver.ledger
        self.assertEqual({Endianness.LITTLE: 1}, book.counts())
        self.assertEqual(([], {}), (book.restarting(), book._reserved))

    def test_rebuild(self):
        le = self.settled(self.post(self.little_endian_linux_image()))
        neighbour = self.settled(self.post(self.blank_image('ppc64le')))
        self.wait_for_console(le, 'POWERKVM-GUEST-READY')
        running = self.domain(le).ID()
        be_image = self.blank_image('ppc64')

        # refused while its neighbour keeps the host little-endian; the
        # guest runs on, never stopped (the same QEMU process)
        self.api.post_server_action(le['id'],
                                    {'rebuild': {'imageRef': be_image}})
        event = self._wait_for_instance_action_event(
            le, 'rebuild', 'compute_rebuild_instance', 'Error')
        self.assertIn('refused before the guest was touched',
                      event['details'])
        le = self.settled(le)
        self.assertEqual('ACTIVE', le['status'])
        self.assertEqual(running, self.domain(le).ID())
        self.assertEqual('ppc64le', self.arch(le))

        # taken once it is the host's only guest
        self._delete_server(neighbour)
        self.api.post_server_action(le['id'],
                                    {'rebuild': {'imageRef': be_image}})
        self.wait_for_console(le, 'SLOF')
        le = self.settled(le)
        self.assertEqual('ACTIVE', le['status'])
        self.assertEqual('ppc64', self.arch(le))
        self._delete_server(le)
        self.assert_nothing_left(le)
