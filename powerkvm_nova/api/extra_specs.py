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

"""Validators of the powerkvm: flavor extra specs for nova's API.

Registered under nova's entry point group nova.api.extra_spec_validators,
so the API refuses an unknown powerkvm: key or a bad value with HTTP 400
when a flavor's extra specs are set (microversion 2.86 and later), before
any build. nova validates each key alone; contradictions between keys
(powerkvm:threads_per_core vs hw:cpu_threads, ...) are refused when a
server is scheduled, with a fault naming both (powerkvm_nova.cpu.request).
"""

from nova.api.validation.extra_specs import base

from powerkvm_nova.cpu import request

EXTRA_SPEC_VALIDATORS = [
    base.ExtraSpecValidator(
        name=request.MICRO_THREADING,
        description=(
            'required: the guest runs on a POWER8 host in a split-core '
            'mode (subcores_per_core 2 or 4, micro-threading); forbidden: '
            'on a host in whole-core mode. Unset: either.'),
        value={'type': str, 'enum': ['required', 'forbidden']},
    ),
    base.ExtraSpecValidator(
        name=request.SUBCORES,
        description=(
            'The exact POWER8 split-core mode of the host: 1 (whole '
            'cores, 8 threads), 2 (4 threads a subcore) or 4 (2 threads a '
            'subcore).'),
        value={'type': str, 'enum': ['1', '2', '4']},
    ),
    base.ExtraSpecValidator(
        name=request.THREADS,
        description=(
            'Threads of each guest core, exactly; the flavor\'s vCPUs must '
            'be a multiple. Unset: vCPUs are packed as threads as far as '
            'the host allows.'),
        value={'type': str,
               'enum': [str(t) for t in request.THREAD_CHOICES]},
    ),
]


def register():
    return EXTRA_SPEC_VALIDATORS
