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

"""Where the host's kernel runs: on bare metal, or in a logical partition.

Facts (Linux):
- /proc/cpuinfo's "platform" line is the machine's ppc_md.name
  (arch/powerpc/kernel/setup-common.c, show_cpuinfo_summary): "PowerNV"
  on bare metal under OPAL (platforms/powernv/setup.c) or "pSeries" in a
  logical partition, of PowerVM or of KVM (platforms/pseries/setup.c,
  whose pSeries_show_cpuinfo adds "MMU : Radix" or "MMU : Hash").
- In a PowerVM LPAR the device tree's root has ibm,powervm-partition; a
  KVM guest's /hypervisor node is compatible "linux,kvm"
  (platforms/pseries/setup.c, pseries_add_hw_description).
- KVM-HV in a partition is a nested hypervisor (kvmhv_on_pseries()):
  kvmhv_nested_init (arch/powerpc/kvm/book3s_hv_nested.c) needs the radix
  MMU, which POWER8 lacks, and uses PAPR's nested API v2 (H_GUEST_*
  hcalls; Linux 6.7 and later, PowerVM firmware FW1060.10 on POWER10)
  where the hypervisor offers it, else v1 (KVM in KVM).
- Split-core mode exists on PowerNV only (platforms/powernv/subcore.c).
"""

import os
import re

POWERNV = 'PowerNV'
PSERIES = 'pSeries'
NAMES = (POWERNV, PSERIES)
RADIX = 'Radix'
HASH = 'Hash'
POWERVM = 'PowerVM'
KVM = 'KVM'


def from_cpuinfo(cpuinfo):
    """(platform, MMU) from /proc/cpuinfo; None where it does not say."""
    return (_field(cpuinfo, 'platform', NAMES),
            _field(cpuinfo, 'MMU', (RADIX, HASH)))


def _field(cpuinfo, name, values):
    match = re.search(r'^%s\s*:\s*(\S+)' % name, cpuinfo, re.MULTILINE)
    value = match.group(1) if match else None
    return value if value in values else None


def hypervisor(root='/'):
    """Which hypervisor a pSeries partition runs under, or None."""
    tree = os.path.join(root, 'proc/device-tree')
    if os.path.exists(os.path.join(tree, 'ibm,powervm-partition')):
        return POWERVM
    try:
        with open(os.path.join(tree, 'hypervisor/compatible'), 'rb') as f:
            if b'linux,kvm' in f.read():
                return KVM
    except OSError:
        pass
    return None


def blocker(name, mmu, generation):
    """Why KVM-HV cannot run guests on this platform, or None."""
    if name != PSERIES:
        return None
    if generation == 'POWER8':
        return ('KVM-HV inside a logical partition (pSeries) needs POWER9 '
                'or later with the radix MMU (Linux kvmhv_nested_init); '
                'this is a POWER8: run nova-compute on bare metal '
                '(PowerNV)')
    if mmu == HASH:
        return ('KVM-HV inside a logical partition (pSeries) needs the '
                'radix MMU (Linux kvmhv_nested_init); this partition runs '
                'the hash MMU: boot it without disable_radix')
    return None


def describe(name, mmu=None, under=None):
    """The platform in words, for logs and powerkvm-status."""
    if name == POWERNV:
        return 'bare metal (PowerNV)'
    if name == PSERIES:
        return 'a logical partition (pSeries%s%s): KVM-HV runs nested' % (
            ', %s' % under if under else '',
            ', %s MMU' % mmu if mmu else '')
    return 'a platform the host does not name'
