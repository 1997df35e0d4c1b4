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

from powerkvm_nova.endianness import guest_arch
from powerkvm_nova import exception


class ResolveTestCase(test.NoDBTestCase):

    def test_declared_wins(self):
        self.assertEqual('ppc64', guest_arch.resolve('ppc64', 'ppc64le'))

    def test_default_when_undeclared(self):
        self.assertEqual('ppc64le', guest_arch.resolve(None, 'ppc64le'))

    def test_any_case_as_nova_takes_it(self):
        # nova's Architecture.canonicalize lowercases (objects/fields.py)
        self.assertEqual('ppc64le', guest_arch.resolve('PPC64LE', 'ppc64'))
        self.assertEqual('ppc64', guest_arch.resolve(' Ppc64 ', 'ppc64le'))

    def test_non_power_refused(self):
        e = self.assertRaises(exception.PowerKVMError,
                              guest_arch.resolve, 'x86_64', 'ppc64le')
        self.assertIn('x86_64', str(e))


class PseriesDefaultsTestCase(test.NoDBTestCase):

    def test_unset(self):
        self.assertEqual(['ppc64=pseries', 'ppc64le=pseries'],
                         guest_arch.with_pseries_defaults(None))

    def test_operator_entries_kept_and_win(self):
        mapping = ['x86_64=q35', 'ppc64le=pseries-7.2']
        self.assertEqual(
            ['x86_64=q35', 'ppc64le=pseries-7.2', 'ppc64=pseries'],
            guest_arch.with_pseries_defaults(mapping))
        # The input is not modified.
        self.assertEqual(['x86_64=q35', 'ppc64le=pseries-7.2'], mapping)

    def test_idempotent(self):
        once = guest_arch.with_pseries_defaults(['ppc64=pseries-2.12'])
        self.assertEqual(once, guest_arch.with_pseries_defaults(once))
