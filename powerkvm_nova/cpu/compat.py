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

"""Which POWER generation a guest's CPU presents: its compatibility mode.

On a pseries machine libvirt reads the model of a host-model CPU as a
compatibility mode (`<cpu mode='host-model'><model>power8</model></cpu>`
becomes QEMU's `max-cpu-compat=power8`): the guest runs as that
generation on any newer host. The driver writes that CPU when the host
has `[powerkvm] cpu_compat_mode` (nova 34 refuses `[libvirt] cpu_models`
unless `cpu_mode = custom`, so nova's own option cannot say it).

A guest without one runs as its host's generation: nova's live-migration
check compares the source host's CPU model with the destination's, which
libvirt finds compatible only when they are the same model
(src/cpu/cpu_ppc64.c, ppc64Compute); with one, libvirt finds any host of
that generation or newer compatible (ppc64CheckCompatibilityMode), and
QEMU restores the migrated CPU in that mode (target/ppc/machine.c). So:

- with a compatibility mode, a guest may go to any host of that
  generation or newer, an older one than it was started on included;
- without, only to a host of its own host's generation.

The mode is read from the domain the driver defines and kept in the
instance's system metadata, which a destination reads before a live
migration (the domain XML moves with the guest, so does the record).
"""

from powerkvm_nova.cpu import host as cpu_host

SYSMETA_KEY = 'powerkvm_cpu_compat'
_ORDER = {cpu_host.POWER8: 8, cpu_host.POWER9: 9, cpu_host.POWER10: 10}


def libvirt_model(generation):
    """The host-model CPU model libvirt reads as this compatibility mode."""
    return generation.lower()


def generation_of_model(model):
    """The generation a libvirt compat model names ('power8'), or None."""
    if not model:
        return None
    name = model.strip().upper()
    return name if name in _ORDER else None


def of_cpu(cpu):
    """The compatibility mode a guest CPU config asks for, or None."""
    if cpu is None or getattr(cpu, 'mode', None) != 'host-model':
        return None
    return generation_of_model(getattr(cpu, 'model', None))


def recorded(instance):
    """The compatibility mode recorded for the guest, or None."""
    value = (instance.system_metadata or {}).get(SYSMETA_KEY)
    return value if value in _ORDER else None


def record(instance, mode):
    """Record the guest's mode; True when the record changed."""
    sysmeta = instance.system_metadata
    if mode is None:
        return sysmeta.pop(SYSMETA_KEY, None) is not None
    if sysmeta.get(SYSMETA_KEY) == mode:
        return False
    sysmeta[SYSMETA_KEY] = mode
    return True


def order(generation):
    """8, 9, 10 for POWER8..POWER10; 0 for anything else."""
    return _ORDER.get(generation, 0)


def older(generation, than):
    """Is generation older than than? Unknown generations are not."""
    return 0 < order(generation) < order(than)
