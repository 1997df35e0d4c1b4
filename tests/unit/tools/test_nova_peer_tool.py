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

"""tools/nova_peer.py reads what a real subunit run reports."""

import io
import os
import subprocess
import sys
import textwrap

import fixtures
import testtools

from tools import nova_peer

PROBE = textwrap.dedent('''
    import testtools


    class T(testtools.TestCase):
        def test_both(self):
            pass

        def test_libvirt_only(self):
            if DRIVER == 'powerkvm':
                raise ValueError('no kernel for you')

        def test_neither(self):
            self.assertEqual('x86', 'ppc64le')

        def test_skipped(self):
            self.skipTest('x86 only')
''')


class NovaPeerToolTestCase(testtools.TestCase):

    def _results(self, driver):
        """What a subunit run of the probe suite under driver reports."""
        work = self.useFixture(fixtures.TempDir()).path
        os.mkdir(os.path.join(work, 'probe'))
        open(os.path.join(work, 'probe', '__init__.py'), 'w').close()
        with open(os.path.join(work, 'probe', 'test_probe.py'), 'w') as f:
            f.write('DRIVER = %r\n' % driver + PROBE)
        run = subprocess.run(
            [sys.executable, '-m', 'subunit.run', 'probe.test_probe'],
            cwd=work, env=dict(os.environ, PYTHONPATH=work),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        return nova_peer.parse(io.BytesIO(run.stdout))

    def test_parse_statuses_and_causes(self):
        results = self._results('libvirt')
        prefix = 'probe.test_probe.T.'
        self.assertEqual('success', results[prefix + 'test_both'][0])
        self.assertEqual('fail', results[prefix + 'test_neither'][0])
        self.assertIn("'x86' != 'ppc64le'",
                      results[prefix + 'test_neither'][1])
        self.assertEqual('skip', results[prefix + 'test_skipped'][0])

    def test_report_ratio_and_differences(self):
        libvirt = self._results('libvirt')
        powerkvm = self._results('powerkvm')
        self.assertEqual((1, 2), nova_peer.ratio(libvirt, powerkvm))
        lines, undocumented = nova_peer.report(libvirt, powerkvm, {})
        text = '\n'.join(lines)
        self.assertIn('1 / 2 = 0.500', text)
        self.assertIn('PowerKVMDriver fail probe.test_probe.T.'
                      'test_libvirt_only', text)
        self.assertIn('ValueError: no kernel for you', text)
        self.assertEqual(['probe.test_probe.T.test_libvirt_only'],
                         undocumented)
        lines, undocumented = nova_peer.report(
            libvirt, powerkvm,
            {'probe.test_probe.T.test_libvirt_only': 'a POWER decision'})
        self.assertEqual([], undocumented)
        self.assertIn('      documented: a POWER decision', lines)
