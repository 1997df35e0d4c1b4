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

"""guest_console when a libvirt call of its own does not return."""

import os
import socket
import uuid

import fixtures
import testtools

from tests.hypervisor import guest_console


class _SilentDaemon(object):
    """A domain whose libvirtd accepts connections and never answers.

    libvirt's client waits for the daemon's reply to its first RPC, so
    virConnectOpen blocks as it would on a daemon whose workers are stuck.
    """

    def __init__(self, path):
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(8)
        self.uri = 'qemu+unix:///system?socket=%s' % path

    def connect(self):
        return self

    def getURI(self):
        return self.uri

    def UUIDString(self):
        return str(uuid.uuid4())


class StalledCallTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.daemon = _SilentDaemon(os.path.join(tmp, 'libvirt-sock'))
        self.addCleanup(self.daemon.listener.close)

    def test_a_stalled_call_is_named_and_asked_once_more(self):
        stderr = self.useFixture(fixtures.StringStream('stderr')).stream
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', stderr))
        error = self.assertRaises(guest_console.NoAnswer, guest_console.ping,
                                  self.daemon, timeout=30, call_limit=2)
        # the call is named, with the daemon it waited for
        self.assertIn('did not return in 2 s: connecting to %s'
                      % self.daemon.uri, str(error))
        # the first stall was reported, then the question asked again
        stderr.seek(0)
        self.assertIn('asked again on a new connection', stderr.read())
