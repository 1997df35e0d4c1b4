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

"""What the status checks look at, gathered once from the host.

Everything comes through HostFacts so that the checks can be tested with
recorded host states: a root directory standing for / (procfs, sysfs) and a
libvirt connection.
"""

import dataclasses
import os

from lxml import etree

from powerkvm_nova.compute import domains
from powerkvm_nova.cpu import host as cpu_host
from powerkvm_nova.cpu import platform as cpu_platform
from powerkvm_nova.cpu import probes
from powerkvm_nova.endianness import ledger
from powerkvm_nova import exception


class LibvirtMissing(Exception):
    """libvirt-python cannot be imported; the message says what to do."""


@dataclasses.dataclass
class HostFacts:
    host_arch: str | None = None
    libvirt_version: tuple | None = None
    qemu_version: tuple | None = None
    libvirt_error: str | None = None
    libvirt_missing: bool = False
    kvm_device: bool = False
    kvm_hv_loaded: bool = False
    power_host: cpu_host.PowerHost | None = None
    # a partition's hypervisor (PowerVM, KVM), from the device tree
    partition_hypervisor: str | None = None
    probe_error: str | None = None
    # every hardware thread libvirt counts, online or offline
    libvirt_threads: int | None = None
    guest_counts: dict = dataclasses.field(default_factory=dict)
    guests_error: str | None = None
    ksm_run: int | None = None
    zswap_enabled: bool | None = None


def _version(number):
    """libvirt's 9000000-style version number -> (9, 0, 0)."""
    return (number // 1000000, number // 1000 % 1000, number % 1000)


def _read(root, path):
    try:
        with open(os.path.join(root, path.lstrip('/'))) as f:
            return f.read().strip()
    except OSError:
        return None


def gather(conf, open_libvirt, libvirt_module, root='/'):
    """HostFacts of the host whose / is root.

    :param open_libvirt: () -> a libvirt connection, or raises
    """
    facts = HostFacts(
        kvm_device=os.path.exists(os.path.join(root, 'dev/kvm')),
        kvm_hv_loaded=os.path.isdir(os.path.join(root, 'sys/module/kvm_hv')))
    ksm = _read(root, '/sys/kernel/mm/ksm/run')
    facts.ksm_run = int(ksm) if ksm and ksm.isdigit() else None
    zswap = _read(root, '/sys/module/zswap/parameters/enabled')
    facts.zswap_enabled = None if zswap is None else zswap in ('Y', '1')
    try:
        if conf.powerkvm.host_probe == 'sysfs':
            facts.power_host = probes.SysfsProbe(root=root).describe()
        else:
            facts.power_host = probes.describe(conf.powerkvm.host_probe, conf)
    except (exception.PowerKVMError, OSError, ValueError) as e:
        facts.probe_error = str(e)
    facts.partition_hypervisor = cpu_platform.hypervisor(root)
    try:
        conn = open_libvirt()
    except Exception as e:
        facts.libvirt_error = str(e)
        facts.libvirt_missing = isinstance(e, LibvirtMissing)
        return facts
    facts.libvirt_version = _version(conn.getLibVersion())
    facts.qemu_version = _version(conn.getVersion())
    facts.host_arch = _host_arch(conn)
    facts.libvirt_threads = cpu_host.libvirt_threads(conn.getInfo())
    try:
        book = ledger.HostLedger(
            domains.LibvirtDomains(domains.ConnectionHost(conn),
                                   libvirt_module), 'this host')
        book.rescan()
        facts.guest_counts = book.counts()
    except Exception as e:
        facts.guests_error = str(e)
    return facts


def _host_arch(conn):
    caps = etree.fromstring(conn.getCapabilities())
    return caps.findtext('./host/cpu/arch')
