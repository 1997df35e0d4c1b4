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

"""cinder's volumes in the cloud's Ceph, and servers whose disks they are,
as an operator checks them: the ceph and rbd CLIs beside openstack's."""

import json

from tests.cloud import base
from tests.cloud import rbd
from tests.cloud import servers
from tools.cloud import computes
from tools.cloud import layout


def watchers(volume):
    """The addresses of the clients that have volume's RBD image open."""
    status = json.loads(rbd.ceph_cli(
        'status', 'volumes/volume-' + volume, '--format', 'json', tool='rbd'))
    return [w['address'].split(':')[0] for w in status['watchers']]


class VolumeTestCase(servers.ServerTestCase):
    """A test of cinder's volumes: each it makes, deleted after it."""

    def setUp(self):
        super().setUp()
        # every volume of the test, its servers' too: deleted after the
        # servers (cleanups run last first)
        self.volumes = set()
        self.addCleanup(self._delete_volumes)

    def volume(self, name, *argv):
        """'volume create' with argv, once available: 'volume show'."""
        volume = self.openstack(*(['volume', 'create', '--size', '1'] +
                                  list(argv) + [self.prefix + name]))
        self.volumes.add(volume['id'])
        self.wait_for_volume(volume['id'], ('available', 'error'))
        shown = self.openstack('volume', 'show', volume['id'])
        self.assertEqual('available', shown['status'], shown)
        return shown

    def wait_for_volume(self, volume, statuses=('available',)):
        self.poll(lambda: self.conn.block_storage.get_volume(
            volume).status in statuses, base.BOOT_TIMEOUT,
            lambda _: 'volume %s not %s' % (volume, ' or '.join(statuses)))

    def _delete_volumes(self):
        for volume in self.volumes:
            self.conn.block_storage.delete_volume(volume,
                                                  ignore_missing=True)
        self.poll(lambda: not [v for v in self.volumes if
                               self.conn.block_storage.find_volume(v)],
                  base.BOOT_TIMEOUT, lambda _: 'the volumes not deleted')

    def server_of_volume(self, name, host, *source):
        """'server create' of a root disk in cinder on host, at once.

        host None: where the scheduler chooses. source: '--volume V', or
        '--image I --boot-from-volume SIZE'. The server is deleted after
        the test, then its volumes, whatever the test did.
        """
        name = self.prefix + name
        self.addCleanup(self._delete_server, name)
        return self.openstack(*(
            ['--os-compute-api-version', servers.HOST_VERSION, 'server',
             'create', '--flavor', self.flavor] + list(source) +
            ['--network', layout.PROVIDER_NETWORK] +
            (['--host', host] if host else []) + [name]))

    def volumes_of(self, server):
        """Its volumes (nova makes them during the build)."""
        volumes = [a.volume_id for a in
                   self.conn.compute.volume_attachments(server['id'])]
        self.volumes.update(volumes)
        return volumes

    def _delete_server(self, name):
        for server in self.conn.compute.servers(name='^%s$' % name):
            self.volumes_of(server)
        self.delete_named(name)

    def assert_disk_in_ceph(self, volumes, arch, host):
        """The server's one volume: in use, of its image's arch, open.

        QEMU on host opened it through librbd: the client watching the
        RBD image is at host's address.
        """
        self.assertEqual(1, len(volumes))
        volume = self.openstack('volume', 'show', volumes[0])
        self.assertEqual('in-use', volume['status'])
        self.assertEqual(
            arch, volume['volume_image_metadata']['hw_architecture'])
        self.assert_open_on(volumes[0], host)

    def assert_open_on(self, volume, *hosts):
        """Only QEMU on these hosts has volume open (through librbd)."""
        self.assertEqual(sorted(computes.attach().address(h) for h in hosts),
                         sorted(watchers(volume)))
