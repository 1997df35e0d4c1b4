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

"""powerkvm-status against this machine's real libvirtd and QEMU."""

import os
import subprocess
import sys

import fixtures
import testtools

from tests.hypervisor import base

CONF = """[DEFAULT]
compute_driver = powerkvm.PowerKVMDriver
[libvirt]
virt_type = qemu
[powerkvm]
host_probe = static
static_subcores_per_core = 4
"""


class StatusCommandTestCase(testtools.TestCase):
    """The installed command, as an operator runs it."""

    def test_upgrade_check_on_an_emulated_host(self):
        conf = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'nova.conf')
        with open(conf, 'w') as f:
            f.write(CONF)
        command = os.path.join(os.path.dirname(sys.executable),
                               'powerkvm-status')
        run = subprocess.run([command, '--config-file', conf, 'upgrade',
                              'check'], capture_output=True, text=True,
                             timeout=120)
        out = run.stdout
        self.addDetail('output', testtools.content.text_content(
            out + run.stderr))
        # emulated (TCG) host and libvirt 9 / QEMU 7.2: warnings, no failure
        self.assertEqual(1, run.returncode)
        for check in ('PowerKVM configuration', 'nova release',
                      'libvirt and QEMU versions',
                      'KVM-HV', 'POWER CPU, SMT and split-core mode',
                      'Endianness of the guests',
                      'Flavors and the split-core mode', 'KSM and zswap'):
            self.assertIn(check, out)
        self.assertIn('emulated host mode', out)
        self.assertIn('POWER8 split-core mode 4', out)
        self.assertIn('internal methods and names PowerKVMDriver relies on',
                      ' '.join(out.replace('|', ' ').split()))
        self.assertNotIn('Result: Failure', out)
        base.record_figure('powerkvm-status on this host (exit code)',
                           run.returncode)
