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

"""A hung test fails on its timeout with every stack, in either mode."""

import json
import os
import subprocess
import sys
import threading
import time

import fixtures
from nova import monkey_patch
from nova import test
import testtools

from tests.fixtures import timeouts

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def waiting_for_the_lock(lock, started):
    started.release()
    with lock:
        pass


def holding_the_lock(lock, release):
    with lock:
        release.wait()


def run_hung_test(cleanup_hangs=False):
    """A test whose threads all wait for ever, on its timeout.

    Run in a process of its own (see HUNG): what a hung test leaves behind
    (its blocked greenthreads, their timers) must not outlive it in the
    test worker, whose exit would wait for them.

    :returns: (testtools.TestResult, seconds the test took)
    """
    lock, release = threading.Lock(), threading.Event()
    started = threading.Semaphore(0)

    class Hung(testtools.TestCase):
        def setUp(inner):
            super().setUp()
            if cleanup_hangs:
                inner.addCleanup(release.wait)

        def test_hangs(inner):
            holder = threading.Thread(target=holding_the_lock,
                                      args=(lock, release), daemon=True)
            holder.start()
            waiters = [threading.Thread(target=waiting_for_the_lock,
                                        args=(lock, started), daemon=True)
                       for _ in range(3)]
            for t in waiters:
                t.start()
            for t in waiters:
                started.acquire()
            for t in waiters:
                t.join()     # for ever, but for the timeout

    case = Hung('test_hangs')
    result = testtools.TestResult()
    begun = time.monotonic()
    case.run(result)
    took = time.monotonic() - begun
    release.set()
    return result, took


# The hung test as the test run has it (tests/__init__.py: nova's monkey
# patching as OS_NOVA_DISABLE_EVENTLET_PATCHING says, the timeouts
# installed), on a 1 s timeout; its result on stdout.
HUNG = """
import json, sys
import tests
from tests.fixtures import timeouts
from tests.unit import test_timeouts
timeouts.GRACE_SECONDS = %(grace)d
result, took = test_timeouts.run_hung_test(cleanup_hangs=%(cleanup)r)
print(json.dumps({'errors': [e for _, e in result.errors], 'took': took,
                  'ok': result.wasSuccessful()}))
sys.stdout.flush()
"""


class HungTestTestCase(test.NoDBTestCase):

    def _run_hung_test(self, cleanup_hangs=False, grace=60):
        """(errors, seconds taken, stderr) of run_hung_test()."""
        env = dict(os.environ, OS_TEST_TIMEOUT='1')
        run = subprocess.run(
            [sys.executable, '-c', HUNG % {'grace': grace,
                                           'cleanup': cleanup_hangs}],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(0, run.returncode, run.stderr[-3000:])
        outcome = json.loads(run.stdout.strip().splitlines()[-1])
        self.assertFalse(outcome['ok'])
        return outcome['errors'], outcome['took'], run.stderr

    def test_a_hung_test_fails_with_every_stack(self):
        errors, took, stderr = self._run_hung_test()
        self.assertEqual(1, len(errors), errors)
        report = errors[0]
        self.assertLess(took, 30)
        self.assertIn('TestTimedOut', report)
        self.assertIn('timed out after 1 s', report)
        self.assertIn('OS threads ===', report)
        # where each of them waits, whatever the mode
        self.assertIn('in holding_the_lock', report)
        self.assertIn('in waiting_for_the_lock', report)
        self.assertIn('in test_hangs', report)
        # what it writes to the process's stderr too
        self.assertIn(report.split('TestTimedOut: ', 1)[1].rstrip(), stderr)
        if monkey_patch.is_patched():
            # eventlet: the blocked greenthreads, the three waiters counted
            # once under their shared stack
            self.assertIn('greenthreads', report)
            self.assertIn('--- 3 greenthread(s)', report)

    def test_a_hung_cleanup_is_broken_too(self):
        # the alarm comes again every GRACE_SECONDS / 4 after the first
        errors, took, _ = self._run_hung_test(cleanup_hangs=True, grace=4)
        self.assertLess(took, 4)
        # the body's error and the cleanup's, both on the test
        self.assertEqual(1, len(errors), errors)
        self.assertIn('timed out after 1 s', errors[0])
        self.assertIn('still not over 2 s after it began; its cleanups '
                      'hang too', errors[0])

    def test_the_outer_timeout_runs_on_after_an_inner_one(self):
        outer = timeouts._active[-1]
        self.assertGreater(outer.seconds, 1)

        class Slow(testtools.TestCase):
            def test_sleeps(inner):
                time.sleep(30)

        self.useFixture(fixtures.EnvironmentVariable('OS_TEST_TIMEOUT', '1'))
        result = testtools.TestResult()
        Slow('test_sleeps').run(result)
        self.assertIn('timed out after 1 s', result.errors[0][1])
        self.assertIs(outer, timeouts._active[-1])
        # armed again with what it has left
        left = timeouts.signal.alarm(0)
        timeouts.signal.alarm(left)
        self.assertGreater(left, 0)
        self.assertLessEqual(left, outer.seconds)

    def test_the_length(self):
        class Case(object):
            TIMEOUT_SCALING_FACTOR = 3
        self.useFixture(fixtures.EnvironmentVariable('OS_TEST_TIMEOUT', '7'))
        self.assertEqual(21, timeouts.seconds_for(Case()))
        self.useFixture(fixtures.EnvironmentVariable('OS_TEST_TIMEOUT', '0'))
        self.assertEqual(0, timeouts.seconds_for(Case()))
        self.useFixture(fixtures.EnvironmentVariable('OS_TEST_TIMEOUT'))
        self.assertEqual(3 * timeouts.DEFAULT_SECONDS,
                         timeouts.seconds_for(Case()))

    def test_a_hang_the_alarm_cannot_break_ends_the_process(self):
        """faulthandler's backstop: stacks on stderr, the process ends."""
        script = (
            'import time\n'
            'from tests.fixtures import timeouts\n'
            'timeouts.Timeout(1, grace=1).setUp()\n'
            'while True:\n'
            '    try:\n'
            '        time.sleep(60)\n'
            '    except timeouts.TestTimedOut:\n'
            '        pass  # a hang that swallows the timeout\n')
        run = subprocess.run([sys.executable, '-c', script], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
        self.assertNotEqual(0, run.returncode)
        self.assertIn('timed out after 1 s', run.stderr)
        self.assertIn('Timeout (0:00:01)!', run.stderr)
        # the stacks of the OS threads (in eventlet mode the main thread's
        # is its hub's)
        self.assertIn('most recent call first', run.stderr)
