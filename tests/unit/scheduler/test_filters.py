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

"""PowerKVMCpuFilter's reason when no host is left."""

from nova import exception as nova_exception
from nova import objects
from nova.scheduler import host_manager
from nova import test

from powerkvm_nova.cpu import request
from powerkvm_nova.scheduler import filters
from tests.unit.cpu.test_cpu import p8


class CpuFilterReasonTestCase(test.NoDBTestCase):
    """The reason the filter gives when no host is left, once per need."""

    def _refuse(self, specs, hosts):
        spec = objects.RequestSpec(
            flavor=objects.Flavor(vcpus=4, extra_specs=specs),
            image=objects.ImageMeta.from_dict({}))
        states = []
        for name, stats in hosts.items():
            state = host_manager.HostState(name, name, 'cell1')
            state.stats = stats
            states.append(state)
        e = self.assertRaises(
            nova_exception.NoValidHost,
            filters.PowerKVMCpuFilter().filter_all, states, spec)
        return str(e)

    def test_hosts_with_no_description(self):
        reason = self._refuse({request.MICRO_THREADING: 'required'},
                              {'x86-1': {}, 'x86-2': {}})
        self.assertIn('the flavor needs a host that reports its POWER CPU '
                      'mode (hosts: x86-1, x86-2)', reason)
        reason = self._refuse({request.MICRO_THREADING: 'required'},
                              {'x86-1': {}})
        self.assertIn('the flavor needs a host that reports its POWER CPU '
                      'mode (x86-1)', reason)

    def test_one_host_described_several_named(self):
        whole = p8(1).stats()
        reason = self._refuse({request.MICRO_THREADING: 'required'},
                              {'p8': whole})
        self.assertIn('the flavor needs micro-threading (split-core mode 2 '
                      'or 4); p8 is POWER8 whole-core mode', reason)
        reason = self._refuse({request.MICRO_THREADING: 'required'},
                              {'p8': whole, 'p8b': whole})
        self.assertIn('(hosts: p8, p8b)', reason)
        self.assertNotIn('p8 is', reason)
