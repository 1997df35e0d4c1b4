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

"""The devstack plugin's phases against a stub devstack: the config it
writes and the commands it runs."""

import os
import subprocess

import fixtures
import testtools

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
STUBS = os.path.join(ROOT, 'tests', 'fixtures', 'devstack', 'stubs.sh')
SHIM = '#!/bin/bash\necho "powerkvm-nova-shim $*" >> "$DEVSTACK_LOG"\n'


class DevstackPluginTestCase(testtools.TestCase):
    """Plain testtools: the plugin reads the real uname, as on a host."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.conf = os.path.join(self.dir, 'nova.conf')
        self.log = os.path.join(self.dir, 'devstack.log')
        self.bin = os.path.join(self.dir, 'bin')
        os.mkdir(self.bin)
        shim = os.path.join(self.bin, 'powerkvm-nova-shim')
        with open(shim, 'w') as f:
            f.write(SHIM)
        os.chmod(shim, 0o755)
        with open(self.conf, 'w') as f:
            f.write('[DEFAULT]\ndebug = True\n[filter_scheduler]\n'
                    'enabled_filters = ComputeFilter,ImagePropertiesFilter\n')

    def phase(self, *args, **env):
        script = ('set -e; source %s; STUB_IMAGES=("i1 cirros-0.6-ppc64le"'
                  ' "i2 debian-12-ppc64el" "i3 sles-11-ppc64" "i4 cirros-'
                  'x86_64"); DEST=/opt/stack; source %s; source %s %s'
                  % (STUBS, os.path.join(ROOT, 'devstack', 'settings'),
                     os.path.join(ROOT, 'devstack', 'plugin.sh'),
                     ' '.join(args)))
        environ = dict(os.environ, NOVA_CONF=self.conf, DEVSTACK_LOG=self.log,
                       STUB_BIN=self.bin, **env)
        subprocess.run(['bash', '-c', script], check=True, env=environ,
                       cwd=ROOT, capture_output=True)

    def values(self, section, key):
        values, current = [], None
        with open(self.conf) as f:
            for line in f.read().splitlines():
                if line.startswith('['):
                    current = line.strip('[]')
                elif current == section and '=' in line and \
                        line.split('=', 1)[0].strip() == key:
                    values.append(line.split('=', 1)[1].strip())
        return values

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return f.read().splitlines()

    def test_install(self):
        self.phase('stack', 'install')
        self.assertEqual(['setup_develop /opt/stack/powerkvm-nova',
                          'powerkvm-nova-shim install',
                          'powerkvm-nova-shim check'],
                         [c for c in self.calls()
                          if not c.startswith('summary')])

    def test_post_config_writes_nova_conf(self):
        for _ in range(2):  # a second stack.sh run changes nothing
            self.phase('stack', 'post-config')
        self.assertEqual(['powerkvm.PowerKVMDriver'],
                         self.values('DEFAULT', 'compute_driver'))
        self.assertEqual(['True'], self.values('DEFAULT', 'debug'))
        self.assertEqual(['auto'], self.values('powerkvm', 'host_mode'))
        if not os.uname().machine.startswith('ppc64'):
            self.assertEqual(['qemu'], self.values('libvirt', 'virt_type'))
            self.assertEqual(['static'],
                             self.values('powerkvm', 'host_probe'))
            self.assertEqual([str(os.cpu_count())],
                             self.values('powerkvm', 'static_cores'))
        self.assertEqual(
            ['nova.scheduler.filters.all_filters',
             'powerkvm_nova.scheduler.filters.PowerKVMCpuFilter',
             'powerkvm_nova.scheduler.filters.PowerKVMEndiannessFilter'],
            self.values('filter_scheduler', 'available_filters'))
        self.assertEqual(
            ['ComputeFilter,ImagePropertiesFilter,PowerKVMCpuFilter,'
             'PowerKVMEndiannessFilter'],
            self.values('filter_scheduler', 'enabled_filters'))
        self.assertEqual(
            ['nova.scheduler.weights.all_weighers',
             'powerkvm_nova.scheduler.weighers.PowerKVMEndiannessWeigher'],
            self.values('filter_scheduler', 'weight_classes'))
        self.assertEqual(['10.0'], self.values(
            'powerkvm', 'endianness_weight_multiplier'))

    def test_post_config_split_core_static_host(self):
        self.phase('stack', 'post-config', POWERKVM_HOST_PROBE='static',
                   POWERKVM_STATIC_SUBCORES_PER_CORE='4')
        self.assertEqual(['4'], self.values('powerkvm',
                                            'static_subcores_per_core'))

    def test_extra_creates_flavors_and_labels_images(self):
        self.phase('stack', 'extra')
        calls = self.calls()
        for flavor, spec in (
                ('pkvm.mt.small', 'powerkvm:micro_threading=required'),
                ('pkvm.mt.medium', 'powerkvm:micro_threading=required'),
                ('pkvm.whole.large', 'powerkvm:micro_threading=forbidden')):
            self.assertTrue(any(c.startswith('openstack flavor create %s '
                                             % flavor) and
                                c.endswith('--property %s' % spec)
                                for c in calls), flavor)
        self.assertEqual(
            ['openstack image set --property hw_architecture=ppc64le i1',
             'openstack image set --property hw_architecture=ppc64le i2',
             'openstack image set --property hw_architecture=ppc64 i3'],
            [c for c in calls if c.startswith('openstack image set')])

    def test_unstack_and_clean(self):
        self.phase('unstack')
        self.assertEqual([], self.calls())
        self.phase('clean')
        self.assertEqual(['powerkvm-nova-shim remove'], self.calls())
