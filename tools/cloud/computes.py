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

"""The computes: test bed hosts, each with its nova-compute.

The bed's storage is local: each host has its own instances directory, so
nova live-migrates with block migration, as between machines without
shared storage. nova-compute runs in its host's network, mount and UTS
namespaces, on the host's address, with the host's libvirtd at libvirt's
default URI: nothing tells it that it is not a machine of its own.
"""

import contextlib
import datetime
import os
import time

from tools.cloud import ceph
from tools.cloud import configs
from tools.cloud import control
from tools.cloud import layout
from tools.cloud import network
from tools.cloud import procs
from tools import testbed

START_TIMEOUT = 180
CEPH_SECRET = """<secret ephemeral='no' private='no'>
  <uuid>{uuid}</uuid>
  <usage type='ceph'><name>client.cinder secret</name></usage>
</secret>
"""
SSH_DIR = os.path.join(layout.DATA_DIR, 'ssh')
# nova moves a cold-migrated guest's files over ssh as root (its remotefs:
# ssh to make the directory, scp for the disks), to the destination's
# my_ip, with no options of its own: the host's ssh_config gives the key.
SSH_CONFIG = """IdentityFile {dir}/id_ed25519
StrictHostKeyChecking no
UserKnownHostsFile /dev/null
BatchMode yes
LogLevel ERROR
"""
SSHD_CONFIG = """ListenAddress {address}
HostKey {dir}/ssh_host_ed25519_key
AuthorizedKeysFile {dir}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile {dir}/sshd-{host}.pid
Subsystem sftp internal-sftp
"""


def bed():
    return testbed.TestBed(hosts=layout.HOSTS, storage='local',
                           state_dir=layout.BED_STATE_DIR,
                           data_dir=layout.BED_DATA_DIR,
                           subnet=layout.SUBNET,
                           emulators={layout.X86_COMPUTE:
                                      layout.X86_EMULATORS})


def attach():
    """The running bed, or None."""
    try:
        return testbed.TestBed.attach(layout.BED_STATE_DIR)
    except testbed.TestBedError:
        return None


def network_up():
    """The hosts, and the controller's address on their switch."""
    hosts = bed()
    hosts.up()
    hosts.plug_root(layout.CONTROLLER_LINK, layout.CONTROLLER)
    return hosts


def up(hosts, driver='powerkvm'):
    """Every host's nova-compute; the PowerKVM hosts' with driver."""
    _keys()
    cinder_key = ceph.key('cinder')
    for host in layout.HOSTS:
        _ceph_secret(hosts, host, cinder_key)
    for host, cpu in layout.COMPUTES.items():
        _sshd(hosts, host)
        network.switch_up(hosts, host)
        network.agent_up(hosts, host)
        _compute(hosts, host, cpu, driver)
    # nova's LibvirtDriver, whatever the POWER hosts run
    _compute(hosts, layout.X86_COMPUTE, None, 'libvirt')
    _wait_for_services()
    network.wait_for_agents()
    network.provider_network()
    control.manage(['nova-manage', '--config-file', configs.path('nova'),
                    'cell_v2', 'discover_hosts', '--verbose'])


def start(host):
    """host's nova-compute again, after procs.kill; when it began.

    wait_for_report(host, the moment) waits for it to be up. A host has one
    nova-compute: if it runs, nothing is started, and the moment is None.
    Two would share the host's queue, each taking some of the events
    meant for the other's builds.
    """
    if 'nova-compute-%s' % host in procs.services():
        return None
    since = datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None).isoformat()
    _compute(attach(), host, layout.COMPUTES.get(host), layout.driver()
             if host in layout.COMPUTES else 'libvirt')
    return since


def wait_for_report(host, since):
    """Until host's nova-compute is up by a report made after since.

    Not by the last report of one killed before, which nova takes for up
    for service_down_time after it.
    """
    with contextlib.closing(control.connection()) as cloud:
        def reported():
            return any(s.state == 'up' and s.updated_at > (since or '')
                       for s in cloud.compute.services(
                           binary='nova-compute', host=host))

        procs.wait_for('nova-compute of %s' % host, reported, START_TIMEOUT,
                       procs.log_path('nova-compute-%s' % host))


def _compute(hosts, host, cpu, driver):
    state = os.path.join(layout.DATA_DIR, 'compute', host)
    os.makedirs(os.path.join(state, 'locks'), exist_ok=True)
    conf = configs.write_compute(host, hosts.address(host), state,
                                 hosts.instances_path, cpu, driver)
    procs.start('nova-compute-%s' % host,
                [control.bin_('nova-compute'), '--config-file', conf],
                env=control.NOVA_ENV,
                wrap=lambda argv, host=host: hosts.command(host, argv))


def _ceph_secret(hosts, host, cinder_key):
    """client.cinder's key, as the libvirt secret cinder's volumes name.

    cinder puts its rbd_secret_uuid in each RBD volume's connection, and
    nova's libvirt driver names that secret in the disk's <auth>; QEMU's
    librbd logs in with it. Each compute defines it as Ceph's "Block
    Devices and OpenStack" (doc/rbd/rbd-openstack.rst) has it done:
    virsh secret-define, then secret-set-value with the key.
    """
    state = os.path.join(layout.DATA_DIR, 'compute', host)
    os.makedirs(state, exist_ok=True)
    xml = os.path.join(state, 'ceph-secret.xml')
    with open(xml, 'w') as f:
        f.write(CEPH_SECRET.format(uuid=layout.CEPH_SECRET_UUID))
    hosts.run(host, ['virsh', 'secret-define', '--file', xml],
              capture_output=True)
    hosts.run(host, ['virsh', 'secret-set-value', '--secret',
                     layout.CEPH_SECRET_UUID, '--base64', cinder_key],
              capture_output=True)


def _keys():
    """One key pair for root on every host, and a host key they share."""
    os.makedirs(SSH_DIR, mode=0o700, exist_ok=True)
    for key in ('id_ed25519', 'ssh_host_ed25519_key'):
        if not os.path.exists(os.path.join(SSH_DIR, key)):
            procs.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '',
                       '-C', 'pkvm-cloud', '-f', os.path.join(SSH_DIR, key)])
    with open(os.path.join(SSH_DIR, 'id_ed25519.pub')) as public, \
            open(os.path.join(SSH_DIR, 'authorized_keys'), 'w') as keys:
        keys.write(public.read())
    with open(os.path.join(SSH_DIR, 'ssh_config'), 'w') as f:
        f.write(SSH_CONFIG.format(dir=SSH_DIR))
    # sshd's privilege separation directory (Debian's init script makes it)
    os.makedirs('/run/sshd', mode=0o755, exist_ok=True)


def _sshd(hosts, host):
    """sshd on host's address; host's ssh client uses the cloud's key."""
    config = os.path.join(SSH_DIR, 'sshd-%s.conf' % host)
    with open(config, 'w') as f:
        f.write(SSHD_CONFIG.format(address=hosts.address(host), dir=SSH_DIR,
                                   host=host))
    hosts.run(host, ['mount', '--bind', os.path.join(SSH_DIR, 'ssh_config'),
                     '/etc/ssh/ssh_config'], capture_output=True)
    hosts.run(host, ['/usr/sbin/sshd', '-f', config], capture_output=True)
    procs.wait_for('sshd of %s' % host, lambda: hosts.run(
        host, ['ssh', hosts.address(host), 'true'], check=False,
        capture_output=True, timeout=30).returncode == 0, 30)


def _wait_for_services():
    """Until every nova-compute is up in nova and has its node in placement.

    A nova-compute that exits is reported with its log's tail at once.
    """
    cloud = control.connection()
    deadline = time.monotonic() + START_TIMEOUT
    waiting = set(layout.HOSTS)
    while waiting:
        running = procs.services()
        for host in sorted(waiting):
            name = 'nova-compute-%s' % host
            if name not in running:
                raise procs.CloudError('%s exited; its log:\n%s' % (
                    name, procs.tail(procs.log_path(name))))
        up = {s.host for s in cloud.compute.services(binary='nova-compute')
              if s.state == 'up'}
        nodes = {p.name for p in cloud.placement.resource_providers()}
        waiting -= up & nodes
        if waiting and time.monotonic() > deadline:
            raise procs.CloudError('nova-compute of %s not up after %d s:\n%s'
                                   % (', '.join(sorted(waiting)),
                                      START_TIMEOUT,
                                      '\n'.join(procs.tail(procs.log_path(
                                          'nova-compute-%s' % h))
                                          for h in sorted(waiting))))
        time.sleep(1)
