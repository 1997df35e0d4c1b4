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

"""tools/dev's preflight: what a newcomer's machine lacks, and what to do."""

import os
import subprocess
import sys
import tempfile

import testtools

from tools import preflight

GIB = preflight.GIB
ROOMY = preflight.Machine(uid=0, disk_free=100 * GIB,
                          memory_available=20 * GIB, namespaces=None)


class PreflightTestCase(testtools.TestCase):

    def machine(self, **kw):
        values = vars(ROOMY).copy()
        values.update(kw)
        return preflight.Machine(**values)

    def test_a_roomy_root_machine_passes(self):
        for what in ('demo', 'test'):
            self.assertEqual(([], []), preflight.problems(what, ROOMY))

    def test_each_lack_named_with_what_to_do(self):
        cases = [
            (dict(uid=1000), 'not root', 'sudo tools/dev demo'),
            (dict(disk_free=2 * GIB), '2.0 GiB free', 'Free some space'),
            (dict(memory_available=1 * GIB), '1.0 GiB of memory',
             'larger machine'),
        ]
        for kw, lack, todo in cases:
            blocking, _ = preflight.problems('demo', self.machine(**kw))
            self.assertEqual(1, len(blocking), kw)
            self.assertIn(lack, blocking[0])
            self.assertIn(todo, blocking[0])

    def test_namespaces_block_the_tests_not_the_demo(self):
        machine = self.machine(namespaces='unshare failed: Operation not '
                                          'permitted')
        blocking, notes = preflight.problems('demo', machine)
        self.assertEqual([], blocking)
        self.assertIn('the demo will use simulated hosts', notes[0])
        self.assertIn('CAP_SYS_ADMIN', notes[0])
        blocking, notes = preflight.problems('test', machine)
        self.assertIn('the hypervisor tier needs them', blocking[0])

    def test_meminfo_read(self):
        with tempfile.NamedTemporaryFile('w', suffix='meminfo') as f:
            f.write('MemTotal:       24598756 kB\n'
                    'MemAvailable:    5465888 kB\n')
            f.flush()
            self.assertEqual(5465888 * 1024,
                             preflight.memory_available(f.name))
        self.assertIsNone(preflight.memory_available('/nonexistent'))

    def test_command_says_and_exits_nonzero_as_a_user(self):
        # the real command, run as a user that is not root (nobody)
        script = os.path.join(os.path.dirname(preflight.__file__),
                              'preflight.py')
        as_user = [] if os.geteuid() else [
            'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']
        run = subprocess.run(as_user + [sys.executable, script, 'demo'],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(1, run.returncode, run.stderr)
        self.assertIn('tools/dev: not root', run.stderr)
