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

"""python -m tools.cloud up [--driver D]|status|down|env|tempest|burst
(see tools/cloud/__init__.py)."""

import argparse
import shutil
import sys
import time

from tools.cloud import burst
from tools.cloud import computes
from tools.cloud import control
from tools.cloud import guest_images
from tools.cloud import layout
from tools.cloud import procs
from tools.cloud import starter
from tools.cloud import tempest


def up(driver='powerkvm'):
    """Bring the whole cloud up, after taking down what a run left.

    driver 'libvirt': nova's own LibvirtDriver on the PowerKVM hosts, the
    baseline a burst without the rule is measured in.
    """
    down(quiet=True)
    began = time.monotonic()
    try:
        hosts = computes.network_up()
        control.up(driver)
        computes.up(hosts, driver)
        starter.provide()
    except BaseException:
        sys.stderr.write('cloud: up failed; the logs are in %s\n'
                         % layout.LOG_DIR)
        raise
    print('cloud: up in %.0f s, the POWER hosts with the %s driver; logs '
          'in %s; the admin\'s environment: python -m tools.cloud env'
          % (time.monotonic() - began, driver, layout.LOG_DIR))
    print('cloud: a first server: openstack server create --flavor '
          'pkvm.tiny --image %s --network %s first (flavors: %s; the '
          'big-endian image: %s)' % (
              guest_images.GUESTS['le'][0], layout.PROVIDER_NETWORK,
              ', '.join(starter.FLAVORS), guest_images.GUESTS['be'][0]))


def down(quiet=False):
    """Stop every service and host; remove every file, user and vhost."""
    procs.stop_all()
    # finds the bed's holders and data from its state directory
    computes.bed().down()
    try:
        control.message_bus_down()
    except procs.CloudError:
        pass  # never made, or already gone
    # what no mark or session found: a process started with the cloud's
    # configuration or data (not one that reads its logs)
    left = procs.naming(layout.ETC_DIR, layout.DATA_DIR)
    if left:
        raise procs.CloudError('processes of the cloud outlive down: %s'
                               % left)
    shutil.rmtree(layout.STATE_DIR, ignore_errors=True)
    if not quiet:
        print('cloud: down; nothing of it is left')


def status():
    """Each service and compute, up or not; 1 if any is down."""
    running = procs.services()
    expected = (['mariadb', 'ceph-mon', 'ceph-mgr', 'ceph-osd'] +
                list(layout.APIS) +
                ['neutron-rpc-server', 'nova-conductor', 'nova-scheduler',
                 'cinder-scheduler', 'cinder-volume'] +
                ['%s-%s' % (service, host) for host in layout.COMPUTES
                 for service in ('ovsdb-server', 'ovs-vswitchd',
                                 'neutron-ovs-agent')] +
                ['nova-compute-%s' % host for host in layout.HOSTS])
    for name in expected:
        print('%-24s %s' % (name, 'running' if name in running else 'DOWN'))
    hosts = computes.attach()
    for line in (hosts.status() if hosts else ['test bed: down']):
        print(line)
    return 0 if set(expected) <= running else 1


def env():
    for name, value in layout.admin_env().items():
        print('export %s=%s' % (name, value))


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m tools.cloud')
    parser.add_argument('action', choices=('up', 'status', 'down', 'env',
                                           'tempest', 'burst'))
    parser.add_argument('--driver', choices=layout.DRIVERS,
                        default=layout.DRIVERS[0],
                        help='up: the POWER hosts\' nova driver; libvirt, '
                        'nova\'s own, for a baseline without the rule')
    parser.add_argument('--cpu-loops', type=int, default=0,
                        help='burst: this many nice -n 19 CPU loops beside')
    args = parser.parse_args(argv)
    return {'up': lambda: up(args.driver), 'down': down, 'status': status,
            'env': env, 'tempest': tempest.run,
            'burst': lambda: burst.run(args.cpu_loops)}[args.action]() or 0


if __name__ == '__main__':
    sys.exit(main())
