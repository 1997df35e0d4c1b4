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
        self.assertTrue(_read(configs.path('nova')).scheduler
                        .image_metadata_prefilter)


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
