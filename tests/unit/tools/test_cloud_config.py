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

"""The cloud's configuration files (tools/cloud), as its services read them.

The nova files are read back with nova's own options: what nova-compute
and the scheduler of the cloud would see.
"""

import os

import fixtures
from oslo_config import cfg
import testtools

from powerkvm_nova import conf as powerkvm_conf
from tools.cloud import configs
from tools.cloud import ini
from tools.cloud import layout
from tools import testbed


def _read(path):
    """nova's driver, host and scheduler options, read from path."""
    from nova.conf import compute
    from nova.conf import libvirt
    from nova.conf import netconf
    from nova.conf import scheduler
    conf = cfg.ConfigOpts()
    for module in (compute, libvirt, netconf, scheduler, powerkvm_conf):
        module.register_opts(conf)
    conf([], default_config_files=[path])
    return conf


class CloudConfigTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.etc = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.MonkeyPatch(
            'tools.cloud.layout.ETC_DIR', self.etc))
        self.useFixture(fixtures.MonkeyPatch(
            'tools.cloud.layout.DATA_DIR', self.etc))
        os.mkdir(os.path.join(self.etc, 'nova'))

    def test_each_compute_is_the_power_host_of_the_layout(self):
        bed = testbed.TestBed(hosts=tuple(layout.COMPUTES),
                              subnet=layout.SUBNET)
        for host, cpu in layout.COMPUTES.items():
            path = configs.write_compute(host, bed.address(host), '/state',
                                         '/instances', cpu)
            conf = _read(path)
            self.assertEqual('powerkvm.PowerKVMDriver', conf.compute_driver)
            self.assertEqual('qemu', conf.libvirt.virt_type)
            self.assertEqual(bed.address(host), conf.my_ip)
            self.assertTrue(conf.my_ip.startswith(layout.SUBNET))
            self.assertEqual('static', conf.powerkvm.host_probe)
            for option, value in cpu.items():
                self.assertEqual(value, conf.powerkvm[option], option)

    def test_one_compute_keeps_its_guests_disks_in_ceph(self):
        bed = testbed.TestBed(hosts=tuple(layout.COMPUTES),
                              subnet=layout.SUBNET)
        types = {}
        for host, cpu in layout.COMPUTES.items():
            for driver in layout.DRIVERS:
                conf = _read(configs.write_compute(
                    host, bed.address(host), '/state', '/instances', cpu,
                    driver))
                types[host, driver] = conf.libvirt.images_type
                if host == layout.RBD_COMPUTE:
                    self.assertEqual(('vms', 'cinder',
                                      layout.CEPH_SECRET_UUID), (
                        conf.libvirt.images_rbd_pool,
                        conf.libvirt.rbd_user,
                        conf.libvirt.rbd_secret_uuid))
        # the baseline's storage is the same as the driver's
        self.assertEqual({(host, driver): 'rbd' if host == layout.RBD_COMPUTE
                          else 'default' for host, driver in types}, types)

    def test_the_scheduler_has_the_powerkvm_filters_and_weigher(self):
        configs.devstack_config(scheduler=True)
        conf = _read(configs.path('nova'))
        self.assertIn('PowerKVMEndiannessFilter',
                      conf.filter_scheduler.enabled_filters)
        self.assertIn('PowerKVMCpuFilter',
                      conf.filter_scheduler.enabled_filters)
        self.assertIn('powerkvm_nova.scheduler.weighers.'
                      'PowerKVMEndiannessWeigher',
                      conf.filter_scheduler.weight_classes)

    def test_the_scheduler_runs_nova_s_image_metadata_prefilter(self):
        ini.write(configs.path('nova'), configs.nova())
        conf = _read(configs.path('nova'))
        self.assertTrue(conf.scheduler.image_metadata_prefilter)
        # each a process: the views of concurrent requests differ
        self.assertEqual(2, conf.scheduler.workers)

    def test_the_x86_compute_runs_nova_s_libvirt_driver(self):
        path = configs.write_compute(
            layout.X86_COMPUTE, '198.18.1.14', '/state', '/instances')
        conf = _read(path)
        self.assertEqual('libvirt.LibvirtDriver', conf.compute_driver)
        self.assertEqual('qemu', conf.libvirt.virt_type)
        self.assertIsNone(conf.cpu_allocation_ratio)
        with open(path) as f:
            self.assertNotIn('[powerkvm]', f.read())

    def test_the_baseline_has_the_power_hosts_vcpus_in_placement(self):
        # placement's VCPU total is the ratio times the CPUs libvirt counts
        # (the machine's); the PowerKVM driver's, its threads at 4.0
        self.useFixture(fixtures.MockPatch('os.cpu_count', return_value=2))
        cpu = layout.COMPUTES['pkvm-p9']
        conf = _read(configs.write_compute(
            'pkvm-p9', '198.18.1.13', '/state', '/instances', cpu,
            driver='libvirt'))
        self.assertEqual('libvirt.LibvirtDriver', conf.compute_driver)
        self.assertEqual(4 * 4 * 4.0, 2 * conf.cpu_allocation_ratio)
        self.assertEqual(['ppc64=pseries'], conf.libvirt.hw_machine_type)

    def test_the_baseline_scheduler_asks_no_power_trait(self):
        # LibvirtDriver reports the machine's HW_ARCH_X86_64 only
        ini.write(configs.path('nova'), configs.nova('libvirt'))
        self.assertFalse(_read(configs.path('nova')).scheduler
                         .image_metadata_prefilter)


class EmulatorsTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.bin = self.useFixture(fixtures.TempDir()).path
        for name in ('qemu-system-x86_64', 'qemu-system-i386',
                     'qemu-system-ppc64', 'qemu-system-ppc64le',
                     'qemu-img'):
            open(os.path.join(self.bin, name), 'w').close()
        self.useFixture(fixtures.EnvironmentVariable('PATH', self.bin))

    def test_a_host_sees_only_its_emulators(self):
        self.assertEqual(
            [os.path.join(self.bin, 'qemu-system-' + arch)
             for arch in ('ppc64', 'ppc64le')],
            testbed.hidden_emulators(layout.X86_EMULATORS))

    def test_a_host_without_a_list_sees_every_emulator(self):
        self.assertEqual([], testbed.hidden_emulators(None))

    def test_emulators_of_a_host_not_in_the_bed_are_refused(self):
        self.assertRaises(ValueError, testbed.TestBed, ('a',),
                          emulators={'b': ('x86_64',)})


class SubnetTestCase(testtools.TestCase):

    def test_hosts_take_addresses_in_their_bed_s_subnet(self):
        bed = testbed.TestBed(hosts=('a', 'b'), subnet='198.18.7.')
        self.assertEqual(['198.18.7.11', '198.18.7.12'],
                         [bed.address(h) for h in bed.hosts])
        self.assertEqual('198.18.0.11', testbed.TestBed(('a',)).address('a'))

    def test_a_subnet_outside_the_benchmarking_range_is_refused(self):
        for subnet in ('10.0.0.', '198.18.1', '192.168.1.'):
            self.assertRaises(ValueError, testbed.TestBed, ('a',),
                              subnet=subnet)
