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
5. a table of hosts, guests, endianness (as the domain and the guest's
   own console say it) and topology, then "every check passed" or the list
   of what failed (exit status 1).

With root, libvirtd, QEMU and the test guests (tools/setup-host.sh), the
hosts are real: three libvirtds, each in its own network namespace
(tools/testbed.py), running pseries guests under QEMU's emulation of POWER
(TCG, one thread a guest core) that boot little- or big-endian Linux,
described to their drivers as the POWER hosts they play; a few minutes.
Otherwise, or with --simulated, they are nova's fake libvirt made to look
like POWER hosts (tests/fixtures/power_libvirt.py), as the functional tests
use, in well under a minute. The demo says which.

Usage: python tools/demo.py [--simulated]
"""

import argparse
import logging
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
# nova's native-thread mode, as tox -e demo runs it, unless told otherwise
os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')

import tests  # noqa: E402,F401  (nova's concurrency mode, first)
from tools.demo_hosts import real_hypervisor_problem  # noqa: E402
from tools.demo_hosts import RealHosts  # noqa: E402
from tools.demo_hosts import SimulatedHosts  # noqa: E402
from tools.demo_hosts import test_bed_problem  # noqa: E402
from tools.demo_output import Report  # noqa: E402
from tools.demo_output import say  # noqa: E402
from tools.demo_output import say_wrapped  # noqa: E402
from tools.demo_plan import HOSTS  # noqa: E402
from tools.demo_story import Story  # noqa: E402


def simulated_demo():
    from tests.functional import base

    class SimulatedDemo(Story, SimulatedHosts, base.PowerKVMTestBase):
        pass

    return SimulatedDemo('test_story')


def real_demo():
    from tests.hypervisor import base

    class RealDemo(Story, RealHosts, base.RealHypervisorTestBase):
        pass

    return RealDemo('test_story')


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
