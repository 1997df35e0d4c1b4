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

"""The ``[powerkvm]`` options of nova.conf.

Registered on import with nova's global CONF: the driver module imports this
one, so the options exist whenever the driver can be loaded.
"""

from oslo_config import cfg

from powerkvm_nova.cpu import emulation

GROUP = cfg.OptGroup(
    'powerkvm',
    title='PowerKVM driver options',
    help='Options of the PowerKVM compute driver '
         '(compute_driver = powerkvm.PowerKVMDriver).')

OPTS = [
    cfg.StrOpt(
        'host_mode',
        default='auto',
        choices=[
            ('auto', 'native when libvirt reports a ppc64 or ppc64le host '
                     'CPU, otherwise emulated'),
            ('native', 'a real POWER host: guests run under KVM-HV'),
            ('emulated', 'a test or development host: POWER guests run '
                         'under QEMU TCG software emulation'),
        ],
        help='How this host runs POWER guests. Emulated mode exists for '
             'CI and development on non-POWER machines: guests are slow, '
             'every guest core gets a single thread (TCG refuses more '
             'on pseries) and the guest CPU is emulated_cpu_model. It needs '
             '[libvirt] virt_type = qemu and is logged as a warning at '
             'start-up; never use it for production guests.'),
    cfg.StrOpt(
        'emulated_cpu_model',
        default='POWER8',
        choices=[(model, 'QEMU emulates a %s processor' % model)
                 for model in emulation.EMULATED_CPU_MODELS],
        help='The POWER CPU model QEMU emulates for guests in emulated '
             'host mode. Ignored on native hosts, where guests get the '
             'host CPU model.'),
    cfg.StrOpt(
        'cpu_compat_mode',
        choices=[('POWER8', 'guests run as POWER8 processors'),
                 ('POWER9', 'guests run as POWER9 processors')],
        help='The POWER compatibility mode of the guests this host '
             'defines: their domain asks for it (libvirt host-model CPU '
             'with this model, QEMU max-cpu-compat), so they run as that '
             'generation and may live-migrate to any host of that '
             'generation or newer. Unset: a guest live-migrates only to a '
             'host of its own host\'s generation (libvirt\'s CPU '
             'comparison, which nova runs before a live migration, allows '
             'nothing else). In a cloud that mixes generations set it to '
             'the oldest one on every host; it applies to guests defined '
             'after the change (spawn, hard reboot, rebuild, resize, '
             'unshelve). Needs [libvirt] cpu_mode = host-model (nova\'s '
             'default for KVM); it cannot name a generation newer than the '
             'host. In emulated host mode the domain keeps '
             'emulated_cpu_model (libvirt has no host-model CPU for a '
             'guest of another architecture) and passes the mode to '
             'QEMU as -machine max-cpu-compat (libvirt\'s '
             'qemu:commandline); it cannot be newer than '
             'emulated_cpu_model there.'),
    cfg.StrOpt(
        'default_guest_arch',
        default='ppc64le',
        choices=[
            ('ppc64le', 'little-endian POWER guest'),
            ('ppc64', 'big-endian POWER guest'),
        ],
        help='Architecture assumed for a guest whose endianness no '
             'detector can tell (see endianness_detectors), when '
             'unknown_endianness = assume. The architecture a guest gets is '
             'recorded in the instance at spawn so that later operations '
             '(reboot, resize, migration) keep it.'),
    cfg.ListOpt(
        'endianness_detectors',
        default=['hw_architecture', 'os_distro', 'kernel_elf'],
        help='How a guest\'s endianness is found from its image, in order: '
             'names of plugins in the entry point group '
             'powerkvm_nova.endianness_detectors. hw_architecture reads '
             'hw_architecture (ppc64 big-endian, ppc64le or Debian\'s '
             'ppc64el little-endian); os_distro reads os_distro and '
             'os_version through the distribution table of the docs; '
             'kernel_elf reads the first 64 bytes of the image\'s kernel '
             '(kernel_id) image. The first detector that can tell decides; '
             'an image whose detectors disagree is refused as '
             'mislabelled.'),
    cfg.StrOpt(
        'unknown_endianness',
        default='assume',
        choices=[
            ('assume', 'boot it as default_guest_arch'),
            ('refuse', 'refuse the build with a fault saying which image '
                       'properties to set'),
        ],
        help='What to do with an image whose endianness no detector can '
             'tell.'),
    cfg.StrOpt(
        'endianness_policy',
        default='exclusive',
        choices=[
            ('exclusive', 'the PowerKVM rule: a host runs only big-endian '
                          'or only little-endian guests'),
            ('mixed', 'a host may run both (for kernels that allow it); '
                      'the scheduler filter then passes every host'),
        ],
        help='Whether a host may run guests of both endiannesses at once. '
             'The compute host enforces it under a lock when a guest is '
             'placed; the scheduler filter PowerKVMEndiannessFilter and '
             'weigher PowerKVMEndiannessWeigher follow it too.'),
    cfg.FloatOpt(
        'endianness_weight_multiplier',
        default=10.0,
        help='Multiplier of PowerKVMEndiannessWeigher, which prefers hosts '
             'already running the request\'s endianness over empty hosts, '
             'so empty hosts stay free for the other endianness. nova '
             'normalises each weigher to 0..1 before multiplying; the '
             'default outweighs nova\'s RAM, CPU and disk weighers '
             '(multiplier 1.0), which spread guests. 0 turns it off; a '
             'negative value spreads by endianness instead.'),
    cfg.IntOpt(
        'migration_claim_timeout',
        default=600,
        min=10,
        help='Seconds a live migration\'s destination holds itself for '
             'the guest\'s endianness after its pre-check accepted the '
             'guest, until the migration starts there. Meanwhile a guest '
             'of the other endianness is refused on the host. A migration '
             'that fails before it starts there (the source\'s own check, '
             'or a migration queued on its source longer than this, see '
             '[DEFAULT] max_concurrent_live_migrations) frees the host when '
             'this runs out; one that starts later is checked again then.'),
    cfg.StrOpt(
        'host_probe',
        default='sysfs',
        help='How the driver finds what this POWER host is (generation, '
             'cores, threads a core, SMT state, split-core mode): a plugin '
             'of the entry point group powerkvm_nova.host_probes. sysfs '
             'reads /proc/cpuinfo, /sys/devices/system/cpu and the device '
             'tree of a real POWER host; static takes the static_* options '
             '(emulated hosts and tests). Read at start-up: restart '
             'nova-compute after changing the host\'s split-core mode.'),
    cfg.StrOpt(
        'static_generation',
        default='POWER8',
        choices=['POWER8', 'POWER9', 'POWER10'],
        help='host_probe = static: the POWER generation.'),
    cfg.IntOpt(
        'static_cores',
        default=4, min=1,
        help='host_probe = static: the number of cores.'),
    cfg.IntOpt(
        'static_threads_per_core',
        default=8, choices=[1, 2, 4, 8],
        help='host_probe = static: hardware threads of each core.'),
    cfg.IntOpt(
        'static_online_threads_per_core',
        default=None, choices=[1, 2, 4, 8],
        help='host_probe = static: threads of each core the host has '
             'online. Unset: on a POWER8 the first thread of each '
             'subcore, the layout POWER8 KVM needs (1 in whole-core mode, '
             '2 or 4 in split-core mode 2 or 4), on POWER9 and later every '
             'thread. As many as static_subcores_per_core on a POWER8: that '
             'layout; another count: the first threads of each core, as '
             '"ppc64_cpu --smt=N" leaves them.'),
    cfg.IntOpt(
        'static_subcores_per_core',
        default=1, choices=[1, 2, 4],
        help='host_probe = static: the POWER8 split-core mode '
             '(subcores_per_core); 1 on POWER9 and later.'),
    cfg.StrOpt(
        'static_platform',
        choices=[('PowerNV', 'bare metal under OPAL'),
                 ('pSeries', 'a logical partition: KVM-HV runs nested '
                             '(POWER9 or later, radix MMU)')],
        help='host_probe = static: where the host kernel runs, as '
             '/proc/cpuinfo\'s "platform" line says. Unset: not said.'),
]


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    """The options for oslo-config-generator (entry point oslo.config.opts)."""
    return [(GROUP, OPTS)]
