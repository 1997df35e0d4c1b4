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

"""The endianness rule: a PowerKVM host runs big-endian or little-endian
guests, never both (doc/endianness.md)."""

from tempest import config
from tempest.lib import decorators

from powerkvm_tempest_plugin.tests import base

CONF = config.CONF


class EndiannessRuleTest(base.PowerKVMTest):

    @decorators.idempotent_id('5f0c6d7e-2b1a-4c49-9a52-3f0e6e1f7a01')
    def test_little_and_big_endian_never_share_a_host(self):
        self.need_big_endian()
        self.need_hosts(2, 'a host of each endianness')
        le = self.boot(self.le_image)
        be = self.boot(self.be_image)
        self.assertNotEqual(self.host_of(le), self.host_of(be))
        for host in self.hosts:
            self.assertLessEqual(
                len(self.endianness_on(host) - {None}), 1,
                'host %s runs guests of both endiannesses' % host)

    @decorators.idempotent_id('5f0c6d7e-2b1a-4c49-9a52-3f0e6e1f7a04')
    def test_servers_of_volumes_keep_to_hosts_of_their_endianness(self):
        """Servers booted from volumes of each image, at once.

        Their endianness is their volume's image's (cinder keeps the
        image's properties with the volume): the same rule holds.
        """
        if not CONF.service_available.cinder:
            raise self.skipException('no volume service')
        self.need_big_endian()
        self.need_hosts(2, 'a host of each endianness')
        ids = [self._create(image, None, None, volume_backed=True)
               for image in (self.le_image, self.be_image)]
        le, be = (self.settle(i) for i in ids)
        for server in (le, be):
            self.assertEqual('ACTIVE', server['status'], server.get('fault'))
        self.assertEqual(('little', 'big'), (self.endianness_of_server(le),
                                             self.endianness_of_server(be)))
        self.assertNotEqual(self.host_of(le), self.host_of(be))
        for host in self.hosts:
            self.assertLessEqual(
                len(self.endianness_on(host) - {None}), 1,
                'host %s runs guests of both endiannesses' % host)

    @decorators.idempotent_id('5f0c6d7e-2b1a-4c49-9a52-3f0e6e1f7a02')
    def test_boot_no_host_can_take_ends_in_error_naming_the_rule(self):
        self.need_big_endian()
        if len(self.hosts) > CONF.powerkvm.max_hosts_to_fill:
            raise self.skipException(
                'the cloud has %d PowerKVM hosts, more than [powerkvm] '
                'max_hosts_to_fill (%d) to fill with little-endian guests'
                % (len(self.hosts), CONF.powerkvm.max_hosts_to_fill))
        for host in sorted(self.hosts):
            running = self.endianness_on(host)
            if 'big' in running:
                raise self.skipException(
                    'host %s runs big-endian guests already' % host)
            if 'little' not in running:
                self.boot(self.le_image, host=host)
        be = self.boot(self.be_image, wait_until='ERROR')
        self.assert_fault_names_the_rule(be, 'big-endian')

    @decorators.idempotent_id('5f0c6d7e-2b1a-4c49-9a52-3f0e6e1f7a03')
    def test_packing_keeps_a_host_free_for_the_other_endianness(self):
        if not CONF.powerkvm.packing:
            raise self.skipException(
                '[powerkvm] packing is False: the scheduler does not pack '
                'guests by endianness')
        free = self.free_hosts()
        if len(free) < 2:
            raise self.skipException(
                'needs two PowerKVM hosts that run no server; free: %s'
                % free)
        # as many guests as hosts, each small enough to share one
        used = {self.host_of(self.boot(self.le_image)) for _ in self.hosts}
        still_free = set(free) - used
        self.assertTrue(still_free, 'little-endian guests spread over %s'
                        % sorted(used))
        if self.be_image:
            be = self.boot(self.be_image)
            self.assertIn(self.host_of(be), still_free)
