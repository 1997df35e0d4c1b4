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

"""Where the test guests' build scripts leave them (their OUTDIR).

The hypervisor tier boots them from here and the cloud uploads them to
glance: one place says where, as the scripts do ($POWERKVM_GUEST_DIR and
$POWERKVM_BE_GUEST_DIR, else the user's cache).
"""

import os

DIR = os.environ.get('POWERKVM_GUEST_DIR') or os.path.expanduser(
    '~/.cache/powerkvm-nova/guest')
# the big-endian one, tools/build-be-guest.sh
BE_DIR = os.environ.get('POWERKVM_BE_GUEST_DIR') or os.path.expanduser(
    '~/.cache/powerkvm-nova/be-guest')
# what each one's console says it is (tools/be_guest/init.c)
BE_LINES = ('POWERKVM-GUEST-UNAME ppc64',
            'POWERKVM-GUEST-BYTEORDER big-endian')
# each guest's directory, by the script that builds it there
BUILDS = (('build-test-guest.sh', DIR), ('build-be-guest.sh', BE_DIR))
FILES = ('vmlinux', 'initramfs.cpio.gz', 'disk.raw')


def missing():
    """(path, script) of a guest file not built yet, or None."""
    for script, where in BUILDS:
        for name in FILES:
            path = os.path.join(where, name)
            if not os.path.exists(path):
                return path, script
    return None


def identity(console):
    """The lines in which a guest's console says what it is."""
    return [line.strip() for line in console.splitlines()
            if line.startswith(('POWERKVM-GUEST-UNAME',
                                'POWERKVM-GUEST-BYTEORDER'))]
