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

"""tempest's entry point (setup.cfg, tempest.test_plugins)."""

import os

from tempest import config
from tempest.test_discover import plugins

from powerkvm_tempest_plugin import config as powerkvm_config


class PowerKVMTempestPlugin(plugins.TempestPlugin):

    def load_tests(self):
        top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        return os.path.join(top, 'powerkvm_tempest_plugin', 'tests'), top

    def register_opts(self, conf):
        config.register_opt_group(conf, powerkvm_config.group,
                                  powerkvm_config.opts)

    def get_opt_lists(self):
        return [(powerkvm_config.group.name, powerkvm_config.opts)]
