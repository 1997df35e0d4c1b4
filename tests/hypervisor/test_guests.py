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

"""Real POWER guests through nova's compute manager and PowerKVMDriver."""

import os
import time

from nova.tests.functional.api import client as api_client

from tests.hypervisor import base


class GuestLifecycleTestCase(base.RealHypervisorTestBase):

    def _assert_pseries(self, server, arch):
        xml = self.domain_xml(server)
        os_type = xml.find('./os/type')
        self.assertEqual(arch, os_type.get('arch'))
        self.assertTrue(os_type.get('machine').startswith('pseries'),
                        os_type.get('machine'))
        # TCG on this host; one thread a core, the emulated POWER model.
        self.assertEqual('qemu', xml.get('type'))
        self.assertEqual('POWER8', xml.findtext('./cpu/model'))
        self.assertEqual('1', xml.find('./cpu/topology').get('threads'))
        return xml

    def _stop_start_reboot_delete(self, server, after_start=None,
                                  after_reboot=None, clean_stop=False):
        if clean_stop:
            # nova asks the guest to power off and waits this long before
            # it pulls the plug: far longer than a guest that answers needs
            self.flags(shutdown_timeout=base.CLEAN_SHUTDOWN_TIMEOUT)
        server = self.action(server, {'os-stop': None}, 'SHUTOFF')
        self.assertFalse(self.domain(server).isActive())
        if clean_stop:
            # the guest's kernel took the request (pseries EPOW, ras.c) and
            # powered itself off; a pulled plug leaves no such line
            console = self.console(server)
            self.assertIn('Power off requested', console)
            self.assertIn('reboot: Power down', console)
            self.flags(shutdown_timeout=base.SHUTDOWN_TIMEOUT)
        server = self.action(server, {'os-start': None}, 'ACTIVE')
        self.assertTrue(self.domain(server).isActive())
        if after_start:
            self.wait_for_console(server, after_start)
        server = self.action(server, {'reboot': {'type': 'HARD'}}, 'ACTIVE')
        self.assertTrue(self.domain(server).isActive())
        if after_reboot:
            self.wait_for_console(server, after_reboot)
        self._delete_server(server)
        self.assert_nothing_left(server)

    def _assert_image_cache_emptied(self):
        # The cached base image is the image cache manager's to remove once
        # no instance uses it; run its pass now instead of a day later.
        self.flags(remove_unused_original_minimum_age_seconds=0,
                   group='image_cache')
        cache = os.path.join(self.instances_path, '_base')
        self.assertTrue(os.listdir(cache))
        self.computes[base.HOST].manager._run_image_cache_manager_pass(
            self.ctxt)
        self.assertEqual([], os.listdir(cache))

    def test_little_endian_linux_guest(self):
        image = self.little_endian_linux_image()
        posted = time.monotonic()
        server = self.boot(image)
        self.assertEqual('ACTIVE', server['status'])
        self._assert_pseries(server, 'ppc64le')
        self.wait_for_console(server, 'POWERKVM-GUEST-BOOTED arch=ppc64le')
        # The guest wrote its root disk (a qcow2 overlay) and read it back.
        self.wait_for_console(
            server, 'POWERKVM-DISK-WRITE-OK POWERKVM-DISK-MARK count=1')
        self.wait_for_console(server, 'POWERKVM-GUEST-READY')
        boot = time.monotonic() - posted
        base.record_figure('LE guest: API create to guest ready (s)',
                           '%.1f' % boot)
        # What it wrote survives a stop/start and a reboot: the count goes
        # on from the disk.
        self._stop_start_reboot_delete(
            server,
            after_start='POWERKVM-DISK-WRITE-OK POWERKVM-DISK-MARK count=2',
            after_reboot='POWERKVM-DISK-WRITE-OK POWERKVM-DISK-MARK count=3',
            clean_stop=True)
        self._assert_image_cache_emptied()

    def test_rescue_image_without_arch_rescues_as_the_guest(self):
        server = self.boot(self.big_endian_image())
        rescue = self._image('blank-no-arch', 'raw',
                             os.path.join(base.GUEST_DIR, 'disk.raw'))
        server = self.action(
            server, {'rescue': {'rescue_image_ref': rescue}}, 'RESCUE')
        # Without the driver the rescue guest would take this host's arch
        # (x86_64) and fail to boot on pseries.
        self._assert_pseries(server, 'ppc64')
        self.wait_for_console(server, 'SLOF')
        server = self.action(server, {'unrescue': None}, 'ACTIVE')
        self._assert_pseries(server, 'ppc64')
        self._delete_server(server)
        self.assert_nothing_left(server)

    def test_rescue_image_of_the_other_endianness_refused(self):
        server = self.boot(self.big_endian_image())
        rescue = self._image('le-rescue', 'raw',
                             os.path.join(base.GUEST_DIR, 'disk.raw'),
                             hw_architecture='ppc64le')
        # nova runs rescue synchronously here (its test RPC turns casts into
        # calls), so the refusal comes back as the API's 400.
        e = self.assertRaises(
            api_client.OpenStackApiException, self.api.post_server_action,
            server['id'], {'rescue': {'rescue_image_ref': rescue}})
        self.assertEqual(400, e.response.status_code)
        self.assertIn('little-endian rescue image for a big-endian guest',
                      str(e))
        self.assertIn('the guest runs again', str(e))
        self.assertIn('openstack server set --state active', str(e))
        # nova's compute marks any failed rescue ERROR, after it powered
        # the guest off; the driver started the guest again, untouched.
        server = self._wait_for_state_change(server, 'ERROR')
        self._assert_pseries(server, 'ppc64')
        self.assertTrue(self.domain(server).isActive())
        self.assertFalse(os.path.exists(os.path.join(
            self.instance_dir(server), 'disk.rescue')))
        self._delete_server(server)
        self.assert_nothing_left(server)


class EndiannessRuleTestCase(base.RealHypervisorTestBase):
    """The host's own admission, on the real libvirtd."""

    def test_big_endian_refused_while_little_endian_runs(self):
        le = self.boot(self.little_endian_linux_image())
        self.wait_for_console(le, 'POWERKVM-GUEST-READY')
        before = sorted(d.name() for d in self.conn.listAllDomains())

        be = self._create_server(image_uuid=self.big_endian_image(),
                                 networks='none', expected_state='ERROR')
        # Refused by the host before any domain or disk existed for it.
        self.assertEqual(before,
                         sorted(d.name() for d in self.conn.listAllDomains()))
        self.assertFalse(os.path.exists(self.instance_dir(be)))
        driver = self.computes[base.HOST].driver
        self.assertEqual({}, driver.ledger._reserved)
        self.assertEqual('ppc64le', self.domain_xml(le).find(
            './os/type').get('arch'))
        # The domain carries its endianness for a restarted compute.
        self.assertIn('endianness="little-endian"',
                      self.domain(le).XMLDesc(0))

        self._delete_server(le)
        self._delete_server(be)
        be = self.boot(self.big_endian_image())
        self.assertEqual('ACTIVE', be['status'])
        self.wait_for_console(be, 'SLOF')
        self._delete_server(be)
        self.assert_nothing_left(be)
