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

"""PowerKVMDriver over nova's fake libvirt, on this (non-POWER) machine.

Here the host is emulated mode: fakelibvirt reports an x86_64 host, as the
real libvirt does on CI. Native POWER hosts are the functional tier's.
"""

import fixtures
from nova.compute import provider_tree
from nova import context
from nova import exception as nova_exception
from nova import objects
from nova import test
from nova.tests.unit import utils as test_utils
from nova.tests.unit.virt import test_virt_drivers
from nova.virt import driver as virt_driver
from nova.virt import fake
from nova.virt.libvirt import blockinfo
from nova.virt.libvirt import driver as libvirt_driver

from powerkvm_nova.compute import capabilities
from powerkvm_nova.compute import driver
from powerkvm_nova.cpu import host as cpu_host
from powerkvm_nova.endianness import Endianness
from tests.fixtures import power_libvirt


class PublicAPITestCase(test.NoDBTestCase):

    def test_public_api_signatures(self):
        # The driver keeps nova's ComputeDriver interface exactly.
        self.assertPublicAPISignatures(virt_driver.ComputeDriver,
                                       driver.PowerKVMDriver)


class ContractTestCase(test_virt_drivers.LibvirtConnTestCase):
    """nova's own driver contract suite, run over PowerKVMDriver."""

    def setUp(self):
        # This machine's libvirt: an x86 host whose QEMU emulates POWER.
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Connection',
            power_libvirt.emulated_host_connection))
        super().setUp()
        # TCG is what runs POWER guests on an x86 host.
        self.flags(virt_type='qemu', group='libvirt')
        # nova's harness forbids reading this machine's /sys.
        self.flags(host_probe='static', group='powerkvm')
        # Through nova's loader and the nova.virt.powerkvm shim.
        self.connection = virt_driver.load_compute_driver(
            fake.FakeVirtAPI(), 'powerkvm.PowerKVMDriver')
        # nova's harness rescues with [libvirt] rescue_image_id "2"
        # (nova/tests/unit/virt/test_virt_drivers.py), an image its image
        # service lacks; the driver reads the head of every image it
        # fetches, so it is there, as a cloud's rescue image would be.
        self.image_service.create(None, {
            'id': '2', 'name': 'rescue', 'status': 'active',
            'disk_format': 'raw', 'container_format': 'bare'})

    def test_loaded_driver_is_powerkvm(self):
        self.assertIsInstance(self.connection, driver.PowerKVMDriver)


class DriverTestCase(test.TestCase):

    def setUp(self):
        super().setUp()
        power_libvirt.use_emulated_host(self)
        self.ctxt = context.get_admin_context()
        self.drvr = driver.PowerKVMDriver(fake.FakeVirtAPI(), False)
        self.drvr.init_host('compute1')

    def _guest_config(self, properties, vcpus=4, extra_specs=None):
        instance = test_utils.get_test_instance(obj=True)
        instance.flavor.vcpus = vcpus
        instance.vcpus = vcpus
        instance.flavor.extra_specs = extra_specs or {}
        image_meta = objects.ImageMeta.from_dict(
            {'disk_format': 'qcow2', 'container_format': 'bare',
             'properties': properties})
        image_meta.properties.hw_architecture = (
            properties.get('hw_architecture') or 'ppc64le')
        disk_info = blockinfo.get_disk_info(
            'qemu', instance, image_meta)
        return self.drvr._get_guest_config(
            instance, [], image_meta, disk_info)

    def test_emulated_mode_detected(self):
        self.assertTrue(self.drvr.host_mode.emulated)
        self.assertEqual('x86_64', self.drvr.host_mode.host_arch)

    def test_emulated_host_reports_power_traits_not_the_machines(self):
        # nova's fake libvirt is an x86_64 machine with x86 CPU features
        # (its default capabilities), as an emulated host is
        traits = {t for t, on in self.drvr.static_traits.items() if on}
        self.assertIn('HW_ARCH_PPC64LE', traits)
        # both endiannesses, as a POWER host runs them (nova's image
        # metadata prefilter asks for HW_ARCH_<hw_architecture>)
        self.assertIn('HW_ARCH_PPC64', traits)
        self.assertNotIn('HW_ARCH_X86_64', traits)
        self.assertEqual(set(), {t for t in traits if 'X86' in t})
        unset = {t for t, on in self.drvr.static_traits.items() if not on}
        self.assertIn('HW_CPU_X86_AVX2', unset)

    def test_report_gives_placement_power_capacity_and_traits(self):
        # one report on nova's own ProviderTree, as the resource tracker
        # makes it: the VCPU total is the threads the host's mode gives
        # guests, its POWER traits are set (CUSTOM_POWERKVM_* ones too,
        # which nova's own static traits leave out: os_traits.check_traits
        # knows only the standard ones) and those of other modes unset
        tree = provider_tree.ProviderTree()
        tree.new_root('compute1', 'c0ffee00-0000-4000-8000-000000000001')
        tree.add_traits('compute1', 'CUSTOM_POWERKVM_SUBCORES_PER_CORE_4')
        self.drvr.update_provider_tree(tree, 'compute1')
        data = tree.data('compute1')
        capacity = self.drvr.power_host.vcpu_capacity
        self.assertTrue(capacity)
        self.assertEqual((capacity, capacity),
                         (data.inventory['VCPU']['total'],
                          data.inventory['VCPU']['max_unit']))
        present = self.drvr.power_host.traits()
        self.assertTrue({t for t in present if t.startswith('CUSTOM_')})
        self.assertLessEqual(present, data.traits)
        self.assertEqual(set(), (cpu_host.all_traits() - present) &
                         data.traits)
        # the copy nova keeps is of its own tree, not the driver's view
        self.assertIs(provider_tree.ProviderTree,
                      type(self.drvr.provider_tree))
        self.assertLessEqual(present, self.drvr.provider_tree.data(
            'compute1').traits)

    def test_emulated_needs_qemu_virt_type(self):
        self.flags(virt_type='kvm', group='libvirt')
        drvr = driver.PowerKVMDriver(fake.FakeVirtAPI(), False)
        e = self.assertRaises(nova_exception.InvalidConfiguration,
                              drvr.init_host, 'compute1')
        self.assertIn('virt_type = qemu', str(e))

    def test_big_endian_guest_gets_pseries(self):
        # nova's libvirt driver has no default machine type for ppc64.
        cfg = self._guest_config({'hw_architecture': 'ppc64'})
        self.assertEqual('pseries', cfg.os_mach_type)
        self.assertEqual('ppc64', cfg.os_arch)
        self.assertEqual('qemu', cfg.virt_type)

    def test_little_endian_guest_gets_pseries(self):
        cfg = self._guest_config({'hw_architecture': 'ppc64le'})
        self.assertEqual('pseries', cfg.os_mach_type)
        self.assertEqual('ppc64le', cfg.os_arch)

    def test_operator_machine_type_wins(self):
        self.flags(hw_machine_type=['ppc64=pseries-7.1'], group='libvirt')
        drvr = driver.PowerKVMDriver(fake.FakeVirtAPI(), False)
        drvr.init_host('compute1')
        self.drvr = drvr
        self.assertEqual(
            'pseries-7.1',
            self._guest_config({'hw_architecture': 'ppc64'}).os_mach_type)

    def test_emulated_cpu_is_custom_power_model_one_thread(self):
        cfg = self._guest_config({'hw_architecture': 'ppc64le'}, vcpus=4,
                                 extra_specs={'hw:cpu_threads': '2'})
        self.assertEqual('custom', cfg.cpu.mode)
        self.assertEqual('POWER8', cfg.cpu.model)
        # TCG takes one thread a core, so the 2 threads the flavor asks
        # for become cores (of one socket, as the POWER planner packs).
        self.assertEqual((1, 4, 1),
                         (cfg.cpu.sockets, cfg.cpu.cores, cfg.cpu.threads))

    def test_emulated_cpu_model_option(self):
        self.flags(emulated_cpu_model='POWER9', group='powerkvm')
        cfg = self._guest_config({'hw_architecture': 'ppc64'})
        self.assertEqual('POWER9', cfg.cpu.model)

    def test_only_power_guests_offered(self):
        archs = {cap[0] for cap in self.drvr._get_instance_capabilities()}
        self.assertTrue(archs)
        self.assertLessEqual(archs, {'ppc64', 'ppc64le'})

    def test_capabilities_explicit_for_every_key(self):
        lv = libvirt_driver.LibvirtDriver(fake.FakeVirtAPI(), False)
        lv.init_host('compute1')
        known = set(virt_driver.ComputeDriver.capabilities) | set(
            lv.capabilities)
        self.assertEqual(known, set(self.drvr.capabilities))
        self.assertEqual(
            known, set(capabilities.FIXED) | set(capabilities.FROM_LIBVIRT))
        self.assertFalse(self.drvr.capabilities['supports_vtpm'])
        self.assertFalse(self.drvr.capabilities['supports_secure_boot'])
        self.assertTrue(self.drvr.capabilities['supports_image_type_qcow2'])

    def test_admit_records_arch_in_instance(self):
        instance = test_utils.get_test_instance(obj=True)
        image_meta = objects.ImageMeta.from_dict({'properties': {}})
        self.drvr._admit(self.ctxt, instance, image_meta)
        # unknown endianness, assumed: [powerkvm] default_guest_arch
        self.assertEqual('ppc64le', image_meta.properties.hw_architecture)
        self.assertEqual('ppc64le',
                         instance.system_metadata['image_hw_architecture'])
        # later operations rebuild image_meta from system metadata
        self.assertEqual('ppc64le',
                         instance.image_meta.properties.hw_architecture)
        self.assertEqual({Endianness.LITTLE: 1}, self.drvr.ledger.counts())

    def test_snapshot_metadata_names_the_arch(self):
        # an image known by os_distro only: the arch is what admission found
        instance = test_utils.get_test_instance(obj=True)
        image_meta = objects.ImageMeta.from_dict(
            {'properties': {'os_distro': 'sles', 'os_version': '11'}})
        instance.system_metadata['image_os_version'] = '11'
        self.drvr._admit(self.ctxt, instance, image_meta)
        metadata = self.drvr._create_snapshot_metadata(
            instance.image_meta, instance, 'qcow2', 'snap')
        self.assertEqual('ppc64', metadata['properties']['hw_architecture'])

    def test_admit_refuses_non_power_image(self):
        instance = test_utils.get_test_instance(obj=True)
        image_meta = objects.ImageMeta.from_dict(
            {'properties': {'hw_architecture': 'x86_64'}})
        e = self.assertRaises(nova_exception.BuildAbortException,
                              self.drvr._admit, self.ctxt, instance,
                              image_meta)
        self.assertIn('x86_64', str(e))
        self.assertIn('ppc64le', str(e))
        self.assertEqual({}, self.drvr.ledger.counts())

    def test_unknown_endianness_refused_when_configured(self):
        self.flags(unknown_endianness='refuse', group='powerkvm')
        drvr = driver.PowerKVMDriver(fake.FakeVirtAPI(), False)
        drvr.init_host('compute1')
        instance = test_utils.get_test_instance(obj=True)
        image_meta = objects.ImageMeta.from_dict(
            {'properties': {'os_distro': 'fedora'}})
        e = self.assertRaises(nova_exception.BuildAbortException,
                              drvr._admit, self.ctxt, instance, image_meta)
        self.assertIn('endianness of image', str(e))
        self.assertIn('hw_architecture=ppc64', str(e))

    def test_bad_detector_name_is_a_config_error(self):
        self.flags(endianness_detectors=['hw_architecture', 'tea_leaves'],
                   group='powerkvm')
        e = self.assertRaises(nova_exception.InvalidConfiguration,
                              driver.PowerKVMDriver, fake.FakeVirtAPI(),
                              False)
        self.assertIn('tea_leaves', str(e))
