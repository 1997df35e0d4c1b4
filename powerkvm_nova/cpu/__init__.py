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

"""POWER CPU policies: what a host is, what a flavor asks, how they fit.

- host: the description of a POWER host (generation, SMT, split-core mode);
- probes: how a host is described (sysfs on a real host, static config);
- request: flavor extra specs and image properties -> a CPU request, and
  the guest topology a host gives it;
- moves: whether a guest may move between two hosts.

Pure Python: no libvirt, no database, plain data in and out.
"""
