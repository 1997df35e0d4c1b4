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

"""In-process nova with PowerKVM computes over fake POWER libvirt hosts.

nova's own API, conductor, scheduler and placement run in this process
(nova's functional harness); each compute service runs PowerKVMDriver,
loaded by name through nova's loader, over a fake libvirt connection that
reports a POWER8 or POWER9 host (tests/fixtures/power_libvirt.py).
"""

import copy
import os
import sys
import time

import fixtures
from lxml import etree
from nova.tests.fixtures import libvirt as fakelibvirt
from nova.tests.functional.api import client
from nova.tests.functional.libvirt import base
from nova.virt.libvirt import host as libvirt_host

from tests.fixtures import cell_lock
from tests.fixtures import images
from tests.fixtures import polling
from tests.fixtures import power_libvirt


# How long a server is awaited to change state, and how often it is asked.
STATE_WAIT = 120
POLL_INTERVAL = 0.1

# Taken before nova's libvirt test base replaces it with "CPUs 0-15".
_ONLINE_CPUS = libvirt_host.Host.get_online_cpus


class PowerKVMTestBase(base.ServersTestBase):
    """Servers through the REST API onto PowerKVM hosts."""

    microversion = 'latest'
    ADMIN_API = True

    def setUp(self):
        self._next_spec = power_libvirt.POWER8
        self._next_online = power_libvirt.POWER8.online_cpus()
        # nova's wheel installs its paste config under sys.prefix.
        self.flags(api_paste_config=os.path.join(
            sys.prefix, 'etc', 'nova', 'api-paste.ini'), group='wsgi')
        # before nova's harness makes its CellDatabases
        self.useFixture(cell_lock.CellLock())
        super().setUp()
        # A POWER host's own view of itself (nova asks os.uname()).
        self.libvirt.mock_uname.return_value = fakelibvirt.os_uname(
            'Linux', '', '5.14.0', '', 'ppc64le')
        # The CPUs the fake host has online, as libvirt reports them
        # (PowerConnection.getCPUMap), not nova's fixed "0-15".
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.host.Host.get_online_cpus', _ONLINE_CPUS))
        self.images = {
            'le': self._power_image('ppc64le'),
            'be': self._power_image('ppc64'),
        }

    # nova's helpers poll half a second apart, 10 times: a boot on a
    # loaded machine takes longer (CI: a boot not ACTIVE after 5 s beside
    # other work), and most changes take a fraction of the half second
    # each poll sleeps (the functional tier spent a quarter of its time
    # idle). These poll every POLL_INTERVAL for up to STATE_WAIT seconds;
    # the test's own timeout (tests/fixtures/timeouts.py) bounds them too.
    def _poll(self, look, what):
        """look()'s first true answer, asked every POLL_INTERVAL."""
        return polling.poll(self, look, STATE_WAIT,
                            lambda _answer: 'not %s' % what(), POLL_INTERVAL)

    def _wait_for_server_parameter(self, server, expected_params,
                                   max_retries=None, api=None,
                                   wait_for_fault_key=True):
        api = api or getattr(self, 'admin_api', self.api)
        # nova records the fault just after it sets ERROR
        want_fault = (wait_for_fault_key
                      and expected_params.get('status') == 'ERROR')
        seen = server

        def look():
            nonlocal seen
            seen = api.get_server(server['id'])
            return (all(seen[k] == v for k, v in expected_params.items())
                    and (not want_fault or 'fault' in seen)
                    and seen)
        return self._poll(look, lambda: '%s: %s' % (expected_params, seen))

    def _wait_until_deleted(self, server):
        was_error = server.get('status') == 'ERROR'

        def look():
            try:
                now = self.api.get_server(server['id'])
            except client.OpenStackApiNotFoundException:
                return True
            if not was_error and now['status'] == 'ERROR':
                self.fail('server %s went to ERROR instead of away: %s' % (
                    server['id'], now.get('fault')))
        self._poll(look, lambda: 'deleted: %s' % server['id'])

    def _wait_for_migration_status(self, server, expected_statuses):
        statuses = {status.lower() for status in expected_statuses}
        api = getattr(self, 'admin_api', self.api)

        def look():
            for migration in api.api_get(
                    '/os-migrations').body['migrations']:
                if (migration['instance_uuid'] == server['id']
                        and migration['status'].lower() in statuses):
                    return migration
        return self._poll(look, lambda: 'a migration of %s %s' % (
            server['id'], expected_statuses))

    def _wait_for_instance_action_event(self, server, action_name,
                                        event_name, event_result):
        api = getattr(self, 'admin_api', self.api)

        def look():
            for action in api.get_instance_actions(server['id']):
                if action['action'] != action_name:
                    continue
                for event in api.get_instance_action_details(
                        server['id'], action['request_id'])['events']:
                    if (event['event'] == event_name
                            and (event['result'] or '').lower()
                            == event_result.lower()):
                        return event
        return self._poll(look, lambda: 'event %s %s of %s' % (
            event_name, event_result, action_name))

    def _setup_compute_service(self):
        self.flags(compute_driver='powerkvm.PowerKVMDriver')

    def _get_connection(self, host_info=None, pci_info=None, mdev_info=None,
                        vdpa_info=None, libvirt_version=None,
                        qemu_version=None, hostname=None):
        spec = self._next_spec
        if spec is None:
            # nova's own fake host: x86_64 (fakelibvirt.HostInfo)
            return fakelibvirt.Connection(
                'qemu:///system', host_info=host_info or fakelibvirt.HostInfo(
                    cpu_nodes=2, cpu_sockets=1, cpu_cores=2, cpu_threads=2),
                version=libvirt_version or fakelibvirt.FAKE_LIBVIRT_VERSION,
                hv_version=qemu_version or fakelibvirt.FAKE_QEMU_VERSION,
                hostname=hostname)
        return power_libvirt.PowerConnection(
            'qemu:///system', spec=spec, online=self._next_online,
            version=libvirt_version or fakelibvirt.FAKE_LIBVIRT_VERSION,
            hv_version=qemu_version or fakelibvirt.FAKE_QEMU_VERSION,
            hostname=hostname)

    def start_power_compute(self, hostname, spec=power_libvirt.POWER8,
                            subcores_per_core=1,
                            online_threads_per_core=None):
        """A compute on a fake host, by default laid out as KVM-HV needs.

        The static probe describes the host the fake libvirt reports. By
        default each subcore's first thread is online and the others are
        offline: SMT1 in whole-core mode, threads 0,4 or 0,2,4,6 of each
        core in split-core mode 2 or 4 (on_primary_thread in the kernel's
        arch/powerpc/kvm/book3s_hv.c; doc/cpu.md).
        """
        self._next_spec = spec
        self._next_online = spec.online_cpus(subcores_per_core,
                                             online_threads_per_core)
        self.flags(group='powerkvm', **spec.static_probe(
            subcores_per_core, online_threads_per_core))
        self.start_compute(hostname)
        return self.computes[hostname]

    def start_x86_compute(self, hostname):
        """A compute of nova's own LibvirtDriver on an x86_64 host.

        A cloud's other architectures: the PowerKVM filters and weigher run
        for the whole cloud and must leave such hosts to nova.
        """
        self._next_spec = None
        self.flags(compute_driver='libvirt.LibvirtDriver')
        # fakelibvirt's capabilities are those of os.uname()'s machine;
        # nova reads them once, at the service's start.
        power = self.libvirt.mock_uname.return_value
        self.libvirt.mock_uname.return_value = fakelibvirt.os_uname(
            'Linux', '', '5.14.0', '', 'x86_64')
        try:
            self.start_compute(hostname)
        finally:
            self.libvirt.mock_uname.return_value = power
            self._setup_compute_service()
        return self.computes[hostname]

    def _power_image(self, arch, **properties):
        """An image in the image service; arch None declares none."""
        if arch:
            properties['hw_architecture'] = arch
        image = images.record('%s-image' % (arch or 'no-arch'), 'qcow2',
                              25165824, **properties)
        self.glance.create(None, copy.deepcopy(image))
        return image['id']

    def boot(self, image, expected_state='ACTIVE', flavor_id=None, **kw):
        return self._create_server(
            image_uuid=self.images.get(image, image), flavor_id=flavor_id,
            networks='none', expected_state=expected_state, **kw)

    def fault_of(self, server):
        """The server's fault, once nova has recorded it.

        nova records a fault just after it sets ERROR; nova 33's wait
        helpers do not wait for it as nova 34's do.
        """
        for _ in range(100):
            server = self.api.get_server(server['id'])
            if 'fault' in server:
                return server['fault']
            time.sleep(0.1)
        self.fail('server %s has no fault' % server['id'])

    def domain_xml(self, server):
        """The domain XML nova gave libvirt for this server, parsed."""
        host = server['OS-EXT-SRV-ATTR:host']
        conn = self.computes[host].driver._host.get_connection()
        return etree.fromstring(conn.defined_xml[server['id']])
