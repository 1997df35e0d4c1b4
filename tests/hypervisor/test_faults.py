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

"""Faults during spawn on the real hypervisor: the server ends in ERROR with
a fault, and nothing is left: no domain, disk, cache file, reservation or
allocation."""

import os
import subprocess

import fixtures

from tests.hypervisor import base


class SpawnFaultsTestCase(base.RealHypervisorTestBase):

    def setUp(self):
        super().setUp()
        self.work = self.useFixture(fixtures.TempDir()).path

    def image(self, name, **properties):
        path = os.path.join(self.work, name + '.qcow2')
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', path,
                        '64M'], check=True)
        return self._image(name, 'qcow2', path, hw_architecture='ppc64',
                           **properties)

    def assert_clean(self, server):
        self.assertEqual({}, self.computes[base.HOST].driver.ledger._reserved)
        self.assertEqual({}, self._get_allocations_by_server_uuid(
            server['id']))
        cache = os.path.join(self.instances_path, '_base')
        self.assertEqual([], [f for f in os.listdir(cache)
                              if f.endswith(('.part', '.converted'))]
                         if os.path.isdir(cache) else [])
        self._delete_server(server)
        self.assert_nothing_left(server)

    def test_qemu_fails_to_start(self):
        # a machine type this QEMU does not have: libvirt defines the
        # domain, QEMU refuses to start it
        image = self.image('no-such-machine',
                           hw_machine_type='pseries-0.1')
        server = self._create_server(image_uuid=image, networks='none',
                                     expected_state='ERROR')
        self.assertTrue(server['fault']['message'])
        self.assert_clean(server)
        base.record_figure('QEMU fails to start: fault',
                           server['fault']['message'][:100])

    def test_image_download_fails_midway(self):
        image = self.image('cut-off')
        download = self.glance.download

        broken_network = [True]

        def broken(context, image_id, data=None, dst_path=None, **kw):
            if dst_path is None or not broken_network[0]:
                return download(context, image_id, data=data,
                                dst_path=dst_path, **kw)
            with open(dst_path, 'wb') as f:
                f.write(self.glance._imagedata[image_id][:4096])
            raise IOError('connection reset by the image service')
        self.useFixture(fixtures.MockPatchObject(
            self.glance, 'download', side_effect=broken))
        server = self._create_server(image_uuid=image, networks='none',
                                     expected_state='ERROR')
        self.assertTrue(server['fault']['message'])
        self.assert_clean(server)
        base.record_figure('image download fails midway: fault',
                           server['fault']['message'][:100])
        # the next boot of the image downloads it afresh and runs
        broken_network[0] = False
        again = self._create_server(image_uuid=image, networks='none')
        self.assertEqual('ACTIVE', again['status'])
        self._delete_server(again)
        self.assert_nothing_left(again)
