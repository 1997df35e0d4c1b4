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

"""PowerKVMEndiannessWeigher: pack guests by endianness.

nova's default weighers spread guests, so the first guests of one
endianness would land on every empty host and leave none for the other.
This weigher prefers hosts already running the request's endianness over
empty ones, so empty hosts stay free.

  [filter_scheduler]
  weight_classes = nova.scheduler.weights.all_weighers
  weight_classes = powerkvm_nova.scheduler.weighers.PowerKVMEndiannessWeigher

[powerkvm] endianness_weight_multiplier sets its weight.
"""

import nova.conf
from nova.scheduler import weights

from powerkvm_nova import exception
from powerkvm_nova.scheduler import endianness

CONF = nova.conf.CONF


class PowerKVMEndiannessWeigher(weights.BaseHostWeigher):

    def weight_multiplier(self, host_state):
        return CONF.powerkvm.endianness_weight_multiplier

    def _weigh_object(self, host_state, weight_properties):
        if not endianness.is_powerkvm(host_state) or \
                endianness.foreign(weight_properties) is not None:
            return 0.0
        try:
            wanted = endianness.wanted(weight_properties)
        except exception.PowerKVMError:
            return 0.0
        runs = endianness.running(host_state)
        return 1.0 if wanted is not None and runs == {wanted} else 0.0
