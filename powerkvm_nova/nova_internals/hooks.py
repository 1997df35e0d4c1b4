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

"""Every nova-internal name the driver relies on, checked at start-up.

The driver overrides private methods of nova's LibvirtDriver and reads a
few private names. A nova release that renamed one would leave the
override dead code with no error: big-endian guests would silently get the
emulated CPU mode, images would skip their safety checks. So nova-compute
refuses to start, naming what is missing and the nova release
(PowerKVMDriver.__init__), powerkvm-status reports the same, and a unit
test removes each hook in turn.

An override must also take the arguments nova passes: its parameters are
compared with nova's by name, unless it is written to take what a release
added (compat.signature_of).
"""

import dataclasses
import importlib
import inspect

from nova import version

# The nova releases CI proves (tox: nova 34 everywhere, 33 in nova-prev);
# setup.cfg and requirements.txt say the same.
SUPPORTED = '>=33,<35'


@dataclasses.dataclass(frozen=True)
class Hook:
    module: str
    name: str  # 'Class.attribute' or a module-level 'function'
    why: str
    # the driver's override, compared by its parameters
    override: bool = False
    # an attribute every instance of the class gets, not the class itself
    instance: bool = False
    # parameters the driver reads from nova's call, by name
    takes: tuple = ()

    def owner_and_attribute(self):
        module = importlib.import_module(self.module)
        owner_name, _, attribute = self.name.rpartition('.')
        owner = getattr(module, owner_name) if owner_name else module
        return owner, attribute


_DRIVER = 'nova.virt.libvirt.driver'

HOOKS = (
    Hook(_DRIVER, 'LibvirtDriver._update_host_specific_capabilities',
         'POWER capabilities after each host update', override=True),
    Hook(_DRIVER, 'LibvirtDriver._get_instance_capabilities',
         'the host offers POWER guests only', override=True),
    Hook(_DRIVER, 'LibvirtDriver._configure_guest_by_virt_type',
         'big-endian guests run under KVM, not emulated', override=True),
    Hook(_DRIVER, 'LibvirtDriver._get_guest_cpu_model_config',
         'the CPU model of guests on an emulated host', override=True),
    Hook(_DRIVER, 'LibvirtDriver._get_guest_cpu_config',
         'the guest CPU mode and POWER topology', override=True),
    Hook(_DRIVER, 'LibvirtDriver._get_host_numa_topology',
         'NUMA cells count the hardware threads placement counts',
         override=True),
    Hook(_DRIVER, 'LibvirtDriver._get_guest_numa_config',
         'NUMA guests float over online CPUs only', override=True),
    Hook(_DRIVER, 'LibvirtDriver._create_snapshot_metadata',
         'snapshots keep their endianness', override=True),
    Hook(_DRIVER, 'LibvirtDriver._get_guest_config',
         'the guest architecture recorded at spawn; the CPU '
         'compatibility mode recorded', override=True),
    Hook(_DRIVER, 'LibvirtDriver._get_cpu_traits',
         'the host reports both POWER arches, and no trait of a machine '
         'that emulates POWER', override=True),
    Hook(_DRIVER, 'LibvirtDriver.static_traits',
         'the host\'s POWER traits reach placement with nova\'s own'),
    Hook(_DRIVER, 'LibvirtDriver._check_emulation_arch',
         'the architecture the domain is built for', override=True),
    Hook(_DRIVER, 'LibvirtDriver._try_fetch_image_cache',
         'image safety checks before every download or clone in Ceph',
         override=True),
    Hook(_DRIVER, 'LibvirtDriver._hard_reboot',
         'a guest holds its host while its domain is made again (hard '
         'reboot, start, resume call destroy)'),
    Hook('nova.exception', 'GroupAffinityViolation',
         'a build the rule refuses is rescheduled as a policy\'s, not '
         'counted as a failed build of the host'),
    Hook('nova.compute.manager', 'ComputeManager._do_build_and_run_instance',
         'a build refused on the last host nova has for it ends with the '
         'rule\'s reason', takes=('filter_properties', 'host_list')),
    Hook('nova.objects.request_spec', 'RequestSpec._context',
         'the scheduler filter reads the image\'s properties with the '
         'request\'s context', instance=True),
)


def _parameters(func):
    return list(inspect.signature(func).parameters)


def _takes(ours, nova_params):
    """Does an override take what nova passes?

    Its named parameters are nova's, or a prefix of them followed by
    *args, **kwargs (passed through).
    """
    named = [name for name, p in inspect.signature(ours).parameters.items()
             if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if len(named) < len(_parameters(ours)):
        return nova_params[:len(named)] == named
    return named == nova_params


def problems(driver_class, hooks=HOOKS):
    """['name: what is wrong (why the driver needs it)'], empty if none."""
    found = []
    for hook in hooks:
        try:
            owner, attribute = hook.owner_and_attribute()
        except (ImportError, AttributeError) as e:
            found.append('%s: missing, %s (%s)' % (hook.name, e, hook.why))
            continue
        if hook.instance:
            present = hasattr(owner(), attribute)
        else:
            present = inspect.getattr_static(owner, attribute,
                                             None) is not None
        if not present:
            found.append('%s: missing (%s)' % (hook.name, hook.why))
            continue
        missing = [name for name in hook.takes if name not in
                   _parameters(getattr(owner, attribute))]
        if missing:
            found.append('%s: takes no %s (%s)' % (
                hook.name, ', '.join(missing), hook.why))
            continue
        if not hook.override:
            continue
        ours = getattr(driver_class, attribute)
        if '__signature__' in getattr(ours, '__dict__', {}):
            continue  # takes what each release passes (compat)
        nova_params = _parameters(getattr(owner, attribute))
        if not _takes(ours, nova_params):
            found.append('%s: nova passes (%s), the driver takes (%s) (%s)'
                         % (hook.name, ', '.join(nova_params),
                            ', '.join(_parameters(ours)), hook.why))
    return found


def message(found):
    return ('nova %s lacks what PowerKVMDriver relies on: %s. Install a '
            'nova release this powerkvm-nova supports (nova%s)'
            % (version.version_string(), '; '.join(found), SUPPORTED))
