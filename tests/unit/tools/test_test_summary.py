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

"""tools/test_summary.py reads what stestr really prints."""

import io
import os
import subprocess
import sys
import textwrap
from unittest import mock

import fixtures
import testtools

from tools import test_summary

FAILING = textwrap.dedent('''
    import testtools
    from testtools import content


    class T(testtools.TestCase):
        def test_passes(self):
            pass

        def test_fails(self):
            # what OS_STDOUT_CAPTURE makes of a test's output: a detail,
            # which stestr prints after the traceback
            self.addDetail('stdout', content.text_content(
                'captured noise ' * 20))
            self.assertEqual('expected', 'the wrong thing')
''')


class SummaryTestCase(testtools.TestCase):

    def _stestr_log(self):
        """What `stestr run` prints for a run with one failure, and tox."""
        work = self.useFixture(fixtures.TempDir()).path
        os.mkdir(os.path.join(work, 'probe'))
        open(os.path.join(work, 'probe', '__init__.py'), 'w').close()
        with open(os.path.join(work, 'probe', 'test_probe.py'), 'w') as f:
            f.write(FAILING)
        stestr = [sys.executable, '-m', 'stestr', '--test-path=./probe']
        env = dict(os.environ, PYTHONPATH=work)
        subprocess.run(stestr + ['init'], cwd=work, env=env, check=True,
                       capture_output=True, timeout=60)
        run = subprocess.run(stestr + ['run'], cwd=work, env=env, text=True,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=120)
        self.assertNotEqual(0, run.returncode, run.stdout)
        tox = ('  functional: FAIL code 1 (10.00=setup[1.00]+cmd[9.00] '
               'seconds)\n  docs: OK (3.00=setup[1.00]+cmd[2.00] seconds)\n')
        path = os.path.join(work, 'ci.log')
        with open(path, 'w') as f:
            f.write(run.stdout + tox)
        return path

    def test_names_the_failure_and_its_assertion(self):
        log = self._stestr_log()
        out = io.StringIO()
        with mock.patch('sys.stdout', out):
            rc = test_summary.main(log)
        summary = out.getvalue()
        self.assertEqual(1, rc)
        self.assertIn('1 failed test(s)', summary)
        self.assertIn('FAILED: probe.test_probe.T.test_fails', summary)
        self.assertIn("'expected' != 'the wrong thing'",
                      summary)
        self.assertNotIn('test_passes', summary)
        self.assertNotIn('captured noise', summary)
        # the tiers' lines, last
        self.assertEqual(['  functional: FAIL code 1', '  docs: OK'],
                         [line.split(' (')[0]
                          for line in summary.splitlines()[-2:]])

    def test_a_clean_log_has_none(self):
        path = self.useFixture(fixtures.TempDir()).join('ci.log')
        with open(path, 'w') as f:
            f.write('{0} a.b.C.test_d [0.1s] ... ok\n'
                    '  py3: OK (1.00=setup[0.50]+cmd[0.50] seconds)\n')
        out = io.StringIO()
        with mock.patch('sys.stdout', out):
            self.assertEqual(0, test_summary.main(path))
        self.assertIn('0 failed test(s)', out.getvalue())

    def test_tells_the_cloud_tiers_tempest(self):
        # the lines tools/cloud/tempest.py prints after each run
        path = self.useFixture(fixtures.TempDir()).join('ci.log')
        with open(path, 'w') as f:
            f.write('tempest: /var/lib/pkvm-cloud/tempest/etc/tempest.conf\n'
                    'tempest: upstream, CI selection: passed 60, failed 0, '
                    'skipped 9 in 410 s\n'
                    ' - Passed: 60\n'
                    'tempest: powerkvm plugin: passed 12, failed 0, '
                    'skipped 1 in 250 s\n'
                    'tempest: passed in 672 s\n'
                    '  cloud: OK (1.00=setup[0.50]+cmd[0.50] seconds)\n')
        out = io.StringIO()
        with mock.patch('sys.stdout', out):
            test_summary.main(path)
        self.assertEqual(
            ['tempest: upstream, CI selection: passed 60, failed 0, '
             'skipped 9 in 410 s',
             'tempest: powerkvm plugin: passed 12, failed 0, skipped 1 '
             'in 250 s',
             'tempest: passed in 672 s',
             '  cloud: OK (1.00=setup[0.50]+cmd[0.50] seconds)'],
            out.getvalue().splitlines()[-4:])
