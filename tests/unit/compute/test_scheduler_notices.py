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


"""A guest admitted on a host is told to the schedulers at once."""

from unittest import mock

import fixtures
from nova import context
from nova import objects
from nova import test
from oslo_utils.fixture import uuidsentinel as uuids

from powerkvm_nova.compute import scheduler_notices


class HostNoticesTestCase(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.ctxt = context.get_admin_context()
        self.instance = objects.Instance(uuid=uuids.guest)
        # nova's scheduler RPC API is the boundary: what it would cast
        self.rpc = self.useFixture(fixtures.MockPatch(
            'nova.scheduler.rpcapi.SchedulerAPI')).mock.return_value
        self.useFixture(fixtures.MonkeyPatch(
            'powerkvm_nova.compute.scheduler_notices._client', None))

    def test_took_casts_the_guest_to_the_schedulers(self):
        scheduler_notices.took(self.ctxt, 'host1', self.instance)
        (ctxt, host, infos), _ = self.rpc.update_instance_info.call_args
        self.assertEqual('host1', host)
        self.assertEqual([uuids.guest], [i.uuid for i in infos.objects])

    def test_arrived_casts_the_guest_as_nova_records_it_here(self):
        # nova's destination of a live migration sets the instance's host
        # and clears its task right after the driver's
        # post_live_migration_at_destination (ComputeManager.
        # _do_post_live_migration_at_destination)
        self.instance.host = 'source'
        self.instance.task_state = 'migrating'
        scheduler_notices.arrived(self.ctxt, 'dest', self.instance)
        (ctxt, host, infos), _ = self.rpc.update_instance_info.call_args
        self.assertEqual('dest', host)
        [sent] = infos.objects
        self.assertEqual((uuids.guest, 'dest', None),
                         (sent.uuid, sent.host, sent.task_state))
        # nova's own object is left as nova has it
        self.assertEqual(('source', 'migrating'),
                         (self.instance.host, self.instance.task_state))

    def test_left_casts_its_removal(self):
        scheduler_notices.left(self.ctxt, 'host1', self.instance)
        self.rpc.delete_instance_info.assert_called_once_with(
            mock.ANY, 'host1', uuids.guest)

    def test_nothing_is_told_when_nova_tracks_no_instance_changes(self):
        self.flags(track_instance_changes=False, group='filter_scheduler')
        scheduler_notices.took(self.ctxt, 'host1', self.instance)
        scheduler_notices.left(self.ctxt, 'host1', self.instance)
        self.assertEqual([], self.rpc.mock_calls)

    def test_a_failed_cast_is_logged_not_raised(self):
        self.rpc.update_instance_info.side_effect = RuntimeError('no bus')
        with mock.patch.object(scheduler_notices.LOG, 'warning') as warning:
            scheduler_notices.took(self.ctxt, 'host1', self.instance)
        self.assertIn('no bus', str(warning.call_args))
