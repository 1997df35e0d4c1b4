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
