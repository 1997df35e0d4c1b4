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

"""The guests' data plane: Open vSwitch and neutron's agent in each host.

- This machine's kernel has no Open vSwitch module (CONFIG_OPENVSWITCH
  unset), so each host's ovs-vswitchd runs the userspace datapath
  (datapath_type netdev), guests' taps read and written through packet
  sockets.
- Each host has its own ovsdb-server and ovs-vswitchd, in the host's
  namespaces: libvirt, in the host, adds a guest's tap to br-int with
  ovs-vsctl at OVS's default socket (/run/openvswitch/db.sock, on a tmpfs
  of the host's own); os-vif and the agent reach the same database at
  their default, tcp:127.0.0.1:6640, the host's loopback.
- neutron's Open vSwitch agent runs beside nova-compute, as on a compute
  node. It makes br-int and wires br-phys (the host's DATA_LINK) as
  PHYSNET. neutron's mechanism driver binds ports as vif_type ovs with
  datapath_type netdev (mech_openvswitch: vhost-user only where OVS has
  DPDK's interface types, which Debian's openvswitch-switch has not).
- The provider network is flat, on the bed's switch, which the
  controller's link is on too: the controller reaches the guests.
"""

import os

from tools.cloud import configs
from tools.cloud import control
from tools.cloud import layout
from tools.cloud import procs

OVS_RUN_DIR = '/run/openvswitch'
OVS_SOCKET = os.path.join(OVS_RUN_DIR, 'db.sock')
OVS_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema'
READY_TIMEOUT = 60


def switch_up(hosts, host):
    """Open vSwitch in host, br-phys on its data link."""
    hosts.plug_host(host, layout.DATA_LINK)
    data = os.path.join(layout.DATA_DIR, 'ovs', host)
    os.makedirs(data, exist_ok=True)
    # the package's own run directory, which its service makes when it
    # starts: on a machine where it never ran, the mount point is missing
    hosts.run(host, ['mkdir', '-p', OVS_RUN_DIR])
    hosts.run(host, ['mount', '-t', 'tmpfs', '-o', 'size=1m,mode=755',
                     'tmpfs', OVS_RUN_DIR], capture_output=True)
    database = os.path.join(data, 'conf.db')
    procs.run(['ovsdb-tool', 'create', database, OVS_SCHEMA])

    def in_host(argv):
        return hosts.command(host, argv)

    procs.start('ovsdb-server-%s' % host, [
        'ovsdb-server', database, '--remote=punix:' + OVS_SOCKET,
        '--remote=ptcp:6640:127.0.0.1',
        '--pidfile=%s/ovsdb-server.pid' % OVS_RUN_DIR], wrap=in_host)
    procs.wait_for('ovsdb-server of %s' % host, lambda: hosts.run(
        host, ['ovs-vsctl', '--timeout=5', '--no-wait', 'init'],
        check=False, capture_output=True).returncode == 0, READY_TIMEOUT)
    procs.start('ovs-vswitchd-%s' % host, [
        'ovs-vswitchd', 'unix:' + OVS_SOCKET,
        '--pidfile=%s/ovs-vswitchd.pid' % OVS_RUN_DIR], wrap=in_host)
    vsctl(hosts, host, '--may-exist', 'add-br', layout.PHYS_BRIDGE, '--',
          'set', 'bridge', layout.PHYS_BRIDGE, 'datapath_type=netdev', '--',
          '--may-exist', 'add-port', layout.PHYS_BRIDGE, layout.DATA_LINK)


def agent_up(hosts, host):
    """neutron's Open vSwitch agent of host; returns once it reports."""
    conf = configs.ovs_agent(host)
    os.makedirs(os.path.join(layout.DATA_DIR, 'neutron', 'locks-%s' % host),
                exist_ok=True)
    procs.start('neutron-ovs-agent-%s' % host,
                [control.bin_('neutron-openvswitch-agent'),
                 '--config-file', conf],
                wrap=lambda argv: hosts.command(host, argv))


def wait_for_agents():
    """Until every host's agent is alive in neutron."""
    cloud = control.connection()

    def alive():
        agents = {a.host for a in cloud.network.agents(
            binary='neutron-openvswitch-agent') if a.is_alive}
        return set(layout.COMPUTES) <= agents

    procs.wait_for('the Open vSwitch agents', alive, READY_TIMEOUT * 3)


def provider_network():
    """The flat provider network every project may use, without DHCP."""
    cloud = control.connection()
    network = cloud.network.create_network(
        name=layout.PROVIDER_NETWORK, is_shared=True,
        provider_network_type='flat',
        provider_physical_network=layout.PHYSNET)
    cloud.network.create_subnet(
        network_id=network.id, name=layout.PROVIDER_NETWORK + '-v4',
        ip_version=4, cidr=layout.PROVIDER_SUBNET, is_dhcp_enabled=False,
        gateway_ip=None)


def vsctl(hosts, host, *argv):
    """ovs-vsctl in host; its output."""
    return hosts.run(host, ['ovs-vsctl', '--timeout=30'] + list(argv),
                     capture_output=True, text=True).stdout
