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

"""The checks of powerkvm-status: each a function of HostFacts and the
configuration that returns an oslo.upgradecheck Result with a next step."""

from nova import version as nova_version
from nova.virt.libvirt import driver as libvirt_driver
from oslo_upgradecheck import upgradecheck

from powerkvm_nova.cpu import emulation
from powerkvm_nova.cpu import platform as cpu_platform
from powerkvm_nova.cpu import request
from powerkvm_nova.endianness import detectors

Code = upgradecheck.Code
Result = upgradecheck.Result


def _v(version):
    return '.'.join(str(p) for p in version)


def versions(facts, conf):
    if facts.libvirt_missing:
        return Result(Code.FAILURE, facts.libvirt_error)
    if facts.libvirt_error:
        return Result(Code.FAILURE, 'cannot reach libvirtd (%s): start it '
                      '(systemctl start libvirtd) and check [libvirt] '
                      'connection_uri' % facts.libvirt_error)
    problems = []
    for name, have, need, soon in (
            ('libvirt', facts.libvirt_version,
             libvirt_driver.MIN_LIBVIRT_VERSION,
             libvirt_driver.NEXT_MIN_LIBVIRT_VERSION),
            ('QEMU', facts.qemu_version, libvirt_driver.MIN_QEMU_VERSION,
             libvirt_driver.NEXT_MIN_QEMU_VERSION)):
        if have < need:
            return Result(Code.FAILURE, '%s %s is older than nova needs '
                          '(%s): upgrade it' % (name, _v(have), _v(need)))
        if have < soon:
            problems.append('%s %s: nova will need %s in its next release'
                            % (name, _v(have), _v(soon)))
    details = 'libvirt %s, QEMU %s' % (_v(facts.libvirt_version),
                                       _v(facts.qemu_version))
    if problems:
        return Result(Code.WARNING, '%s; %s' % (details, '; '.join(problems)))
    return Result(Code.SUCCESS, details)


def nova_hooks(facts, conf):
    """The nova-internal names the driver relies on (nova_internals.hooks)."""
    from powerkvm_nova.compute import driver
    from powerkvm_nova.nova_internals import hooks
    found = hooks.problems(driver.PowerKVMDriver)
    if found:
        return Result(Code.FAILURE, hooks.message(found))
    return Result(Code.SUCCESS, 'nova %s has the %d internal methods and '
                  'names PowerKVMDriver relies on'
                  % (nova_version.version_string(), len(hooks.HOOKS)))


def kvm(facts, conf):
    mode = conf.powerkvm.host_mode
    power = facts.host_arch in emulation.POWER_ARCHES
    if mode == 'emulated' or (mode == 'auto' and not power):
        return Result(Code.WARNING, 'emulated host mode: POWER guests run '
                      'under QEMU TCG, slowly; for tests and development '
                      'only ([powerkvm] host_mode)')
    host = facts.power_host
    name = host.platform if host else None
    if not facts.kvm_device or not facts.kvm_hv_loaded:
        missing = ('/dev/kvm missing' if not facts.kvm_device
                   else 'kvm_hv module not loaded')
        if name == cpu_platform.PSERIES:
            return Result(Code.FAILURE, 'KVM-HV is not available in this '
                          'logical partition (%s): it needs Linux 6.7 or '
                          'later and a hypervisor offering nested KVM '
                          '(PowerVM firmware FW1060.10 or later on POWER10, '
                          'PAPR nested API v2; or KVM); then "modprobe '
                          'kvm_hv"' % missing)
        return Result(Code.FAILURE, 'KVM-HV is not available (%s): load it '
                      'with "modprobe kvm_hv" on a POWER host booted on '
                      'bare metal (OPAL/PowerNV) or in a partition that '
                      'offers nested KVM' % missing)
    return Result(Code.SUCCESS, 'KVM-HV loaded, /dev/kvm present, on %s'
                  % cpu_platform.describe(name, host.mmu if host else None,
                                          facts.partition_hypervisor))


def cpu(facts, conf):
    if facts.probe_error:
        return Result(Code.FAILURE, 'the host CPU cannot be described: %s'
                      % facts.probe_error)
    host = facts.power_host
    if host.kvm_blocker:
        return Result(Code.FAILURE, host.kvm_blocker)
    # An emulated host's probe describes the POWER host QEMU emulates.
    if facts.host_arch in emulation.POWER_ARCHES and facts.libvirt_threads:
        refuted = host.disagreement(facts.libvirt_threads)
        if refuted:
            return Result(Code.FAILURE, refuted)
    details = '%s, %d cores, %d threads a core' % (
        host.mode, host.cores, host.threads_per_core)
    if host.dynamic_mt_modes is not None:
        details += ', kvm_hv dynamic_mt_modes=%d' % host.dynamic_mt_modes
    if not host.power:
        return Result(Code.WARNING, details + ': not a POWER host; set '
                      '[powerkvm] host_probe = static to describe the POWER '
                      'host an emulated host stands for')
    if host.warning:
        return Result(Code.WARNING, '%s: %s' % (details, host.warning))
    return Result(Code.SUCCESS, details)


def endianness(facts, conf):
    if facts.libvirt_error:
        return Result(Code.FAILURE, 'cannot read the guests\' endianness '
                      'without libvirt (%s)' % facts.libvirt_error)
    if facts.guests_error:
        return Result(Code.FAILURE, 'cannot read the guests\' endianness: %s'
                      % facts.guests_error)
    counts = {e.value: n for e, n in facts.guest_counts.items() if n}
    described = ', '.join('%d %s' % (n, e) for e, n in sorted(
        counts.items())) or 'no POWER guests'
    if len(counts) > 1 and conf.powerkvm.endianness_policy == 'exclusive':
        return Result(Code.FAILURE, 'guests of both endiannesses on one '
                      'host (%s), against the PowerKVM rule: migrate or '
                      'delete the guests of one endianness' % described)
    return Result(Code.SUCCESS, described)


def config(facts, conf):
    group = conf.powerkvm
    problems = []
    try:
        detectors.load(group.endianness_detectors)
    except Exception as e:
        problems.append('[powerkvm] endianness_detectors: %s' % e)
    emulated = group.host_mode == 'emulated' or (
        group.host_mode == 'auto' and
        facts.host_arch not in emulation.POWER_ARCHES)
    if emulated and conf.libvirt.virt_type != 'qemu':
        problems.append('emulated host mode needs [libvirt] virt_type = '
                        'qemu, not %s' % conf.libvirt.virt_type)
    if group.host_mode == 'native' and facts.host_arch and \
            facts.host_arch not in emulation.POWER_ARCHES:
        problems.append('[powerkvm] host_mode = native on a %s host'
                        % facts.host_arch)
    if conf.compute_driver != 'powerkvm.PowerKVMDriver':
        problems.append('[DEFAULT] compute_driver is %r, not '
                        'powerkvm.PowerKVMDriver' % conf.compute_driver)
    if problems:
        return Result(Code.FAILURE, '; '.join(problems))
    return Result(Code.SUCCESS, 'host_mode %s, host_probe %s, '
                  'endianness_policy %s' % (group.host_mode, group.host_probe,
                                            group.endianness_policy))


FILTER = 'PowerKVMEndiannessFilter'
WEIGHER = 'powerkvm_nova.scheduler.weighers.PowerKVMEndiannessWeigher'


def scheduler(facts, conf):
    """The scheduler settings of this nova.conf, where it has any.

    A compute host's nova.conf often configures no scheduler; the one the
    nova-scheduler reads is what counts (doc/endianness.md).
    """
    group = conf.filter_scheduler
    located = conf.get_location('enabled_filters', 'filter_scheduler')
    if located is None or located.location.name == 'opt_default':
        return Result(Code.SUCCESS, 'this nova.conf configures no '
                      'scheduler filters; the nova-scheduler\'s must enable '
                      '%s and weigh with %s' % (FILTER, WEIGHER))
    missing = []
    if FILTER not in group.enabled_filters:
        missing.append('[filter_scheduler] enabled_filters lacks %s '
                       '(without it a rebuild the host refuses loses its '
                       'placement allocation, and the scheduler sends '
                       'guests to hosts that refuse them)' % FILTER)
    elif not any(path.endswith('.' + FILTER)
                 for path in group.available_filters):
        missing.append('[filter_scheduler] available_filters lacks '
                       'powerkvm_nova.scheduler.filters.%s' % FILTER)
    if WEIGHER not in group.weight_classes:
        missing.append('[filter_scheduler] weight_classes lacks %s (without '
                       'it nova spreads one endianness over every empty '
                       'host)' % WEIGHER)
    if missing:
        return Result(Code.WARNING, '; '.join(missing))
    return Result(Code.SUCCESS, '%s enabled, %s weighing' % (
        FILTER, WEIGHER.rsplit('.', 1)[1]))


def memory(facts, conf):
    """KSM (page sharing) and zswap (compressed swap) for memory overcommit."""
    ksm = {None: 'unknown', 0: 'off', 1: 'on', 2: 'unmerging'}.get(
        facts.ksm_run, str(facts.ksm_run))
    zswap = {None: 'unknown', True: 'on', False: 'off'}[facts.zswap_enabled]
    ratio = conf.ram_allocation_ratio or conf.initial_ram_allocation_ratio
    details = 'KSM %s, zswap %s, RAM allocation ratio %s' % (
        ksm, zswap, ratio)
    if ratio > 1.0 and (facts.ksm_run != 1 or not facts.zswap_enabled):
        return Result(Code.WARNING, details + ': memory is overcommitted; '
                      'enable KSM (echo 1 > /sys/kernel/mm/ksm/run) and '
                      'zswap (zswap.enabled=1 on the kernel command line)')
    return Result(Code.SUCCESS, details)


def flavors(facts, conf, flavor_list):
    """The powerkvm: flavors against this host's mode.

    :param flavor_list: [(name, vcpus, extra_specs)], or an error string
    """
    if isinstance(flavor_list, str):
        return Result(Code.WARNING, 'flavors not checked: %s' % flavor_list)
    if facts.power_host is None:
        return Result(Code.WARNING, 'flavors not checked: the host CPU '
                      'cannot be described')
    broken, fit, other = [], [], []
    for name, vcpus, specs in flavor_list:
        if not any(k.startswith('powerkvm:') for k in specs):
            continue
        try:
            request.check_fit(request.from_specs(vcpus, specs, {}),
                              facts.power_host)
            fit.append(name)
        except request.RequestError as e:
            broken.append('%s: %s' % (name, e))
        except request.NoFit:
            other.append(name)
    if broken:
        return Result(Code.FAILURE, 'flavors no host can serve: %s; fix '
                      'their extra specs' % '; '.join(broken))
    details = 'this host (%s) serves %s; needs another mode: %s' % (
        facts.power_host.mode, ', '.join(fit) or 'no powerkvm: flavor',
        ', '.join(other) or 'none')
    if other and not fit:
        return Result(Code.WARNING, details)
    return Result(Code.SUCCESS, details)
