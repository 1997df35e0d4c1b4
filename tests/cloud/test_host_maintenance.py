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

"""An operator's work on hosts that run servers: evacuating the servers of
a host that failed, draining a host before its maintenance. The servers'
disks are cinder volumes in Ceph, which every host reaches."""

from tests.cloud import base
from tests.cloud import mix_watch
from tests.cloud import servers
from tests.cloud import volumes
from tools.cloud import computes
from tools.cloud import procs
from tools import test_guest

# layout.COMPUTES: a POWER8 in whole-core mode, one in split-core mode, a
# POWER9
P8, P8S, P9 = 'pkvm-p8', 'pkvm-p8s', 'pkvm-p9'
# 'compute service set --down/--up' (forced_down)
FORCE_DOWN_VERSION = '2.11'
# the events of a server's actions have their 'details' (the fault's
# message) from 2.84
EVENT_DETAILS_VERSION = '2.84'
# what the endianness filter says when no host can take a guest
# (powerkvm_nova/scheduler/filters.py)
RULE = 'a host runs guests of one endianness only'


class HostMaintenanceTestCase(volumes.VolumeTestCase):

    def service(self, host, *argv, version=FORCE_DOWN_VERSION):
        """'compute service set' of host's nova-compute."""
        self.openstack(*(['--os-compute-api-version', version, 'compute',
                          'service', 'set'] + list(argv) +
                         [host, 'nova-compute']), parse=False)

    def on(self, host):
        """The ids of the servers nova has on host."""
        return {s['ID'] for s in self.openstack(
            'server', 'list', '--all-projects', '--host', host)}

    def last_event_details(self, server_id):
        """The fault of the server's latest action, as its events say."""
        action = self.openstack(
            '--os-compute-api-version', EVENT_DETAILS_VERSION, 'server',
            'event', 'list', server_id, '--long')[0]
        shown = self.openstack(
            '--os-compute-api-version', EVENT_DETAILS_VERSION, 'server',
            'event', 'show', server_id, action['Request ID'])
        return '; '.join(e['details'] for e in shown['events']
                         if e.get('details'))


class EvacuateTestCase(HostMaintenanceTestCase):
    """A host fails; the admin rebuilds its servers elsewhere."""

    def power_cut(self, host):
        """host as after a power cut: nova-compute gone, every guest off.

        After the test the host is back: forced up, nova-compute started.
        """
        procs.kill('nova-compute-%s' % host)
        self.addCleanup(self.recover, host)
        for domain in servers.domains(host):
            servers.virsh(host, 'destroy', domain)

    def recover(self, host):
        """The host's nova-compute started, then its service forced up.

        nova forces up no host with evacuations its nova-compute has not
        cleaned up after at start-up (its 'done' migrations): until then
        the API answers 400.
        """
        since = computes.start(host)    # once: this is a cleanup too
        refused = []

        def forced_up():
            try:
                self.service(host, '--up')
            except base.CommandFailed as e:
                refused[:] = [e]
                return False
            return True

        self.poll(forced_up, base.BOOT_TIMEOUT, lambda _: (
            '%s not forced up: %s' % (host, refused[0])), interval=5)
        computes.wait_for_report(host, since)

    def test_a_server_of_a_volume_is_evacuated_off_a_failed_host(self):
        server = self.server_of_volume('evacuee', P9, '--image',
                                       self.images['le'],
                                       '--boot-from-volume', '1')
        server = self.wait_for_server(server['id'])
        self.wait_for_console(server, servers.BOOTED)
        disk, = self.volumes_of(server)

        self.power_cut(P9)
        self.assert_open_on(disk)
        # nova refuses to evacuate off a host whose service it has up;
        # the admin who knows it failed forces it down at once
        self.service(P9, '--down')
        # the scheduler chooses: either empty POWER8. (The client's own
        # --wait waits on after the server is ACTIVE again.)
        self.openstack('--os-compute-api-version', servers.HOST_VERSION,
                       'server', 'evacuate', server['id'], parse=False)
        self.poll(lambda: self.conn.compute.get_server(server['id'])
                  .compute_host != P9, base.BOOT_TIMEOUT,
                  lambda _: 'server %s still on %s' % (server['id'], P9))
        server = self.wait_for_server(server['id'])
        there = self.host_of(server)
        self.assertIn(there, (P8, P8S))
        # the same disk, now opened by QEMU there; the guest boots from it
        self.assertEqual([disk], self.volumes_of(server))
        self.assert_open_on(disk, there)
        self.wait_for_console(server, servers.BOOTED)
        self.assert_answers_on_its_network(server)

        # the host back: its nova-compute deletes what it had of the
        # server (nova's _destroy_evacuated_instances), its ledger with it
        self.recover(P9)
        self.poll(lambda: P9 not in servers.leftovers(server['id']),
                  base.BOOT_TIMEOUT,
                  lambda _: 'the evacuated server still on %s: %s' % (
                      P9, servers.leftovers(server['id'])))
        self.assertEqual({there}, set(servers.leftovers(server['id'])))
        self.assert_open_on(disk, there)


class DrainTestCase(HostMaintenanceTestCase):
    """A host emptied for its maintenance, as an operator does it."""

    def drain(self, host):
        """Disable host, live-migrate each of its servers; nova chooses.

        :returns: {server id: the host it runs on after, or the reason it
            could not move}
        """
        self.service(host, '--disable', '--disable-reason', 'maintenance')
        self.addCleanup(self.service, host, '--enable')
        after = {}
        for server_id in sorted(self.on(host)):
            before = self.uptime(self.openstack('server', 'show', server_id))
            try:
                self.openstack(
                    '--os-compute-api-version', servers.HOST_VERSION,
                    'server', 'migrate', '--live-migration', '--wait',
                    server_id, parse=False,
                    timeout=2 * base.BOOT_TIMEOUT)
            except base.CommandFailed:
                pass    # the server's events say why
            server = self.wait_for_server(server_id)
            # moved or not, the guest ran on all along
            self.assertGreater(self.uptime(server), before)
            after[server_id] = (self.host_of(server)
                                if self.host_of(server) != host
                                else self.last_event_details(server_id))
        return after

    def test_a_drained_host_ends_empty_and_no_host_mixed(self):
        watch = mix_watch.MixWatch(computes.attach())
        self.addCleanup(watch.close)
        # P9: little-endian servers of a volume and of an image; P8: a
        # big-endian one. P8S takes neither: a guest keeps its host's
        # split-core mode when it moves.
        of_volume = self.server_of_volume('drain-volume', P9, '--image',
                                          self.images['le'],
                                          '--boot-from-volume', '1')
        of_image = self.create_server('drain-image', 'le', host=P9, wait=())
        be = self.create_server('drain-be', 'be', host=P8, wait=())
        for server in (of_volume, of_image):
            self.wait_for_console(self.wait_for_server(server['id']),
                                  servers.BOOTED)
        self.wait_for_console(self.wait_for_server(be['id']),
                              test_guest.BE_LINES[-1])
        movers = {of_volume['id'], of_image['id']}

        # nowhere to go while P8 runs a big-endian guest: each server is
        # named with the rule, and runs on where it was
        unmoved = self.drain(P9)
        self.assertEqual(movers, set(unmoved))
        for reason in unmoved.values():
            self.assertIn(RULE, reason)
        self.assertEqual(movers, self.on(P9))

        # the operator makes room: the big-endian guest shelved (offloaded
        # at once, nova's default), P8 is free for little-endian guests
        self.openstack('server', 'shelve', be['id'], parse=False)
        self.wait_for_server(be['id'], ('SHELVED_OFFLOADED',))
        self.assertEqual({s: P8 for s in movers}, self.drain(P9))
        self.assertEqual(set(), self.on(P9))
        self.assertEqual([], servers.domains(P9))
        self.assertEqual([], watch.mixed)
