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

"""libvirtd killed in the middle of a spawn, back at once or only after
nova gave up: the server ends in ERROR, nothing is left (or nova's own
cleanup of deleted instances' domains removes it), and the compute works
on once libvirtd is back.
"""

import os
import signal
import subprocess
import time

import fixtures
import libvirt
from nova import context as nova_context
from nova.virt.libvirt import guest as libvirt_guest
import psutil
from testtools import content

from powerkvm_nova.endianness import Endianness
from powerkvm_nova import exception
from tests.hypervisor import base
from tests.hypervisor import test_faults

# The machine's own libvirtd (qemu:///system), as `libvirtd -d` writes it;
# the testbed's libvirtds run in mount namespaces of their own.
LIBVIRTD_PIDFILE = '/run/libvirtd.pid'


def root_libvirtd_pid():
    """The pid of this machine's libvirtd, None when it is not running."""
    try:
        with open(LIBVIRTD_PIDFILE) as f:
            proc = psutil.Process(int(f.read().strip()))
        ours = (os.readlink('/proc/%d/ns/mnt' % proc.pid) ==
                os.readlink('/proc/self/ns/mnt'))
        if (ours and proc.name() == 'libvirtd' and
                proc.status() != psutil.STATUS_ZOMBIE):
            return proc.pid
    except (OSError, ValueError, psutil.Error):
        pass
    return None


class LibvirtdFaultsTestCase(test_faults.SpawnFaultsBase):

    def kill_libvirtd(self):
        """SIGKILL this machine's libvirtd, as a crash; its QEMUs live on."""
        pid = root_libvirtd_pid()
        if pid is None:
            raise RuntimeError('libvirtd is not running')
        os.kill(pid, signal.SIGKILL)
        self._wait_for(lambda: root_libvirtd_pid() is None,
                       'libvirtd (pid %d) to exit' % pid)

    def start_libvirtd(self):
        """Start this machine's libvirtd unless it runs; wait for it."""
        if root_libvirtd_pid() is None:
            subprocess.run(['libvirtd', '-d'], check=True)

        def answers():
            try:
                libvirt.open(base.URI).close()
                return True
            except libvirt.libvirtError:
                return False
        self._wait_for(answers, 'libvirtd to answer at %s' % base.URI)

    @staticmethod
    def _wait_for(predicate, what, timeout=60):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise RuntimeError('timed out waiting for %s' % what)
            time.sleep(0.1)

    def reconnect(self):
        """A connection of the test's own to the libvirtd now running."""
        self.conn = libvirt.open(base.URI)
        self.addCleanup(self.conn.close)

    def crash_libvirtd_at_start(self, restart):
        """Kill libvirtd when nova starts the guest it has just defined.

        Only the first start; restart: start libvirtd again before the
        start call returns its error to nova. What happened, in the dict
        returned.
        """
        launch = libvirt_guest.Guest.launch
        crash = {}

        def crash_first(guest, pause=False):
            if crash:
                return launch(guest, pause=pause)
            crash['defined'] = guest.uuid in [
                d.UUIDString() for d in self.conn.listAllDomains()]
            crash['killed'] = time.monotonic()
            self.kill_libvirtd()
            try:
                return launch(guest, pause=pause)
            except libvirt.libvirtError as e:
                # the start's own error first, then its handler's
                crash['errors'] = []
                error = e
                while error is not None:
                    crash['errors'].insert(0, str(error))
                    error = error.__context__
                raise
            finally:
                if restart:
                    self.start_libvirtd()
                    crash['down'] = time.monotonic() - crash['killed']
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.guest.Guest.launch', crash_first))
        return crash

    def service_switches(self, driver):
        """What nova-compute does with its libvirt connection events.

        The harness runs no libvirt event threads, but nova queues its
        connection events (lost, back) all the same: run_events() runs the
        queued ones as nova's connection event thread would, and returns
        the service's switches, [(enabled, reason)], since the last run.
        """
        switches = []
        set_host_enabled = driver._set_host_enabled

        def recorded(*args):
            switches.append(args)
            return set_host_enabled(*args)
        self.useFixture(fixtures.MockPatchObject(
            driver, '_set_host_enabled', side_effect=recorded))

        def run_events():
            queue = driver._host._conn_event_handler_queue
            while not queue.empty():
                driver._host._dispatch_conn_event()
            done = list(switches)
            del switches[:]
            return done
        run_events()  # the service's start
        return run_events

    def compute_service(self):
        return self.admin_api.get_services(
            host=base.HOST, binary='nova-compute')[0]

    def assert_service_enabled_again(self, switches):
        self.assertEqual([(False, 'Connection to libvirt lost'),
                          (True, None)], switches)
        service = self.compute_service()
        self.assertEqual(('enabled', 'up', None),
                         (service['status'], service['state'],
                          service['disabled_reason']))

    def test_libvirtd_restarts_between_define_and_start(self):
        # libvirtd crashes as nova starts the guest it has just defined,
        # and is back (as systemd restarts it) before nova cleans up.
        self.addCleanup(self.start_libvirtd)
        image = self.little_endian_linux_image()
        driver = self.computes[base.HOST].driver
        run_events = self.service_switches(driver)
        crash = self.crash_libvirtd_at_start(restart=True)
        server = self._create_server(image_uuid=image, networks='none',
                                     expected_state='ERROR')
        self.reconnect()
        self.addDetail('crash', content.text_content(repr(crash)))
        self.addDetail('fault', content.text_content(
            server['fault']['message']))
        self.assertTrue(crash['defined'])
        self.assertIn('Exhausted all hosts available for retrying build '
                      'failures', server['fault']['message'])
        # nova's cleanup of the failed start reconnected and undefined the
        # domain; the build was rescheduled (here: to no other host)
        self.assertNotIn(base.NAME_PREFIX + server['id'],
                         [d.name() for d in self.conn.listAllDomains()])
        self.assertFalse(os.path.exists(self.instance_dir(server)))
        driver.ledger.resync()
        self.assertIsNone(driver.ledger.holds())
        self.assert_service_enabled_again(run_events())
        self.assert_clean(server)
        base.record_figure('libvirtd restarts mid-spawn: fault',
                           server['fault']['message'][:100])
        base.record_figure('libvirtd restarts mid-spawn: start error',
                           crash['errors'][0][:100])
        base.record_figure('libvirtd restarts mid-spawn: s down',
                           '%.1f' % crash['down'])
        # the compute keeps working
        again = self._create_server(image_uuid=image, networks='none')
        self.assertEqual('ACTIVE', again['status'])
        self._delete_server(again)
        self.assert_nothing_left(again)

    def test_libvirtd_down_through_a_failed_spawn(self):
        # libvirtd crashes as nova starts the guest it has just defined,
        # and stays down until the build has failed: nova cannot undefine
        # the domain.
        self.addCleanup(self.start_libvirtd)
        image = self.little_endian_linux_image()
        compute = self.computes[base.HOST]
        driver = compute.driver
        run_events = self.service_switches(driver)
        crash = self.crash_libvirtd_at_start(restart=False)
        server = self._create_server(image_uuid=image, networks='none',
                                     expected_state='ERROR')
        self.start_libvirtd()
        down = time.monotonic() - crash['killed']
        self.reconnect()
        self.addDetail('crash', content.text_content(repr(crash)))
        self.addDetail('fault', content.text_content(
            server['fault']['message']))
        self.assertTrue(crash['defined'])
        # nova found the hypervisor gone while cleaning up ("not
        # rescheduling"), then again while dropping its resource claim,
        # which reschedules the build after all (here: to no other host)
        log = self.stdlog.logger.output
        self.assertIn('Could not clean up failed build, not rescheduling. '
                      'Error: Connection to the hypervisor is broken', log)
        self.assertIn('Exhausted all hosts available for retrying build '
                      'failures', server['fault']['message'])
        self.assertIsNone(server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual({}, self._get_allocations_by_server_uuid(
            server['id']))
        self.assertEqual({}, driver.ledger._reserved)
        cache = os.path.join(self.instances_path, '_base')
        self.assertEqual([], [f for f in os.listdir(cache)
                              if f.endswith(('.part', '.converted'))])
        # Left: the domain, defined and shut off; its disks went with the
        # instance directory, before nova tried to undefine it.
        dom = self.conn.lookupByUUIDString(server['id'])
        self.assertEqual((False, True), (bool(dom.isActive()),
                                         bool(dom.isPersistent())))
        self.assertFalse(os.path.exists(self.instance_dir(server)))
        # The hypervisor is the ledger's record: the leftover counts, and
        # holds the host for its endianness meanwhile.
        driver.ledger.resync()
        self.assertEqual(Endianness.LITTLE, driver.ledger.holds())
        self.assertRaises(exception.PowerKVMError, driver.ledger.check,
                          'another-guest', Endianness.BIG)
        self.assert_service_enabled_again(run_events())
        # The server is on no host: its delete is the API's alone, and the
        # domain stays until nova-compute's periodic reaps the domains of
        # deleted instances ([DEFAULT] running_deleted_instance_action =
        # reap, every running_deleted_instance_poll_interval).
        self._delete_server(server)
        self.assertFalse(self.conn.lookupByUUIDString(server['id']).isActive())
        driver.ledger.resync()
        self.assertEqual(Endianness.LITTLE, driver.ledger.holds())
        with nova_context.target_cell(
                self.ctxt,
                self.host_mappings[base.HOST].cell_mapping) as cctxt:
            compute.manager._cleanup_running_deleted_instances(cctxt)
        self.assert_nothing_left(server)
        driver.ledger.resync()
        self.assertIsNone(driver.ledger.holds())
        base.record_figure('libvirtd down through a failed spawn: fault',
                           server['fault']['message'][:100])
        base.record_figure('libvirtd down through a failed spawn: left',
                           'a shut-off domain, until deleted and reaped')
        base.record_figure('libvirtd down through a failed spawn: s down',
                           '%.1f' % down)
        # the compute keeps working
        again = self._create_server(image_uuid=image, networks='none')
        self.assertEqual('ACTIVE', again['status'])
        self._delete_server(again)
        self.assert_nothing_left(again)
