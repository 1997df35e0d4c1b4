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


"""The demo's hosts layers: simulated POWER hosts, or real ones."""

import dataclasses
import os
import re
import time

from tools.demo_output import say
from tools.demo_plan import FLAVORS
from tools.demo_plan import HOSTS
from tools.demo_plan import THREADS
from tools import test_guest

# how long the final table waits for a guest to say what it is, at most
SAYS_WAIT = 5


class SimulatedHosts:
    """The hosts layer over fake POWER libvirt hosts (functional tier)."""

    HOSTS_KIND = ('SIMULATED -- nova\'s fake libvirt made to look like '
                  'POWER8 and POWER9 hosts (tests/fixtures/power_libvirt.py);'
                  ' guests are domain definitions, no QEMU runs')
    # The memory each fake host reports, as one machine's hosts would:
    # the same for all, and not the story's (offer_story_memory).
    REPORTED_MB = 16384

    def start_hosts(self):
        import fixtures
        from nova.tests.fixtures import libvirt as fakelibvirt

        from tests.fixtures import power_libvirt
        specs = {'POWER8': power_libvirt.POWER8,
                 'POWER9': power_libvirt.POWER9}
        self._mixed = []
        self.size_memory({host.name: self.REPORTED_MB for host in HOSTS})
        for host in HOSTS:
            # nova reads the fake's kB_mem as MB (libvirt's getInfo())
            spec = dataclasses.replace(specs[host.generation],
                                       kb_mem=self.REPORTED_MB)
            self.offer_story_memory(host)
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

    def guest_says(self, server, wait=0):
        return '-'  # no guest runs: the fake libvirt has no console


class RealHosts:
    """The hosts layer on real libvirt hosts, QEMU emulating POWER (TCG).

    Three libvirt hosts from tools/testbed.py (each its own network
    namespace, libvirtd, host UUID and hostname; shared instance storage),
    each described to its driver by the static probe as the POWER host it
    plays. The guests are real pseries machines booting Linux: Debian's
    ppc64el kernel, or a big-endian ppc64 one (tools/build-be-guest.sh).
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
        self._said = {}     # instance uuid -> what its guest said it is
        self.size_memory({host.name: _reported_mb(self.bed.uri(host.name))
                          for host in HOSTS})
        for host in HOSTS:
            self.offer_story_memory(host)
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
                'be': self.big_endian_linux_image()}

    def host_domains(self, name):
        from lxml import etree
        return {dom.UUIDString(): etree.fromstring(dom.XMLDesc(0)).find(
            './os/type').get('arch')
            for dom in self._conns[name].listAllDomains()}

    def domain_xml(self, server):
        return self._domain(server)[1]

    def _domain(self, server):
        """(host name, domain XML parsed) of the server's domain."""
        from lxml import etree
        for name, conn in self._conns.items():
            for dom in conn.listAllDomains():
                if dom.UUIDString() == server['id']:
                    return name, etree.fromstring(dom.XMLDesc(0))
        raise LookupError('no domain for %s' % server['id'])

    def guest_says(self, server, wait=SAYS_WAIT):
        """What the guest's console says it is: 'ppc64, big-endian'.

        Waits up to wait seconds for it: '?' if it said nothing by then,
        '-' with no domain. Kept once the guest is ready: a live
        migration's destination starts the console log anew (libvirt
        truncates it), and the guest does not say it again.
        """
        deadline = time.monotonic() + wait
        while server['id'] not in self._said:
            try:
                console = self._console(server)
            except LookupError:
                return '-'
            # the test guests say what they are before they are ready
            if 'POWERKVM-GUEST-READY' in console:
                self._said[server['id']] = _console_says(console)
            elif time.monotonic() > deadline:
                return _console_says(console) or '?'
            else:
                time.sleep(0.5)
        return self._said[server['id']]

    def _console(self, server):
        """The guest's console log, as its host's virtlogd wrote it."""
        host, xml = self._domain(server)
        path = xml.find('./devices/serial/log').get('file')
        # the host's path, in its mount namespace; the machine's is here
        path = os.path.join(self.bed.host_instances_dir(host),
                            os.path.relpath(path, self.bed.instances_path))
        try:
            with open(path, errors='replace') as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def expected_topology(self, boot):
        # TCG runs one thread a guest core (the driver logs why)
        vcpus = {f.name: f.vcpus for f in FLAVORS}[boot.flavor]
        return (1, vcpus, 1)


def _console_says(console):
    """'ppc64le', 'ppc64, big-endian': a test guest's console lines.

    Its BOOTED line's arch= (uname -m), and the byte order the BE guest
    finds at run time (tools/be_guest/init.c); '' before it booted.
    """
    booted = re.search(r'POWERKVM-GUEST-BOOTED arch=(\S+)', console)
    if not booted:
        return ''
    order = re.search(r'POWERKVM-GUEST-BYTEORDER (\S+)', console)
    return booted.group(1) + (', ' + order.group(1) if order else '')


def _reported_mb(uri):
    """The memory (MB) a libvirtd reports, as nova-compute reads it."""
    import libvirt
    conn = libvirt.open(uri)
    try:
        return conn.getInfo()[1]
    finally:
        conn.close()


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
    missing = test_guest.missing()
    if missing:
        return 'a test guest is not built (tools/%s)' % missing[1]
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
