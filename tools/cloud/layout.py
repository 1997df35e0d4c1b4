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

"""Where the cloud's parts are: addresses, ports, directories, names."""

import os
import sys

# The cloud's network: a subnet of its own, not the test beds' default
# (tools/testbed.py), so the hypervisor tests can run beside a cloud. The
# controller has .1 on the bed's switch; its hosts take .11 on.
SUBNET = '198.18.1.'
CONTROLLER = SUBNET + '1'
CONTROLLER_LINK = 'pkvm-cloud0'
REGION = 'RegionOne'
# The guests' network: neutron's flat provider network on each host's
# second link (tools/cloud/network.py), into the same switch; the
# controller's link reaches the guests there. No DHCP: the test guest
# answers on its IPv6 link-local address.
PROVIDER_NETWORK = 'pkvm-net'
PROVIDER_SUBNET = '198.18.2.0/24'
PHYSNET = 'physnet1'
DATA_LINK = 'eth1'
PHYS_BRIDGE = 'br-phys'

# Everything the cloud writes, so that 'down' removes it whole.
STATE_DIR = '/var/lib/pkvm-cloud'
ETC_DIR = os.path.join(STATE_DIR, 'etc')
LOG_DIR = os.path.join(STATE_DIR, 'logs')
RUN_DIR = os.path.join(STATE_DIR, 'run')
DATA_DIR = os.path.join(STATE_DIR, 'data')
# The test bed of the computes keeps its own state beside it.
BED_STATE_DIR = '/run/pkvm-cloud-bed'
BED_DATA_DIR = '/var/lib/pkvm-cloud-bed'

# Where the services' programs are: the environment running this module
# (tox's "cloud" environment) has nova, keystone, glance, placement,
# neutron, the openstack client and uwsgi.
BIN_DIR = os.path.dirname(sys.executable)

# A cloud for tests, on addresses only this machine reaches: one password.
PASSWORD = 'pkvm-cloud'
ADMIN = 'admin'
DB_USER = 'pkvm'
RABBIT_USER = 'pkvm-cloud'
RABBIT_VHOST = 'pkvm-cloud'
# not 3306: a MariaDB of the machine's own may be there
MARIADB_PORT = 13306

# name: (port, WSGI module, catalogue type, URL path)
APIS = {
    'keystone': (5000, 'keystone.wsgi.api', 'identity', '/v3'),
    'glance': (9292, 'glance.wsgi.api', 'image', ''),
    'placement': (8778, 'placement.wsgi.api', 'placement', ''),
    'neutron': (9696, 'neutron.wsgi.api', 'network', ''),
    'nova': (8774, 'nova.wsgi.osapi_compute', 'compute', '/v2.1'),
    'nova-metadata': (8775, 'nova.wsgi.metadata', None, ''),
    'cinder': (8776, 'cinder.wsgi.api', 'block-storage', '/v3'),
}
# nova's databases: the API's, cell0's and the one cell's
DATABASES = ('keystone', 'glance', 'placement', 'neutron', 'nova_api',
             'nova_cell0', 'nova_cell1', 'cinder')
# The libvirt secret of client.cinder's key on every host: cinder names it
# in each RBD volume's connection, and nova's disks in Ceph use it too.
CEPH_SECRET_UUID = 'c1d2e3f4-0a1b-4c2d-8e3f-5a6b7c8d9e0f'

# The computes: bed host -> the POWER it describes (doc/cpu.md's static
# probe; an emulated host is a POWER8 or POWER9 of this many cores).
COMPUTES = {
    'pkvm-p8': {'static_generation': 'POWER8', 'static_cores': 2,
                'static_threads_per_core': 8, 'static_subcores_per_core': 1},
    'pkvm-p8s': {'static_generation': 'POWER8', 'static_cores': 2,
                 'static_threads_per_core': 8,
                 'static_subcores_per_core': 4},
    # a scale-out POWER9 core has 4 threads (devstack/settings)
    'pkvm-p9': {'static_generation': 'POWER9', 'static_cores': 4,
                'static_threads_per_core': 4, 'static_subcores_per_core': 1},
}

# The compute whose guests' local disks are in Ceph ([libvirt] images_type
# = rbd: nova clones each raw image in the vms pool), as the others' are
# files on the host: both of nova's paths run. The split-core host: its
# micro-threading guests stay on it (a guest keeps its host's mode when it
# moves, doc/cpu.md), and nova moves a guest's disk only between hosts of
# one images_type.
RBD_COMPUTE = 'pkvm-p8s'

# A compute of another architecture beside them, as mixed clouds have
# (doc/endianness.md, "Clouds with other architectures"): nova's own
# LibvirtDriver on an x86_64 host whose libvirtd has only the x86
# emulators (tools/testbed.py), with no network agent: its servers take
# no port.
X86_COMPUTE = 'kvm-x86'
X86_EMULATORS = ('x86_64', 'i386')
# every host of the bed, each a nova-compute
HOSTS = tuple(COMPUTES) + (X86_COMPUTE,)

# What the PowerKVM hosts run: the project's driver, or nova's own
# LibvirtDriver for a baseline without the rule ('up --driver libvirt');
# written by up, read by the tests and the burst.
DRIVERS = ('powerkvm', 'libvirt')
DRIVER_FILE = os.path.join(STATE_DIR, 'driver')


def driver():
    """The PowerKVM hosts' driver in the running cloud."""
    try:
        with open(DRIVER_FILE) as f:
            return f.read().strip()
    except FileNotFoundError:
        return DRIVERS[0]


def url(api):
    port, _module, _kind, path = APIS[api]
    return 'http://%s:%d%s' % (CONTROLLER, port, path)


def db_url(database):
    return 'mysql+pymysql://%s:%s@127.0.0.1:%d/%s' % (
        DB_USER, PASSWORD, MARIADB_PORT, database)


def rabbit_url():
    return 'rabbit://%s:%s@%s:5672/%s' % (
        RABBIT_USER, PASSWORD, CONTROLLER, RABBIT_VHOST)


def admin_env():
    """The openstack client's environment for the cloud's admin."""
    return {
        'OS_AUTH_URL': url('keystone'),
        'OS_USERNAME': ADMIN,
        'OS_PASSWORD': PASSWORD,
        'OS_PROJECT_NAME': ADMIN,
        'OS_USER_DOMAIN_ID': 'default',
        'OS_PROJECT_DOMAIN_ID': 'default',
        'OS_IDENTITY_API_VERSION': '3',
        'OS_REGION_NAME': REGION,
        'OS_INTERFACE': 'public',
    }
