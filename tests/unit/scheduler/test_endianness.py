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

"""What the scheduler knows of a host's endianness."""

import fixtures
from nova import objects
from nova import test

from powerkvm_nova.endianness import Endianness
from powerkvm_nova.scheduler import endianness as scheduler_endianness

BE = Endianness.BIG
LE = Endianness.LITTLE
IMAGE = '1f5e1d9a-9a43-4a53-9d34-7c0e86b1c0de'


class RunningTestCase(test.NoDBTestCase):
    """What the scheduler takes a host to run: scheduler.endianness.running."""

    def setUp(self):
        super().setUp()
        # instance UUID -> its recorded endianness, as the cell database has
        self.recorded = {'le1': LE, 'be1': BE}
        self.useFixture(fixtures.MockPatch(
            'powerkvm_nova.scheduler.endianness._instances',
            side_effect=lambda cell, uuids: {self.recorded[u]
                                             for u in uuids}))

    def host(self, instances, **stats):
        class HostState:
            cell_uuid = 'cell1'
        state = HostState()
        state.instances = dict.fromkeys(instances)
        state.stats = stats
        return state

    def test_instances_changing_meanwhile(self):
        # nova's HostManager.update_instance_info adds to a host's
        # instances dict (shared with its HostState) from the RPC thread
        # of another compute's notice while a request is filtered and
        # weighed: iterating it then raises 'dictionary changed size
        # during iteration', failing the whole request. A copy of a dict
        # is taken in one step under the GIL.
        class Changing(dict):
            def _changed(self, *args):
                self['le1'] = None
                raise RuntimeError('dictionary changed size during '
                                   'iteration')
            # iterating its views; dict's own copy does not use them
            items = keys = values = _changed
        state = self.host([], powerkvm_endianness_unlisted='')
        state.instances = Changing(be1=None)
        self.assertEqual({BE}, scheduler_endianness.running(state))

    def test_guests_nova_lists_and_the_unlisted_stat(self):
        # the report is older than the delete of a little-endian guest
        state = self.host(['be1'], powerkvm_endianness='little-endian',
                          powerkvm_endianness_unlisted='')
        self.assertEqual({BE}, scheduler_endianness.running(state))
        state = self.host([], powerkvm_endianness='big-endian',
                          powerkvm_endianness_unlisted='big-endian')
        self.assertEqual({BE}, scheduler_endianness.running(state))
        # a rebuild's own guest does not count
        state = self.host(['be1'], powerkvm_endianness='big-endian',
                          powerkvm_endianness_unlisted='')
        self.assertEqual(set(), scheduler_endianness.running(
            state, excluding='be1'))

    def test_a_live_migration_source_nova_still_lists(self):
        # nova's source of a completed live migration sends the guest to
        # the schedulers as its own, task_state 'migrating': it counts
        # where the cell database has it, read for the request
        placed = scheduler_endianness._instances.placed
        state = self.host([], powerkvm_endianness_unlisted='')
        state.host = 'p8-1'
        state.instances = {'be1': objects.Instance(task_state='migrating'),
                           'le1': objects.Instance(task_state=None)}
        placed.return_value = set()
        self.assertEqual({LE}, scheduler_endianness.running(state))
        placed.assert_called_once_with('cell1', {'be1'}, 'p8-1')
        # still there: the migration has not completed
        placed.return_value = {'be1'}
        self.assertEqual({BE, LE}, scheduler_endianness.running(state))

    def test_compute_of_an_earlier_release(self):
        # its stat counts every guest, those nova lists too
        state = self.host(['be1'], powerkvm_endianness='big-endian')
        self.assertEqual({BE}, scheduler_endianness.running(state))
        self.assertEqual(set(), scheduler_endianness.running(
            state, excluding='be1'))
        state = self.host(['le1'], powerkvm_endianness='mixed')
        self.assertEqual({BE, LE}, scheduler_endianness.running(state))


class ForeignTestCase(test.NoDBTestCase):
    """Requests no PowerKVM host runs: scheduler.endianness.foreign."""

    def spec(self, **properties):
        return objects.RequestSpec(image=objects.ImageMeta.from_dict(
            {'id': IMAGE, 'properties': properties}))

    def test_power_images_are_for_powerkvm(self):
        for properties in ({}, {'hw_architecture': 'ppc64'},
                           {'hw_architecture': 'PPC64LE'},
                           {'os_distro': 'sles', 'os_version': '11'}):
            self.assertIsNone(scheduler_endianness.foreign(
                self.spec(**properties)), properties)

    def test_other_architectures_and_emulation_are_not(self):
        self.assertIn('hw_architecture=x86_64', scheduler_endianness.foreign(
            self.spec(hw_architecture='x86_64', os_distro='ubuntu')))
        self.assertIn('hw_emulation_architecture=ppc64le',
                      scheduler_endianness.foreign(self.spec(
                          hw_architecture='x86_64',
                          hw_emulation_architecture='ppc64le')))

    def test_hosts_of_other_drivers_are_not_powerkvm(self):
        class HostState:
            stats = {'cpu_x86_avx2': '1'}
        self.assertFalse(scheduler_endianness.is_powerkvm(HostState()))
        HostState.stats = {'powerkvm_endianness_policy': 'exclusive'}
        self.assertTrue(scheduler_endianness.is_powerkvm(HostState()))
