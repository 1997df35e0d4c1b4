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

"""powerkvm-nova-shim: make nova's driver loader find the PowerKVM driver.

  powerkvm-nova-shim check     does nova.virt.powerkvm resolve? (exit 0/1)
  powerkvm-nova-shim install   write nova/virt/powerkvm.py where nova.virt is
  powerkvm-nova-shim remove    delete what install wrote

A normal pip install of powerkvm-nova beside a normal nova needs nothing
more. An editable nova (devstack's layout) imports nova.virt from its source
tree, which pip does not touch: run 'install' once after installing
powerkvm-nova, and again after re-cloning nova.
"""

import argparse
import importlib
import os
import sys

from powerkvm_nova.nova_internals import loader


def _target():
    import nova.virt
    return os.path.join(list(nova.virt.__path__)[0], 'powerkvm.py')


def check():
    """Resolve compute_driver = powerkvm.PowerKVMDriver as nova does."""
    try:
        module = importlib.import_module('nova.virt.powerkvm')
        cls = module.PowerKVMDriver
    except (ImportError, AttributeError) as e:
        print('nova.virt.powerkvm does not resolve: %s. Run '
              '"powerkvm-nova-shim install".' % e)
        return 1
    print('nova.virt.powerkvm.PowerKVMDriver -> %s.%s (%s)'
          % (cls.__module__, cls.__qualname__, module.__file__))
    return 0


def install():
    target = _target()
    try:
        with open(target) as f:
            if f.read() == loader.SOURCE:
                print('%s is already installed' % target)
                return 0
    except FileNotFoundError:
        pass
    with open(target, 'w') as f:
        f.write(loader.SOURCE)
    print('installed %s' % target)
    return 0


def remove():
    target = _target()
    try:
        with open(target) as f:
            if f.read() not in (loader.SOURCE,) + loader.EARLIER_SOURCES:
                print('%s was not written by powerkvm-nova-shim; left as '
                      'it is' % target)
                return 1
    except FileNotFoundError:
        print('%s is not there' % target)
        return 0
    os.unlink(target)
    cache = os.path.join(os.path.dirname(target), '__pycache__')
    for name in (os.listdir(cache) if os.path.isdir(cache) else ()):
        if name.startswith('powerkvm.'):
            os.unlink(os.path.join(cache, name))
    print('removed %s' % target)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='powerkvm-nova-shim', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('action', choices=['check', 'install', 'remove'])
    args = parser.parse_args(argv)
    return {'check': check, 'install': install, 'remove': remove}[
        args.action]()


if __name__ == '__main__':
    sys.exit(main())
