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

"""nova-compute restarted under its running guests: the ledger is rebuilt
from libvirt, no guest is lost, and the other endianness is still refused.
"""

import os
import time
from unittest import mock


from powerkvm_nova.endianness import Endianness
from tests.hypervisor import base


class ComputeRestartTestCase(base.RealHypervisorTestBase):
    """nova-compute restarted under its running guests."""

    def restart_compute(self):
        """A new nova-compute (manager, driver, ledger) for the same node."""
        old = self.computes[base.HOST]
        node_uuid = old.driver._host.get_node_uuid()
        with mock.patch('nova.virt.node.get_local_node_uuid',
                        return_value=node_uuid), \
                mock.patch('nova.virt.libvirt.host.Host.get_hostname',
                           return_value=base.HOST):
            new = self.restart_compute_service(old,
                                               keep_hypervisor_state=False)
            new.driver._host.get_node_uuid()
        new.driver._host.get_hostname = lambda: base.HOST
        self.computes[base.HOST] = new
        return new

    def test_restart_rebuilds_the_ledger_from_libvirt(self):
        le = self.boot(self.little_endian_linux_image())
        qemu = self.domain(le).ID()
        old = self.computes[base.HOST].driver
        start = time.monotonic()
        driver = self.restart_compute().driver
        restart = time.monotonic() - start
        self.assertIsNot(old, driver)
        # no guest lost: the same QEMU runs on, the server is ACTIVE
        self.assertTrue(self.domain(le).isActive())
        self.assertEqual(qemu, self.domain(le).ID())
        self.assertEqual('ACTIVE', self.api.get_server(le['id'])['status'])
        # the new ledger read the guest's endianness from its domain
        self.assertEqual(Endianness.LITTLE, driver.ledger._guests[le['id']])
        self.assertEqual({}, driver.ledger._reserved)
        self.assertEqual(Endianness.LITTLE, driver.ledger.holds())

        be = self._create_server(image_uuid=self.big_endian_image(),
                                 networks='none', expected_state='ERROR')
        # Refused by the host (no endianness filter in this tier's
        # scheduler), and with no other host that could take it the build
        # ends at once: the fault says why, as the admission event does.
        refusal = ('PowerKVM host %s runs 1 little-endian guest, and no '
                   'other enabled PowerKVM host can take this big-endian '
                   'guest: a host runs guests of one endianness only'
                   % base.HOST)
        self.assertIn(refusal, be['fault']['message'])
        action = self.api.get_instance_actions(be['id'])[0]
        events = {e['event']: e for e in self.api.get_instance_action_details(
            be['id'], action['request_id'])['events']}
        admission = events['powerkvm_endianness_admission']
        self.assertEqual('Error', admission['result'])
        self.assertIn(refusal, admission['details'])
        self.assertNotIn(base.NAME_PREFIX + be['id'],
                         [d.name() for d in self.conn.listAllDomains()])
        self.assertFalse(os.path.exists(self.instance_dir(be)))
        self.assertEqual({}, driver.ledger._reserved)
        self.assertEqual({}, self._get_allocations_by_server_uuid(be['id']))
        self.assertTrue(self.domain(le).isActive())
        base.record_figure('compute restart under a running LE guest: s',
                           '%.1f' % restart)
        base.record_figure(
            'compute restart: BE boot refused',
            admission['details'][admission['details'].index('PowerKVM'):]
            [:100])
        for server in (be, le):
            self._delete_server(server)
            self.assert_nothing_left(server)
        self.assertIsNone(driver.ledger.holds())
