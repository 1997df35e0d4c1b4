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
- a guest with a CPU compatibility mode (cpu/compat.py) goes to hosts of
  that generation or newer: in POWER8 mode between POWER8 and POWER9
  either way (to a POWER8 in whole-core mode only when it comes from a
  POWER9, whose guest cores may have up to 8 threads); a guest without
  one only to a host of its host's generation, as libvirt's CPU
  comparison lets nova do.
A cold migration or resize restarts the guest on the destination with a
topology planned there, but keeps its mode unless the (new) flavor names
one: a guest does not change split-core mode behind its owner's back.
"""

from powerkvm_nova.cpu import compat
from powerkvm_nova import exception


class MoveRefused(exception.PowerKVMError):
    """The destination cannot take the guest from its source."""


def check_move(source, dest, live, flavor_modes=None, compat_mode=None):
    """Raise MoveRefused when a guest may not move from source to dest.

    :param source: PowerHost the guest runs on (None: not known)
    :param dest: PowerHost it would go to
    :param live: a live migration (the guest keeps running)
    :param flavor_modes: split-core modes the (new) flavor asks for, or None
    :param compat_mode: the guest's compatibility mode (compat.recorded())
    """
    blocker = dest.kvm_blocker
    if blocker:
        raise MoveRefused('destination: %s' % blocker)
    if source is None or not (source.power and dest.power):
        return
    if live:
        _check_generation(source, dest, compat_mode)
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


def _check_generation(source, dest, compat_mode):
    # nova compares the guest's CPU with the destination's through
    # libvirt (src/cpu/cpu_ppc64.c, ppc64Compute): without a model it
    # sends the source host's CPU, which must be the same model; a
    # compatibility mode must not be newer than the destination.
    if compat_mode is None:
        if dest.generation != source.generation:
            raise MoveRefused(
                'a guest without a CPU compatibility mode live-migrates only '
                'between hosts of one generation, not from %s to %s '
                '([powerkvm] cpu_compat_mode = %s and a hard reboot give it '
                'one)' % (
                    source.generation, dest.generation,
                    min(source.generation, dest.generation,
                        key=compat.order)))
        return
    if compat.older(dest.generation, compat_mode):
        raise MoveRefused(
            'a guest in %s compatibility mode cannot live-migrate to an '
            'older %s host' % (compat_mode, dest.generation))
    if not source.strict and dest.strict and dest.subcores_per_core != 1:
        raise MoveRefused(
            'a guest started on %s has guest cores of up to %d threads: it '
            'can live-migrate to a POWER8 in whole-core mode only, not to '
            '%s' % (source.generation, source.max_guest_threads, dest.mode))
