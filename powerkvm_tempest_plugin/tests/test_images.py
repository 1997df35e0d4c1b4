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

"""Images and endianness: a snapshot keeps its server's, a rebuild into
the other one is allowed only where the host keeps one endianness
(doc/endianness.md, "Rebuild")."""

from tempest.common import waiters
from tempest.lib.common.utils import data_utils
from tempest.lib.common.utils import test_utils
from tempest.lib import decorators

from powerkvm_tempest_plugin.tests import base


class ImagesTest(base.PowerKVMTest):

    def snapshot(self, server):
        image_id = self.os_admin.compute_images_client.create_image(
            server['id'], name=data_utils.rand_name('powerkvm-snapshot'),
        )['image_id']
        self.addCleanup(test_utils.call_and_ignore_notfound_exc,
                        self.admin_image_client.delete_image, image_id)
        waiters.wait_for_image_status(self.admin_image_client, image_id,
                                      'active')
        # the server is back to ACTIVE once the upload is done
        waiters.wait_for_server_status(self.admin_servers_client,
                                       server['id'], 'ACTIVE')
        return image_id

    def free_host(self):
        free = self.free_hosts()
        if not free:
            raise self.skipException('needs a PowerKVM host that runs no '
                                     'server')
        return free[0]

    @decorators.idempotent_id('9a4f2c71-1e3b-4b8e-a6d5-2f7c8e0d3c01')
    def test_snapshot_keeps_endianness(self):
        images = [self.le_image] + ([self.be_image] if self.be_image
                                    else [])
        for image in images:
            endianness = self.endianness_of_image(image)
            server = self.boot(image)
            snapshot = self.snapshot(server)
            self.assertEqual(endianness, self.endianness_of_image(snapshot))
            again = self.boot(snapshot)
            self.assertLessEqual(
                self.endianness_on(self.host_of(again)) - {None},
                {endianness})

    @decorators.idempotent_id('9a4f2c71-1e3b-4b8e-a6d5-2f7c8e0d3c02')
    def test_rebuild_into_the_other_endianness_alone_on_a_host(self):
        self.need_big_endian()
        host = self.free_host()
        server = self.boot(self.le_image, host=host)
        self.admin_servers_client.rebuild_server(server['id'], self.be_image)
        waiters.wait_for_server_status(self.admin_servers_client,
                                       server['id'], 'ACTIVE')
        self.assertEqual(self.be_image, self.show(server['id'])['image']['id'])
        self.assertEqual({'big'}, self.endianness_on(host))

    @decorators.idempotent_id('9a4f2c71-1e3b-4b8e-a6d5-2f7c8e0d3c03')
    def test_rebuild_into_the_other_endianness_beside_the_old_refused(self):
        self.need_big_endian()
        host = self.free_host()
        self.boot(self.le_image, host=host)
        server = self.boot(self.le_image, host=host)
        self.admin_servers_client.rebuild_server(server['id'], self.be_image)
        # With the scheduler's filter the rebuild ends in ERROR, the fault
        # naming the rule, and a hard reboot brings the guest back as what
        # it was; without it the host refuses and the server stays ACTIVE,
        # the reason in the rebuild's event, the new image in its record
        # (doc/endianness.md, "Rebuild").
        refused = self.settle(server['id'])
        if refused['status'] == 'ERROR':
            self.assert_fault_names_the_rule(refused)
            self.assertEqual(self.le_image, refused['image']['id'])
            # allowed in ERROR; the guest is remade as what it was
            self.admin_servers_client.reboot_server(server['id'],
                                                    type='HARD')
            self.assertEqual('ACTIVE', self.settle(server['id'])['status'])
            self.assertEqual({'little'}, self.endianness_on(host))
        else:
            self.assertIn(base.ENDIANNESS_RULE,
                          self.event_details(server['id']))
        self.assertEqual((host, 'ACTIVE'), (
            self.host_of(self.show(server['id'])),
            self.show(server['id'])['status']))
