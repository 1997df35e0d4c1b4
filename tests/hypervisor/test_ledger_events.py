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

"""The ledger's change marker from libvirt's events, on nova's real Host."""

import json
import os
import subprocess
import sys

import testtools

from tests.hypervisor import base


class LedgerEventsTestCase(testtools.TestCase):
    """tests/hypervisor/ledger_events.py in each of nova's modes."""

    def test_eventlet_mode(self):
        self._check(disable_eventlet='')

    def test_threading_mode(self):
        self._check(disable_eventlet='1')

    def _check(self, disable_eventlet):
        env = dict(os.environ,
                   OS_NOVA_DISABLE_EVENTLET_PATCHING=disable_eventlet)
        run = subprocess.run(
            [sys.executable, '-m', 'tests.hypervisor.ledger_events',
             base.NAME_PREFIX], capture_output=True, text=True, env=env,
            timeout=180)
        self.addDetail('output', testtools.content.text_content(
            run.stdout + run.stderr))
        self.assertEqual(0, run.returncode)
        figures = json.loads(run.stdout.strip().splitlines()[-1])
        # The marker is the count of lifecycle events on nova's own
        # connection, beside nova's callback (which got the start).
        self.assertTrue(figures['subscribed'])
        self.assertIn('nova_started_event_s', figures)
        # 100 checks in steady state: no call walks libvirtd's domains.
        self.assertEqual(0, figures['counter_calls'])
        self.assertEqual('None', figures['held_before'])
        mode = 'threading' if disable_eventlet else 'eventlet'
        for event in ('define', 'undefine'):
            base.record_figure(
                'ledger sees a domain %s behind nova\'s back (%s mode), s'
                % (event, mode), round(figures[event + '_seen_s'], 4))
