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
with the admin's environment (python -m tools.cloud env)."""

import json
import os
import subprocess
import sys
import time
import uuid

import testtools

from tools.cloud import layout

OPENSTACK = os.path.join(os.path.dirname(sys.executable), 'openstack')
GUEST_DIR = os.environ.get('POWERKVM_GUEST_DIR', os.path.expanduser(
    '~/.cache/powerkvm-nova/guest'))
# a TCG boot of the test guest on a busy 2-core machine
BOOT_TIMEOUT = 300


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

    def openstack(self, *argv, parse=True):
        """The openstack CLI's output: parsed JSON, or text."""
        argv = list(argv) + (['-f', 'json'] if parse else [])
        done = subprocess.run([OPENSTACK] + argv, capture_output=True,
                              text=True, timeout=180,
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

    def wait_for_server(self, server_id, statuses=('ACTIVE',),
                        timeout=BOOT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            server = self.openstack('server', 'show', server_id)
            if server['status'] in statuses:
                return server
            if server['status'] == 'ERROR' and 'ERROR' not in statuses:
                self.fail('server %s is ERROR: %s' % (
                    server_id, server.get('fault')))
            if time.monotonic() > deadline:
                self.fail('server %s is %s after %d s, not %s' % (
                    server_id, server['status'], timeout, statuses))
            time.sleep(2)
