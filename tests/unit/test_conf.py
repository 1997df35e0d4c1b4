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

import os
import subprocess
import sys

import fixtures
from nova import test
from oslo_config import cfg

from powerkvm_nova import conf

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


class ConfTestCase(test.NoDBTestCase):

    def test_every_option_has_operator_help(self):
        for group, opts in conf.list_opts():
            self.assertEqual('powerkvm', group.name)
            for opt in opts:
                self.assertGreater(len(opt.help), 40, opt.name)

    def test_bad_value_refused(self):
        local = cfg.ConfigOpts()
        conf.register_opts(local)
        local([], default_config_files=[])
        self.assertRaises(ValueError, local.set_override, 'host_mode',
                          'kvm', group='powerkvm')

    def test_checked_in_sample_is_current(self):
        """etc/powerkvm-nova.conf.sample is what the generator makes now.

        When this fails, run 'tox -e genconfig' and commit the result.
        """
        out = os.path.join(self.useFixture(fixtures.TempDir()).path,
                           'sample')
        subprocess.run(
            [sys.executable, '-m', 'oslo_config.generator', '--config-file',
             os.path.join(REPO, 'etc', 'powerkvm-nova-config-generator.conf'),
             '--output-file', out], check=True, cwd=REPO, timeout=120)
        with open(out) as f:
            generated = f.read()
        with open(os.path.join(REPO, 'etc', 'powerkvm-nova.conf.sample')) as f:
            self.assertEqual(generated, f.read(),
                             'stale sample: run "tox -e genconfig"')
