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

"""The cloud through the openstack CLI: hosts, flavors, images, servers."""

import time

from tests.cloud import base
from tests.cloud import servers
from tools.cloud import layout
from tools import test_guest

# layout.COMPUTES: two POWER8 (one split-core 4) and a POWER9, 2 cores each
P8, P8_SPLIT, P9 = 'pkvm-p8', 'pkvm-p8s', 'pkvm-p9'
HOST_VERSION = servers.HOST_VERSION
# hypervisor show still has the host's vCPU count before 2.88
STATS_VERSION = '2.87'
# Flavor extra specs are validated from 2.86 (nova's extra spec
# validators, the project's included: powerkvm_nova/api/extra_specs.py).
VALIDATING_VERSION = '2.86'


class HostsTestCase(base.CloudTestCase):

    def test_compute_services_are_up(self):
        services = self.openstack('compute', 'service', 'list')
        up = {(s['Binary'], s['Host']) for s in services
              if s['State'] == 'up' and s['Status'] == 'enabled'}
        for host in layout.HOSTS:
            self.assertIn(('nova-compute', host), up)
        self.assertIn('nova-conductor', {binary for binary, _host in up})
        self.assertIn('nova-scheduler', {binary for binary, _host in up})

    def test_hypervisors_are_the_power_hosts_and_the_x86_one(self):
        hypervisors = self.openstack(
            '--os-compute-api-version', STATS_VERSION, 'hypervisor', 'list',
            '--long')
        self.assertEqual(set(layout.HOSTS),
                         {h['Hypervisor Hostname'] for h in hypervisors})
        for h in hypervisors:
            if h['Hypervisor Hostname'] == layout.X86_COMPUTE:
                continue    # nova's LibvirtDriver: the machine's CPUs
            self.assertEqual('QEMU', h['Hypervisor Type'])
            self.assertEqual('up', h['State'])
            # every thread of the host's cores runs a guest vCPU (doc/cpu.md)
            cpu = layout.COMPUTES[h['Hypervisor Hostname']]
            self.assertEqual(
                cpu['static_cores'] * cpu['static_threads_per_core'],
                h['vCPUs'], h)

    def test_power_traits_in_placement(self):
        providers = {p['name']: p['uuid'] for p in self.openstack(
            'resource', 'provider', 'list')}
        traits = {name: {t['name'] for t in self.openstack(
            'resource', 'provider', 'trait', 'list', uuid)}
            for name, uuid in providers.items()}
        self.assertIn('HW_CPU_PPC64LE_POWER8', traits[P8])
        self.assertIn('HW_CPU_PPC64LE_POWER9', traits[P9])
        self.assertIn('CUSTOM_POWERKVM_MICRO_THREADING', traits[P8_SPLIT])
        self.assertIn('CUSTOM_POWERKVM_SUBCORES_PER_CORE_4', traits[P8_SPLIT])
        self.assertNotIn('CUSTOM_POWERKVM_MICRO_THREADING', traits[P8])
        # each is a POWER host, whatever machine emulates it
        for name in (P8, P8_SPLIT, P9):
            self.assertIn('HW_ARCH_PPC64LE', traits[name])
            self.assertEqual(set(), {t for t in traits[name] if 'X86' in t})
        # nova's LibvirtDriver on the x86 host: its arch, no POWER emulator
        x86 = traits[layout.X86_COMPUTE]
        self.assertIn('HW_ARCH_X86_64', x86)
        self.assertEqual(set(), {t for t in x86 if 'PPC' in t})


class FlavorsTestCase(base.CloudTestCase):

    def test_bad_powerkvm_extra_spec_is_refused_with_400(self):
        flavor = self.prefix + 'bad'
        made = self.openstack('flavor', 'create', '--vcpus', '1', '--ram',
                              '256', '--disk', '1', flavor)
        self.addCleanup(self.conn.compute.delete_flavor, made['id'],
                        ignore_missing=True)
        error = self.fails('--os-compute-api-version', VALIDATING_VERSION,
                           'flavor', 'set', '--property',
                           'powerkvm:micro_threading=maybe', flavor)
        # nova's validator answers (nova/api/validation/extra_specs), with
        # the project's values for the key
        self.assertIn('BadRequestException: 400', error)
        self.assertIn("'maybe' is not one of: required, forbidden", error)
        spec = self.openstack('flavor', 'show', flavor)['properties']
        self.assertNotIn('powerkvm:micro_threading', spec or {})


class ServersTestCase(servers.ServerTestCase):
    """Servers of both endiannesses, and the rule between them.

    The rule's plain cases (an LE and a BE server on hosts of their own, a
    boot no host can take ending in ERROR naming the rule) are the tempest
    plugin's (powerkvm_tempest_plugin/tests/test_endianness.py), which the
    cloud tier runs after this test.
    """

    def test_big_endian_guest_moves_and_stops_cleanly(self):
        server = self.create_server('be-life', 'be', host=P9)
        log = ''
        for line in test_guest.BE_LINES:
            log = self.wait_for_console(server, line)
        base.record_figure('cloud: BE guest console',
                           '; '.join(test_guest.identity(log)))
        self.assert_answers_on_its_network(server)

        # live migration, POWER9 to POWER8, with block migration
        live, before, after = self.live_migrate(server, P8)
        base.record_figure('cloud: BE guest uptime (s) before / after '
                           'live migration', '%.1f / %.1f' % (before, after))
        # the host it left takes the other endianness at once (nova's
        # source reports the guest as its own until its next instance
        # sync, 120 s: doc/endianness.md, "In the scheduler")
        le = self.create_server('le-after', 'le', host=P9)
        self.assertEqual(P9, self.host_of(le))

        # nova asks the guest to power off (EPOW) and it does at once,
        # well before nova's shutdown_timeout (60 s) would pull the plug
        stopping = time.monotonic()
        self.openstack('server', 'stop', server['id'], parse=False)
        self.wait_for_server(server['id'], ('SHUTOFF',))
        stopped = time.monotonic() - stopping
        # nova shows no console of a stopped guest: its host keeps the log
        self.assertIn('POWERKVM-GUEST-POWEROFF', self.host_console_log(live))
        base.record_figure('cloud: BE guest server stop to SHUTOFF (s)',
                           '%.1f' % stopped)
        self.openstack('server', 'delete', '--wait', server['id'],
                       parse=False)
        self.assertEqual({}, servers.leftovers(server['id']))

    def test_micro_threading_flavor_lands_on_the_split_core_host(self):
        flavor = self.make_flavor('mt', vcpus=2, ram=512, **{
            'powerkvm:micro_threading': 'required'})
        server = self.create_server('mt', 'le', flavor=flavor)
        self.assertEqual(P8_SPLIT, self.host_of(server))

    def test_lifecycle_through_the_cli(self):
        server = self.create_server('life', 'le', host=P9)
        booted = servers.BOOTED
        log = self.wait_for_console(server, booted)
        first_host = self.host_of(server)

        self.openstack('server', 'reboot', '--hard', '--wait', server['id'],
                       parse=False)
        self.wait_for_console(server, booted, after=log)

        self.openstack('server', 'stop', server['id'], parse=False)
        self.wait_for_server(server['id'], ('SHUTOFF',))
        self.openstack('server', 'start', server['id'], parse=False)
        self.wait_for_server(server['id'])

        # --wait prints its progress where the JSON would be: it is read
        # with 'show' instead
        self.openstack('server', 'rebuild', '--wait', '--image',
                       self.images['le'], server['id'], parse=False)
        self.assertEqual(first_host, self.host_of(
            self.wait_for_server(server['id'])))

        snapshot = self.openstack('server', 'image', 'create',
                                  '--name', self.prefix + 'snap',
                                  server['id'])
        self.addCleanup(self.conn.image.delete_image, snapshot['id'],
                        ignore_missing=True)
        image = self.wait_for_image(snapshot['id'])
        self.assertEqual('ppc64le',
                         image['properties'].get('hw_architecture'))

        # cold migration, POWER9 to POWER8: nova copies the disk to the
        # other host over ssh
        self.openstack('--os-compute-api-version', HOST_VERSION, 'server',
                       'migrate', '--host', P8, '--wait', server['id'],
                       parse=False)
        self.wait_for_server(server['id'], ('VERIFY_RESIZE',))
        self.openstack('server', 'resize', 'confirm', server['id'],
                       parse=False)
        moved = self.wait_for_server(server['id'])
        self.assertEqual(P8, self.host_of(moved))
        self.wait_for_console(moved, booted)
        # its port followed it: bound and plugged on the new host
        self.assert_answers_on_its_network(moved)

        # live migration, POWER8 to POWER9, with block migration (each host
        # has its own disks); guests run as POWER8 (cpu_compat_mode)
        self.live_migrate(moved, P9)

        self.openstack('server', 'delete', '--wait', server['id'],
                       parse=False)
        self.assertEqual({}, servers.leftovers(server['id']))
        # nova made the port, nova deleted it
        self.assertEqual([], self.openstack('port', 'list', '--device-id',
                                            server['id']))
