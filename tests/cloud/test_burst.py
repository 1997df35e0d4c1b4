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

"""Many boots at once, half of each endianness, through the cloud's API.

nova-compute runs in native threading mode on MariaDB here, as nova's test
harness cannot (tests/functional/test_endianness.py, BurstTestCase). The
guests boot the idle kernel (tools/idle_kernel.py): the run is about where
nova and the driver put guests, not about Linux booting under emulation.
"""

import concurrent.futures
import datetime
import os
import statistics

import fixtures

from tests.cloud import base
from tests.cloud import mix_watch
from tests.cloud import servers
from tools.cloud import computes
from tools.cloud import configs
from tools.cloud import layout
from tools import idle_kernel

# the size of doc/figures.md's runs (python -m tools.cloud burst); fewer
# for a quick look
BOOTS = int(os.environ.get('POWERKVM_CLOUD_BURST_BOOTS', '100'))
# CPU loops beside the run (python -m tools.cloud burst --cpu-loops N)
LOAD = int(os.environ.get('POWERKVM_CLOUD_BURST_LOAD', '0'))
# every boot ACTIVE or ERROR: 100 SLOF boots on 2 emulating cores
SETTLE_TIMEOUT = 2400
# an idle guest needs less than SLOF's default; 72 MiB resident each
RAM_MB = 256
# the event each host's admission records in a build's action
# (powerkvm_nova/compute/endianness_steps.py)
ADMISSION_EVENT = 'powerkvm_endianness_admission'


def _time(stamp):
    """A server's time stamp; nova gives launched_at without its zone (UTC)."""
    moment = datetime.datetime.fromisoformat(stamp.replace('Z', '+00:00'))
    return moment if moment.tzinfo else moment.replace(
        tzinfo=datetime.timezone.utc)


class BurstTestCase(servers.ServerTestCase):

    # OS_TEST_TIMEOUT (tox.ini, cloud) x 4: the settling, then the deletes
    TIMEOUT_SCALING_FACTOR = 4

    def setUp(self):
        super().setUp()
        self.hosts = computes.attach()
        self.watch = mix_watch.MixWatch(self.hosts)
        self.addCleanup(self.watch.close)
        self.lift_quota()
        self.idle = self.idle_images()
        self.small = self.conn.compute.find_flavor(
            self.make_flavor('idle', vcpus=1, ram=RAM_MB)).id

    def lift_quota(self):
        """No instance, core or RAM quota on the admin's project meanwhile.

        nova's defaults (10 instances, 20 cores) end a burst at its tenth
        server; an operator lifts them so, and they are put back after.
        """
        limits = {q['Resource']: q['Limit'] for q in self.openstack(
            'quota', 'show', layout.ADMIN)}
        kept = ['--instances', str(limits['instances']), '--cores',
                str(limits['cores']), '--ram', str(limits['ram'])]
        self.openstack('quota', 'set', '--instances', '-1', '--cores', '-1',
                       '--ram', '-1', layout.ADMIN, parse=False)
        self.addCleanup(self.openstack, *(['quota', 'set'] + kept +
                                          [layout.ADMIN]), parse=False)

    def idle_images(self):
        """{arch: image} of the idle kernel's two, on a 1 MiB disk."""
        kernels = idle_kernel.build(self.useFixture(fixtures.TempDir()).path)
        disk = self.blank_disk()
        found = {}
        for order, arch in (('<', 'ppc64le'), ('>', 'ppc64')):
            kernel = self.image(['--disk-format', 'aki', '--container-format',
                                 'aki', '--file', kernels[order]],
                                'idle-%s-kernel' % arch)
            found[arch] = self.image(
                ['--disk-format', 'raw', '--container-format', 'bare',
                 '--file', disk, '--property', 'hw_architecture=%s' % arch,
                 '--property', 'kernel_id=%s' % kernel], 'idle-%s' % arch)
        return found

    def boot(self, arch, index):
        return self.conn.compute.create_server(
            name='%sburst-%03d' % (self.prefix, index),
            image_id=self.idle[arch], flavor_id=self.small,
            networks='none').id

    def settled(self, ids):
        def done():
            found = {s.id: s for s in self.conn.compute.servers(
                details=True, name='^%sburst-' % self.prefix)
                if s.id in ids}
            if len(found) == len(ids) and all(
                    s.status in ('ACTIVE', 'ERROR') for s in found.values()):
                return found
            return None
        return self.poll(done, SETTLE_TIMEOUT,
                         lambda _: 'servers still building', interval=5)

    def delete_all(self, ids):
        """Delete what is left of the servers and wait until they are gone.

        One API call each, not one CLI process each (100 of them take
        minutes): after a passing test there is nothing left to delete.
        """
        left = [i for i in ids if self.conn.compute.find_server(i)]
        for server_id in left:
            self.conn.compute.delete_server(server_id, ignore_missing=True)
        self.poll(lambda: not any(self.conn.compute.find_server(i)
                                  for i in left),
                  base.BOOT_TIMEOUT, lambda _: 'servers not deleted',
                  interval=5)

    def refusals(self, found):
        """How many admissions hosts refused, over the servers' builds.

        Each host a build reached records one admission event; all but an
        ACTIVE server's last were refusals. Their results are not read:
        nova finishes an event by its name alone (db action_event_finish,
        the first row of that name in the action), so a later attempt's
        result can land on an earlier attempt's event.
        """
        refused = 0
        for server_id, server in found.items():
            for action in self.conn.compute.server_actions(server_id):
                if action.action != 'create':
                    continue
                shown = self.conn.compute.get_server_action(action, server_id)
                admissions = sum(1 for event in shown.events or ()
                                 if event.event == ADMISSION_EVENT)
                # nova's LibvirtDriver (the baseline) records none
                refused += admissions - bool(
                    admissions and server.status == 'ACTIVE')
        return refused

    def allocations(self, server_id):
        return self.conn.placement.get(
            '/allocations/%s' % server_id).json()['allocations']

    def test_concurrent_mixed_boots(self):
        arches = ('ppc64le', 'ppc64') * (BOOTS // 2)
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            ids = list(pool.map(self.boot, arches, range(BOOTS)))
        self.addCleanup(self.delete_all, ids)
        found = self.settled(set(ids))

        active = {i for i, s in found.items() if s.status == 'ACTIVE'}
        self.assertTrue(active, 'no boot became ACTIVE')
        for server in found.values():
            if server.status == 'ERROR':
                self.assertTrue(server.fault and server.fault['message'],
                                server.id)
        # the rule's, where it runs; nova's LibvirtDriver (the baseline,
        # up --driver libvirt) mixes hosts, and the figure says how often
        driver = layout.driver()
        ruled = driver == 'powerkvm'
        if ruled:
            self.assertEqual([], self.watch.mixed)
        domains = {}
        for host in layout.HOSTS:
            arches_here = self.watch.arches(host)
            if ruled:
                self.assertLessEqual(len(set(arches_here.values())), 1, host)
            domains.update({u: host for u in arches_here if u in found})
        # POWER guests on POWER hosts only, never on the x86 one
        self.assertEqual(set(), {found[i].compute_host for i in active} -
                         set(layout.COMPUTES))
        # a domain for each ACTIVE server, on its host; none for the others
        self.assertEqual({i: found[i].compute_host for i in active}, domains)
        for server_id, server in found.items():
            self.assertEqual(server.status == 'ACTIVE',
                             bool(self.allocations(server_id)), server_id)

        launched = sorted((_time(found[i].launched_at) -
                           _time(found[i].created_at)).total_seconds()
                          for i in active)
        span = (max(_time(found[i].launched_at) for i in active) -
                min(_time(s.created_at) for s in found.values()))
        faults = sorted({s.fault['message'][:90] for s in found.values()
                         if s.status == 'ERROR'})
        quantiles = statistics.quantiles(launched, n=20) if len(
            launched) > 1 else launched * 19
        base.record_figure('cloud burst', (
            '%s driver, %d scheduler workers, %d CPU loops beside: '
            '%d boots, %d ACTIVE, %d ERROR; %.1f boots/min; API to ACTIVE '
            'p50 %.1f s, p95 %.1f s; admissions refused by hosts: %d; '
            'hosts ever mixed: %d; ERROR faults: %s'
            % (driver, configs.SCHEDULER_WORKERS, LOAD,
               BOOTS, len(active), BOOTS - len(active),
               len(active) * 60 / span.total_seconds(),
               statistics.median(launched), quantiles[18],
               self.refusals(found), len({h for h, _ in self.watch.mixed}),
               faults)))

        self.delete_all(ids)
        for server_id in ids:
            self.assertEqual({}, servers.leftovers(server_id))
            self.assertEqual({}, self.allocations(server_id))
        if ruled:
            # the hosts have room for every guest: an ERROR is a refusal
            # nova gave up on, and a server an operator must see to
            self.assertEqual([], sorted(i for i in ids if i not in active),
                             faults)
