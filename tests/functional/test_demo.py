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

"""The demo's plan (tools/demo.py) on hosts that report little memory.

The simulated hosts layer here reports 4 GiB a host, as a small machine's
libvirt does (a 2-core machine of 24 GiB whose libvirt counts only its
first NUMA node reports about 5 GiB; ../shared/design/FACTS.md). The story
must hold all the same: every check passes.
"""

import dataclasses
import io

import fixtures
import testtools

from tests.functional import base
from tools import demo_hosts
from tools import demo_output
from tools import demo_plan
from tools import demo_story


class SmallHostsDemoTestCase(demo_story.Story, demo_hosts.SimulatedHosts,
                             base.PowerKVMTestBase):

    REPORTED_MB = 4096

    def setUp(self):
        self.REPORT = demo_output.Report()
        super().setUp()
        # after nova's base, which captures stdout itself under
        # OS_STDOUT_CAPTURE
        self.out = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', self.out))

    def test_story(self):
        super().test_story()
        self.assertEqual([], self.REPORT.failures, self.out.getvalue())
        self.assertGreater(self.REPORT.passed, 40)
        # what it assumed, said
        self.assertIn('Assumed: each host offers the memory the story '
                      'gives it', self.out.getvalue())
        # the final table; simulated hosts run no guest to say what it is
        self.assertRegex(self.out.getvalue(),
                         r'guest +endian +guest says +vCPU s x c x t +state')
        self.assertRegex(self.out.getvalue(),
                         r'le-mt-1 +LE +- +1 x 1 x 2 +ACTIVE')
        self.assertRegex(self.out.getvalue(),
                         r'be-db +BE +- +1 x 1 x 8 +ACTIVE')


class SkippedStepDemoTestCase(SmallHostsDemoTestCase):
    """A step whose start an earlier step did not make is skipped.

    p8-whole offers 4 GB here, so be-db (8 GB) lands on p9, and the live
    migration step, which starts from be-db on p8-whole, cannot run: it is
    reported skipped, with why, and the final table still comes.
    """

    def setUp(self):
        hosts = tuple(dataclasses.replace(h, memory_gb=4)
                      if h.name == 'p8-whole' else h
                      for h in demo_plan.HOSTS)
        for module in (demo_story, demo_hosts):
            self.useFixture(fixtures.MonkeyPatch(
                module.__name__ + '.HOSTS', hosts))
        super().setUp()

    def test_story(self):
        demo_story.Story.test_story(self)
        out = self.out.getvalue()
        self.assertIn('step 4 skipped: be-db is ACTIVE on p9, not ACTIVE '
                      'on p8-whole', self.REPORT.failures)
        self.assertIn('4. SKIPPED: be-db is ACTIVE on p9', out)
        self.assertNotIn('Traceback', out)
        self.assertNotIn('the story stopped', out)
        self.assertIn('5. Hosts and guests', out)


class ConsoleSaysTestCase(testtools.TestCase):
    """What the real hosts read in a test guest's console log."""

    def test_guests(self):
        self.assertEqual('ppc64le', demo_hosts._console_says(
            'Linux version 6.1\nPOWERKVM-GUEST-BOOTED arch=ppc64le\n'
            'POWERKVM-GUEST-READY\n'))
        self.assertEqual('ppc64, big-endian', demo_hosts._console_says(
            'POWERKVM-GUEST-BOOTED arch=ppc64\n'
            'POWERKVM-GUEST-UNAME ppc64\n'
            'POWERKVM-GUEST-BYTEORDER big-endian\n'))
        self.assertEqual('', demo_hosts._console_says('SLOF **********\n'))
