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

"""What a compute's periodic report asks nova-conductor.

nova-compute has no database: every query of nova's objects is an RPC call
to nova-conductor through NovaObject.indirection_api (nova/conductor/
rpcapi.py, ConductorAPI.object_class_action_versions). The stub below is
that API, answering from a table of instances and counting the calls.
"""

from nova import objects
from nova import test
from nova.tests import fixtures as nova_fixtures
from oslo_utils import uuidutils

from powerkvm_nova.compute import reconcile


class CountingConductor:
    """The conductor's object API over a table of instances."""

    def __init__(self, instances):
        self.instances = instances
        self.calls = []

    def object_class_action_versions(self, context, objname, objmethod,
                                     object_versions, args, kwargs):
        self.calls.append((objname, objmethod))
        if (objname, objmethod) == ('InstanceList', 'get_by_filters'):
            wanted = set(args[0]['uuid'])
            return objects.InstanceList(objects=[
                i for u, i in self.instances.items() if u in wanted])
        if (objname, objmethod) == ('Instance', 'get_by_uuid'):
            return self.instances[args[0]]
        if (objname, objmethod) == ('MigrationList', 'get_by_filters'):
            return objects.MigrationList(objects=[])
        raise NotImplementedError(objname, objmethod)


class ConductorCallsTestCase(test.NoDBTestCase):

    def calls(self, guests, gone=0):
        """Conductor calls of a report over so many shut-off domains."""
        instances = {}
        for n in range(guests):
            uuid = uuidutils.generate_uuid()
            instances[uuid] = objects.Instance(
                uuid=uuid, deleted=False,
                host='host1' if n >= gone else 'host2')
        conductor = CountingConductor(instances)
        self.useFixture(nova_fixtures.IndirectionAPIFixture(conductor))
        left = reconcile.leftover_domains('host1', list(instances))
        self.assertEqual(gone, len(left))
        reconcile.departed('host1', list(instances))
        return conductor.calls

    def test_bounded_whatever_the_guest_count(self):
        self.assertEqual(self.calls(10), self.calls(500))
        self.assertEqual(2, len(self.calls(500)))

    def test_gone_guests_are_said_why(self):
        calls = self.calls(20, gone=2)
        # one migration query for each guest gone from here, no more
        self.assertEqual(2, calls.count(('MigrationList', 'get_by_filters')))
