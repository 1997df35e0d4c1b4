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

"""Servers in the cloud, and what an operator checks of them: the console,
the guest's port and its network, what is left on the hosts."""

import contextlib
import os
import subprocess

import fixtures
import libvirt

from tests.cloud import base
from tests.cloud import rbd
from tests.hypervisor import guest_console
from tools.cloud import computes
from tools.cloud import guest_images
from tools.cloud import layout

# Where compute API 2.74 lets an admin name the host (--host).
HOST_VERSION = '2.74'
BOOTED = 'POWERKVM-GUEST-BOOTED arch=ppc64le'
NIC_UP = 'POWERKVM-NIC-UP eth0 '

_IMAGES = {}


def images():
    """The LE Linux test guest and the BE guest, uploaded once a cloud.

    tools/cloud/guest_images.py; a copy, which a test may add its own to.
    """
    if not _IMAGES:
        _IMAGES.update(guest_images.ensure())
    return dict(_IMAGES)


def ovs_interfaces(host, **external_ids):
    """The names of host's Open vSwitch interfaces with these external ids.

    libvirt and os-vif set iface-id (the neutron port) and vm-uuid (the
    server) on a guest's tap.
    """
    match = ['external_ids:%s=%s' % (k.replace('_', '-'), v)
             for k, v in external_ids.items()]
    return computes.attach().run(
        host, ['ovs-vsctl', '--timeout=30', '--bare', '--columns=name',
               'find', 'Interface'] + match,
        capture_output=True, text=True).stdout.split()


def virsh(host, *argv):
    """virsh on host, against its libvirtd; its output."""
    return computes.attach().run(
        host, ['virsh', '-c', 'qemu:///system'] + list(argv),
        capture_output=True, text=True).stdout


def domains(host, *flags):
    """The UUIDs of host's running domains ('--all': defined ones too)."""
    return virsh(host, 'list', '--uuid', *flags).split()


def leftovers(server_id):
    """{host: what is left of a server there}: domains, files, taps.

    And under 'ceph vms pool', its disks left in Ceph.
    """
    hosts = computes.attach()
    left = {}
    for host in layout.HOSTS:
        found = [d for d in domains(host, '--all') if d == server_id]
        if os.path.exists(os.path.join(hosts.host_instances_dir(host),
                                       server_id)):
            found.append('instance directory')
        if host in layout.COMPUTES:     # the hosts with a network agent
            found += ovs_interfaces(host, vm_uuid=server_id)
        if found:
            left[host] = found
    # nova names the disks it makes in Ceph <server id>_disk (and
    # _disk.local, _disk.config, ...: nova/virt/libvirt/imagebackend.py)
    disks = sorted(d for d in rbd.pool_images('vms')
                   if d.startswith(server_id))
    if disks:
        left['ceph vms pool'] = disks
    return left


def link_local(mac):
    """The IPv6 link-local address of a NIC with this MAC.

    The modified EUI-64 interface identifier (RFC 4291, appendix A): the
    MAC with ff:fe in its middle and its universal/local bit inverted.
    """
    octets = [int(octet, 16) for octet in mac.split(':')]
    octets[0] ^= 0x02
    eui = octets[:3] + [0xff, 0xfe] + octets[3:]
    return 'fe80::' + ':'.join('%x' % (eui[i] << 8 | eui[i + 1])
                               for i in range(0, 8, 2))


class ServerTestCase(base.CloudTestCase):
    """Makes servers on the provider network, and deletes them."""

    def setUp(self):
        super().setUp()
        self.images = images()
        self.flavor = self.make_flavor('tiny', vcpus=1, ram=512)

    def make_flavor(self, name, vcpus, ram, **properties):
        name = self.prefix + name
        argv = ['flavor', 'create', '--vcpus', str(vcpus), '--ram', str(ram),
                '--disk', '1']
        for key, value in properties.items():
            argv += ['--property', '%s=%s' % (key, value)]
        flavor = self.openstack(*(argv + [name]))
        self.addCleanup(self.conn.compute.delete_flavor, flavor['id'],
                        ignore_missing=True)
        return name

    def image(self, argv, name):
        """'image create' with argv; the image is deleted after the test."""
        image = self.openstack(*(['image', 'create'] + argv +
                                 [self.prefix + name]))['id']
        self.addCleanup(self.openstack, 'image', 'delete', image,
                        parse=False)
        return image

    def blank_disk(self):
        """The path of a blank 1 MiB raw disk, removed after the test."""
        disk = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'blank.raw')
        with open(disk, 'wb') as f:
            f.truncate(1 << 20)
        return disk

    def create_server(self, name, image, host=None, flavor=None,
                      wait=('ACTIVE',)):
        """The server once its status is one of wait; () returns at once."""
        argv = ['--os-compute-api-version', HOST_VERSION, 'server', 'create',
                '--flavor', flavor or self.flavor, '--image',
                self.images[image], '--network', layout.PROVIDER_NETWORK]
        if host:
            argv += ['--host', host]
        name = self.prefix + name
        # a server the API made before the client failed is deleted too
        self.addCleanup(self.delete_named, name)
        server = self.openstack(*(argv + [name]))
        return self.wait_for_server(server['id'], wait) if wait else server

    def delete_named(self, name):
        """Delete the servers of this name, and wait until they are gone.

        A cleanup, through the API: the tests that delete a server as an
        operator does use 'server delete'.
        """
        for server in self.conn.compute.servers(name='^%s$' % name):
            self.conn.compute.delete_server(server)
            self.conn.compute.wait_for_delete(server, wait=base.BOOT_TIMEOUT)

    def host_of(self, server):
        return server['OS-EXT-SRV-ATTR:host']

    def live_migrate(self, server, host, block=True):
        """Live-migrate a running server to host, its guest answering on.

        :param block: block migration (the hosts' local disks), or nova's
            choice (auto, from microversion 2.25)
        :returns: the server there, and its guest's uptime before and after
        """
        before = self.uptime(server)
        self.openstack('--os-compute-api-version', HOST_VERSION, 'server',
                       'migrate', '--live-migration', '--host', host,
                       *(['--block-migration'] if block else []), '--wait',
                       server['id'], parse=False,
                       timeout=2 * base.BOOT_TIMEOUT)
        live = self.wait_for_server(server['id'])
        self.assertEqual(host, self.host_of(live))
        # the same guest, running on: its clock went on
        after = self.uptime(live)
        self.assertGreater(after, before)
        # neutron 29 leaves the port DOWN after a live migration though it
        # is bound and wired on the new host: the destination's agent asks
        # for it while the source's binding, just made inactive, still
        # exists, takes it for a port "being migrated to" the source and
        # skips it; nothing asks again once nova deletes that binding
        # (doc/deploy.md). The guest answering is what counts.
        self.assert_answers_on_its_network(live, statuses=('ACTIVE', 'DOWN'),
                                           booted_here=False)
        return live, before, after

    # -- the guest's console -------------------------------------------------

    def uptime(self, server):
        """The guest's uptime, in its answer on its console.

        Asked through its host's libvirtd (tests/hypervisor/guest_console),
        as an operator would with 'virsh console' on the host.
        """
        hosts = computes.attach()
        host = self.host_of(server)
        with contextlib.closing(libvirt.open(hosts.uri(host))) as conn:
            return guest_console.ping(conn.lookupByUUIDString(server['id']))

    def host_console_log(self, server):
        """The guest's console log file on its host, as the host has it."""
        path = os.path.join(
            computes.attach().host_instances_dir(self.host_of(server)),
            server['id'], 'console.log')
        with open(path, errors='replace') as log:
            return log.read()

    def wait_for_image(self, image_id, timeout=base.BOOT_TIMEOUT):
        """'image show' once the image is active."""
        self.poll(lambda: self.conn.image.get_image(image_id).status ==
                  'active', timeout,
                  lambda _: 'image %s is not active' % image_id)
        return self.openstack('image', 'show', image_id)

    def wait_for_console(self, server, text, after='',
                         timeout=base.BOOT_TIMEOUT):
        """'console log show' once text is on it (after the log after).

        A domain defined again (hard reboot) may start a new log or append
        to the old one: what is new is what follows after, or all.
        """
        def new(log):
            return log[len(after):] if log.startswith(after) else log

        last = ['']

        def printed():
            last[0] = self.conn.compute.get_server_console_output(
                server['id'])['output']
            return text in new(last[0])

        self.poll(printed, timeout, lambda _: (
            '%r not on the console of %s; its end:\n%s'
            % (text, server['id'], last[0][-2000:])), interval=3)
        log = self.openstack('console', 'log', 'show', server['id'],
                             parse=False)
        self.assertIn(text, new(log))
        return log

    # -- the guest's network -------------------------------------------------

    def port_of(self, server):
        ports = self.openstack('port', 'list', '--server', server['id'],
                               '--long')
        self.assertEqual(1, len(ports), ports)
        return self.openstack('port', 'show', ports[0]['ID'])

    def assert_wired(self, server, statuses=('ACTIVE',)):
        """The server's port, bound and plugged on the server's host."""
        port = self.port_of(server)
        self.assertIn(port['status'], statuses, port)
        self.assertEqual(self.host_of(server), port['binding_host_id'])
        self.assertEqual('ovs', port['binding_vif_type'])
        self.assertEqual('netdev',
                         port['binding_vif_details']['datapath_type'])
        taps = ovs_interfaces(self.host_of(server), iface_id=port['id'],
                              vm_uuid=server['id'])
        self.assertEqual(['tap' + port['id'][:11]], taps)
        return port

    def assert_answers_on_its_network(self, server, statuses=('ACTIVE',),
                                      booted_here=True,
                                      timeout=base.BOOT_TIMEOUT):
        """The guest answers pings from the controller on pkvm-net.

        The guest's NIC up (its console says so, with its MAC), then ICMPv6
        echo to its link-local address through the controller's link on
        the bed's switch: the host's br-phys and br-int, its tap, the guest.
        statuses: what neutron may say of its port meanwhile.
        booted_here: False for a guest live-migrated here, whose NIC came up
        on its first host: the console log here starts at its arrival.
        """
        port = self.assert_wired(server, statuses)
        if booted_here:
            self.wait_for_console(server, NIC_UP + port['mac_address'])
        address = '%s%%%s' % (link_local(port['mac_address']),
                              layout.CONTROLLER_LINK)
        last = ['']

        def answered():
            done = subprocess.run(['ping', '-6', '-c', '1', '-W', '2',
                                   address], capture_output=True, text=True)
            last[0] = done.stdout + done.stderr
            return done.returncode == 0

        self.poll(answered, timeout, lambda _: (
            'no answer from %s (server %s on %s): %s' % (
                address, server['id'], self.host_of(server), last[0])))
