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

"""powerkvm-status as an operator runs it, on a host that is not ready.

Each case runs the command in a process of its own and reads what it
prints: a results table with a Failure and exit code 2, never a traceback.
"""

import os
import subprocess
import sys
import textwrap

import fixtures
import testtools

# Starts the command as its console script does, after making the import
# of libvirt fail (a Python without libvirt-python) or answer as a host
# whose libvirtd is stopped: libvirt-python's openReadOnly raises
# libvirtError with this message when its socket is missing (libvirt
# src/rpc/virnetsocket.c, virNetSocketNewConnectUNIX).
RUNNER = textwrap.dedent('''
    import sys
    import types
    if sys.argv[1] == 'no-module':
        sys.modules['libvirt'] = None
    elif sys.argv[1] == 'stopped':
        libvirt = types.ModuleType('libvirt')

        class libvirtError(Exception):
            pass

        def openReadOnly(uri):
            raise libvirtError(
                "Failed to connect socket to '/var/run/libvirt/libvirt-sock'"
                ": No such file or directory")
        libvirt.libvirtError = libvirtError
        libvirt.openReadOnly = openReadOnly
        sys.modules['libvirt'] = libvirt
    from powerkvm_nova.cmd import status
    sys.exit(status.main(sys.argv[2:]))
''')

CONF = textwrap.dedent('''
    [DEFAULT]
    compute_driver = powerkvm.PowerKVMDriver
    [powerkvm]
    host_mode = emulated
    host_probe = static
''')


class StatusCommandTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.work = self.useFixture(fixtures.TempDir()).path
        self.conf = self._write('nova.conf', CONF)

    def _write(self, name, text):
        path = os.path.join(self.work, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def status(self, how, conf):
        run = subprocess.run(
            [sys.executable, '-c', RUNNER, how, '--config-file', conf,
             'upgrade', 'check'],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=120, cwd=os.getcwd())
        self.assertNotIn('Traceback', run.stdout)
        self.assertEqual(2, run.returncode, run.stdout)
        self.assertIn('Upgrade Check Results', run.stdout)
        self.assertIn('Result: Failure', run.stdout)
        return ' '.join(run.stdout.replace('|', ' ').split())

    def test_without_libvirt_python(self):
        out = self.status('no-module', self.conf)
        self.assertIn('libvirt-python is not installed in the Python that '
                      'runs powerkvm-status', out)
        self.assertIn('pip install libvirt-python', out)
        # what needs no libvirt is still checked
        self.assertIn('Check: POWER CPU, SMT and split-core mode', out)

    def test_libvirtd_stopped(self):
        out = self.status('stopped', self.conf)
        self.assertIn('cannot reach libvirtd (Failed to connect socket',
                      out)
        self.assertIn('systemctl start libvirtd', out)
        self.assertIn("cannot read the guests' endianness without libvirt",
                      out)

    def test_missing_nova_conf(self):
        out = self.status('no-module', os.path.join(self.work, 'gone.conf'))
        self.assertIn("cannot read nova's configuration", out)
        self.assertIn('gone.conf', out)

    def test_unparsable_nova_conf(self):
        broken = self._write('broken.conf', '[DEFAULT\ncompute_driver\n')
        out = self.status('no-module', broken)
        self.assertIn("cannot read nova's configuration", out)
        self.assertIn('broken.conf', out)
