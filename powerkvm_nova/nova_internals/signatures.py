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

"""What differs between the nova releases the driver supports (33 and 34).

nova 34 added share_info to ComputeDriver.finish_migration. An override
takes the arguments a release added as keywords and passes them on, and
shows nova's signature as installed, so that nova's public API checks
(assertPublicAPISignatures) hold on either release.
"""

import inspect


def signature_of(base):
    """Decorator: the override reports base's signature (nova's)."""

    def decorate(func):
        func.__signature__ = inspect.signature(base)
        return func
    return decorate
