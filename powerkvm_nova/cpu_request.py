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

"""The CpuRequest of nova's flavor and image objects (one adapter for the
driver and the scheduler)."""

from powerkvm_nova.cpu import request

_IMAGE_PROPS = ('hw_cpu_threads', 'hw_cpu_max_threads', 'hw_cpu_sockets',
                'hw_cpu_max_sockets', 'hw_cpu_cores', 'hw_cpu_max_cores')


def of(flavor, image_meta):
    """:raises RequestError: the flavor and image contradict each other"""
    props = {}
    if image_meta is not None and 'properties' in image_meta:
        props = {name: image_meta.properties.get(name)
                 for name in _IMAGE_PROPS
                 if image_meta.properties.obj_attr_is_set(name)}
    return request.from_specs(flavor.vcpus, flavor.extra_specs or {}, props)
