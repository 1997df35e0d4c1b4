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

"""Where tools/build-test-guest.sh leaves the test guest (its OUTDIR).

The hypervisor tier boots it from here and the cloud uploads it to glance:
one place says where, as the script does ($POWERKVM_GUEST_DIR, else the
user's cache).
"""

import os

DIR = os.environ.get('POWERKVM_GUEST_DIR') or os.path.expanduser(
    '~/.cache/powerkvm-nova/guest')
