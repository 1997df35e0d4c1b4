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

"""A real OpenStack on one machine, with the test bed's hosts as computes.

    python -m tools.cloud up|status|tempest|burst|down|env
                                                   (tools/dev cloud ...)
    python -m tools.cloud up --driver libvirt      nova's LibvirtDriver on
                                                   the POWER hosts: the
                                                   baseline, no rule
    python -m tools.cloud burst --cpu-loops 2      the 100-boot burst alone,
                                                   under load

The controller is this machine's root namespace: MariaDB, RabbitMQ, a
one-node Ceph (tools/cloud/ceph.py) and every API (keystone, glance,
placement, neutron, nova, nova's metadata, cinder), each a process of its
own, the APIs under uwsgi. nova-conductor, nova-scheduler, neutron's RPC
server and cinder's scheduler and volume service run beside them. The
computes are test bed hosts (tools/testbed.py): network, mount and UTS
namespaces with their own libvirtd, where nova-compute runs as on a
machine of its own.
Beside the three POWER hosts, an x86_64 host (layout.X86_COMPUTE) runs
nova's own LibvirtDriver, as in a cloud of several architectures.

The root namespace joins the bed's switch with the controller's address
(layout.CONTROLLER), so the computes reach the services as on a network,
and the hosts reach each other (ssh, for cold migration; libvirt, for live
migration). Nothing of the cloud listens on any other address.

doc/deploy.md says what is where and what differs from a production
deployment.
"""
