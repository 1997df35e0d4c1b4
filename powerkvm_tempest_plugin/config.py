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

"""The plugin's options: tempest.conf's [powerkvm] group.

They say what the cloud under test has that its API does not tell: which
image is of which endianness, and how its computes are set.
"""

from oslo_config import cfg

group = cfg.OptGroup(
    name='powerkvm', title='PowerKVM scenarios (powerkvm_tempest_plugin)')

opts = [
    cfg.StrOpt('le_image_ref',
               help='A little-endian (ppc64le) guest image that boots on '
                    'the PowerKVM computes. Unset: [compute] image_ref.'),
    cfg.StrOpt('be_image_ref',
               help='A big-endian (ppc64) guest image. Unset: every '
                    'scenario that needs both endiannesses skips.'),
    cfg.IntOpt('flavor_ram', default=512, min=64,
               help='MiB of the flavors the scenarios make for their '
                    'servers: the least both images boot with.'),
    cfg.IntOpt('flavor_disk', default=1, min=0,
               help='GiB of root disk of those flavors.'),
    cfg.StrOpt('cpu_compat_mode', default='',
               choices=['', 'POWER8', 'POWER9', 'POWER10'],
               help="The computes' [powerkvm] cpu_compat_mode. Empty: "
                    "guests run as their host's generation and never "
                    'live-migrate to another; set: they do, and the '
                    'generation refusal scenario skips.'),
    cfg.BoolOpt('packing', default=True,
                help="The computes' [powerkvm] endianness_policy is "
                     'exclusive and the scheduler runs '
                     'PowerKVMEndiannessWeigher: guests of one endianness '
                     'pack onto the hosts that already run it.'),
    cfg.IntOpt('max_hosts_to_fill', default=4, min=1,
               help='A scenario that needs every PowerKVM host to run a '
                    'guest boots one on each; with more hosts than this '
                    'it skips.'),
]
