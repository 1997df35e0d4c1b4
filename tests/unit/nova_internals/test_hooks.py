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

"""A nova without a hook the driver relies on: start-up refuses, naming it.

Each hook is removed in turn, as a nova release that renamed it would have
it, and the driver is constructed as nova-compute constructs it.
"""

import contextlib
import inspect
from unittest import mock

from nova.compute import manager
from nova import exception as nova_exception
from nova import test
from nova import version
from nova.virt import fake
from nova.virt.libvirt import driver as libvirt_driver

from powerkvm_nova.compute import driver
from powerkvm_nova.nova_internals import hooks as nova_hooks
from powerkvm_nova.status import checks
from tests.fixtures import power_libvirt

Code = checks.Code


class NovaHooksTestCase(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        power_libvirt.use_emulated_host(self)

    @contextlib.contextmanager
    def _removed(self, hook):
        owner, attribute = hook.owner_and_attribute()
        if hook.instance:
            # instances of the class no longer get the attribute
            init = owner.__init__

            def init_without(obj, *args, **kwargs):
                init(obj, *args, **kwargs)
                obj.__dict__.pop(attribute, None)
            with mock.patch.object(owner, '__init__', init_without):
                yield
            return
        saved = inspect.getattr_static(owner, attribute)
        delattr(owner, attribute)
        try:
            yield
        finally:
            setattr(owner, attribute, saved)

    def test_this_nova_has_every_hook(self):
        self.assertEqual([], nova_hooks.problems(driver.PowerKVMDriver))
        driver.PowerKVMDriver(fake.FakeVirtAPI(), False)

    def test_every_private_override_is_a_hook(self):
        # An override of a private LibvirtDriver method missing from the
        # table would go dead, unnoticed, in a nova that renamed it.
        listed = {hook.name.partition('.')[2] for hook in nova_hooks.HOOKS
                  if hook.name.startswith('LibvirtDriver.') and
                  hook.override}
        overridden = set()
        for cls in driver.PowerKVMDriver.__mro__:
            if cls is libvirt_driver.LibvirtDriver:
                break
            overridden |= {name for name in vars(cls)
                           if name.startswith('_') and
                           not name.startswith('__') and
                           hasattr(libvirt_driver.LibvirtDriver, name)}
        self.assertEqual(set(), overridden - listed)

    def test_start_up_refuses_without_each_hook(self):
        for hook in nova_hooks.HOOKS:
            with self._removed(hook):
                error = self.assertRaises(
                    nova_exception.InvalidConfiguration,
                    driver.PowerKVMDriver, fake.FakeVirtAPI(), False)
            self.assertIn('%s: missing' % hook.name, str(error))
            self.assertIn(hook.why, str(error))
            self.assertIn('nova %s lacks what PowerKVMDriver relies on'
                          % version.version_string(), str(error))
            self.assertIn('nova>=33,<35', str(error))
            # put back: the next hook is checked alone
            self.assertEqual([], nova_hooks.problems(driver.PowerKVMDriver))

    def test_status_reports_a_missing_hook(self):
        self.assertEqual(Code.SUCCESS,
                         checks.nova_hooks(None, None).code)
        hook, = [h for h in nova_hooks.HOOKS
                 if h.name.endswith('_try_fetch_image_cache')]
        with self._removed(hook):
            result = checks.nova_hooks(None, None)
        self.assertEqual(Code.FAILURE, result.code)
        self.assertIn('_try_fetch_image_cache: missing', result.details)

    def test_override_whose_arguments_changed(self):
        # nova renames a parameter of a method the driver overrides
        def changed(self, flavor, image_meta, guest_cpu_numa_config,
                    instance_numa_topology, new_argument):
            pass
        with mock.patch.object(libvirt_driver.LibvirtDriver,
                               '_get_guest_cpu_config', changed):
            found = nova_hooks.problems(driver.PowerKVMDriver)
        self.assertEqual(1, len(found), found)
        self.assertIn('LibvirtDriver._get_guest_cpu_config: nova passes '
                      '(self, flavor, image_meta, guest_cpu_numa_config, '
                      'instance_numa_topology, new_argument)', found[0])

    def test_a_parameter_the_driver_reads_is_gone(self):
        # nova stops passing a build its alternate hosts
        def changed(self, context, instance, image, request_spec,
                    filter_properties, admin_password, injected_files,
                    requested_networks, security_groups,
                    block_device_mapping, node=None, limits=None,
                    accel_uuids=None):
            pass
        with mock.patch.object(manager.ComputeManager,
                               '_do_build_and_run_instance', changed):
            found = nova_hooks.problems(driver.PowerKVMDriver)
        self.assertEqual(['ComputeManager._do_build_and_run_instance: takes '
                          'no host_list (a build refused on the last host '
                          'nova has for it ends with the rule\'s reason)'],
                         found)
