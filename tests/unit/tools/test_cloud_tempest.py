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

"""A tempest run's counts are told, and a run that hangs is killed."""

import io
import os
import stat
import time
from unittest import mock

import fixtures
import testtools

from tools.cloud import tempest

# the end of what `tempest run` prints (stestr's subunit-trace totals),
# then, for the hung run, a worker that never ends
SCRIPT = '''#!/bin/sh
echo "{0} tempest.api.compute.flavors.test_flavors.FlavorsV2TestJSON.\
test_list_flavors [0.1s] ... ok"
echo "======"
echo "Totals"
echo "======"
echo "Ran: 3 tests in 1.0 sec."
echo " - Passed: 2"
echo " - Skipped: 1"
echo " - Expected Fail: 0"
echo " - Unexpected Success: 0"
echo " - Failed: 0"
%s
'''


class TempestRunTestCase(testtools.TestCase):

    def _tempest(self, tail):
        work = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(work, 'tempest')
        with open(path, 'w') as f:
            f.write(SCRIPT % tail)
        os.chmod(path, stat.S_IRWXU)
        self.useFixture(fixtures.MonkeyPatch(
            'tools.cloud.tempest.TEMPEST', path))
        self.useFixture(fixtures.MonkeyPatch(
            'tools.cloud.tempest.WORKSPACE', work))

    def _run(self, limit):
        out = io.StringIO()
        with mock.patch('sys.stdout', out):
            rc = tempest._tempest_run('upstream', [], limit)
        return rc, out.getvalue().splitlines()

    def test_counts_told(self):
        self._tempest('exit 0')
        rc, lines = self._run(60)
        self.assertEqual(0, rc)
        self.assertRegex(lines[-1], r'^tempest: upstream: passed 2, '
                         r'failed 0, skipped 1 in \d+ s$')

    def test_a_hung_run_killed_with_its_workers(self):
        # a worker of its own session's group, as stestr's are
        self._tempest('sleep 300 & echo "worker $!"; wait')
        rc, lines = self._run(2)
        self.assertNotEqual(0, rc)
        self.assertIn('tempest: upstream: killed, not done after its 2 s',
                      lines)
        worker = int([line.split()[1] for line in lines
                      if line.startswith('worker ')][0])
        # SIGKILL takes effect when the kernel next schedules the worker:
        # on a loaded machine, a moment after killpg returns
        deadline = time.monotonic() + 60
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(_alive(worker))


def _alive(pid):
    """Whether pid runs: neither gone nor a zombie (/proc/<pid>/stat)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except FileNotFoundError:
        return False
