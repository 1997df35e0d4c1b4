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

"""nova's own loader finds the driver, for both ways nova is installed."""

import configparser
import importlib
import os
import subprocess
import sys
import textwrap
import warnings

import fixtures
import nova
from nova import test
from nova.tests import fixtures as nova_fixtures
import nova.virt
from nova.virt import driver as virt_driver
from nova.virt import fake

from powerkvm_nova.compute import driver
from powerkvm_nova.nova_internals import loader
from tests.fixtures import power_libvirt

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

# Run in a child Python whose 'nova' is the source tree given in argv[1]:
# load the driver as nova-compute does, with nova's fake libvirt as the
# libvirt module (this tier has no libvirtd).
_LOAD = textwrap.dedent('''
    import sys
    sys.path.insert(0, sys.argv[1])
    from nova import monkey_patch
    monkey_patch.patch()  # as nova-compute does first, in either mode
    from nova.tests.fixtures import libvirt as fakelibvirt
    sys.modules['libvirt'] = fakelibvirt
    import nova.virt
    from nova.virt import driver, fake
    assert nova.virt.__path__[0].startswith(sys.argv[1]), nova.virt.__path__
    d = driver.load_compute_driver(fake.FakeVirtAPI(),
                                   'powerkvm.PowerKVMDriver')
    print('LOADED', type(d).__module__, type(d).__name__)
''')


class InstalledNovaTestCase(test.NoDBTestCase):
    """nova and powerkvm-nova installed normally, side by side."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Connection',
            power_libvirt.emulated_host_connection))
        self.useFixture(nova_fixtures.LibvirtFixture())

    def test_load_compute_driver(self):
        loaded = virt_driver.load_compute_driver(
            fake.FakeVirtAPI(), 'powerkvm.PowerKVMDriver')
        self.assertIs(driver.PowerKVMDriver, type(loaded))

    def test_shim_sits_in_nova_virt(self):
        import nova.virt.powerkvm
        self.assertEqual(os.path.join(nova.virt.__path__[0], 'powerkvm.py'),
                         nova.virt.powerkvm.__file__)

    def test_shim_resolves_through_entry_point(self):
        import nova.virt.powerkvm
        self.assertIs(driver.PowerKVMDriver, nova.virt.powerkvm.PowerKVMDriver)
        e = self.assertRaises(AttributeError, getattr, nova.virt.powerkvm,
                              'NoSuchDriver')
        self.assertIn(loader.GROUP, str(e))

    def test_checked_in_shim_is_what_install_writes(self):
        with open(os.path.join(REPO, 'nova', 'virt', 'powerkvm.py')) as f:
            self.assertEqual(loader.SOURCE, f.read())


class EditableNovaTestCase(test.NoDBTestCase):
    """nova installed editable, as devstack does: nova.virt is a source tree.

    The tree is a copy of the installed nova made of symlinks, so its
    nova.virt directory is not the one pip installed powerkvm-nova into.
    """

    def setUp(self):
        super().setUp()
        self.src = self.useFixture(fixtures.TempDir()).path
        installed = os.path.dirname(nova.__file__)
        tree = os.path.join(self.src, 'nova')
        os.makedirs(os.path.join(tree, 'virt'))
        for name in os.listdir(installed):
            if name != 'virt':
                os.symlink(os.path.join(installed, name),
                           os.path.join(tree, name))
        for name in os.listdir(os.path.join(installed, 'virt')):
            if name not in ('powerkvm.py', '__pycache__'):
                os.symlink(os.path.join(installed, 'virt', name),
                           os.path.join(tree, 'virt', name))

    def _run(self, *args):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [self.src, REPO]))
        return subprocess.run([sys.executable, *args], env=env, cwd=REPO,
                              capture_output=True, text=True, timeout=300)

    def _shim(self, action):
        return self._run('-c', 'import sys; sys.path.insert(0, sys.argv[1]);'
                         'from powerkvm_nova.cmd import shim;'
                         'sys.exit(shim.main([sys.argv[2]]))',
                         self.src, action)

    def test_install_makes_nova_load_the_driver(self):
        before = self._shim('check')
        self.assertEqual(1, before.returncode, before.stdout + before.stderr)
        self.assertIn('powerkvm-nova-shim install', before.stdout)
        failed = self._run('-c', _LOAD, self.src)
        self.assertNotEqual(0, failed.returncode)
        self.assertNotIn('LOADED', failed.stdout)

        installed = self._shim('install')
        self.assertEqual(0, installed.returncode, installed.stderr)
        target = os.path.join(self.src, 'nova', 'virt', 'powerkvm.py')
        self.assertIn(target, installed.stdout)
        self.assertEqual(0, self._shim('check').returncode)
        loaded = self._run('-c', _LOAD, self.src)
        self.assertEqual(0, loaded.returncode, loaded.stderr[-3000:])
        self.assertIn('LOADED powerkvm_nova.compute.driver PowerKVMDriver',
                      loaded.stdout)

        again = self._shim('install')
        self.assertIn('already installed', again.stdout)
        removed = self._shim('remove')
        self.assertEqual(0, removed.returncode, removed.stderr)
        self.assertFalse(os.path.exists(target))
        self.assertEqual(1, self._shim('check').returncode)

    def test_remove_leaves_foreign_file(self):
        target = os.path.join(self.src, 'nova', 'virt', 'powerkvm.py')
        with open(target, 'w') as f:
            f.write('# somebody else\'s\n')
        self.assertEqual(1, self._shim('remove').returncode)
        self.assertTrue(os.path.exists(target))

    def test_remove_takes_an_earlier_release_s_file(self):
        target = os.path.join(self.src, 'nova', 'virt', 'powerkvm.py')
        with open(target, 'w') as f:
            f.write(loader.EARLIER_SOURCES[0])
        self.assertEqual(0, self._shim('check').returncode)
        self.assertEqual(0, self._shim('remove').returncode)
        self.assertFalse(os.path.exists(target))


class EarlierPathsTestCase(test.NoDBTestCase):
    """What nova.conf, setup.cfg and earlier installs name still loads."""

    def _import_afresh(self, name):
        sys.modules.pop(name, None)
        self.addCleanup(sys.modules.pop, name, None)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            module = importlib.import_module(name)
        return module, [w for w in caught
                        if issubclass(w.category, DeprecationWarning)]

    def test_driver_path_is_an_alias_with_a_warning(self):
        module, warned = self._import_afresh('powerkvm_nova.driver')
        self.assertIs(driver.PowerKVMDriver, module.PowerKVMDriver)
        self.assertEqual(1, len(warned), warned)
        self.assertIn('powerkvm_nova.compute.driver', str(warned[0].message))

    def test_shim_path_of_earlier_installs_loads_the_driver(self):
        # the nova/virt/powerkvm.py earlier releases installed imports it
        module, warned = self._import_afresh('powerkvm_nova.shim')
        self.assertIs(driver.PowerKVMDriver, module.PowerKVMDriver)
        self.assertEqual(1, len(warned), warned)
        self.assertIn('powerkvm-nova-shim install', str(warned[0].message))

    def test_every_entry_point_loads(self):
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(os.path.join(REPO, 'setup.cfg'))
        targets = []
        for group, lines in parser.items('entry_points'):
            if group == 'tempest.test_plugins':
                # imports tempest, which only the cloud tier installs; its
                # tempest run loads the plugin
                continue
            for line in lines.strip().splitlines():
                targets.append((group, line.partition('=')[2].strip()))
        self.assertGreaterEqual(len(targets), 10)
        for group, target in targets:
            module, _, attribute = target.partition(':')
            loaded = importlib.import_module(module)
            if attribute:
                self.assertTrue(hasattr(loaded, attribute),
                                '%s: %s' % (group, target))

    def test_scheduler_class_paths_in_the_docs_load(self):
        # [filter_scheduler] available_filters and weight_classes
        for path in ('powerkvm_nova.scheduler.filters.PowerKVMCpuFilter',
                     'powerkvm_nova.scheduler.filters.'
                     'PowerKVMEndiannessFilter',
                     'powerkvm_nova.scheduler.weighers.'
                     'PowerKVMEndiannessWeigher'):
            module, _, name = path.rpartition('.')
            self.assertTrue(hasattr(importlib.import_module(module), name),
                            path)
