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
from oslo_config import cfg
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


def _gather():
    """HostFacts of this host; without libvirt-python, the reason why."""
    try:
        libvirt = _libvirt()
    except ImportError as e:
        reason = host_facts.LibvirtMissing(
            'libvirt-python is not installed in the Python that runs '
            'powerkvm-status (%s): install it where nova-compute runs '
            '(pip install libvirt-python, or the distribution\'s '
            'python3-libvirt)' % e)

        def missing():
            raise reason
        return host_facts.gather(CONF, missing, None)
    return host_facts.gather(CONF, _open_libvirt, libvirt)


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
        self._gather = gather or _gather
        self._load_flavors = flavors or _flavors
        self._facts = None

    @property
    def facts(self):
        if self._facts is None:
            self._facts = self._gather()
        return self._facts

    def _run(self, check, *args):
        # A check that breaks is a failure in the table, never a traceback.
        try:
            return check(self.facts, CONF, *args)
        except Exception as e:
            return upgradecheck.Result(
                upgradecheck.Code.FAILURE,
                'the check could not run (%s: %s); run powerkvm-status '
                '--debug upgrade check and report it'
                % (type(e).__name__, e))

    _upgrade_checks = (
        ('PowerKVM configuration', lambda self: self._run(checks.config)),
        ('nova release', lambda self: self._run(checks.nova_hooks)),
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


class UnreadableConfiguration(upgradecheck.UpgradeCommands):
    """The one check left when nova's configuration cannot be read."""

    def __init__(self, error):
        self._error = error

    def _configuration(self):
        return upgradecheck.Result(
            upgradecheck.Code.FAILURE,
            'cannot read nova\'s configuration (%s): run powerkvm-status as '
            'the user nova-compute runs as, or give it --config-file with a '
            'readable nova.conf' % self._error)

    _upgrade_checks = (('nova configuration', _configuration),)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        return upgradecheck.main(CONF, project='nova', argv=argv,
                                 upgrade_command=Checks())
    except cfg.Error as e:
        # ConfigFilesNotFoundError, ConfigFilesPermissionDeniedError, a
        # parse error: still the table, with the reason and exit code 2
        return UnreadableConfiguration(e).check()


if __name__ == '__main__':
    sys.exit(main())
