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

"""May a guest move from one POWER host to another, and if not, why.

A live migration keeps the guest running with the CPU topology and SMT
mode KVM gave it at start, so the hosts must run guest cores the same way:
- both POWER8: the same split-core mode (as Kimchi requires, kimchi
  model/vms.py _check_ppc64_subcores_per_core);
- a POWER8 guest may go to POWER9 (which runs it in POWER8 compatibility
  mode); a guest started on POWER9 or later may not go to an older host.
A cold migration or resize restarts the guest on the destination with a
topology planned there, but keeps its mode unless the (new) flavor names
one: a guest does not change split-core mode behind its owner's back.
"""

from powerkvm_nova.cpu import host as cpu_host
from powerkvm_nova import exception

_ORDER = {cpu_host.POWER8: 8, cpu_host.POWER9: 9, cpu_host.POWER10: 10}


class MoveRefused(exception.PowerKVMError):
    """The destination cannot take the guest from its source."""


def check_move(source, dest, live, flavor_modes=None):
    """Raise MoveRefused when a guest may not move from source to dest.

    :param source: PowerHost the guest runs on (None: not known)
    :param dest: PowerHost it would go to
    :param live: a live migration (the guest keeps running)
    :param flavor_modes: split-core modes the (new) flavor asks for, or None
    """
    blocker = dest.kvm_blocker
    if blocker:
        raise MoveRefused('destination: %s' % blocker)
    if source is None or not (source.power and dest.power):
        return
    if live and _ORDER.get(dest.generation, 0) < \
            _ORDER.get(source.generation, 0):
        raise MoveRefused(
            'a guest running on %s cannot live-migrate to an older %s host'
            % (source.generation, dest.generation))
    if not (source.strict and dest.strict):
        return
    if source.subcores_per_core == dest.subcores_per_core:
        return
    if not live and flavor_modes and dest.subcores_per_core in flavor_modes:
        return
    # The rule first: nova keeps 255 characters of a reason in the
    # instance action's event.
    raise MoveRefused(
        'a guest keeps its split-core mode when it moves: source is %s, '
        'destination is %s%s' % (
            source.mode, dest.mode,
            '' if live else ' (resize to a flavor with '
            'powerkvm:subcores_per_core or powerkvm:micro_threading to '
            'change it)'))
