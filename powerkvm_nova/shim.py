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

"""Deprecated path of the driver loader: powerkvm_nova.nova_internals.loader.

The nova/virt/powerkvm.py that earlier releases installed (in an editable
nova's tree, by 'powerkvm-nova-shim install') imports this module; it keeps
loading the driver, with a warning, until 'powerkvm-nova-shim install'
writes the current file.
"""

import warnings

from powerkvm_nova.nova_internals.loader import __getattr__  # noqa: F401

warnings.warn('powerkvm_nova.shim is deprecated: run "powerkvm-nova-shim '
              'install" to write the current nova/virt/powerkvm.py',
              DeprecationWarning, stacklevel=2)
