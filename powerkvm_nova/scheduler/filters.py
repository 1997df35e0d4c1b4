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

"""The PowerKVM scheduler filters.

- PowerKVMEndiannessFilter: never send a guest to a host of the other
  endianness;
- PowerKVMCpuFilter: send a guest only to a host whose POWER CPU mode fits
  its flavor (split-core mode, threads a guest core, SMT state).

  [filter_scheduler]
  available_filters = nova.scheduler.filters.all_filters
  available_filters = powerkvm_nova.scheduler.filters.PowerKVMEndiannessFilter
  available_filters = powerkvm_nova.scheduler.filters.PowerKVMCpuFilter
  enabled_filters = ...,PowerKVMCpuFilter,PowerKVMEndiannessFilter

List them last in enabled_filters: when every host left refuses, they end
the request with the reason (NoValidHost naming the rule or the modes)
instead of nova's generic "No valid host was found".
"""

import collections

from nova import exception as nova_exception
from nova.scheduler import filters

from powerkvm_nova.cpu import host as cpu_host
from powerkvm_nova.cpu import moves as cpu_moves
from powerkvm_nova.cpu import request
from powerkvm_nova import exception
from powerkvm_nova.scheduler import endianness
from powerkvm_nova.scheduler import move_requests


class PowerKVMEndiannessFilter(filters.BaseHostFilter):
    """Hosts whose guests are all of the request's endianness.

    It also runs for a rebuild with a new image (nova schedules those to
    the guest's own host; this filter overrides filter_all, which nova's
    RUN_ON_REBUILD flag does not reach): a rebuild may change the guest's
    endianness only where no other guest of its host keeps the old one
    (doc/endianness.md, "Rebuild").
    """

    RUN_ON_REBUILD = True

    def filter_all(self, filter_obj_list, spec_obj):
        hosts = list(filter_obj_list)
        foreign = endianness.foreign(spec_obj)
        if foreign is not None:
            # Not a guest for PowerKVM: the cloud's other hosts, as nova
            # would have them (doc/endianness.md, "Clouds with other
            # architectures").
            passing = [h for h in hosts if not endianness.is_powerkvm(h)]
            if hosts and not passing:
                raise nova_exception.NoValidHost(reason=foreign)
            return passing
        try:
            wanted = endianness.wanted(spec_obj)
        except exception.PowerKVMError as e:
            raise nova_exception.NoValidHost(reason=str(e))
        if wanted is None:
            return hosts
        rebuilt = endianness.rebuilt(spec_obj)
        if rebuilt is not None:
            endianness.forget(rebuilt)
        passing = [h for h in hosts if self._accepts(h, wanted, rebuilt)]
        if hosts and not passing:
            raise nova_exception.NoValidHost(reason=(
                _REBUILD_REFUSED if rebuilt else _BOOT_REFUSED)
                % wanted.value)
        return passing

    def host_passes(self, host_state, spec_obj):
        if endianness.foreign(spec_obj) is not None:
            return not endianness.is_powerkvm(host_state)
        wanted = endianness.wanted(spec_obj)
        return wanted is None or self._accepts(
            host_state, wanted, endianness.rebuilt(spec_obj))

    @staticmethod
    def _accepts(host_state, wanted, rebuilt=None):
        if not endianness.is_powerkvm(host_state) or \
                not endianness.exclusive(host_state):
            return True
        return endianness.running(host_state, excluding=rebuilt) <= {wanted}


_BOOT_REFUSED = (
    'every PowerKVM host left runs guests of the other endianness, and a '
    'host runs guests of one endianness only: no host can take this %s '
    'guest. Free a host or add one.')
_REBUILD_REFUSED = (
    'other guests on this server\'s PowerKVM host are of the other '
    'endianness, and a host runs guests of one endianness only: the server '
    'cannot be rebuilt into a %s image there. It still runs its old image.')


class PowerKVMCpuFilter(filters.BaseHostFilter):
    """Hosts whose reported PowerHost (ComputeNode stats) fits the flavor.

    A host that reports no description (not a PowerKVM host, or not yet
    reported) passes requests without powerkvm: constraints only. A guest
    that moves also keeps to cpu/move_requests.py's rules against its source.
    """

    RUN_ON_REBUILD = False

    def filter_all(self, filter_obj_list, spec_obj):
        hosts = list(filter_obj_list)
        if endianness.is_rebuild(spec_obj):
            # The guest stays on its host with its flavor (nova's
            # RUN_ON_REBUILD, which filter_all is not subject to).
            return hosts
        try:
            wanted = request.of_nova(spec_obj.flavor, spec_obj.image
                                     if spec_obj.obj_attr_is_set('image')
                                     else None)
        except request.RequestError as e:
            raise nova_exception.NoValidHost(reason=str(e))
        move = move_requests.of(spec_obj)
        passing, refusals = [], collections.defaultdict(dict)
        for host in hosts:
            refusal = self._refusal(host, wanted, move)
            if refusal is None:
                passing.append(host)
            else:
                need, have = refusal
                refusals[need][host.host] = have
        if hosts and not passing:
            what = ('take this guest from %s' % move.source if move
                    else 'run this flavor')
            raise nova_exception.NoValidHost(reason=(
                'no PowerKVM host left can %s: %s' % (what, '; '.join(
                    _named(need, named)
                    for need, named in sorted(refusals.items())))))
        return passing

    def host_passes(self, host_state, spec_obj):
        wanted = request.of_nova(spec_obj.flavor, spec_obj.image)
        return self._refusal(host_state, wanted,
                             move_requests.of(spec_obj)) is None

    @staticmethod
    def _refusal(host_state, wanted, move):
        """(what the request needs, what this host is), or None: it fits."""
        described = cpu_host.PowerHost.from_stats(host_state.stats)
        if described is None:
            return (('the flavor needs a host that reports its POWER CPU '
                     'mode', None) if wanted.constrained else None)
        try:
            request.check_fit(wanted, described)
            if move is not None:
                cpu_moves.check_move(move.source_host, described,
                                     live=move.live,
                                     flavor_modes=wanted.subcores,
                                     compat_mode=move.compat_mode)
        except request.NoFit as e:
            return e.need, e.host
        except cpu_moves.MoveRefused as e:
            return str(e), None
        return None


def _named(need, hosts):
    """A need and the hosts that cannot meet it, said once for all.

    nova keeps 255 characters of the reason in the fault the user reads:
    one host is described, several only named.
    """
    if len(hosts) == 1:
        (name, have), = hosts.items()
        if have:
            return '%s; %s is %s' % (need, name, have)
        return '%s (%s)' % (need, name)
    return '%s (hosts: %s)' % (need, ', '.join(sorted(hosts)))
