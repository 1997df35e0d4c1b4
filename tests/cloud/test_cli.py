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

"""The cloud through the openstack CLI: hosts, flavors, images, servers."""

import contextlib
import os

import libvirt

from tests.cloud import base
from tests.hypervisor import guest_console
from tools.cloud import computes
from tools.cloud import layout

# layout.COMPUTES: two POWER8 (one split-core 4) and a POWER9, 2 cores each
P8, P8_SPLIT, P9 = 'pkvm-p8', 'pkvm-p8s', 'pkvm-p9'
# Where compute API 2.74 lets an admin name the host (--host); hypervisor
# show still has the host's vCPU count before 2.88.
HOST_VERSION = '2.74'
STATS_VERSION = '2.87'
# Flavor extra specs are validated from 2.86 (nova's extra spec
# validators, the project's included: powerkvm_nova/api/extra_specs.py).
VALIDATING_VERSION = '2.86'

_IMAGES = {}


def leftovers(server_id):
    """{host: what is left of a server there}: domains, files."""
    hosts = computes.attach()
    left = {}
    for host in layout.COMPUTES:
        domains = hosts.run(host, ['virsh', '-c', 'qemu:///system', 'list',
                                   '--all', '--uuid'],
                            capture_output=True, text=True).stdout.split()
        found = [d for d in domains if d == server_id]
        if os.path.exists(os.path.join(hosts.host_instances_dir(host),
                                       server_id)):
            found.append('instance directory')
        if found:
            left[host] = found
    return left


def images(test):
    """The LE Linux test guest and the BE guest, uploaded once per run."""
    if not _IMAGES:
        # those an earlier run of this cloud uploaded
        known = {i['Name']: i['ID'] for i in test.openstack('image', 'list')}
        if 'pkvm-ppc64-blank' in known and 'pkvm-ppc64el-linux' in known:
            _IMAGES.update(le=known['pkvm-ppc64el-linux'],
                           be=known['pkvm-ppc64-blank'])
            return _IMAGES
        guest = base.GUEST_DIR
        kernel = test.openstack(
            'image', 'create', '--disk-format', 'aki', '--container-format',
            'aki', '--file', os.path.join(guest, 'vmlinux'),
            'pkvm-ppc64el-vmlinux')['id']
        ramdisk = test.openstack(
            'image', 'create', '--disk-format', 'ari', '--container-format',
            'ari', '--file', os.path.join(guest, 'initramfs.cpio.gz'),
            'pkvm-ppc64el-initramfs')['id']
        _IMAGES['le'] = test.openstack(
            'image', 'create', '--disk-format', 'raw', '--container-format',
            'bare', '--file', os.path.join(guest, 'disk.raw'),
            '--property', 'hw_architecture=ppc64le',
            '--property', 'kernel_id=%s' % kernel,
            '--property', 'ramdisk_id=%s' % ramdisk,
            'pkvm-ppc64el-linux')['id']
        # a blank disk: the BE guest runs SLOF firmware and stays there
        _IMAGES['be'] = test.openstack(
            'image', 'create', '--disk-format', 'raw', '--container-format',
            'bare', '--file', os.path.join(guest, 'disk.raw'),
            '--property', 'hw_architecture=ppc64', 'pkvm-ppc64-blank')['id']
    return _IMAGES


class HostsTestCase(base.CloudTestCase):

    def test_compute_services_are_up(self):
        services = self.openstack('compute', 'service', 'list')
        up = {(s['Binary'], s['Host']) for s in services
              if s['State'] == 'up' and s['Status'] == 'enabled'}
        for host in layout.COMPUTES:
            self.assertIn(('nova-compute', host), up)
        self.assertIn('nova-conductor', {binary for binary, _host in up})
        self.assertIn('nova-scheduler', {binary for binary, _host in up})

    def test_hypervisors_are_the_power_hosts(self):
        hypervisors = self.openstack(
            '--os-compute-api-version', STATS_VERSION, 'hypervisor', 'list',
            '--long')
        self.assertEqual(set(layout.COMPUTES),
                         {h['Hypervisor Hostname'] for h in hypervisors})
        for h in hypervisors:
            self.assertEqual('QEMU', h['Hypervisor Type'])
            self.assertEqual('up', h['State'])
            # every thread of the host's cores runs a guest vCPU (doc/cpu.md)
            cpu = layout.COMPUTES[h['Hypervisor Hostname']]
            self.assertEqual(
                cpu['static_cores'] * cpu['static_threads_per_core'],
                h['vCPUs'], h)

    def test_power_traits_in_placement(self):
        providers = {p['name']: p['uuid'] for p in self.openstack(
            'resource', 'provider', 'list')}
        traits = {name: {t['name'] for t in self.openstack(
            'resource', 'provider', 'trait', 'list', uuid)}
            for name, uuid in providers.items()}
        self.assertIn('HW_CPU_PPC64LE_POWER8', traits[P8])
        self.assertIn('HW_CPU_PPC64LE_POWER9', traits[P9])
        self.assertIn('CUSTOM_POWERKVM_MICRO_THREADING', traits[P8_SPLIT])
        self.assertIn('CUSTOM_POWERKVM_SUBCORES_PER_CORE_4', traits[P8_SPLIT])
        self.assertNotIn('CUSTOM_POWERKVM_MICRO_THREADING', traits[P8])


class FlavorsTestCase(base.CloudTestCase):

    def test_bad_powerkvm_extra_spec_is_refused_with_400(self):
        flavor = self.prefix + 'bad'
        self.openstack('flavor', 'create', '--vcpus', '1', '--ram', '256',
                       '--disk', '1', flavor)
        self.addCleanup(self.openstack, 'flavor', 'delete', flavor,
                        parse=False)
        error = self.fails('--os-compute-api-version', VALIDATING_VERSION,
                           'flavor', 'set', '--property',
                           'powerkvm:micro_threading=maybe', flavor)
        # nova's validator answers (nova/api/validation/extra_specs), with
        # the project's values for the key
        self.assertIn('BadRequestException: 400', error)
        self.assertIn("'maybe' is not one of: required, forbidden", error)
        spec = self.openstack('flavor', 'show', flavor)['properties']
        self.assertNotIn('powerkvm:micro_threading', spec or {})


class ServersTestCase(base.CloudTestCase):
    """Servers of both endiannesses, and the rule between them."""

    def setUp(self):
        super().setUp()
        self.images = images(self)
        self.flavor = self.make_flavor('tiny', vcpus=1, ram=512)

    def make_flavor(self, name, vcpus, ram, **properties):
        name = self.prefix + name
        argv = ['flavor', 'create', '--vcpus', str(vcpus), '--ram', str(ram),
                '--disk', '1']
        for key, value in properties.items():
            argv += ['--property', '%s=%s' % (key, value)]
        self.openstack(*(argv + [name]))
        self.addCleanup(self.openstack, 'flavor', 'delete', name,
                        parse=False)
        return name

    def create_server(self, name, image, host=None, flavor=None,
                      wait=('ACTIVE',)):
        argv = ['--os-compute-api-version', HOST_VERSION, 'server', 'create',
                '--flavor', flavor or self.flavor, '--image',
                self.images[image], '--nic', 'none']
        if host:
            argv += ['--host', host]
        name = self.prefix + name
        # a server the API made before the client failed is deleted too
        self.addCleanup(self.delete_named, name)
        server = self.openstack(*(argv + [name]))
        return self.wait_for_server(server['id'], wait)

    def delete_named(self, name):
        for server in self.openstack('server', 'list', '--name',
                                     '^%s$' % name):
            self.delete_server(server['ID'])

    def delete_server(self, server_id):
        try:
            self.openstack('server', 'delete', '--wait', server_id,
                           parse=False)
        except base.CommandFailed as e:
            if 'No Server found' not in e.stderr:
                raise

    def host_of(self, server):
        return server['OS-EXT-SRV-ATTR:host']

    def test_le_and_be_servers_run_on_hosts_of_their_own(self):
        le = self.create_server('le', 'le')
        be = self.create_server('be', 'be')
        self.assertNotEqual(self.host_of(le), self.host_of(be))
        self.wait_for_console(le, 'POWERKVM-GUEST-BOOTED arch=ppc64le')

    def test_a_server_no_host_can_take_ends_in_error_naming_why(self):
        for host in layout.COMPUTES:
            self.create_server('le-' + host, 'le', host=host)
        be = self.create_server('be', 'be', wait=('ERROR',))
        self.assertIn('other endianness', be['fault']['message'])
        self.assertIn('big-endian', be['fault']['message'])

    def test_micro_threading_flavor_lands_on_the_split_core_host(self):
        flavor = self.make_flavor('mt', vcpus=2, ram=512, **{
            'powerkvm:micro_threading': 'required'})
        server = self.create_server('mt', 'le', flavor=flavor)
        self.assertEqual(P8_SPLIT, self.host_of(server))

    def test_lifecycle_through_the_cli(self):
        server = self.create_server('life', 'le', host=P9)
        booted = 'POWERKVM-GUEST-BOOTED arch=ppc64le'
        log = self.wait_for_console(server, booted)
        first_host = self.host_of(server)

        self.openstack('server', 'reboot', '--hard', '--wait', server['id'],
                       parse=False)
        self.wait_for_console(server, booted, after=log)

        self.openstack('server', 'stop', server['id'], parse=False)
        self.wait_for_server(server['id'], ('SHUTOFF',))
        self.openstack('server', 'start', server['id'], parse=False)
        self.wait_for_server(server['id'])

        # --wait prints its progress where the JSON would be: it is read
        # with 'show' instead
        self.openstack('server', 'rebuild', '--wait', '--image',
                       self.images['le'], server['id'], parse=False)
        self.assertEqual(first_host, self.host_of(
            self.wait_for_server(server['id'])))

        snapshot = self.openstack('server', 'image', 'create',
                                  '--name', self.prefix + 'snap',
                                  server['id'])
        self.addCleanup(self.openstack, 'image', 'delete', snapshot['id'],
                        parse=False)
        image = self.wait_for_image(snapshot['id'])
        self.assertEqual('ppc64le',
                         image['properties'].get('hw_architecture'))

        # cold migration, POWER9 to POWER8: nova copies the disk to the
        # other host over ssh
        self.openstack('--os-compute-api-version', HOST_VERSION, 'server',
                       'migrate', '--host', P8, '--wait', server['id'],
                       parse=False)
        self.wait_for_server(server['id'], ('VERIFY_RESIZE',))
        self.openstack('server', 'resize', 'confirm', server['id'],
                       parse=False)
        moved = self.wait_for_server(server['id'])
        self.assertEqual(P8, self.host_of(moved))
        self.wait_for_console(moved, booted)
        before = self.uptime(moved)

        # live migration, POWER8 to POWER9, with block migration (each host
        # has its own disks); guests run as POWER8 (cpu_compat_mode)
        self.openstack('--os-compute-api-version', HOST_VERSION, 'server',
                       'migrate', '--live-migration', '--host', P9,
                       '--block-migration', '--wait', server['id'],
                       parse=False)
        live = self.wait_for_server(server['id'])
        self.assertEqual(P9, self.host_of(live))
        # the same guest, running on: its clock went on
        self.assertGreater(self.uptime(live), before)

        self.openstack('server', 'delete', '--wait', server['id'],
                       parse=False)
        self.assertEqual({}, leftovers(server['id']))

    def uptime(self, server):
        """The guest's uptime, in its answer on its console.

        The servers have no network: the test asks the guest through its
        host's libvirtd (tests/hypervisor/guest_console), as an operator
        would with 'virsh console' on the host.
        """
        hosts = computes.attach()
        host = self.host_of(server)
        with contextlib.closing(libvirt.open(hosts.uri(host))) as conn:
            return guest_console.ping(conn.lookupByUUIDString(server['id']))

    def wait_for_image(self, image_id, timeout=base.BOOT_TIMEOUT):
        deadline = base.time.monotonic() + timeout
        while True:
            image = self.openstack('image', 'show', image_id)
            if image['status'] == 'active':
                return image
            if base.time.monotonic() > deadline:
                self.fail('image %s is %s after %d s' % (
                    image_id, image['status'], timeout))
            base.time.sleep(2)

    def wait_for_console(self, server, text, after='',
                         timeout=base.BOOT_TIMEOUT):
        """The console log once text is on it (after the log after).

        A domain defined again (hard reboot) may start a new log or append
        to the old one: what is new is what follows after, or all.
        """
        deadline = base.time.monotonic() + timeout
        while True:
            log = self.openstack('console', 'log', 'show', server['id'],
                                 parse=False)
            new = log[len(after):] if log.startswith(after) else log
            if text in new:
                return log
            if base.time.monotonic() > deadline:
                self.fail('%r not on the console of %s after %d s; its end:'
                          '\n%s' % (text, server['id'], timeout, log[-2000:]))
            base.time.sleep(3)
