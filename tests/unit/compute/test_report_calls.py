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

"""What one periodic report of the driver costs nova-conductor.

The resource tracker calls the driver's get_available_resource once a
periodic interval (nova/compute/resource_tracker.py,
update_available_resource). A compute has no database: each query of
nova's objects in it is one RPC call to nova-conductor (tests/fixtures/
conductor.py). The report's calls must not grow with the host's guests,
the guests of other hosts or deleted guests whose domains are still here.
"""

import collections
import time

from nova import context as nova_context
from nova import objects
from nova import test
from nova.virt import fake
from oslo_utils import uuidutils

from powerkvm_nova.compute import domains
from powerkvm_nova.compute import driver
from tests.fixtures import conductor
from tests.fixtures import power_libvirt

GUEST = ("<domain type='qemu'><name>g-%(uuid)s</name><uuid>%(uuid)s</uuid>"
         "<memory>262144</memory><vcpu>1</vcpu><metadata><powerkvm:guest "
         "xmlns:powerkvm='%(ns)s' endianness='little-endian'/></metadata>"
         "<os><type arch='ppc64le' machine='pseries'>hvm</type></os>"
         "<devices/></domain>")

# One report's calls, whatever the number of guests. nova's libvirt driver
# reads the instances and block devices of every domain once
# (nova/virt/libvirt/driver.py, _get_disk_over_committed_size_total).
LIBVIRT_CALLS = {
    ('InstanceList', 'get_by_filters'): 1,
    ('BlockDeviceMappingList', 'get_by_instance_uuids'): 1,
}
# PowerKVMDriver's own (powerkvm_nova/compute/reconcile.py): the UUIDs nova
# lists on the host (here), the instances of the shut-off domains nova does
# not list here and the migrations of this node (some of those guests are
# gone: leftover_domains), and which of the host's guests have their
# endianness recorded (listed; read once a guest).
POWERKVM_CALLS = {
    ('InstanceList', 'get_uuids_by_host'): 1,
    ('InstanceList', 'get_by_filters'): 2,
    ('MigrationList', 'get_in_progress_by_host_and_node'): 1,
}


class ReportCallsTestCase(test.TestCase):

    def setUp(self):
        super().setUp()
        power_libvirt.use_emulated_host(self)

    def report(self, guests):
        """The conductor calls of one report, with so many guests defined.

        Of each five: three run here, one is stopped here, and one is a
        shut-off domain left by a guest deleted or now on another host.
        """
        ctxt = nova_context.get_admin_context()
        drvr = driver.PowerKVMDriver(fake.FakeVirtAPI(), False)
        conn = drvr._host.get_connection()
        gone = set()
        for n in range(guests):
            uuid = uuidutils.generate_uuid()
            dom = conn.defineXML(GUEST % {'uuid': uuid, 'ns': domains.NS})
            kind = n % 5
            if kind < 3:
                dom.create()
            instance = objects.Instance(
                ctxt, uuid=uuid, project_id='project', user_id='user',
                host='compute2' if kind == 4 and n % 2 else drvr.ledger.host,
                vm_state='active' if kind < 3 else 'stopped')
            instance.create()
            if kind == 4:
                gone.add(uuid)
                if not n % 2:
                    instance.destroy()
        drvr.init_host(drvr.ledger.host)
        with conductor.CountingConductor() as calls:
            drvr.get_available_resource(drvr._host.get_hostname())
        self.assertEqual(guests - len(gone), len(drvr.ledger.holders()))
        return calls.counts()

    def test_the_same_for_10_and_500_guests(self):
        few = self.report(10)
        self.assertEqual(few, self.report(500))
        self.assertEqual(
            collections.Counter(LIBVIRT_CALLS) +
            collections.Counter(POWERKVM_CALLS), few)


class CountingConductorTestCase(test.TestCase):
    """tests/fixtures/conductor.py answers as nova-conductor would."""

    def test_a_change_saved_through_it(self):
        ctxt = nova_context.get_admin_context()
        uuid = uuidutils.generate_uuid()
        objects.Instance(ctxt, uuid=uuid, host='compute1',
                         project_id='project', user_id='user',
                         vm_state='active').create()
        with conductor.CountingConductor(latency=0.01) as calls:
            instance = objects.Instance.get_by_uuid(ctxt, uuid)
            instance.vm_state = 'stopped'
            start = time.monotonic()
            instance.save()
            took = time.monotonic() - start
        self.assertEqual([('Instance', 'get_by_uuid'), ('Instance', 'save')],
                         calls.calls)
        self.assertGreaterEqual(took, 0.01)
        # the object's changes are those the conductor sent back: none left
        self.assertEqual(set(), instance.obj_what_changed())
        self.assertEqual('stopped',
                         objects.Instance.get_by_uuid(ctxt, uuid).vm_state)
