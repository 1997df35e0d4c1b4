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

"""The powerkvm: flavor extra-spec validators, as nova's API loads them."""

from nova.api.validation.extra_specs import validators
from nova import exception as nova_exception
from nova import test


class ValidatorsTestCase(test.NoDBTestCase):
    """Through nova's registry: the entry point is what the API loads."""

    GOOD = [('powerkvm:micro_threading', 'required'),
            ('powerkvm:micro_threading', 'forbidden'),
            ('powerkvm:subcores_per_core', '1'),
            ('powerkvm:subcores_per_core', '4'),
            ('powerkvm:threads_per_core', '8')]
    BAD = [('powerkvm:micro_threading', 'yes'),
           ('powerkvm:micro_threading', ''),
           ('powerkvm:subcores_per_core', '3'),
           ('powerkvm:subcores_per_core', '8'),
           ('powerkvm:threads_per_core', '3'),
           ('powerkvm:threads_per_core', '16'),
           ('powerkvm:threads_per_core', 'two'),
           ('powerkvm:split_core', '4'),
           ('powerkvm:threads', '2')]

    def test_registered_through_entry_point(self):
        for name in ('powerkvm:micro_threading', 'powerkvm:subcores_per_core',
                     'powerkvm:threads_per_core'):
            self.assertIn(name, validators.VALIDATORS)

    def test_good_and_bad(self):
        for name, value in self.GOOD:
            validators.validate(name, value)
        for name, value in self.BAD:
            self.assertRaises(nova_exception.ValidationError,
                              validators.validate, name, value)
