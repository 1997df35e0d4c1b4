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

"""Each lifecycle sequence runs its steps in the order stated.

The order is compute.lifecycle's, and no step class overrides a nova
method another class does. Each step is replaced by a recorder, and so
is nova's own LibvirtDriver method: a step inserted, dropped or moved
fails the sequence's test.
"""

from unittest import mock

import fixtures
from nova import test
from nova.virt import fake
from nova.virt.libvirt import driver as libvirt_driver

from powerkvm_nova.compute import driver
from powerkvm_nova.compute import lifecycle
from tests.fixtures import power_libvirt

LIBVIRT = libvirt_driver.LibvirtDriver


class Failed(Exception):
    pass


class SequenceTestCase(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        power_libvirt.use_emulated_host(self)
        self.drvr = driver.PowerKVMDriver(fake.FakeVirtAPI(), False)
        self.calls = []
        self.instance = mock.Mock(uuid='a-guest')
        for name in ('committed', 'release'):
            self._record(self.drvr.ledger, name, 'ledger.' + name)

    def _record(self, owner, name, label, result=None, fails=False):
        def step(*args, **kwargs):
            self.calls.append(label)
            if fails:
                raise Failed(label)
            return result
        self.useFixture(fixtures.MockPatchObject(owner, name, step))

    def _steps(self, *names, **results):
        for name in names:
            self._record(self.drvr, name, name, result=results.get(name))

    def _nova(self, name, fails=False, result=None):
        self._record(LIBVIRT, name, 'nova', result=result, fails=fails)

    def test_spawn(self):
        self._steps('_check_cpu_fit', '_admit', '_unadmit')
        self._nova('spawn')
        self.drvr.spawn(None, self.instance, None, [], None, {})
        self.assertEqual(['_check_cpu_fit', '_admit', 'nova',
                          'ledger.committed'], self.calls)

    def test_spawn_failed(self):
        self._steps('_check_cpu_fit', '_admit', '_unadmit')
        self._nova('spawn', fails=True)
        self.assertRaises(Failed, self.drvr.spawn, None, self.instance,
                          None, [], None, {})
        self.assertEqual(['_check_cpu_fit', '_admit', 'nova', '_unadmit'],
                         self.calls)

    def test_destroy_of_a_guest_that_leaves(self):
        self._steps('_hold_if_staying', _hold_if_staying=False)
        self._nova('destroy')
        self.drvr.destroy(None, self.instance, [])
        self.assertEqual(['_hold_if_staying', 'nova', 'ledger.release'],
                         self.calls)

    def test_destroy_of_a_guest_that_stays(self):
        self._steps('_hold_if_staying', _hold_if_staying=True)
        self._nova('destroy')
        self.drvr.destroy(None, self.instance, [])
        self.assertEqual(['_hold_if_staying', 'nova'], self.calls)

    def test_rebuild(self):
        self._steps('_check_rebuild')
        self._nova('rebuild')
        self.drvr.rebuild(None, self.instance, None, [], None, {}, [],
                          None, None)
        self.assertEqual(['_check_rebuild', 'nova'], self.calls)

    def test_evacuation_is_decided_by_its_spawn(self):
        self._steps('_check_rebuild')
        self._nova('rebuild')
        self.drvr.rebuild(None, self.instance, None, [], None, {}, [],
                          None, None, evacuate=True)
        self.assertEqual(['nova'], self.calls)

    def test_rescue(self):
        self._steps('_check_rescue')
        self._nova('rescue')
        self.drvr.rescue(None, self.instance, [], None, None, None, None)
        self.assertEqual(['_check_rescue', 'nova'], self.calls)

    def test_cold_departure(self):
        self._steps('_check_departure')
        self._nova('migrate_disk_and_power_off')
        self.drvr.migrate_disk_and_power_off(None, self.instance, 'dest',
                                             None, [])
        self.assertEqual(['_check_departure', 'nova'], self.calls)

    def test_cold_arrival(self):
        self._steps('_check_arrival_cpu_fit', '_reserve_arrival', '_arrived',
                    '_not_arrived')
        self._nova('finish_migration')
        self.drvr.finish_migration(None, None, self.instance, None, [],
                                   None, False, {})
        self.assertEqual(['_check_arrival_cpu_fit', '_reserve_arrival',
                          'nova', '_arrived'], self.calls)

    def test_cold_arrival_failed(self):
        self._steps('_check_arrival_cpu_fit', '_reserve_arrival', '_arrived',
                    '_not_arrived')
        self._nova('finish_migration', fails=True)
        self.assertRaises(Failed, self.drvr.finish_migration, None, None,
                          self.instance, None, [], None, False, {})
        self.assertEqual(['_check_arrival_cpu_fit', '_reserve_arrival',
                          'nova', '_not_arrived'], self.calls)

    def test_live_arrival_pre_check(self):
        self._steps('_check_live_arrival_cpu', '_claim_live_arrival',
                    '_not_arrived')
        self._nova('check_can_live_migrate_destination', result='data')
        self.assertEqual('data', self.drvr.check_can_live_migrate_destination(
            None, self.instance, {}, {}))
        self.assertEqual(['_check_live_arrival_cpu', '_claim_live_arrival',
                          'nova'], self.calls)

    def test_live_arrival_pre_check_failed(self):
        self._steps('_check_live_arrival_cpu', '_claim_live_arrival',
                    '_not_arrived')
        self._nova('check_can_live_migrate_destination', fails=True)
        self.assertRaises(Failed,
                          self.drvr.check_can_live_migrate_destination,
                          None, self.instance, {}, {})
        self.assertEqual(['_check_live_arrival_cpu', '_claim_live_arrival',
                          'nova', '_not_arrived'], self.calls)

    def test_live_arrival(self):
        self._steps('_claim_incoming_domain', '_arrived', '_not_arrived')
        self._nova('pre_live_migration')
        self._nova('post_live_migration_at_destination')
        self.drvr.pre_live_migration(None, self.instance, None, [], None,
                                     None)
        self.drvr.post_live_migration_at_destination(None, self.instance, [])
        self.assertEqual(['_claim_incoming_domain', 'nova', 'nova',
                          '_arrived'], self.calls)

    def test_live_arrival_failed_and_rolled_back(self):
        self._steps('_claim_incoming_domain', '_arrived', '_not_arrived')
        self._nova('pre_live_migration', fails=True)
        self._nova('rollback_live_migration_at_destination', fails=True)
        self.assertRaises(Failed, self.drvr.pre_live_migration, None,
                          self.instance, None, [], None, None)
        self.assertRaises(Failed,
                          self.drvr.rollback_live_migration_at_destination,
                          None, self.instance, [], None)
        self.assertEqual(['_claim_incoming_domain', 'nova', '_not_arrived',
                          'nova', '_not_arrived'], self.calls)

    def test_guest_config(self):
        self._steps('_pin_recorded_arch', '_tag_endianness',
                    '_record_cpu_compat')
        self._nova('_get_guest_config', result=mock.Mock())
        self.drvr._get_guest_config(self.instance, [], None, None)
        self.assertEqual(['_pin_recorded_arch', 'nova', '_tag_endianness',
                          '_record_cpu_compat'], self.calls)

    def test_guest_cpu_config(self):
        # the topology is fitted to what nova made; no CPU config, no more
        self._steps('_fit_cpu_topology', '_check_emulation_arch')
        self._nova('_get_guest_cpu_config', result=mock.Mock())
        self.assertIsNone(self.drvr._get_guest_cpu_config(None, None, None,
                                                          None))
        self.assertEqual(['nova', '_fit_cpu_topology',
                          '_check_emulation_arch'], self.calls)


class OneOverrideTestCase(test.NoDBTestCase):

    def test_each_nova_method_is_overridden_by_one_class(self):
        # Two classes overriding one method would chain by the bases'
        # order, which nothing states; the sequences say it instead.
        owners = {}
        for cls in driver.PowerKVMDriver.__mro__:
            if cls is LIBVIRT:
                break
            for name in vars(cls):
                if hasattr(LIBVIRT, name) and not name.startswith('__'):
                    owners.setdefault(name, []).append(cls.__name__)
        shared = {name: classes for name, classes in owners.items()
                  if len(classes) > 1}
        self.assertEqual({}, shared)

    def test_the_sequences_are_lifecycle_s(self):
        for name in ('spawn', 'destroy', 'rebuild', 'rescue',
                     'finish_migration', 'migrate_disk_and_power_off',
                     'check_can_live_migrate_destination',
                     'pre_live_migration',
                     'post_live_migration_at_destination',
                     'rollback_live_migration_at_destination'):
            self.assertIn(name, vars(lifecycle.Lifecycle), name)
