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

"""nova's libvirt functional suite, run on fake POWER hosts.

nova's suite builds x86 hosts (fakelibvirt.HostInfo: x86_64, Penryn,
Intel) and x86 images. Installed once per test process, before any test
runs, this module makes every host and image of the suite a POWER one, the
same for both drivers under comparison:

- each fake libvirt connection is a POWER9 host with the topology the test
  asked for (tests/fixtures/power_libvirt.py: the capabilities and domain
  capabilities libvirt 9 / QEMU 7.2 report on POWER). POWER9, not POWER8:
  POWER9 KVM-HV runs guests with the host's secondary threads online
  (independent-threads mode, arch/powerpc/kvm/book3s_hv.c; FACTS.md, "POWER9
  is loose"), and nova's tests use hosts of 2 threads a core;
- the host's NUMA cells have POWER9's page sizes under the radix MMU: 64 KiB
  base pages, 2 MiB and 1 GiB huge pages (Documentation/powerpc/ in the
  kernel; arch/powerpc/mm/book3s64/radix_pgtable.c, radix__early_init_mmu);
- os.uname() says ppc64le, as nova asks it for the host's architecture;
- every image the suite makes that says x86_64 says ppc64le;
- under PowerKVMDriver, nova loads it wherever the suite asks for
  libvirt.LibvirtDriver, and its static host probe describes the host the
  fake connection reports.
"""

import os
import sys

from nova.tests.fixtures import conf as conf_fixture
from nova.tests.fixtures import glance
from nova.tests.fixtures import libvirt as fakelibvirt
from nova.virt import driver as virt_driver

from tests.fixtures import power_libvirt

DRIVERS = {
    'libvirt': 'libvirt.LibvirtDriver',
    'powerkvm': 'powerkvm.PowerKVMDriver',
}
# Which driver the suite runs under: NOVA_PEER_DRIVER=libvirt|powerkvm.
DRIVER_ENV = 'NOVA_PEER_DRIVER'
GENERATION = 'POWER9'
BASE_PAGE_KB = 64
X86_ARCHES = ('x86_64', 'i686')
POWER_ARCH = 'ppc64le'


def driver_name():
    name = os.environ.get(DRIVER_ENV, 'powerkvm')
    if name not in DRIVERS:
        raise ValueError('%s must be one of %s, not %r'
                         % (DRIVER_ENV, ', '.join(DRIVERS), name))
    return name


def power_host_info(info):
    """The HostInfo a test asked for, made a POWER9 host in place.

    Tests reuse one HostInfo (and its page lists) for several hosts: each
    is converted once.
    """
    if getattr(info, '_powerkvm_peer', False):
        return info
    info._powerkvm_peer = True
    info.arch = POWER_ARCH
    info.cpu_model = GENERATION
    info.cpu_vendor = 'IBM'
    for cell in info.numa_topology.cells:
        for pages in cell.mempages:
            if pages.size == 4 and not getattr(pages, '_powerkvm_peer',
                                               False):
                pages._powerkvm_peer = True
                # the same memory in 64 KiB pages
                pages.total = pages.total * 4 // BASE_PAGE_KB
                pages.size = BASE_PAGE_KB
    return info


def spec_of(info):
    return power_libvirt.HostSpec(
        arch=POWER_ARCH, model=GENERATION, sockets=info.cpu_sockets,
        cores=info.cpu_cores, threads=info.cpu_threads,
        numa_nodes=info.cpu_nodes, kb_mem=info.kB_mem)


class PeerConnection(power_libvirt.PowerConnection):
    """nova's fake connection, as the POWER9 host the test describes."""

    def __init__(self, uri='qemu:///system', readonly=False, host_info=None,
                 **kwargs):
        info = power_host_info(host_info or fakelibvirt.HostInfo())
        super().__init__(uri, readonly=readonly, spec=spec_of(info),
                         host_info=info, **kwargs)
        if driver_name() == 'powerkvm':
            describe_to_probe(self.spec)


def describe_to_probe(spec):
    """[powerkvm] static_*: the host this connection reports.

    nova's tests make a host's connection just before they start its
    compute service, which reads the probe at start-up; the test's
    configuration fixture clears these overrides at its end. Every thread
    online: a POWER9 runs KVM guests in any SMT mode.
    """
    from nova import conf
    options = spec.static_probe(online_threads_per_core=spec.threads)
    for name, value in options.items():
        conf.CONF.set_override(name, value, group='powerkvm')


def _relabel(properties):
    for key in ('architecture', 'hw_architecture'):
        if properties.get(key) in X86_ARCHES:
            properties[key] = POWER_ARCH


def install():
    """Patch nova's fixtures for the whole test process (idempotent)."""
    if getattr(fakelibvirt, '_powerkvm_peer', False):
        return
    fakelibvirt._powerkvm_peer = True
    fakelibvirt.Connection = PeerConnection

    conf_setup = conf_fixture.ConfFixture.setUp

    def conf_fixture_setup(self):
        conf_setup(self)
        # nova's wheel installs its paste config under sys.prefix, not
        # beside the package as a source tree has it.
        self.conf.set_default('api_paste_config', os.path.join(
            sys.prefix, 'etc', 'nova', 'api-paste.ini'), group='wsgi')
    conf_fixture.ConfFixture.setUp = conf_fixture_setup

    fixture_setup = fakelibvirt.LibvirtFixture.setUp

    def libvirt_fixture_setup(self):
        fixture_setup(self)
        self.mock_uname.return_value = fakelibvirt.os_uname(
            'Linux', '', '5.14.0', '', POWER_ARCH)
    fakelibvirt.LibvirtFixture.setUp = libvirt_fixture_setup

    create = glance.GlanceFixture.create

    def create_power_image(self, context, metadata, data=None):
        _relabel(metadata.get('properties', {}))
        return create(self, context, metadata, data=data)
    glance.GlanceFixture.create = create_power_image

    if driver_name() == 'powerkvm':
        load = virt_driver.load_compute_driver

        def load_powerkvm(virtapi, compute_driver=None):
            from nova import conf
            name = compute_driver or conf.CONF.compute_driver
            if name == DRIVERS['libvirt']:
                name = DRIVERS['powerkvm']
            return load(virtapi, name)
        virt_driver.load_compute_driver = load_powerkvm
