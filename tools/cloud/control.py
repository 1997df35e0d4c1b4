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

"""The controller: databases, message bus, identity, every API, nova's
conductor and scheduler, neutron's RPC server; in the order each needs."""

import os

from tools.cloud import ceph
from tools.cloud import configs
from tools.cloud import layout
from tools.cloud import mariadb
from tools.cloud import procs

READY_TIMEOUT = 120
# uwsgi as devstack runs the APIs (lib/apache: write_uwsgi_config): one
# process of a few threads each, the request body passed through raw and
# chunked (glance's image uploads), its own log on stdout.
UWSGI = ('--master', '--processes', '1', '--threads', '4',
         '--enable-threads', '--die-on-term', '--need-app', '--lazy-apps',
         '--buffer-size', '65535', '--http-auto-chunked', '--http-raw-body',
         '--chunked-input-limit', '10485760', '--thunder-lock',
         '--add-header', 'Connection: close', '--disable-logging')
# where each API reads its configuration
CONFIG_ENV = {
    'keystone': {'OS_KEYSTONE_CONFIG_DIR': 'keystone'},
    'glance': {'OS_GLANCE_CONFIG_DIR': 'glance'},
    'placement': {'OS_PLACEMENT_CONFIG_DIR': 'placement'},
    'neutron': {'OS_NEUTRON_CONFIG_DIR': 'neutron',
                'OS_NEUTRON_CONFIG_FILES': 'neutron.conf'},
    'nova': {'OS_NOVA_CONFIG_DIR': 'nova'},
    'nova-metadata': {'OS_NOVA_CONFIG_DIR': 'nova'},
    'cinder': {},
}
# cinder's application reads its options from its command line
# (cinder/wsgi/wsgi.py initialize_application: CONF(sys.argv[1:])), which
# uwsgi gives it with --pyargv
CONFIG_ARGS = {
    'cinder': ['--pyargv', '--config-file ' + configs.path('cinder')],
}
# nova's services run in native threading mode (nova 34's default for
# nova-compute; said here for the API, conductor and scheduler too)
NOVA_ENV = {'OS_NOVA_DISABLE_EVENTLET_PATCHING': '1'}
# the service users, each an admin of the "service" project
SERVICE_USERS = ('glance', 'placement', 'neutron', 'nova', 'cinder')


def bin_(name):
    return os.path.join(layout.BIN_DIR, name)


def manage(argv, what=None):
    return procs.run([bin_(argv[0])] + list(argv[1:]),
                     what=what or ' '.join(argv[:3]))


def up(driver='powerkvm'):
    for path in (layout.ETC_DIR, layout.LOG_DIR, layout.RUN_DIR,
                 layout.DATA_DIR):
        os.makedirs(path, exist_ok=True)
    with open(layout.DRIVER_FILE, 'w') as f:
        f.write(driver + '\n')
    configs.write_controller(driver)
    mariadb.start()
    _message_bus()
    # Each service's schema needs only the database, and its programs
    # spend most of their time importing: all at once.
    procs.parallel(_keystone_setup, _glance_schema, _placement_schema,
                   _neutron_schema, _nova_schema, _cinder_schema, ceph.up)
    start_api('keystone')
    _catalogue()
    procs.parallel(lambda: start_api('glance'),
                   lambda: start_api('placement'), _neutron, _nova,
                   _cinder)


def _message_bus():
    rabbitmqctl = ['rabbitmqctl', '-q']
    users = procs.run(rabbitmqctl + ['list_users'], what='rabbitmqctl')
    if layout.RABBIT_USER not in users.split():
        procs.run(rabbitmqctl + ['add_user', layout.RABBIT_USER,
                                 layout.PASSWORD])
    procs.run(rabbitmqctl + ['add_vhost', layout.RABBIT_VHOST])
    procs.run(rabbitmqctl + ['set_permissions', '-p', layout.RABBIT_VHOST,
                             layout.RABBIT_USER, '.*', '.*', '.*'])


def message_bus_down():
    procs.run(['rabbitmqctl', '-q', 'delete_vhost', layout.RABBIT_VHOST],
              what='rabbitmqctl delete_vhost')
    procs.run(['rabbitmqctl', '-q', 'delete_user', layout.RABBIT_USER],
              what='rabbitmqctl delete_user')


def start_api(name):
    port, module, _kind, _path = layout.APIS[name]
    env = {k: os.path.join(layout.ETC_DIR, v) if k.endswith('DIR') else v
           for k, v in CONFIG_ENV[name].items()}
    if name.startswith('nova'):
        env.update(NOVA_ENV)
    server = procs.start(name, [
        bin_('uwsgi'), '--http-socket', '%s:%d' % (layout.CONTROLLER, port),
        '--module', module, '--procname-prefix', name + '-'] + list(UWSGI) +
        CONFIG_ARGS.get(name, []), env=env)
    url = 'http://%s:%d/' % (layout.CONTROLLER, port)
    procs.wait_for(name, lambda: procs.process_alive(server) and
                   procs.answers_http(url), READY_TIMEOUT,
                   procs.log_path(name))


def start_daemon(name, argv, topic, env=None):
    """Start an RPC service; ready once its topic's queue has a consumer."""
    server = procs.start(name, [bin_(argv[0])] + list(argv[1:]), env=env)
    procs.wait_for(name, lambda: procs.process_alive(server) and
                   topic in consumed_queues(), READY_TIMEOUT,
                   procs.log_path(name))
    return server


def consumed_queues():
    """The names of the cloud's message queues that have a consumer."""
    listed = procs.run(['rabbitmqctl', '-q', 'list_queues', '-p',
                        layout.RABBIT_VHOST, 'name', 'consumers'],
                       what='rabbitmqctl list_queues')
    return {fields[0] for fields in map(str.split, listed.splitlines())
            if len(fields) == 2 and fields[1].isdigit() and int(fields[1])}


def _keystone_setup():
    conf = configs.path('keystone')
    keys = os.path.dirname(conf)
    for directory in ('fernet', 'credential'):
        os.makedirs(os.path.join(keys, directory), exist_ok=True)
    keystone = ['keystone-manage', '--config-file', conf]
    procs.parallel(
        lambda: manage(keystone + ['db_sync']),
        lambda: manage(keystone + ['fernet_setup', '--keystone-user', 'root',
                                   '--keystone-group', 'root']),
        lambda: manage(keystone + ['credential_setup', '--keystone-user',
                                   'root', '--keystone-group', 'root']))
    url = layout.url('keystone')
    manage(keystone + ['bootstrap', '--bootstrap-password', layout.PASSWORD,
                       '--bootstrap-admin-url', url,
                       '--bootstrap-internal-url', url,
                       '--bootstrap-public-url', url,
                       '--bootstrap-region-id', layout.REGION])


def connection():
    """An openstacksdk connection as the cloud's admin."""
    import openstack
    env = layout.admin_env()
    return openstack.connect(
        auth_url=env['OS_AUTH_URL'], username=env['OS_USERNAME'],
        password=env['OS_PASSWORD'], project_name=env['OS_PROJECT_NAME'],
        user_domain_id='default', project_domain_id='default',
        region_name=layout.REGION)


def _catalogue():
    """The service project and users, and each API in the catalogue."""
    cloud = connection()
    project = (cloud.identity.find_project('service')
               or cloud.identity.create_project(name='service',
                                                domain_id='default'))
    admin = cloud.identity.find_role('admin')
    # nova's service token needs the service role
    service = (cloud.identity.find_role('service')
               or cloud.identity.create_role(name='service'))
    for name in SERVICE_USERS:
        user = (cloud.identity.find_user(name, domain_id='default')
                or cloud.identity.create_user(
                    name=name, password=layout.PASSWORD,
                    domain_id='default', default_project_id=project.id))
        for role in (admin, service):
            cloud.identity.assign_project_role_to_user(project, user, role)
    for api, (_port, _module, kind, _path) in layout.APIS.items():
        if kind is None or kind == 'identity':
            continue
        if cloud.identity.find_service(api):
            continue
        entry = cloud.identity.create_service(name=api, type=kind)
        for interface in ('public', 'internal', 'admin'):
            cloud.identity.create_endpoint(
                service_id=entry.id, interface=interface,
                url=layout.url(api), region_id=layout.REGION)


def _glance_schema():
    manage(['glance-manage', '--config-file', configs.path(
        'glance', 'glance-api.conf'), 'db_sync'])


def _placement_schema():
    manage(['placement-manage', '--config-file', configs.path('placement'),
            'db', 'sync'])


def _neutron_schema():
    manage(['neutron-db-manage', '--config-file', configs.path('neutron'),
            'upgrade', 'heads'])


def _neutron():
    start_api('neutron')
    # neutron's GET /ports reads the Port model's backrefs before its
    # first query (db_base_plugin_v2.get_ports: Port.port_forwardings), and
    # SQLAlchemy adds them when a query first configures the mappers: a new
    # API process fails nova's first port listing with an AttributeError.
    # Any other listing first configures them.
    list(connection().network.networks())
    start_daemon('neutron-rpc-server', ['neutron-rpc-server',
                                        '--config-file',
                                        configs.path('neutron')], 'q-plugin')


def _nova_schema():
    """The API database, cell0 and cell1 mapped, both cells' schemas."""
    conf = ['nova-manage', '--config-file', configs.path('nova')]
    manage(conf + ['api_db', 'sync'])
    manage(conf + ['cell_v2', 'map_cell0', '--database_connection',
                   layout.db_url('nova_cell0')])
    manage(conf + ['cell_v2', 'create_cell', '--name', 'cell1'])
    # cell1's schema ([database] connection), and cell0's
    manage(conf + ['db', 'sync'])


def _cinder_schema():
    manage(['cinder-manage', '--config-file', configs.path('cinder'), 'db',
            'sync'])


def _cinder():
    """cinder's API, scheduler and volume service, and its volume type."""
    conf = ['--config-file', configs.path('cinder')]
    procs.parallel(
        lambda: start_api('cinder'),
        lambda: start_daemon('cinder-scheduler', ['cinder-scheduler'] + conf,
                             'cinder-scheduler'),
        lambda: start_daemon('cinder-volume', ['cinder-volume'] + conf,
                             'cinder-volume'))
    cloud = connection()
    if not cloud.block_storage.find_type(configs.VOLUME_TYPE):
        cloud.block_storage.create_type(
            name=configs.VOLUME_TYPE,
            extra_specs={'volume_backend_name': configs.VOLUME_TYPE})


def _nova():
    conf = ['--config-file', configs.path('nova')]
    procs.parallel(
        lambda: start_api('nova'), lambda: start_api('nova-metadata'),
        lambda: start_daemon('nova-conductor', ['nova-conductor'] + conf,
                             'conductor', env=NOVA_ENV),
        lambda: start_daemon('nova-scheduler', ['nova-scheduler'] + conf,
                             'scheduler', env=NOVA_ENV))
