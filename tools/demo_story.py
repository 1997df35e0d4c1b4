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


"""The demo's story, told over whatever hosts a hosts layer starts."""

import collections
import json
import time
import traceback

from tools.demo_output import say
from tools.demo_output import say_wrapped
from tools.demo_output import table
from tools.demo_output import topology_text
from tools.demo_plan import ARCHES
from tools.demo_plan import BOOTS
from tools.demo_plan import ENDIAN
from tools.demo_plan import FILTERS
from tools.demo_plan import FLAVORS
from tools.demo_plan import HOSTS
from tools.demo_plan import memory_scale
from tools.demo_plan import ram_allocation_ratio
from tools.demo_plan import REFUSED_BOOTS
from tools.demo_plan import REFUSED_MOVES
from tools.demo_plan import RESERVED_MB
from tools.demo_plan import WEIGHER

# a boot or a migration taking longer says so this often (seconds)
HEARTBEAT = 10


class StoryStopped(Exception):
    """A step could not go on; what it showed so far stands."""


class StepSkipped(Exception):
    """A step cannot run: what it needs did not happen before it."""


class Story:
    """The demo's story, told over whatever hosts a hosts layer starts.

    A hosts layer (tools/demo_hosts.py: simulated hosts, or real ones on
    the namespace test bed) is mixed in before a nova test base with nova's
    REST API helpers (nova's _IntegratedTestBase), and provides:

    - HOSTS_KIND: one line saying what the hosts are;
    - start_hosts(): one nova-compute service a Host, in self.computes,
      each running PowerKVMDriver, and live migration between them;
    - demo_images(): {'le': image id, 'be': image id};
    - host_domains(name): {instance uuid: guest arch} of the domains the
      host's hypervisor has, whoever defined them;
    - mixed_moments(): [host name] of each moment a host had domains of
      both endiannesses, seen as they were defined;
    - domain_xml(server): the server's domain XML, parsed (lxml);
    - guest_says(server, wait=a few seconds): what the guest's console
      said it is, as 'ppc64, big-endian' or 'ppc64le'; '?' when it has not
      said it within wait seconds, '-' when the hosts cannot say (no guest
      runs, or no domain);
    - expected_topology(boot): the (sockets, cores, threads) it must get;

    and calls size_memory({host name: MB its libvirt reports}) once, then
    offer_story_memory(host) before it starts each host's nova-compute.
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
        # a cloud mixing generations: guests in the oldest's compatibility
        # mode move between them
        self.flags(cpu_compat_mode='POWER8', group='powerkvm')
        self.servers = {}       # name -> server (as the API last said)
        self.flavors = {}       # name -> flavor id

    def check(self, ok, what, detail=None):
        return self.REPORT.check(ok, what, detail)

    # -- the story --------------------------------------------------------

    def test_story(self):
        steps = (self.step_hosts, self.step_images_and_flavors,
                 self.step_boots, self.step_live_migration)
        stopped = None
        for number, step in enumerate(steps, 1):
            if stopped:
                self.skipped(number, 'step %d stopped' % stopped)
                continue
            try:
                step()
            except StepSkipped as e:
                self.skipped(number, str(e))
            except StoryStopped as e:
                stopped = number
                self.REPORT.failures.append('the story stopped: %s' % e)
                say('\n   the story stopped here: %s' % e)
            except Exception as e:
                # an unexpected turn: say where, keep what was shown
                stopped = number
                self.REPORT.failures.append('the story stopped: %s' % e)
                say('\n   the story stopped here:')
                for line in traceback.format_exc().rstrip().splitlines():
                    say('     ' + line)
        try:
            self.step_table()
        except Exception as e:
            self.REPORT.failures.append('the final table failed: %s' % e)
            say(traceback.format_exc())

    def skipped(self, number, why):
        self.REPORT.failures.append('step %d skipped: %s' % (number, why))
        say('\n%d. SKIPPED: %s' % (number, why))

    def size_memory(self, reported):
        """Fit the story's memory sizes to what the hosts report."""
        self.reported_mb = dict(reported)
        self.scale = memory_scale(reported.values())

    def offer_story_memory(self, host):
        """Make host offer the story's memory, before its compute starts."""
        self.flags(ram_allocation_ratio=ram_allocation_ratio(
            host, self.reported_mb[host.name], self.scale),
            reserved_host_memory_mb=RESERVED_MB)

    def flavor_ram(self, flavor):
        return int(flavor.ram * self.scale)

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
                 'RAM GB reported', 'x ratio', 'RAM GB offered')]
        reported = {}
        offered = {}
        for host in HOSTS:
            rp = self._get_provider_uuid_by_host(host.name)
            traits = sorted(
                t for t in self._get_provider_traits(rp)
                if t.startswith(('CUSTOM_POWERKVM_', 'HW_CPU_PPC64LE')))
            inventory = self._get_provider_inventory(rp)
            memory = inventory['MEMORY_MB']
            offered[host.name] = ((memory['total'] - memory['reserved']) *
                                  memory['allocation_ratio'] / 1024)
            described = cpu_host.PowerHost.from_stats(stats.get(host.name))
            mode = described.mode if described else 'not reported'
            rows.append((host.name, mode, inventory['VCPU']['total'],
                         '%.1f' % (memory['total'] / 1024),
                         '%.2f' % memory['allocation_ratio'],
                         '%.0f' % offered[host.name]))
            reported[host.name] = described, traits
        table(rows)
        say('   (VCPU counts hardware threads: cores x threads a core, in '
            'every split-core mode)')
        say_wrapped('Assumed: each host offers the memory the story gives '
                    'it, whatever its machine reports: placement offers '
                    '(reported - %d MB reserved) x ram_allocation_ratio, '
                    'set for each host before its nova-compute starts.'
                    % RESERVED_MB, '   ', '')
        if self.scale < 1:
            say_wrapped('The smallest host reports %.1f GB, and placement '
                        'takes no server bigger than the memory its host '
                        'reports: every memory size of the story (hosts '
                        'and flavors) is scaled by %g.'
                        % (min(self.reported_mb.values()) / 1024,
                           self.scale), '   ', '')
        for host in HOSTS:
            wanted = host.memory_gb * self.scale
            self.check(abs(offered[host.name] - wanted) < 1,
                       '%s offers %g GB of memory' % (host.name, wanted),
                       '%.1f GB' % offered[host.name])
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
                memory_mb=self.flavor_ram(flavor), disk=10, ephemeral=0,
                extra_spec=dict(flavor.specs))
            rows.append((flavor.name, flavor.vcpus, self.flavor_ram(flavor),
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

    def require(self, placed):
        """StepSkipped unless each {server: host} is ACTIVE there."""
        missing = []
        for name, host in placed.items():
            server = self.servers.get(name)
            if server is None:
                missing.append('%s was not booted' % name)
            elif (server['status'], server['OS-EXT-SRV-ATTR:host']) != (
                    'ACTIVE', host):
                missing.append('%s is %s on %s, not ACTIVE on %s' % (
                    name, server['status'],
                    server['OS-EXT-SRV-ATTR:host'] or 'no host', host))
        if missing:
            raise StepSkipped('; '.join(missing))

    def step_live_migration(self):
        # the servers this step moves, where the plan booted them
        planned = {boot.name: boot.host for boot in BOOTS}
        self.require({name: planned[name] for name in
                      ['be-db'] + [move.server for move in REFUSED_MOVES]})
        say('\n4. Live migration')
        say('   be-db (big-endian, whole cores, on p8-whole) to the host '
            'the scheduler picks: only p9')
        say('   can take it (p8-split4 runs LE guests and is in another '
            'split-core mode; a POWER8')
        say('   guest may go to a POWER9: every host has [powerkvm] '
            'cpu_compat_mode = POWER8,')
        say('   so guests run in POWER8 compatibility mode)')
        server = self.servers['be-db']
        # A running guest moves, not its firmware: one moved while still in
        # SLOF (TCG, QEMU 7.2) was seen to stop there in an exception.
        said = self.guest_says(server, wait=self.BOOT_TIMEOUT)
        if said != '-':
            say('   be-db\'s console says: %s' % (
                'nothing in %d s' % self.BOOT_TIMEOUT if said == '?'
                else said))
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
                 'guest says', 'vCPU s x c x t', 'state')]
        for host in HOSTS:
            described = cpu_host.PowerHost.from_stats(stats.get(host.name))
            first = (host.name, _short_mode(described),
                     self.holds(host.name))
            domains = self.host_domains(host.name)
            guests = sorted(by_host.get(host.name, []),
                            key=lambda s: s['name'])
            if not guests:
                rows.append(first + ('-', '', '', '', ''))
            for n, server in enumerate(guests):
                rows.append((first if n == 0 else ('', '', '')) + (
                    server['name'],
                    ENDIAN.get(domains.get(server['id']), '?'),
                    self.guest_says(server),
                    topology_text(self.topology(server)),
                    server['status']))
        for server in sorted(by_host.get(None, []),
                             key=lambda s: s['name']):
            rows.append(('(none)', '', '', server['name'],
                         ENDIAN.get(self.arch_of_image(server), '?'), '-',
                         '-', server['status']))
        table(rows)
        say('   holds: the endianness the host\'s driver ledger says it '
            'runs; endian: the guest\'s domain')
        say_wrapped('guest says: what the guest itself printed on its '
                    'console: its kernel\'s arch (uname -m) and, when it '
                    'prints one, the byte order it found at run time; ? '
                    'nothing yet, - no console to read (simulated hosts '
                    'run no guest)', '   ', '')

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
        try:
            xml = self.domain_xml(server)
        except LookupError:
            return None  # no domain on any host
        node = xml.find('./cpu/topology')
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
