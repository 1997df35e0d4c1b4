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

"""Each service's configuration files, under layout.ETC_DIR/<project>.

The nova files get the PowerKVM settings from the devstack plugin's own
functions (devstack/plugin.sh: configure_powerkvm_nova, _cpu, _scheduler),
run over them by devstack_config.sh, as a devstack deployment gets them.
"""

import os
import shutil
import subprocess
import sys

from tools.cloud import ceph
from tools.cloud import ini
from tools.cloud import layout

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
# The paste files the services' wheels install under the environment
PASTE = {
    'nova': ('nova/api-paste.ini', 'api-paste.ini'),
    'glance': ('glance/glance-api-paste.ini', 'glance-api-paste.ini'),
    'neutron': ('neutron/api-paste.ini', 'api-paste.ini'),
    'cinder': ('cinder/api-paste.ini', 'api-paste.ini'),
}

# nova-compute's update_available_resource period, s: nova 34's default is
# 60; a new host's state, and a host's last guest gone, are seen sooner
RESOURCES_INTERVAL = 10
# every host's [powerkvm] cpu_compat_mode (nova_compute)
CPU_COMPAT_MODE = 'POWER8'
# nova 34's initial_cpu_allocation_ratio (nova/conf/compute.py), which
# placement has for the PowerKVM hosts (the cloud sets no ratio)
INITIAL_CPU_RATIO = 4.0
SCHEDULER_WORKERS = 2
# cinder's one volume type, its Ceph backend's (cinder's volume_backend_name)
VOLUME_TYPE = 'ceph'


def path(project, name=None):
    return os.path.join(layout.ETC_DIR, project, name or project + '.conf')


def _authtoken(user):
    """How a service checks tokens, and logs in as itself."""
    return {
        'www_authenticate_uri': layout.url('keystone'),
        'auth_url': layout.url('keystone'),
        'auth_type': 'password',
        'project_domain_id': 'default',
        'user_domain_id': 'default',
        'project_name': 'service',
        'username': user,
        'password': layout.PASSWORD,
        'region_name': layout.REGION,
    }


def _client(user='nova'):
    """How a service calls another one (as its service user)."""
    options = _authtoken(user)
    del options['www_authenticate_uri']
    return options


def _rbd_disks():
    """[libvirt] of a host whose guests' disks are in Ceph's vms pool.

    As Ceph's "Block Devices and OpenStack" has nova: client.cinder (its
    key is the libvirt secret's, and it reads the images pool, which a
    clone of an image needs), Glance's images shown by location (glance()).
    """
    return {'images_type': 'rbd', 'images_rbd_pool': 'vms',
            'images_rbd_ceph_conf': ceph.CONF, 'rbd_user': 'cinder',
            'rbd_secret_uuid': layout.CEPH_SECRET_UUID}


def _cinder_client():
    # cinder's API from the catalogue: block-storage, which nova's default
    # catalog_info names by its alias, volumev3
    return dict(_client('nova'), os_region_name=layout.REGION)


def _locks(project):
    return {'lock_path': os.path.join(layout.DATA_DIR, project, 'locks')}


def keystone():
    keys = os.path.join(layout.ETC_DIR, 'keystone')
    return {
        'DEFAULT': {'debug': True},
        'database': {'connection': layout.db_url('keystone')},
        'token': {'provider': 'fernet'},
        'fernet_tokens': {'key_repository': os.path.join(keys, 'fernet')},
        'fernet_receipts': {'key_repository': os.path.join(keys, 'fernet')},
        'credential': {'key_repository': os.path.join(keys, 'credential')},
        # bcrypt's default rounds take 0.3 s a login on this machine; a test
        # cloud logs in often
        'identity': {'password_hash_rounds': 4},
    }


def glance():
    data = os.path.join(layout.DATA_DIR, 'glance')
    return {
        # images in Ceph, glance's default store there, as in most clouds
        # (tools/cloud/ceph.py); their location shown, so that cinder and
        # nova's RBD disks clone them copy-on-write
        'DEFAULT': {'debug': True, 'enabled_backends': 'ceph:rbd',
                    'show_image_direct_url': True},
        'database': {'connection': layout.db_url('glance')},
        'keystone_authtoken': _authtoken('glance'),
        'paste_deploy': {'flavor': 'keystone'},
        'glance_store': {'default_backend': 'ceph'},
        'ceph': {'rbd_store_pool': 'images', 'rbd_store_user': 'glance',
                 'rbd_store_ceph_conf': ceph.CONF},
        'os_glance_staging_store': {
            'filesystem_store_datadir': os.path.join(data, 'staging')},
        'os_glance_tasks_store': {
            'filesystem_store_datadir': os.path.join(data, 'tasks')},
        'oslo_concurrency': _locks('glance'),
    }


def cinder():
    """cinder.conf of its API, scheduler and volume service.

    One backend, Ceph's volumes pool through client.cinder (tools/cloud/
    ceph.py); an image's volume is a copy-on-write clone of it in the
    images pool (glance shows its location, show_image_direct_url).
    """
    return {
        'DEFAULT': {
            'debug': True,
            'transport_url': layout.rabbit_url(),
            'my_ip': layout.CONTROLLER,
            'auth_strategy': 'keystone',
            'state_path': os.path.join(layout.DATA_DIR, 'cinder'),
            'api_paste_config': path('cinder', 'api-paste.ini'),
            'enabled_backends': 'ceph',
            'default_volume_type': VOLUME_TYPE,
            'osapi_volume_workers': 1,
        },
        'database': {'connection': layout.db_url('cinder')},
        'keystone_authtoken': _authtoken('cinder'),
        'nova': _client('cinder'),
        'oslo_concurrency': _locks('cinder'),
        'ceph': {
            'volume_driver': 'cinder.volume.drivers.rbd.RBDDriver',
            'volume_backend_name': VOLUME_TYPE,
            'rbd_pool': 'volumes',
            'rbd_ceph_conf': ceph.CONF,
            'rbd_user': 'cinder',
            'rbd_secret_uuid': layout.CEPH_SECRET_UUID,
        },
    }


def placement():
    return {
        'DEFAULT': {'debug': True},
        'placement_database': {'connection': layout.db_url('placement')},
        'api': {'auth_strategy': 'keystone'},
        'keystone_authtoken': _authtoken('placement'),
    }


def neutron():
    return {
        'DEFAULT': {
            'debug': True,
            'core_plugin': 'ml2',
            # the L3 plugin brings the port models the ML2 plugin reads
            # (db_base_plugin_v2.get_ports: Port.port_forwardings)
            'service_plugins': 'router',
            'transport_url': layout.rabbit_url(),
            'auth_strategy': 'keystone',
            'api_paste_config': path('neutron', 'api-paste.ini'),
            'notify_nova_on_port_status_changes': True,
            'notify_nova_on_port_data_changes': True,
            'rpc_workers': 1,
            'rpc_state_report_workers': 1,
        },
        'database': {'connection': layout.db_url('neutron')},
        'keystone_authtoken': _authtoken('neutron'),
        'nova': _client('nova'),
        'oslo_concurrency': _locks('neutron'),
        'ml2': {'type_drivers': 'flat', 'tenant_network_types': '',
                'mechanism_drivers': 'openvswitch',
                'extension_drivers': 'port_security'},
        'ml2_type_flat': {'flat_networks': layout.PHYSNET},
        'securitygroup': {'firewall_driver': 'noop'},
    }


def nova(driver='powerkvm'):
    """nova.conf of the API, conductor and scheduler.

    driver 'libvirt' (the baseline): nova's LibvirtDriver reports the
    machine's architecture as its HW_ARCH_* trait (x86_64 here), so the
    image_metadata_prefilter, which asks POWER for a POWER image, is off.
    """
    return {
        'DEFAULT': {
            'debug': True,
            'transport_url': layout.rabbit_url(),
            'my_ip': layout.CONTROLLER,
            'state_path': os.path.join(layout.DATA_DIR, 'nova'),
        },
        'api': {'auth_strategy': 'keystone'},
        'api_database': {'connection': layout.db_url('nova_api')},
        'database': {'connection': layout.db_url('nova_cell1')},
        'wsgi': {'api_paste_config': path('nova', 'api-paste.ini')},
        'keystone_authtoken': _authtoken('nova'),
        'service_user': dict(_client('nova'), send_service_user_token=True),
        'placement': _client('placement'),
        'neutron': _client('neutron'),
        'glance': {'region_name': layout.REGION},
        'cinder': _cinder_client(),
        'conductor': {'workers': 1},
        # production runs several scheduler workers, each a process: they
        # choose hosts for concurrent requests from views of their own
        'scheduler': {'workers': SCHEDULER_WORKERS,
                      # the cloud maps its computes itself, once they are up
                      'discover_hosts_in_cells_interval': -1,
                      # as production clouds run it: an image's
                      # hw_architecture becomes a required trait
                      'image_metadata_prefilter': driver == 'powerkvm'},
        'oslo_concurrency': _locks('nova'),
        'oslo_messaging_notifications': {'driver': 'noop'},
    }


def nova_compute(host, address, state_dir, instances_path):
    """nova.conf of host's nova-compute, whichever its driver."""
    privsep = '%s --config-file %s' % (
        os.path.join(layout.BIN_DIR, 'privsep-helper'),
        path('nova', 'nova-%s.conf' % host))
    return {
        'DEFAULT': {
            'debug': True,
            'host': host,
            'my_ip': address,
            'transport_url': layout.rabbit_url(),
            'state_path': state_dir,
            'instances_path': instances_path,
            'update_resources_interval': RESOURCES_INTERVAL,
            # the guest's port is wired by the host's agent before the
            # guest starts: nova waits for neutron's network-vif-plugged
            # event and fails the build without it (nova's defaults, said)
            'vif_plugging_is_fatal': True,
            'vif_plugging_timeout': 300,
            # nova-compute's native threading mode does not end its
            # graceful shutdown by itself (tests/hypervisor/host_computes)
            'graceful_shutdown_timeout': 5,
        },
        'libvirt': dict({'live_migration_scheme': 'tcp'},
                        **(_rbd_disks() if host == layout.RBD_COMPUTE
                           else {})),
        # No network-vif-plugged comes before a live migration's transfer
        # with these ports (non-hybrid, noop firewall): the destination's
        # tap exists only once QEMU starts there, so its agent sees an OVS
        # port without a device (ofport -1) and reports nothing, and the
        # source's agent skips a port "being migrated to" another host.
        # Seen here: the source waited out vif_plugging_timeout and failed
        # every live migration. nova's help for the option (nova/conf/
        # compute.py) expects Open vSwitch to send the event and names
        # backends that do not (OpenDaylight); False, its legacy behaviour,
        # starts the transfer at once.
        'compute': {'live_migration_wait_for_vif_plug': False},
        'placement': _client('placement'),
        'neutron': _client('neutron'),
        'service_user': dict(_client('nova'), send_service_user_token=True),
        'glance': {'region_name': layout.REGION},
        'cinder': _cinder_client(),
        'vnc': {'enabled': False},
        'oslo_concurrency': {'lock_path': os.path.join(state_dir, 'locks')},
        'oslo_messaging_notifications': {'driver': 'noop'},
        # privsep's daemons, started as root without sudo
        'nova_sys_admin': {'helper_command': privsep},
        'vif_plug_ovs_privileged': {'helper_command': privsep},
        'vif_plug_linux_bridge_privileged': {'helper_command': privsep},
        # os-brick's, for a volume's connection (nova's volume attach)
        'privsep_osbrick': {'helper_command': privsep},
    }


def ovs_agent(host):
    """The configuration of host's neutron Open vSwitch agent (its only one).

    Userspace datapath (netdev): this machine's kernel has no Open vSwitch
    module (tools/cloud/network.py). The agent runs as root: no rootwrap,
    and privsep's daemons started without sudo.
    """
    conf = path('neutron', 'ovs-agent-%s.ini' % host)
    privsep = {'helper_command': '%s --config-file %s' % (
        os.path.join(layout.BIN_DIR, 'privsep-helper'), conf)}
    options = {
        'DEFAULT': {'debug': True, 'host': host,
                    'transport_url': layout.rabbit_url()},
        'agent': {'root_helper': '', 'tunnel_types': ''},
        'ovs': {'datapath_type': 'netdev',
                'bridge_mappings': '%s:%s' % (layout.PHYSNET,
                                              layout.PHYS_BRIDGE)},
        'securitygroup': {'firewall_driver': 'noop'},
        'oslo_concurrency': {'lock_path': os.path.join(
            layout.DATA_DIR, 'neutron', 'locks-%s' % host)},
    }
    for section in ('privsep', 'privsep_dhcp_release', 'privsep_ovs_vsctl',
                    'privsep_namespace', 'privsep_conntrack',
                    'privsep_link'):
        options[section] = privsep
    ini.write(conf, options)
    return conf


def write_controller(driver='powerkvm'):
    for project, options in (('keystone', keystone()), ('glance', glance()),
                             ('placement', placement()),
                             ('neutron', neutron()), ('nova', nova(driver)),
                             ('cinder', cinder())):
        os.makedirs(os.path.join(layout.ETC_DIR, project), exist_ok=True)
        os.makedirs(os.path.join(layout.DATA_DIR, project, 'locks'),
                    exist_ok=True)
        name = 'glance-api.conf' if project == 'glance' else None
        ini.write(path(project, name), options)
        if project in PASTE:
            source, target = PASTE[project]
            shutil.copy(os.path.join(sys.prefix, 'etc', source),
                        path(project, target))
    devstack_config(scheduler=True)


def libvirt_compute(host, address, state_dir, instances_path, cpu=None):
    """nova.conf of a nova-compute running nova's own LibvirtDriver.

    cpu, a PowerKVM host's (layout.COMPUTES), for the baseline without the
    rule: the same guests (their images' hw_architecture is the guest's,
    nova's libvirt_utils.get_arch), and as many VCPUs in placement as the
    PowerKVM driver gives that host (its threads at nova's initial ratio,
    4.0), although nova counts the machine's CPUs.
    """
    options = nova_compute(host, address, state_dir, instances_path)
    options['DEFAULT']['compute_driver'] = 'libvirt.LibvirtDriver'
    # TCG; no host CPU model to copy for another architecture's guest
    options['libvirt'].update(virt_type='qemu', cpu_mode='none')
    if cpu:
        # nova's default machine types name none for ppc64 (libvirt utils,
        # get_default_machine_type): its big-endian guests need the option
        options['libvirt']['hw_machine_type'] = 'ppc64=pseries'
        threads = cpu['static_cores'] * cpu['static_threads_per_core']
        options['DEFAULT']['cpu_allocation_ratio'] = (
            INITIAL_CPU_RATIO * threads / os.cpu_count())
    return options


def write_compute(host, address, state_dir, instances_path, cpu=None,
                  driver='powerkvm'):
    """host's nova.conf; cpu None for a host of another architecture."""
    conf = path('nova', 'nova-%s.conf' % host)
    if driver == 'libvirt' or cpu is None:
        ini.write(conf, libvirt_compute(host, address, state_dir,
                                        instances_path, cpu))
        return conf
    options = nova_compute(host, address, state_dir, instances_path)
    options['powerkvm'] = {
        # QEMU emulates the host's generation; guests run as POWER8
        # processors, so they move between the generations both ways, as
        # doc/migration.md has a cloud of both set it
        'emulated_cpu_model': cpu['static_generation'],
        'cpu_compat_mode': CPU_COMPAT_MODE,
    }
    ini.write(conf, options)
    env = {'POWERKVM_STATIC_%s' % name.split('static_')[1].upper(): str(v)
           for name, v in cpu.items()}
    devstack_config(compute_conf=conf, env=env)
    return conf


def devstack_config(scheduler=False, compute_conf=None, env=None):
    """Run the devstack plugin's configure functions over nova's files."""
    environ = dict(os.environ, **(env or {}))
    environ.update(NOVA_CONF=path('nova'), REPOSITORY=REPOSITORY,
                   POWERKVM_HOST_MODE='emulated',
                   POWERKVM_HOST_PROBE='static',
                   PYTHON=sys.executable)
    steps = ['configure_powerkvm_scheduler'] if scheduler else []
    if compute_conf:
        environ['NOVA_CPU_CONF'] = compute_conf
        steps += ['configure_powerkvm_nova', 'configure_powerkvm_cpu']
    subprocess.run(['bash', os.path.join(os.path.dirname(__file__),
                                         'devstack_config.sh')] + steps,
                   env=environ, check=True, timeout=120)
