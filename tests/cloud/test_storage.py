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

"""The cloud's storage, Ceph (tools/cloud/ceph.py), as an operator sees it:
the cluster's health with the ceph CLI, glance's images in its pool."""

import hashlib
import json
import os
import subprocess

import fixtures

from tests.cloud import base
from tests.cloud import mix_watch
from tests.cloud import rbd
from tests.cloud import servers
from tests.cloud import volumes
from tools.cloud import ceph
from tools.cloud import computes
from tools.cloud import configs
from tools.cloud import layout
from tools import test_guest

# layout.COMPUTES: a POWER8 in whole-core mode, a POWER9
P8, P9 = 'pkvm-p8', 'pkvm-p9'


class StorageTestCase(servers.ServerTestCase):

    def test_the_cluster_is_healthy_with_its_pools(self):
        health = json.loads(rbd.ceph_cli('health', '--format', 'json'))
        self.assertEqual('HEALTH_OK', health['status'], health)
        pools = {p['poolname'] for p in json.loads(
            rbd.ceph_cli('osd', 'lspools', '--format', 'json'))}
        self.assertLessEqual(set(ceph.POOLS), pools)
        stat = json.loads(rbd.ceph_cli('osd', 'stat', '--format', 'json'))
        self.assertEqual((1, 1), (stat['num_osds'], stat['num_up_osds']))

    def test_glance_keeps_images_in_ceph(self):
        image = self.openstack(
            'image', 'create', '--disk-format', 'raw', '--container-format',
            'bare', '--file', self.blank_disk(), self.prefix + 'stored')['id']
        self.addCleanup(self.conn.image.delete_image, image,
                        ignore_missing=True)
        shown = self.openstack('image', 'show', image)
        self.assertEqual('active', shown['status'])
        properties = shown['properties']
        self.assertEqual('ceph', properties['stores'])
        # the location cinder and nova's RBD disks clone from:
        # rbd://<cluster fsid>/<pool>/<image>/<snapshot>
        self.assertEqual(['images', image, 'snap'],
                         properties['direct_url'].split('/')[3:], properties)
        self.assertIn(image, rbd.pool_images('images'))
        self.openstack('image', 'delete', image, parse=False)
        self.assertNotIn(image, rbd.pool_images('images'))

    def test_the_guest_images_servers_boot_from_are_in_ceph(self):
        self.assertLessEqual(set(self.images.values()),
                             rbd.pool_images('images'))


class RbdDisksTestCase(servers.ServerTestCase):
    """The compute whose guests' disks are in Ceph (layout.RBD_COMPUTE).

    [libvirt] images_type = rbd: nova clones the image there, and the
    driver inspects its head first, as it does before a download.
    """

    def setUp(self):
        super().setUp()
        # the split-core host's flavors (doc/cpu.md)
        self.flavor = self.make_flavor('mt', vcpus=2, ram=512, **{
            'powerkvm:micro_threading': 'required'})

    def cached(self, image):
        """Whether image was downloaded into the rbd host's image cache."""
        # nova's cache names an image by its id's sha1 (nova/virt/libvirt/
        # imagecache.py, get_cache_fname)
        return os.path.exists(os.path.join(
            computes.attach().host_instances_dir(layout.RBD_COMPUTE),
            '_base', hashlib.sha1(image.encode()).hexdigest()))

    def test_a_guest_s_disk_is_a_clone_of_its_image_in_ceph(self):
        server = self.create_server('rbd', 'le')
        self.assertEqual(layout.RBD_COMPUTE, self.host_of(server))
        self.wait_for_console(server, servers.BOOTED)
        info = json.loads(rbd.ceph_cli(
            'info', 'vms/%s_disk' % server['id'], '--format', 'json',
            tool='rbd'))
        # a copy-on-write clone of the image's snapshot in the images pool
        # (nova's Rbd.clone, from the location glance shows), not a copy
        self.assertEqual(('images', self.images['le'], 'snap'), (
            info['parent']['pool'], info['parent']['image'],
            info['parent']['snapshot']), info)
        self.assertFalse(self.cached(self.images['le']))
        self.openstack('server', 'delete', '--wait', server['id'],
                       parse=False)
        self.assertEqual({}, servers.leftovers(server['id']))

    def test_a_mislabelled_image_is_refused_before_it_is_cloned(self):
        # a qcow2 labelled raw: glance takes it (glance/location.py lets raw
        # hold any content that passes its safety checks), and nova clones
        # raw images in Ceph without reading them, for QEMU to open as raw:
        # a guest with no disk it can boot
        disk = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'disk.qcow2')
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', disk,
                        '64M'], check=True)
        self.images['mislabelled'] = self.image(
            ['--disk-format', 'raw', '--container-format', 'bare',
             '--property', 'hw_architecture=ppc64le', '--file', disk],
            'mislabelled')
        server = self.create_server('mislabelled', 'mislabelled',
                                    wait=('ACTIVE', 'ERROR'))
        self.assertEqual('ERROR', server['status'])
        fault = self.openstack('server', 'show', server['id'])['fault']
        self.assertIn('its content is qcow2 but its disk_format says raw',
                      fault['message'])
        self.assertEqual({}, servers.leftovers(server['id']))


class VolumesTestCase(volumes.VolumeTestCase):
    """cinder's volumes, in Ceph's volumes pool."""

    def test_a_volume_is_an_image_of_the_volumes_pool(self):
        volume = self.volume('blank')
        self.assertEqual(configs.VOLUME_TYPE, volume['type'])
        self.assertIn('volume-' + volume['id'],
                      rbd.pool_images('volumes'))
        self.openstack('volume', 'delete', volume['id'], parse=False)
        self.poll(lambda: 'volume-' + volume['id'] not in
                  rbd.pool_images('volumes'), base.BOOT_TIMEOUT,
                  lambda _: 'the volume still in Ceph')

    def test_a_guest_image_s_volume_is_a_clone_that_keeps_its_arch(self):
        image = self.images['le']
        volume = self.volume('of-le', '--image', image)
        info = json.loads(rbd.ceph_cli(
            'info', 'volumes/volume-' + volume['id'], '--format', 'json',
            tool='rbd'))
        # cinder's RBD driver clones the image's snapshot in the images
        # pool (cinder/volume/drivers/rbd.py _is_cloneable: a raw image
        # glance keeps in RBD and shows the location of)
        self.assertEqual(('images', image),
                         (info['parent']['pool'], info['parent']['image']),
                         info)
        # the evidence of its endianness, as an image-backed server's
        metadata = volume['volume_image_metadata']
        self.assertEqual('ppc64le', metadata['hw_architecture'], metadata)


class VolumeBackedServersTestCase(volumes.VolumeTestCase):
    """Servers whose root disk is a cinder volume in Ceph."""

    def test_servers_of_each_endianness_boot_from_ceph_volumes(self):
        # each on a host of its own, booting at once: the BE one where the
        # scheduler chooses. (Pinned to the POWER8 it was refused once, a
        # previous test's LE guest live-migrated there and deleted seconds
        # before: the host's report still counted it.)
        le = self.server_of_volume('bfv-le', P9, '--image', self.images['le'],
                                   '--boot-from-volume', '1')
        be = self.server_of_volume('bfv-be', None, '--image',
                                   self.images['be'], '--boot-from-volume',
                                   '1')
        le = self.wait_for_server(le['id'])
        be = self.wait_for_server(be['id'])
        be_host = self.host_of(be)
        self.assertEqual(P9, self.host_of(le))
        self.assertNotEqual(P9, be_host)
        self.wait_for_console(le, servers.BOOTED)
        for line in test_guest.BE_LINES:
            self.wait_for_console(be, line)
        disks = self.volumes_of(le) + self.volumes_of(be)
        self.assert_disk_in_ceph(disks[:1], 'ppc64le', P9)
        self.assert_disk_in_ceph(disks[1:], 'ppc64', be_host)
        self.assert_snapshot_boots_as(be, 'ppc64', test_guest.BE_LINES[-1])

        # a data volume attached to the running guest, and detached
        data = self.volume('data')['id']
        self.openstack('server', 'add', 'volume', le['id'], data)
        self.wait_for_volume(data, ('in-use',))
        self.assert_open_on(data, P9)
        self.openstack('server', 'remove', 'volume', le['id'], data,
                       parse=False)
        self.wait_for_volume(data)
        self.assert_open_on(data)
        disks.append(data)
        for server in (le, be):
            self.openstack('server', 'delete', '--wait', server['id'],
                           parse=False)
            self.assertEqual({}, servers.leftovers(server['id']))
        # the volumes outlive their servers (the CLI's --boot-from-volume
        # keeps them), detached: no client of Ceph holds them open
        for volume in disks:
            self.wait_for_volume(volume)
            self.assert_open_on(volume)

    def assert_snapshot_boots_as(self, server, arch, booted):
        """'server image create' of a server of a volume boots as arch.

        nova snapshots the volume in cinder and makes an image of no data
        that names the snapshot in its block device mapping, with the
        server's image properties; a server of that image boots from a
        volume cinder makes of the snapshot. The scheduler chooses its
        host: one that runs guests of arch only.
        """
        disk, = self.volumes_of(server)
        image = self.openstack('server', 'image', 'create', '--wait',
                               '--name', self.prefix + 'snapshot',
                               server['id'], timeout=base.BOOT_TIMEOUT)
        self.addCleanup(self.conn.image.delete_image, image['id'],
                        ignore_missing=True)
        properties = self.openstack('image', 'show', image['id'])[
            'properties']
        self.assertEqual(arch, properties['hw_architecture'])
        mapping, = json.loads(properties['block_device_mapping'])
        snapshot = self.conn.block_storage.get_snapshot(
            mapping['snapshot_id'])
        self.addCleanup(self.conn.block_storage.delete_snapshot, snapshot,
                        ignore_missing=True)
        self.assertEqual(disk, snapshot.volume_id)

        copy = self.openstack(
            'server', 'create', '--flavor', self.flavor, '--image',
            image['id'], '--network', layout.PROVIDER_NETWORK,
            self.prefix + 'of-snapshot')
        self.addCleanup(self.delete_named, self.prefix + 'of-snapshot')
        copy = self.wait_for_server(copy['id'])
        self.wait_for_console(copy, booted)
        self.assertEqual({arch}, mix_watch.host_arches(
            computes.attach(), self.host_of(copy)))
        clone, = self.volumes_of(copy)
        self.assert_disk_in_ceph([clone], arch, self.host_of(copy))

        # torn down in the order cinder's RBD driver needs: the snapshot's
        # clone before the snapshot, the snapshot before its volume
        self.openstack('server', 'delete', '--wait', copy['id'], parse=False)
        self.assertEqual({}, servers.leftovers(copy['id']))
        self.conn.block_storage.delete_volume(clone)
        self.conn.block_storage.wait_for_delete(
            self.conn.block_storage.get_volume(clone), wait=base.BOOT_TIMEOUT)
        self.openstack('volume', 'snapshot', 'delete', snapshot.id,
                       parse=False)
        self.conn.block_storage.wait_for_delete(snapshot,
                                                wait=base.BOOT_TIMEOUT)

    def test_a_server_of_a_volume_moves_live_with_its_disk_in_ceph(self):
        # 'volume create --image', then 'server create --volume'
        volume = self.volume('root', '--image', self.images['le'],
                             '--bootable')['id']
        server = self.server_of_volume('of-volume', P9, '--volume', volume)
        server = self.wait_for_server(server['id'])
        self.wait_for_console(server, servers.BOOTED)
        self.assert_open_on(volume, P9)
        # nova chooses (microversion 2.25's 'auto'): no block migration,
        # the disk being on storage both hosts share; QEMU on the
        # destination opens the same RBD image, nothing is copied
        self.live_migrate(server, P8, block=False)
        self.assert_open_on(volume, P8)
        self.assertEqual([volume], self.volumes_of(server))
