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

from nova import test

from powerkvm_nova.cpu import emulation
from powerkvm_nova import exception


class DecideTestCase(test.NoDBTestCase):

    def test_auto(self):
        for arch, emulated in (('ppc64le', False), ('ppc64', False),
                               ('x86_64', True), ('aarch64', True)):
            mode = emulation.decide('auto', arch)
            self.assertEqual(emulated, mode.emulated, arch)
            self.assertIn(arch, mode.reason)

    def test_forced_emulation_on_power(self):
        self.assertTrue(emulation.decide('emulated', 'ppc64le').emulated)

    def test_native_on_power(self):
        self.assertFalse(emulation.decide('native', 'ppc64').emulated)

    def test_native_refused_off_power(self):
        e = self.assertRaises(exception.PowerKVMError,
                              emulation.decide, 'native', 'x86_64')
        self.assertIn('x86_64', str(e))
        self.assertIn('host_mode = emulated', str(e))
