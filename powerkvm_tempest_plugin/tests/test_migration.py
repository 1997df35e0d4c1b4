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

"""Moves POWER refuses (doc/migration.md): to a host of the other
endianness, of another split-core mode, of another generation; the server
stays, running, where it was."""

from tempest import config
from tempest.lib import decorators

from powerkvm_tempest_plugin.tests import base

CONF = config.CONF


class MigrationRefusalTest(base.PowerKVMTest):

    def live(self, server, host):
        return lambda: self.admin_servers_client.live_migrate_server(
            server['id'], host=host, block_migration='auto')

    def cold(self, server, host):
        return lambda: self.admin_servers_client.migrate_server(
            server['id'], host=host)

    def pair(self, why, differ):
        """Two hosts for which differ(a, b) holds; skips without them."""
        for a in sorted(self.hosts):
            for b in sorted(self.hosts):
                if differ(self.hosts[a], self.hosts[b]):
                    return a, b
        raise self.skipException('no two PowerKVM hosts %s' % why)

    @staticmethod
    def movable_but_for_endianness(a, b):
        """Could a guest move from a to b, their endianness aside?

        One split-core mode (doc/cpu.md), and one generation unless the
        computes' compatibility mode lets guests cross.
        """
        return (a.name != b.name and
                a.subcores_per_core == b.subcores_per_core and
                (bool(CONF.powerkvm.cpu_compat_mode) or
                 a.generation == b.generation))

    @decorators.idempotent_id('3c9e1a52-7d4b-4e1f-8f0a-9b2d6e4c1b01')
    def test_to_a_host_of_the_other_endianness(self):
        self.need_big_endian()
        # a move refused for another reason would prove nothing of the rule
        source, target = self.pair(
            'that differ in nothing a move checks but their guests\' '
            'endianness', self.movable_but_for_endianness)
        le = self.boot(self.le_image, host=source)
        self.boot(self.be_image, host=target)
        self.assert_move_refused(le, self.live(le, target),
                                 base.ENDIANNESS_RULE)
        self.assert_move_refused(le, self.cold(le, target),
                                 base.ENDIANNESS_RULE,
                                 base.COLD_MIGRATE_NO_HOST)

    @decorators.idempotent_id('3c9e1a52-7d4b-4e1f-8f0a-9b2d6e4c1b02')
    def test_to_a_host_of_another_split_core_mode(self):
        source, target = self.pair(
            'of one generation in different split-core modes',
            lambda a, b: (a.generation == b.generation == 'POWER8' and
                          a.subcores_per_core != b.subcores_per_core))
        server = self.boot(self.le_image, host=source)
        self.assert_move_refused(server, self.live(server, target))
        self.assert_move_refused(server, self.cold(server, target))

    @decorators.idempotent_id('3c9e1a52-7d4b-4e1f-8f0a-9b2d6e4c1b03')
    def test_live_to_a_host_of_another_generation(self):
        if CONF.powerkvm.cpu_compat_mode:
            raise self.skipException(
                'the computes run guests in %s compatibility mode '
                '([powerkvm] cpu_compat_mode): they live-migrate between '
                'generations' % CONF.powerkvm.cpu_compat_mode)
        source, target = self.pair(
            'of different generations, in whole-core mode',
            lambda a, b: (a.generation and b.generation and
                          a.generation != b.generation and
                          not a.micro_threading and not b.micro_threading))
        server = self.boot(self.le_image, host=source)
        self.assert_move_refused(server, self.live(server, target),
                                 'generation')
