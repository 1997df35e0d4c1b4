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

"""Deprecated path of PowerKVMDriver: powerkvm_nova.compute.driver.

nova.conf may name it (compute_driver = powerkvm_nova.driver.PowerKVMDriver
through a shim of one's own); it keeps working, with a warning.
"""

import warnings

from powerkvm_nova.compute.driver import PowerKVMDriver  # noqa: F401

warnings.warn('powerkvm_nova.driver is deprecated: use '
              'powerkvm_nova.compute.driver (or compute_driver = '
              'powerkvm.PowerKVMDriver)', DeprecationWarning, stacklevel=2)
