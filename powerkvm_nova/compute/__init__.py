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

"""What runs in nova-compute: PowerKVMDriver and its steps.

The driver (driver.py) extends nova's LibvirtDriver; each lifecycle method
it overrides is one explicit sequence of steps (lifecycle.py), each step a
call into a policy package (cpu, endianness, images) through the steps of
one concern (cpu_steps, endianness_steps, arrival_steps, departure_steps,
image_steps). The rest is the host's wiring: its ledger's view of libvirt
(domains), what nova's records say of it (reconcile, other_hosts), what it
tells the schedulers (scheduler_notices) and placement
(allocation_keeper).
"""
