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

"""Tests that drive the running cloud (tools/cloud) with the openstack CLI,
as an operator would: every command is the openstack client's own process,
with the admin's environment (python -m tools.cloud env).

Waiting is not an operator's command: a wait polls the API in this process
(openstacksdk) and shows what it waited for through the CLI once. Each CLI
process costs about 3 s of CPU before it sends a request, and one every few
seconds took a core from the emulated guests the test waits for.
"""

import json
import os
import subprocess
import sys
import uuid

import testtools

from tests.fixtures import polling
from tools.cloud import control
from tools.cloud import layout

OPENSTACK = os.path.join(os.path.dirname(sys.executable), 'openstack')
# a TCG boot of the test guest on a busy 2-core machine
BOOT_TIMEOUT = 300
FIGURES = os.environ.get('POWERKVM_FIGURES',
                         '/tmp/powerkvm-cloud-figures.txt')


def record_figure(name, value):
    """Keep a measured figure where CI prints it from, and say it."""
    with open(FIGURES, 'a') as f:
        f.write('%s: %s\n' % (name, value))
    print('%s: %s' % (name, value))


class CommandFailed(Exception):
    def __init__(self, argv, done):
        super().__init__('openstack %s failed (%d): %s' % (
            ' '.join(argv), done.returncode, done.stderr.strip()[-2000:]))
        self.stderr = done.stderr


class CloudTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        # a name of this test's own for what it makes
        self.prefix = 'pkvm-%s-' % uuid.uuid4().hex[:6]
        self.conn = control.connection()
        self.addCleanup(self.conn.close)

    def openstack(self, *argv, parse=True, timeout=180):
        """The openstack CLI's output: parsed JSON, or text."""
        argv = list(argv) + (['-f', 'json'] if parse else [])
        done = subprocess.run([OPENSTACK] + argv, capture_output=True,
                              text=True, timeout=timeout,
                              env=dict(os.environ, **layout.admin_env()))
        if done.returncode:
            raise CommandFailed(argv, done)
        return json.loads(done.stdout) if parse and done.stdout else \
            done.stdout

    def fails(self, *argv):
        """The stderr of a CLI command that must fail."""
        error = self.assertRaises(CommandFailed, self.openstack, *argv,
                                  parse=False)
        return error.stderr

    def poll(self, probe, timeout, what, interval=2):
        """probe()'s first true answer; the test fails after timeout.

        :param what: a function of probe's last answer saying what was
            awaited and what came instead, for the failure
        """
        return polling.poll(self, probe, timeout, what, interval)

    def wait_for_server(self, server_id, statuses=('ACTIVE',),
                        timeout=BOOT_TIMEOUT):
        """'server show' once the server's status is one of statuses."""
        last = {}

        def settled():
            server = self.conn.compute.get_server(server_id)
            last['status'] = server.status
            if server.status == 'ERROR' and 'ERROR' not in statuses:
                self.fail('server %s is ERROR: %s' % (server_id,
                                                      server.fault))
            return server.status in statuses

        self.poll(settled, timeout, lambda _answer: (
            'server %s is %s, not %s' % (server_id, last['status'],
                                         statuses)))
        shown = self.openstack('server', 'show', server_id)
        self.assertIn(shown['status'], statuses, shown)
        return shown
