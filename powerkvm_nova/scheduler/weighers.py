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

Among empty hosts, big-endian requests take them in one stable order and
little-endian requests in the reverse one, each preferring its own half
of the order. Concurrent requests of the two endiannesses (several
scheduler workers, or one worker's view not yet showing the other's
choice) then open different empty hosts without knowing of each other,
instead of both choosing the emptiest, where the host admits one and
refuses the other (doc/endianness.md, "Many schedulers, many requests").

  [filter_scheduler]
  weight_classes = nova.scheduler.weights.all_weighers
  weight_classes = powerkvm_nova.scheduler.weighers.PowerKVMEndiannessWeigher

[powerkvm] endianness_weight_multiplier sets its weight.
"""

import zlib

import nova.conf
from nova.scheduler import weights

from powerkvm_nova.endianness import Endianness
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
        if wanted is None:
            return 0.0
        runs = endianness.running(host_state)
        if runs == {wanted}:
            return 1.0
        if not runs and endianness.exclusive(host_state):
            return empty_weight(host_state.host, wanted)
        return 0.0


# Empty hosts weigh under any host already running the request's
# endianness (1.0): those on the request's side in [0.375, 0.5], the
# others in [0, 0.125]. x [powerkvm] endianness_weight_multiplier (10 as
# devstack sets it), the gap between the sides outweighs nova's spreading
# weighers, which would otherwise send both endiannesses to the emptiest.
EMPTY_WEIGHT = 0.5


def opening_order(host, wanted):
    """Where an empty host comes for a request of wanted, in [0, 1].

    One axis, a CRC of the host's name (not Python's hash, which differs
    per process: every scheduler worker computes the same): big-endian
    requests take hosts from its top, little-endian ones from its bottom.
    A host at 0.5 or above is on the request's side.
    """
    place = zlib.crc32(host.encode('utf-8')) / 2.0 ** 32
    return place if wanted is Endianness.BIG else 1.0 - place


def empty_weight(host, wanted):
    order = opening_order(host, wanted)
    return EMPTY_WEIGHT * (order + (order >= 0.5)) / 2
