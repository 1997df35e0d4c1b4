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

"""PowerKVMEndiannessFilter: never send a guest to a host of the other
endianness.

  [filter_scheduler]
  available_filters = nova.scheduler.filters.all_filters
  available_filters = powerkvm_nova.scheduler.filters.PowerKVMEndiannessFilter
  enabled_filters = ...,PowerKVMEndiannessFilter

List it last in enabled_filters: when every host left refuses the request's
endianness, it ends the request with the reason (NoValidHost naming the
rule) instead of nova's generic "No valid host was found".
"""

from nova import exception as nova_exception
from nova.scheduler import filters

from powerkvm_nova import exception
from powerkvm_nova.scheduler import endianness


class PowerKVMEndiannessFilter(filters.BaseHostFilter):

    # A rebuild stays on its host, whose admission decides.
    RUN_ON_REBUILD = False

    def filter_all(self, filter_obj_list, spec_obj):
        hosts = list(filter_obj_list)
        try:
            wanted = endianness.wanted(spec_obj)
        except exception.PowerKVMError as e:
            raise nova_exception.NoValidHost(reason=str(e))
        if wanted is None:
            return hosts
        passing = [h for h in hosts if self._accepts(h, wanted)]
        if hosts and not passing:
            raise nova_exception.NoValidHost(reason=(
                'every PowerKVM host left runs guests of the other '
                'endianness, and a host runs guests of one endianness only: '
                'no host can take this %s guest. Free a host or add one.'
                % wanted.value))
        return passing

    def host_passes(self, host_state, spec_obj):
        wanted = endianness.wanted(spec_obj)
        return wanted is None or self._accepts(host_state, wanted)

    @staticmethod
    def _accepts(host_state, wanted):
        if not endianness.exclusive(host_state):
            return True
        return endianness.held(host_state) <= {wanted}
