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

"""The PowerKVM demo: in-process nova with three PowerKVM hosts.

nova's API, conductor, scheduler (with PowerKVMCpuFilter,
PowerKVMEndiannessFilter and PowerKVMEndiannessWeigher) and placement run
in this process, with three nova-compute services running PowerKVMDriver:
p8-whole (POWER8, whole-core), p8-split4 (POWER8, split-core mode 4) and
p9 (POWER9). The story, every step checked:

1. the hosts, as the driver reports them (mode, traits, VCPU);
2. a little-endian (ppc64le) and a big-endian (ppc64) image, and
   micro-threading, whole-core and plain flavors (a bad powerkvm: extra
   spec is refused by the API with HTTP 400);
3. servers booted through the REST API: the micro-threading flavor on the
   split-core host with its topology, little- and big-endian guests
   steered onto different hosts, and servers no host can take ending in
   ERROR with a fault naming the reason;
4. a live migration to the host the scheduler picks, and live migrations
   refused (other endianness, other split-core mode) with the server still
   ACTIVE where it was;
5. a table of hosts, guests, endianness and topology, then "every check
   passed" or the list of what failed (exit status 1).

With root, libvirtd, QEMU and the test guest (tools/setup-host.sh), the
hosts are real: three libvirtds, each in its own network namespace
(tools/testbed.py), running pseries guests under QEMU's emulation of POWER
(TCG, one thread a guest core), described to their drivers as the POWER
hosts they play; a few minutes. Otherwise, or with --simulated, they are
nova's fake libvirt made to look like POWER hosts
(tests/fixtures/power_libvirt.py), as the functional tests use, in well
under a minute. The demo says which.

Usage: python tools/demo.py [--simulated]
"""

import argparse
import collections
import dataclasses
import json
import logging
import os
import sys
import textwrap
import time
import traceback
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
# nova's native-thread mode, as tox -e demo runs it, unless told otherwise
os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')

import tests  # noqa: E402,F401  (nova's concurrency mode, first)

FILTERS = ('PowerKVMCpuFilter', 'PowerKVMEndiannessFilter')
WEIGHER = 'powerkvm_nova.scheduler.weighers.PowerKVMEndiannessWeigher'
ARCHES = {'le': 'ppc64le', 'be': 'ppc64'}
ENDIAN = {'ppc64le': 'LE', 'ppc64': 'BE'}
# a boot or a migration taking longer says so this often (seconds)
HEARTBEAT = 10


@dataclasses.dataclass(frozen=True)
class Host:
    name: str
    generation: str
    subcores_per_core: int
    memory_gb: int


THREADS = {'POWER8': 8, 'POWER9': 4}
HOSTS = (Host('p8-whole', 'POWER8', 1, 64),
         Host('p8-split4', 'POWER8', 4, 64),
         Host('p9', 'POWER9', 1, 32))


@dataclasses.dataclass(frozen=True)
class Flavor:
    name: str
    vcpus: int
    ram: int
    specs: dict


# as devstack/plugin.sh creates them, plus a plain one and one asking for a
# split-core mode no host is in
FLAVORS = (
    Flavor('pkvm.mt.small', 2, 2048,
           {'powerkvm:micro_threading': 'required'}),
    Flavor('pkvm.mt.medium', 4, 4096,
           {'powerkvm:micro_threading': 'required'}),
    Flavor('pkvm.whole.large', 8, 8192,
           {'powerkvm:micro_threading': 'forbidden'}),
    Flavor('pkvm.plain', 2, 2048, {}),
    Flavor('pkvm.split2', 4, 4096, {'powerkvm:subcores_per_core': '2'}),
)


@dataclasses.dataclass(frozen=True)
class Boot:
    name: str
    flavor: str
    image: str          # 'le' or 'be'
    why: str
    host: str = None    # where it must land; None: nowhere (ERROR)
    topology: tuple = None  # (sockets, cores, threads) it must get
    fault: str = None   # what the fault must say when it lands nowhere


BOOTS = (
    Boot('le-mt-1', 'pkvm.mt.small', 'le',
         'micro-threading: only the split-core host; 2 threads a subcore',
         host='p8-split4', topology=(1, 1, 2)),
    Boot('le-mt-2', 'pkvm.mt.medium', 'le',
         'micro-threading again: 4 vCPUs as 2 cores x 2 threads',
         host='p8-split4', topology=(1, 2, 2)),
    Boot('le-web', 'pkvm.plain', 'le',
         'any host would do; the weigher packs it with the other LE '
         'guests, keeping the empty hosts free',
         host='p8-split4', topology=(1, 1, 2)),
    Boot('be-db', 'pkvm.whole.large', 'be',
         'big-endian, whole cores: not the split-core host (which runs '
         'LE anyway); of the two empty hosts, nova\'s RAM weigher takes '
         'the bigger',
         host='p8-whole', topology=(1, 1, 8)),
    Boot('be-web', 'pkvm.plain', 'be',
         'big-endian: packed with be-db, never beside the LE guests',
         host='p8-whole', topology=(1, 1, 2)),
)

REFUSED_BOOTS = (
    Boot('be-mt', 'pkvm.mt.small', 'be',
         'big-endian micro-threading: the only split-core host runs LE',
         fault='every PowerKVM host left runs guests of the other '
               'endianness'),
    Boot('le-split2', 'pkvm.split2', 'le',
         'split-core mode 2: no host is in that mode',
         fault='the flavor needs split-core mode 2'),
)


@dataclasses.dataclass(frozen=True)
class Refusal:
    server: str
    dest: str
    why: str
    reason: str         # what nova's record of the refusal must say


REFUSED_MOVES = (
    Refusal('le-web', 'p9', 'p9 now runs a big-endian guest',
            'a host runs guests of one endianness only'),
    Refusal('le-web', 'p8-whole',
            'p8-whole is in whole-core mode (and runs BE guests)',
            'a guest keeps its split-core mode'),
)


def say(text=''):
    print(text, flush=True)


def say_wrapped(text, indent, hang='  '):
    say(textwrap.fill(text, width=100, initial_indent=indent,
                      subsequent_indent=indent + hang,
                      break_on_hyphens=False))


def table(rows, indent='   '):
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        say((indent + '  '.join(str(c).ljust(w)
                                for c, w in zip(row, widths))).rstrip())
        if n == 0:
            say(indent + '  '.join('-' * w for w in widths))


def topology_text(topology):
    return ' x '.join(str(n) for n in topology) if topology else '-'


class Report:
    """What the story checked.

    Kept outside the test case: nova's test base clears a case's
    attributes when it ends.
    """

    def __init__(self):
        self.passed = 0
        self.failures = []

    def check(self, ok, what, detail=None):
        if ok:
            self.passed += 1
            say('         ok    %s' % what)
        else:
            seen = ' (seen: %s)' % detail if detail else ''
            self.failures.append(what + seen)
            say_wrapped('FAIL  ' + what + seen, ' ' * 9, ' ' * 6)
        return ok


class StoryStopped(Exception):
    """A step could not go on; what it showed so far stands."""


class Story:
    """The demo's story, told over whatever hosts a hosts layer starts.

    A hosts layer (SimulatedHosts here; a real one later, on the namespace
    test bed) is mixed in before a nova test base with nova's REST API
    helpers (nova's _IntegratedTestBase), and provides:

    - HOSTS_KIND: one line saying what the hosts are;
    - start_hosts(): one nova-compute service a Host, in self.computes,
      each running PowerKVMDriver, and live migration between them;
    - demo_images(): {'le': image id, 'be': image id};
    - host_domains(name): {instance uuid: guest arch} of the domains the
      host's hypervisor has, whoever defined them;
    - mixed_moments(): [host name] of each moment a host had domains of
      both endiannesses, seen as they were defined;
    - domain_xml(server): the server's domain XML, parsed (lxml);
    - expected_topology(boot): the (sockets, cores, threads) it must get.
    """

    REPORT = None           # a Report, set before the case runs
    CAST_AS_CALL = False    # builds and moves end after the API answers
    BOOT_TIMEOUT = 60
    MIGRATION_TIMEOUT = 60

    def setUp(self):
        # the scheduler as devstack/plugin.sh sets it up
        from nova import conf
        self.flags(available_filters=[
            'nova.scheduler.filters.all_filters'] + [
                'powerkvm_nova.scheduler.filters.%s' % f for f in FILTERS],
            group='filter_scheduler')
        self.flags(enabled_filters=list(
            conf.CONF.filter_scheduler.enabled_filters) + list(FILTERS),
            group='filter_scheduler')
        self.flags(weight_classes=['nova.scheduler.weights.all_weighers',
                                   WEIGHER], group='filter_scheduler')
        super().setUp()
        self.flags(instances=-1, cores=-1, ram=-1, group='quota')
        self.servers = {}       # name -> server (as the API last said)
        self.flavors = {}       # name -> flavor id

    def check(self, ok, what, detail=None):
        return self.REPORT.check(ok, what, detail)

    # -- the story --------------------------------------------------------

    def test_story(self):
        steps = (self.step_hosts, self.step_images_and_flavors,
                 self.step_boots, self.step_live_migration)
        try:
            for step in steps:
                step()
        except StoryStopped as e:
            self.REPORT.failures.append('the story stopped: %s' % e)
            say('\n   the story stopped here: %s' % e)
        except Exception as e:
            # an unexpected turn: say where, keep what was shown
            self.REPORT.failures.append('the story stopped: %s' % e)
            say('\n   the story stopped here:')
            for line in traceback.format_exc().rstrip().splitlines():
                say('     ' + line)
        try:
            self.step_table()
        except Exception as e:
            self.REPORT.failures.append('the final table failed: %s' % e)
            say(traceback.format_exc())

    def step_hosts(self):
        say('\n1. Three PowerKVM hosts, as their drivers report them')
        say('   nova-compute runs compute_driver = powerkvm.PowerKVMDriver '
            'on each; the scheduler filters')
        say('   with %s and weighs with PowerKVMEndiannessWeigher.'
            % ' and '.join(FILTERS))
        self.start_hosts()
        from powerkvm_nova.cpu import host as cpu_host
        stats = self.compute_node_stats()
        rows = [('host', 'mode (its compute node stats)', 'VCPU',
                 'RAM GB')]
        reported = {}
        for host in HOSTS:
            rp = self._get_provider_uuid_by_host(host.name)
            traits = sorted(
                t for t in self._get_provider_traits(rp)
                if t.startswith(('CUSTOM_POWERKVM_', 'HW_CPU_PPC64LE')))
            inventory = self._get_provider_inventory(rp)
            described = cpu_host.PowerHost.from_stats(stats.get(host.name))
            mode = described.mode if described else 'not reported'
            rows.append((host.name, mode, inventory['VCPU']['total'],
                         inventory['MEMORY_MB']['total'] // 1024))
            reported[host.name] = described, traits
        table(rows)
        say('   (VCPU counts hardware threads: cores x threads a core, in '
            'every split-core mode)')
        say('   placement traits of each host\'s resource provider:')
        for host in HOSTS:
            say('     %-10s %s' % (host.name, ' '.join(
                reported[host.name][1])))
        for host in HOSTS:
            described, traits = reported[host.name]
            self.check(
                described is not None and
                described.generation == host.generation and
                described.subcores_per_core == host.subcores_per_core,
                '%s reports %s, subcores_per_core=%d'
                % (host.name, host.generation, host.subcores_per_core),
                described.mode if described else 'nothing')
            wanted = {'HW_CPU_PPC64LE_%s' % host.generation,
                      'CUSTOM_POWERKVM_SUBCORES_PER_CORE_%d'
                      % host.subcores_per_core}
            if host.subcores_per_core > 1:
                wanted.add('CUSTOM_POWERKVM_MICRO_THREADING')
            self.check(wanted <= set(traits),
                       '%s has the traits %s' % (host.name,
                                                 ', '.join(sorted(wanted))),
                       'it has %s' % ', '.join(traits))

    def step_images_and_flavors(self):
        say('\n2. Images and flavors')
        images = self.demo_images()
        self.images_by_endianness = images
        rows = [('image', 'hw_architecture', 'endianness')]
        for key in ('le', 'be'):
            image = self.glance.show(None, images[key])
            arch = image['properties'].get('hw_architecture')
            rows.append((image['name'], arch, ENDIAN.get(arch, '?')))
        table(rows)
        say()
        rows = [('flavor', 'vCPU', 'RAM MB', 'extra specs')]
        for flavor in FLAVORS:
            self.flavors[flavor.name] = self._create_flavor(
                name=flavor.name, vcpu=flavor.vcpus,
                memory_mb=flavor.ram, disk=10, ephemeral=0,
                extra_spec=dict(flavor.specs))
            rows.append((flavor.name, flavor.vcpus, flavor.ram,
                         ' '.join('%s=%s' % kv
                                  for kv in flavor.specs.items()) or '-'))
        table(rows)
        for key in ('le', 'be'):
            arch = self.glance.show(None, images[key])['properties'].get(
                'hw_architecture')
            self.check(arch == ARCHES[key], 'the %s image says %s'
                       % (ENDIAN[ARCHES[key]], ARCHES[key]), arch)
        for flavor in FLAVORS:
            specs = self.admin_api.get_flavor(
                self.flavors[flavor.name])['extra_specs']
            self.check(specs == flavor.specs, '%s has its extra specs'
                       % flavor.name, specs)

        say('\n   A bad powerkvm: extra spec is refused by the API, before '
            'any server uses it:')
        from nova.tests.functional.api import client as api_client
        flavor = self.flavors['pkvm.plain']
        for key, value in (('powerkvm:threads_per_core', '16'),
                           ('powerkvm:split_core', '4')):
            try:
                self.admin_api.post_extra_spec(
                    flavor, {'extra_specs': {key: value}})
            except api_client.OpenStackApiException as e:
                status = e.response.status_code
                message = _api_message(e.response)
            else:
                status, message = 200, 'taken'
            say_wrapped('%s=%s on pkvm.plain: HTTP %s %s'
                        % (key, value, status, message), ' ' * 5)
            self.check(status == 400 and 'Validation failed' in message,
                       'refused with HTTP 400, "Validation failed"',
                       'HTTP %s %s' % (status, message))
        specs = self.admin_api.get_flavor(flavor)['extra_specs']
        self.check(specs == {}, 'pkvm.plain kept no extra spec', specs)

    def step_boots(self):
        say('\n3. Servers through the REST API')
        say('   booting %d servers, one after another (each placement '
            'depends on the ones before):' % len(BOOTS))
        for i, boot in enumerate(BOOTS, 1):
            server, seconds = self.boot_and_wait(boot, i, len(BOOTS))
            host = server['OS-EXT-SRV-ATTR:host']
            topology = self.topology(server) if host else None
            say('         -> %s on %s after %.1f s, topology %s '
                '(sockets x cores x threads)'
                % (server['status'], host, seconds,
                   topology_text(topology)))
            self.check(server['status'] == 'ACTIVE' and host == boot.host,
                       '%s ACTIVE on %s' % (boot.name, boot.host),
                       '%s on %s%s' % (server['status'], host,
                                       _fault_text(server)))
            expected = self.expected_topology(boot)
            self.check(topology == expected, '%s topology %s'
                       % (boot.name, topology_text(expected)),
                       topology_text(topology))
        self.check_never_mixed()

        say('\n   booting %d servers no host can take:'
            % len(REFUSED_BOOTS))
        for i, boot in enumerate(REFUSED_BOOTS, 1):
            server, seconds = self.boot_and_wait(boot, i, len(REFUSED_BOOTS))
            fault = self.fault(server) if server['status'] == 'ERROR' else ''
            say('         -> %s after %.1f s; its fault:'
                % (server['status'], seconds))
            say_wrapped(fault or '(none)', ' ' * 12)
            self.check(server['status'] == 'ERROR' and
                       server['OS-EXT-SRV-ATTR:host'] is None,
                       '%s ERROR, on no host' % boot.name,
                       '%s on %s' % (server['status'],
                                     server['OS-EXT-SRV-ATTR:host']))
            self.check(boot.fault in fault,
                       'the fault says "%s"' % boot.fault, fault or 'none')
            self.check(not self.running_on(server),
                       '%s has no domain on any host' % boot.name,
                       'domains on %s' % self.running_on(server))

    def step_live_migration(self):
        say('\n4. Live migration')
        say('   be-db (big-endian, whole cores, on p8-whole) to the host '
            'the scheduler picks: only p9')
        say('   can take it (p8-split4 runs LE guests and is in another '
            'split-core mode; a POWER8')
        say('   guest may go to a POWER9, which runs it in POWER8 '
            'compatibility mode)')
        server = self.servers['be-db']
        before = self.topology(server)
        migration, server, seconds = self.live_migrate(server, None)
        host = server['OS-EXT-SRV-ATTR:host']
        say('         -> migration %s after %.1f s: be-db is %s on %s, '
            'topology %s' % (migration, seconds, server['status'], host,
                             topology_text(self.topology(server))))
        self.check(migration == 'completed' and host == 'p9' and
                   server['status'] == 'ACTIVE',
                   'migration completed, be-db ACTIVE on p9',
                   'migration %s, %s on %s' % (migration, server['status'],
                                               host))
        self.check(self.running_on(server) == ['p9'],
                   'be-db\'s domain runs on p9 only',
                   'domains on %s' % self.running_on(server))
        self.check(self.topology(server) == before,
                   'be-db kept its topology %s' % topology_text(before),
                   topology_text(self.topology(server)))

        for move in REFUSED_MOVES:
            server = self.servers[move.server]
            source = server['OS-EXT-SRV-ATTR:host']
            say('\n   %s (on %s) to %s, named: refused, %s'
                % (move.server, source, move.dest, move.why))
            migration, server, seconds = self.live_migrate(server, move.dest)
            host = server['OS-EXT-SRV-ATTR:host']
            refusal = self.refusal(server)
            say('         -> migration %s after %.1f s: %s is %s on %s; '
                'nova says why:' % (migration, seconds, move.server,
                                    server['status'], host))
            say_wrapped(refusal or '(nothing)', ' ' * 12)
            self.check(migration == 'error', 'migration ended in error',
                       migration)
            self.check(server['status'] == 'ACTIVE' and host == source
                       and self.running_on(server) == [source],
                       '%s still ACTIVE, running on %s' % (move.server,
                                                           source),
                       '%s on %s, domains on %s' % (
                           server['status'], host, self.running_on(server)))
            self.check(move.reason in refusal,
                       'the reason says "%s"' % move.reason)
        self.check_never_mixed()

    def step_table(self):
        say('\n5. Hosts and guests')
        stats = self.compute_node_stats()
        from powerkvm_nova.cpu import host as cpu_host
        by_host = collections.defaultdict(list)
        for server in self.servers.values():
            server = self.api.get_server(server['id'])
            by_host[server['OS-EXT-SRV-ATTR:host']].append(server)
        rows = [('host', 'generation / mode', 'holds', 'guest', 'endian',
                 'vCPU s x c x t', 'state')]
        for host in HOSTS:
            described = cpu_host.PowerHost.from_stats(stats.get(host.name))
            first = (host.name, _short_mode(described),
                     self.holds(host.name))
            domains = self.host_domains(host.name)
            guests = sorted(by_host.get(host.name, []),
                            key=lambda s: s['name'])
            if not guests:
                rows.append(first + ('-', '', '', ''))
            for n, server in enumerate(guests):
                rows.append((first if n == 0 else ('', '', '')) + (
                    server['name'],
                    ENDIAN.get(domains.get(server['id']), '?'),
                    topology_text(self.topology(server)),
                    server['status']))
        for server in sorted(by_host.get(None, []),
                             key=lambda s: s['name']):
            rows.append(('(none)', '', '', server['name'],
                         ENDIAN.get(self.arch_of_image(server), '?'), '-',
                         server['status']))
        table(rows)
        say('   holds: the endianness the host\'s driver ledger says it '
            'runs; endian: the guest\'s domain')

    # -- helpers: nova's side ---------------------------------------------

    def boot_and_wait(self, boot, i, n):
        say('   [%d/%d] %s: %s, %s image' % (
            i, n, boot.name, boot.flavor, ENDIAN[ARCHES[boot.image]]))
        say_wrapped(boot.why, ' ' * 9)
        body = self._build_server(
            name=boot.name, image_uuid=self.images_by_endianness[boot.image],
            flavor_id=self.flavors[boot.flavor], networks='none')
        posted = self.api.post_server({'server': body})
        started = time.monotonic()

        def settled():
            found = self.api.get_server(posted['id'])
            return found if found['status'] in ('ACTIVE', 'ERROR') else None

        server = self.wait_for(
            settled, '%s (%d/%d)' % (boot.name, i, n), self.BOOT_TIMEOUT,
            lambda: self.api.get_server(posted['id'])['status'])
        self.servers[boot.name] = server
        return server, time.monotonic() - started

    def live_migrate(self, server, host):
        """(migration status, server, seconds) once the move has ended."""
        known = {m['id'] for m in self.migrations(server)}
        self.admin_api.post_server_action(server['id'], {'os-migrateLive': {
            'host': host, 'block_migration': 'auto'}})
        started = time.monotonic()

        def new():
            return [m for m in self.migrations(server) if m['id'] not in known]

        def ended():
            migrations = new()
            if not migrations or migrations[0]['status'] not in (
                    'completed', 'error', 'failed'):
                return None
            found = self.api.get_server(server['id'])
            if found['OS-EXT-STS:task_state'] is not None:
                return None
            return migrations[0]['status'], found

        status, found = self.wait_for(
            ended, 'live migration of %s' % server['name'],
            self.MIGRATION_TIMEOUT, lambda: 'migration %s' % (
                new()[0]['status'] if new() else 'requested'))
        self.servers[found['name']] = found
        return status, found, time.monotonic() - started

    def migrations(self, server):
        return sorted((m for m in self.admin_api.api_get(
            '/os-migrations').body['migrations']
            if m['instance_uuid'] == server['id']),
            key=lambda m: m['id'], reverse=True)

    def wait_for(self, poll, what, timeout, progress):
        """poll() until it returns something, saying how it goes."""
        started = time.monotonic()
        next_note = started + HEARTBEAT
        while True:
            result = poll()
            if result is not None:
                return result
            now = time.monotonic()
            if now - started > timeout:
                raise StoryStopped('%s: still %s after %.0f s'
                                   % (what, progress(), timeout))
            if now >= next_note:
                say('         ... %s: %s (%.0f s)'
                    % (what, progress(), now - started))
                next_note += HEARTBEAT
            time.sleep(0.1)

    def fault(self, server):
        """The server's fault message, once nova has recorded it."""
        for _ in range(100):
            found = self.api.get_server(server['id'])
            if 'fault' in found:
                return found['fault']['message']
            time.sleep(0.1)
        return ''

    def refusal(self, server):
        """Why the server's last live migration failed.

        As nova's instance action events say it (their details:
        microversion 2.84).
        """
        for _ in range(100):
            actions = [a for a in self.api.get_instance_actions(server['id'])
                       if a['action'] == 'live-migration']
            if actions:
                events = self.api.get_instance_action_details(
                    server['id'], actions[0]['request_id'])['events']
                failed = [e.get('details') or e['event'] for e in events
                          if e['result'] == 'Error']
                if failed:
                    return ' / '.join(failed)
            time.sleep(0.1)
        return ''

    def topology(self, server):
        node = self.domain_xml(server).find('./cpu/topology')
        if node is None:
            return None
        return tuple(int(node.get(k))
                     for k in ('sockets', 'cores', 'threads'))

    def compute_node_stats(self):
        """host -> the stats its compute node reported.

        What the scheduler reads.
        """
        from nova import context as nova_context
        from nova import objects
        ctxt = nova_context.get_admin_context()
        with nova_context.target_cell(
                ctxt, self.cell_mappings['cell1']) as cctxt:
            nodes = objects.ComputeNodeList.get_all(cctxt)
        return {node.host: node.stats for node in nodes}

    def arch_of_image(self, server):
        image = self.glance.show(None, server['image']['id'])
        return image['properties'].get('hw_architecture')

    # -- helpers: the hosts' side -----------------------------------------

    def running_on(self, server):
        return [h.name for h in HOSTS
                if server['id'] in self.host_domains(h.name)]

    def holds(self, host):
        """The endianness the host's driver ledger says it runs."""
        try:
            held = self.computes[host].driver.ledger.holds()
        except Exception as e:
            return 'MIXED (%s)' % e
        return ENDIAN[held.arch] if held else '-'

    def check_never_mixed(self):
        """No host runs both endiannesses; ledgers agree with domains.

        By each host's hypervisor, now and at every domain definition so
        far; each driver's ledger says what its domains are, with no
        claim left over.
        """
        mixed, disagree = [], []
        for host in HOSTS:
            arches = set(self.host_domains(host.name).values())
            if len(arches) > 1:
                mixed.append(host.name)
            held = self.holds(host.name)
            seen = ENDIAN[arches.pop()] if len(arches) == 1 else '-'
            claims = self.computes[host.name].driver.ledger._reserved
            if held != seen or claims:
                disagree.append('%s: domains %s, ledger %s%s' % (
                    host.name, seen, held, ', claims %s' % claims
                    if claims else ''))
        mixed.extend(self.mixed_moments())
        self.check(not mixed, 'no host has ever run LE and BE guests at '
                   'once', 'mixed: %s' % ', '.join(sorted(set(mixed))))
        self.check(not disagree, 'each host\'s ledger matches its domains',
                   '; '.join(disagree))


def _short_mode(described):
    """POWER8 whole-core, POWER8 split-core 4, POWER9."""
    if described is None:
        return 'not reported'
    if described.generation != 'POWER8':
        return described.generation
    if described.micro_threading:
        return 'POWER8 split-core %d' % described.subcores_per_core
    return 'POWER8 whole-core'


def _api_message(response):
    try:
        body = json.loads(response.text)
        return next(iter(body.values()))['message']
    except (ValueError, TypeError, KeyError, StopIteration, AttributeError):
        return response.text


def _fault_text(server):
    fault = server.get('fault')
    return ' (fault: %s)' % fault['message'] if fault else ''


class SimulatedHosts:
    """The hosts layer over fake POWER libvirt hosts (functional tier)."""

    HOSTS_KIND = ('SIMULATED -- nova\'s fake libvirt made to look like '
                  'POWER8 and POWER9 hosts (tests/fixtures/power_libvirt.py);'
                  ' guests are domain definitions, no QEMU runs')

    def start_hosts(self):
        import fixtures
        from nova.tests.fixtures import libvirt as fakelibvirt

        from tests.fixtures import power_libvirt
        specs = {'POWER8': power_libvirt.POWER8,
                 'POWER9': power_libvirt.POWER9}
        self._mixed = []
        for host in HOSTS:
            # nova reads the fake's kB_mem as MB (libvirt's getInfo())
            spec = dataclasses.replace(specs[host.generation],
                                       kb_mem=host.memory_gb * 1024)
            compute = self.start_power_compute(
                host.name, spec, subcores_per_core=host.subcores_per_core)
            self._watch(host.name, compute.driver._host.get_connection())
        # live migration between the fake hosts, as libvirt's p2p does it
        self.useFixture(power_libvirt.LiveMigrations(self.computes))
        # The XML a live migration sends: libvirt's is the running
        # domain's, CPU topology and all; fakelibvirt rebuilds one from a
        # template that has none.
        rebuilt = fakelibvirt.Domain.XMLDesc

        def xml_desc(domain, flags):
            defined = getattr(domain._connection, 'defined_xml', {}).get(
                domain.UUIDString())
            if defined and flags & fakelibvirt.VIR_DOMAIN_XML_MIGRATABLE:
                return defined
            return rebuilt(domain, flags)
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Domain.XMLDesc', xml_desc))

    def _watch(self, name, conn):
        define = conn.defineXML

        def checked(xml):
            dom = define(xml)
            if len({d._def['os']['arch'] for d in conn._vms.values()}) > 1:
                self._mixed.append(name)
            return dom
        conn.defineXML = checked

    def mixed_moments(self):
        return list(self._mixed)

    def expected_topology(self, boot):
        return boot.topology

    def demo_images(self):
        return dict(self.images)

    def host_domains(self, name):
        conn = self.computes[name].driver._host.get_connection()
        return {dom.UUIDString(): dom._def['os']['arch']
                for dom in conn._vms.values()}


def simulated_demo():
    from tests.functional import base

    class SimulatedDemo(Story, SimulatedHosts, base.PowerKVMTestBase):
        pass

    return SimulatedDemo('test_story')


class RealHosts:
    """The hosts layer on real libvirt hosts, QEMU emulating POWER (TCG).

    Three libvirt hosts from tools/testbed.py (each its own network
    namespace, libvirtd, host UUID and hostname; shared instance storage),
    each described to its driver by the static probe as the POWER host it
    plays. The guests are real pseries machines: the little-endian one
    boots Debian's ppc64el kernel, the big-endian one runs SLOF.
    """

    HOSTS_KIND = ('REAL -- three libvirtds, each in its own network '
                  'namespace (tools/testbed.py), with QEMU emulating POWER '
                  '(TCG: one thread a guest core); guests are real pseries '
                  'machines')
    BOOT_TIMEOUT = 300
    MIGRATION_TIMEOUT = 300
    STATE_DIR = '/run/pkvm-testbed-demo'
    DATA_DIR = '/var/lib/pkvm-testbed-demo'

    def _setup_compute_service(self):
        pass  # start_hosts() starts them, on the test bed

    def start_hosts(self):
        from tools import testbed
        say('   starting three libvirt hosts (tools/testbed.py)...')
        self.bed = testbed.TestBed(hosts=[h.name for h in HOSTS],
                                   storage='shared',
                                   state_dir=self.STATE_DIR,
                                   data_dir=self.DATA_DIR)
        self.bed.up()
        self.addCleanup(self.bed.down)
        self.instances_path = self.bed.instances_path
        self.flags(instances_path=self.bed.instances_path)
        self._mixed = []
        self._conns = {}
        for host in HOSTS:
            self.flags(connection_uri=self.bed.uri(host.name),
                       group='libvirt')
            # POWER9 scale-out cores run 4 threads, POWER8 cores 8
            self.flags(static_generation=host.generation,
                       static_threads_per_core=THREADS[host.generation],
                       static_subcores_per_core=host.subcores_per_core,
                       group='powerkvm')
            compute = self.start_real_compute(host.name)
            self._conns[host.name] = compute.driver._host.get_connection()
            self._watch(host.name, compute.driver._host)

    def _watch(self, name, host):
        define = host.write_instance_config

        def checked(xml):
            guest = define(xml)
            if len(set(self.host_domains(name).values())) > 1:
                self._mixed.append(name)
            return guest
        host.write_instance_config = checked

    def mixed_moments(self):
        return list(self._mixed)

    def demo_images(self):
        return {'le': self.little_endian_linux_image(),
                'be': self.big_endian_image()}

    def host_domains(self, name):
        from lxml import etree
        return {dom.UUIDString(): etree.fromstring(dom.XMLDesc(0)).find(
            './os/type').get('arch')
            for dom in self._conns[name].listAllDomains()}

    def domain_xml(self, server):
        from lxml import etree
        for conn in self._conns.values():
            for dom in conn.listAllDomains():
                if dom.UUIDString() == server['id']:
                    return etree.fromstring(dom.XMLDesc(0))
        raise LookupError('no domain for %s' % server['id'])

    def expected_topology(self, boot):
        # TCG runs one thread a guest core (the driver logs why)
        vcpus = {f.name: f.vcpus for f in FLAVORS}[boot.flavor]
        return (1, vcpus, 1)


def real_demo():
    from tests.hypervisor import base

    class RealDemo(Story, RealHosts, base.RealHypervisorTestBase):
        pass

    return RealDemo('test_story')


def real_hypervisor_problem():
    """Why the real hypervisor cannot be used here, or None."""
    try:
        import libvirt
    except ImportError:
        return 'the libvirt Python binding is not installed'
    from tests.hypervisor import base
    # the reason is said below, once; not by libvirt's handler too
    libvirt.registerErrorHandler(lambda context, error: None, None)
    try:
        libvirt.open(base.URI).close()
    except libvirt.libvirtError as e:
        return 'libvirtd is not reachable at %s (%s)' % (base.URI, e)
    for name in ('vmlinux', 'initramfs.cpio.gz', 'disk.raw'):
        if not os.path.exists(os.path.join(base.GUEST_DIR, name)):
            return ('the test guest is not built (tools/build-test-guest.sh)')
    return None


def test_bed_problem():
    """Why the real hosts cannot be started, or None.

    Each real host needs a libvirtd of its own (computes sharing one
    libvirtd would share their guests, and the endianness rule with them):
    the namespace test bed, which needs root and its tools.
    """
    from tools import testbed
    try:
        testbed.check_prerequisites()
    except testbed.TestBedError as e:
        return str(e)
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--simulated', action='store_true',
                        help='use simulated POWER hosts even when a real '
                             'libvirtd is available')
    args = parser.parse_args()
    started = time.monotonic()
    problem = ('--simulated asked for it' if args.simulated
               else real_hypervisor_problem() or test_bed_problem())
    case = simulated_demo() if problem else real_demo()
    report = case.REPORT = Report()
    say('PowerKVM demo')
    say('  nova:  API, conductor, scheduler and placement in this process, '
        'and three nova-compute')
    say('         services running PowerKVMDriver: %s'
        % ', '.join(h.name for h in HOSTS))
    say_wrapped('hosts: %s' % case.HOSTS_KIND, '  ', ' ' * 7)
    if problem:
        say_wrapped('(real libvirtd + QEMU not used: %s)' % problem,
                    ' ' * 9)
    # nova's logs go to the test's capture; the handler nova.test installs
    # on stdout at import would print what nova's threads log after it
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(logging.NullHandler())
    result = unittest.TestResult()
    case.run(result)
    for _, trace in result.errors + result.failures:
        report.failures.append('the demo could not run: %s'
                               % trace.strip().splitlines()[-1])
        say('\nthe demo could not run:\n' + trace)
    if not result.testsRun:
        report.failures.append('the demo did not run')
    say()
    if report.failures:
        say('%d check(s) FAILED (%d passed):' % (len(report.failures),
                                                 report.passed))
        for failure in report.failures:
            say_wrapped('- ' + failure, '  ')
    else:
        say('every check passed (%d)' % report.passed)
    say('demo %s in %.1f s' % ('FAILED' if report.failures else
                               'finished OK', time.monotonic() - started))
    return 1 if report.failures else 0


if __name__ == '__main__':
    sys.exit(main())
