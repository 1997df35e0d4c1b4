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

"""The one exception type the policies raise.

The driver translates it into the nova exception that fits the call it is
answering, in one place (powerkvm_nova.compute).
"""


class PowerKVMError(Exception):
    """A request a PowerKVM host cannot serve; the message says why."""


class OtherEndianness(PowerKVMError):
    """A host runs guests of the other endianness than the one asked for.

    :param host: the host's name
    :param held: what it runs, said for people ('2 little-endian guests')
    :param wanted: the Endianness refused
    """

    def __init__(self, host, held, wanted):
        self.host, self.held, self.wanted = host, held, wanted
        super().__init__(
            'PowerKVM host %s runs %s; a host runs guests of one endianness '
            'only, so this %s guest cannot start here ([powerkvm] '
            'endianness_policy = exclusive)' % (host, held, wanted.value))
