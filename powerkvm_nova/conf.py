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

from powerkvm_nova import emulation

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
        'default_guest_arch',
        default='ppc64le',
        choices=[
            ('ppc64le', 'little-endian POWER guest'),
            ('ppc64', 'big-endian POWER guest'),
        ],
        help='Architecture given to guests whose image declares no '
             'hw_architecture property. It is recorded in the instance at '
             'spawn so that later operations (reboot, resize, migration) '
             'keep it.'),
]


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    """The options for oslo-config-generator (entry point oslo.config.opts)."""
    return [(GROUP, OPTS)]
