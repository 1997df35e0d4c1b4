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

"""nova.virt.powerkvm: where nova's driver loader finds PowerKVM drivers.

nova imports compute drivers only as 'nova.virt.<compute_driver>'. The
module nova/virt/powerkvm.py holds one import of this module's __getattr__,
which resolves a class name through the stevedore entry point group below;
so 'compute_driver = powerkvm.PowerKVMDriver' loads
powerkvm_nova.compute.driver.PowerKVMDriver through its registration.

A normal install puts the module nova/virt/powerkvm.py beside nova's own
files. When nova is installed editable (devstack), nova.virt lives in
nova's source tree and 'powerkvm-nova-shim install' writes the same file
there.
"""

from stevedore import driver as stevedore_driver
from stevedore import exception as stevedore_exception

GROUP = 'powerkvm_nova.compute_drivers'

# The text of nova/virt/powerkvm.py; a unit test keeps the
# checked-in file identical.
SOURCE = '''# nova loads compute drivers only from nova.virt; this resolves
# compute_driver = powerkvm.<Name> through the powerkvm_nova.compute_drivers
# entry points. Installed by powerkvm-nova (see
# powerkvm_nova/nova_internals/loader.py).
from powerkvm_nova.nova_internals.loader import __getattr__  # noqa: F401
'''

# What earlier releases wrote there: 'powerkvm-nova-shim remove' removes
# it too, and the alias module powerkvm_nova.shim keeps it working.
EARLIER_SOURCES = (
    '''# nova loads compute drivers only from nova.virt; this resolves
# compute_driver = powerkvm.<Name> through the powerkvm_nova.compute_drivers
# entry points. Installed by powerkvm-nova (see powerkvm_nova/shim.py).
from powerkvm_nova.shim import __getattr__  # noqa: F401
''',)


def __getattr__(name):
    if name.startswith('__'):
        raise AttributeError(name)
    try:
        manager = stevedore_driver.DriverManager(GROUP, name)
    except stevedore_exception.NoMatches:
        raise AttributeError(
            'no compute driver %r is registered in the entry point group '
            '%s; is powerkvm-nova installed in the same Python as nova?'
            % (name, GROUP))
    return manager.driver
