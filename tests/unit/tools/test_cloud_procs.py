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

"""The cloud finds and stops every process of its services."""

import os
import subprocess

import fixtures
import testtools

from tools.cloud import procs


class ProcessesTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        for name in ('RUN_DIR', 'LOG_DIR'):
            self.useFixture(fixtures.MonkeyPatch(
                'tools.cloud.layout.%s' % name, tmp))
        self.addCleanup(procs.stop_all)

    def test_a_service_that_loses_its_mark_is_found_and_stopped(self):
        # what setproctitle does to /proc/<pid>/environ (oslo.service's
        # workers), done here by exec'ing with an empty environment
        service = procs.start('sleeper', ['env', '-i', 'sleep', '300'])
        procs.wait_for('the exec', lambda: _environ(service.pid) == b'', 10)
        self.assertEqual({service.pid: 'sleeper'}, procs.marked())
        procs.stop_all()
        self.assertEqual({}, procs.marked())
        self.assertIsNotNone(service.poll())

    def test_children_are_found_by_their_mark(self):
        service = procs.start('shell', ['sh', '-c', 'sleep 300 & wait'])
        procs.wait_for('the child', lambda: len(procs.marked()) == 2, 10)
        self.assertEqual({'shell'}, procs.services())
        procs.stop_all()
        self.assertEqual({}, procs.marked())
        self.assertIsNotNone(service.poll())

    def test_another_clouds_services_are_not_this_ones(self):
        # a cloud up on the machine (a developer's, beside this test) marks
        # its services with its own run directory
        other = subprocess.Popen(
            ['sleep', '300'], env=dict(
                os.environ, **{procs.MARK: 'mariadb@/elsewhere/run'}))
        self.addCleanup(other.wait)
        self.addCleanup(other.kill)
        service = procs.start('sleeper', ['sleep', '300'])
        procs.wait_for('the start', lambda: _environ(other.pid) != b'', 10)
        self.assertEqual({service.pid: 'sleeper'}, procs.marked())


def _environ(pid):
    with open('/proc/%d/environ' % pid, 'rb') as f:
        return f.read()
