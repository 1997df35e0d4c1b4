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

"""The PowerKVM demo: in-process nova with two PowerKVM hosts.

nova's API, conductor, scheduler and placement run in this process with two
nova-compute services running PowerKVMDriver. With a usable libvirtd and
qemu-system-ppc64 (as after 'tools/dev demo'), the hosts drive real QEMU
pseries guests under TCG, and the server is a real little-endian Linux
(Debian's ppc64el kernel); otherwise they are simulated POWER8 hosts over
nova's fake libvirt. It says which. It boots a little-endian server through
the REST API, prints where it landed and its state, deletes it, and exits
non-zero if anything went wrong.

Usage: python tools/demo.py [--simulated]
"""

import argparse
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import tests  # noqa: E402,F401  (nova's concurrency mode, first)

HOSTS = ('powerkvm-1', 'powerkvm-2')


def say(text=''):
    print(text, flush=True)


def real_hypervisor_problem():
    """Why the real hypervisor cannot be used here, or None."""
    try:
        import libvirt
    except ImportError:
        return 'the libvirt Python binding is not installed'
    from tests.hypervisor import base
    try:
        libvirt.open(base.URI).close()
    except libvirt.libvirtError as e:
        return 'libvirtd is not reachable at %s (%s)' % (base.URI, e)
    for name in ('vmlinux', 'initramfs.cpio.gz', 'disk.raw'):
        if not os.path.exists(os.path.join(base.GUEST_DIR, name)):
            return ('the test guest is not built (tools/build-test-guest.sh)')
    return None


def table(rows):
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        say('  ' + '  '.join(str(c).ljust(w) for c, w in zip(row, widths)))
        if n == 0:
            say('  ' + '  '.join('-' * w for w in widths))


class _Demo:
    """The story, shared by both kinds of host."""

    def test_demo(self):
        say('nova services: API, conductor, scheduler, placement, and '
            'nova-compute on %s (compute_driver = powerkvm.PowerKVMDriver)'
            % ', '.join(HOSTS))
        image = self.demo_image()
        say('booting a little-endian (ppc64le) server through the REST '
            'API...')
        started = time.monotonic()
        server = self._create_server(image_uuid=image, networks='none',
                                     name='demo-le')
        say('  server %s is %s after %.1f s'
            % (server['id'], server['status'], time.monotonic() - started))
        self.guest_ready(server)
        xml = self.domain_xml(server)
        os_type = xml.find('./os/type')
        topo = xml.find('./cpu/topology')
        say()
        table([('server', 'state', 'host', 'guest arch', 'machine',
                'domain type', 'cpu (s x c x t)'),
               (server['name'], server['status'],
                server['OS-EXT-SRV-ATTR:host'], os_type.get('arch'),
                os_type.get('machine'), xml.get('type'),
                '%s x %s x %s' % (topo.get('sockets'), topo.get('cores'),
                                  topo.get('threads')))])
        say()
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual('ppc64le', os_type.get('arch'))
        self.assertIn(server['OS-EXT-SRV-ATTR:host'], HOSTS)
        self._delete_server(server)
        self._wait_until_deleted(server)
        say('server deleted; demo finished OK')


def real_demo():
    from tests.hypervisor import base

    class RealDemo(_Demo, base.RealHypervisorTestBase):

        def _setup_compute_service(self):
            for host in HOSTS:
                self.start_real_compute(host)

        def demo_image(self):
            return self.little_endian_linux_image()

        def guest_ready(self, server):
            seconds = self.wait_for_console(server, 'POWERKVM-GUEST-READY')
            say('  the guest (Debian ppc64el kernel, busybox) says on its '
                'console:')
            for line in self.console(server).splitlines():
                if line.startswith('POWERKVM-') and 'TICK' not in line:
                    say('    ' + line.strip())
            say('  guest ready %.1f s after the server went ACTIVE'
                % seconds)

    return RealDemo('test_demo')


def simulated_demo():
    from tests.fixtures import power_libvirt
    from tests.functional import base

    class SimulatedDemo(_Demo, base.PowerKVMTestBase):

        def setUp(self):
            super().setUp()
            for host in HOSTS:
                self.start_power_compute(host, power_libvirt.POWER8)

        def demo_image(self):
            return self.images['le']

        def guest_ready(self, server):
            say('  (simulated host: no guest console to show)')

    return SimulatedDemo('test_demo')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--simulated', action='store_true',
                        help='use simulated POWER8 hosts even when a real '
                             'libvirtd is available')
    args = parser.parse_args()
    problem = 'asked for' if args.simulated else real_hypervisor_problem()
    if problem:
        say('PowerKVM hosts: SIMULATED POWER8 hosts over nova\'s fake '
            'libvirt (real hypervisor not used: %s)' % problem)
        case = simulated_demo()
    else:
        say('PowerKVM hosts: REAL libvirtd + qemu-system-ppc64 (TCG '
            'emulation of POWER on this %s machine); the two nova-compute '
            'services share this machine\'s libvirtd' % os.uname().machine)
        case = real_demo()
    result = unittest.TextTestRunner(stream=sys.stderr, verbosity=0).run(
        unittest.TestSuite([case]))
    return 0 if result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
