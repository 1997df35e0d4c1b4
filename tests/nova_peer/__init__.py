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

"""nova's own libvirt functional tests, from the installed nova, on POWER.

stestr discovers this package; load_tests hands it nova's test modules
(nova/tests/functional/libvirt and the regression tests that use the
libvirt driver) with every host made a POWER9 one (power_hosts). The
driver under test is NOVA_PEER_DRIVER (powerkvm, the default, or
libvirt); tools/nova_peer.py runs both and compares.
"""

import importlib
import pkgutil

from tests.nova_peer import power_hosts

SUITES = ('nova.tests.functional.libvirt',
          'nova.tests.functional.regressions')


def _modules(package_name):
    package = importlib.import_module(package_name)
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith('test_'):
            yield '%s.%s' % (package_name, info.name)


def _uses_libvirt(module):
    """A regression module whose tests start libvirt computes."""
    source = getattr(module, '__file__', '') or ''
    with open(source) as f:
        text = f.read()
    return 'functional.libvirt' in text or 'LibvirtDriver' in text


def load_tests(loader, standard_tests, pattern):
    power_hosts.install()
    suite = loader.suiteClass()
    for package_name in SUITES:
        for name in _modules(package_name):
            module = importlib.import_module(name)
            if package_name.endswith('regressions') and \
                    not _uses_libvirt(module):
                continue
            suite.addTests(loader.loadTestsFromModule(module))
    return suite
