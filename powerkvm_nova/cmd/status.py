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

"""powerkvm-status upgrade check: per check, success, warning or failure,
with the next step (oslo.upgradecheck conventions, like nova-status).

Reads nova's configuration files (nova.conf): run it on a compute host.
"""

import sys

import nova.conf
from oslo_upgradecheck import upgradecheck

from powerkvm_nova import conf as powerkvm_conf
from powerkvm_nova.status import checks
from powerkvm_nova.status import facts as host_facts

CONF = nova.conf.CONF
powerkvm_conf.register_opts(CONF)


def _libvirt():
    import libvirt
    return libvirt


def _open_libvirt():
    return _libvirt().openReadOnly(CONF.libvirt.connection_uri or
                                   'qemu:///system')


def _flavors():
    """[(name, vcpus, extra_specs)] from nova's API database, or why not."""
    if not CONF.api_database.connection:
        return 'no [api_database] connection in this configuration'
    try:
        from nova import context
        from nova import objects
        objects.register_all()
        return [(f.name, f.vcpus, f.extra_specs) for f in
                objects.FlavorList.get_all(context.get_admin_context())]
    except Exception as e:
        return 'cannot read flavors (%s)' % e


class Checks(upgradecheck.UpgradeCommands):
    """The checks, in the order an operator fixes things."""

    def __init__(self, gather=None, flavors=None):
        self._gather = gather or (lambda: host_facts.gather(
            CONF, _open_libvirt, _libvirt()))
        self._load_flavors = flavors or _flavors
        self._facts = None

    @property
    def facts(self):
        if self._facts is None:
            self._facts = self._gather()
        return self._facts

    def _run(self, check, *args):
        return check(self.facts, CONF, *args)

    _upgrade_checks = (
        ('PowerKVM configuration', lambda self: self._run(checks.config)),
        ('libvirt and QEMU versions',
         lambda self: self._run(checks.versions)),
        ('KVM-HV', lambda self: self._run(checks.kvm)),
        ('POWER CPU, SMT and split-core mode',
         lambda self: self._run(checks.cpu)),
        ('Endianness of the guests',
         lambda self: self._run(checks.endianness)),
        ('Scheduler filter and weigher',
         lambda self: self._run(checks.scheduler)),
        ('Flavors and the split-core mode',
         lambda self: self._run(checks.flavors, self._load_flavors())),
        ('KSM and zswap', lambda self: self._run(checks.memory)),
    )


def main():
    return upgradecheck.main(CONF, project='nova', upgrade_command=Checks())


if __name__ == '__main__':
    sys.exit(main())
