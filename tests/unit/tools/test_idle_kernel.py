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

"""The idle kernel: two ELF files binutils and the driver read as meant."""

import subprocess

import fixtures
import testtools

from powerkvm_nova.endianness import detectors
from powerkvm_nova.endianness import Endianness
from tools import idle_kernel


class IdleKernelTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        out = self.useFixture(fixtures.TempDir()).path
        self.paths = idle_kernel.build(out)

    def test_the_driver_reads_each_endianness_from_its_header(self):
        for order, endianness in (('>', Endianness.BIG),
                                  ('<', Endianness.LITTLE)):
            with open(self.paths[order], 'rb') as f:
                kernel = f.read()
            facts = detectors.ImageFacts(
                'idle', {}, read_kernel=lambda n, k=kernel: k[:n])
            self.assertEqual(endianness,
                             detectors.KernelElf().detect(facts).endianness)

    def test_binutils_reads_a_loadable_ppc64_executable_ending_in_cede(self):
        for order, data in (('>', 'big endian'), ('<', 'little endian')):
            headers = subprocess.run(
                ['powerpc64-linux-gnu-readelf', '-h', '-l',
                 self.paths[order]], capture_output=True, text=True,
                check=True).stdout
            self.assertIn(data, headers)
            self.assertIn('PowerPC64', headers)
            self.assertIn('EXEC', headers)
            self.assertRegex(headers, r'LOAD +0x0+78 0x0+ 0x0+\n')
            # the code, as firmware runs it: big-endian whatever the header
            code = subprocess.run(
                ['powerpc64-linux-gnu-objdump', '-D', '-b', 'binary', '-m',
                 'powerpc:common64', '-EB', '--start-address=0x78',
                 self.paths[order]], capture_output=True, text=True,
                check=True).stdout.split('\n')
            # (address, mnemonic, operands) of the last three
            last = [(line.split(':')[0].strip(),) +
                    tuple(line.split('\t')[-1].split()[:2])
                    for line in code[-4:-1]]
            li, sc, branch = last
            self.assertEqual(('li', 'r3,224'), li[1:])      # H_CEDE
            self.assertEqual(('sc', '1'), sc[1:])           # the hypervisor
            self.assertEqual(('b', '0x' + li[0]), branch[1:])   # again
