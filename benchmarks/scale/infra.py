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

"""The shared database server and message bus of the simulation.

MariaDB: three databases of the benchmark's own (nova's API and cell
databases, placement's), reached over TCP by a user of its own; RabbitMQ:
a virtual host of its own (as tests/hypervisor/host_computes.py
MessageBus makes one). Both are removed at the end, and any left by a run
that was killed are removed before a run begins.
"""

import os
import shutil
import subprocess

import sqlalchemy

from nova.db.api import models as api_models
from nova.db.main import models as main_models
from placement.db.sqlalchemy import models as placement_models

PREFIX = 'pkvm_scale_'
DATABASES = ('api', 'cell', 'placement')
USER = 'pkvm_scale'
PASSWORD = 'pkvm_scale'
VHOST = 'pkvm-scale'
BROKER = '127.0.0.1:5672'
BROKER_USER = 'guest'
TIMEOUT = 120
# Rows placement makes once (deploy.update_database: standard traits and
# resource classes); the workers' placement would not make them again.
# MariaDB's ER_TOO_LONG_KEY
KEY_TOO_LONG = 1071
PLACEMENT_KEPT = {'traits', 'resource_classes', 'alembic_version'}


class InfraError(Exception):
    pass


def _run(args, what):
    try:
        done = subprocess.run(args, capture_output=True, text=True,
                              timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise InfraError('%s: no answer in %d s' % (what, TIMEOUT))
    if done.returncode:
        raise InfraError('%s failed: %s' % (what, done.stderr.strip()))
    return done.stdout


def sql(statements):
    """Run statements as MariaDB's root (the Unix socket's own auth)."""
    return _run(['mariadb', '--no-defaults', '-u', 'root', '-e',
                 statements], 'mariadb')


def url(name):
    return 'mysql+pymysql://%s:%s@127.0.0.1/%s%s?charset=utf8' % (
        USER, PASSWORD, PREFIX, name)


def start_mariadb():
    """Start the machine's MariaDB unless it runs (Debian's service)."""
    try:
        sql('SELECT 1')
        return
    except InfraError:
        pass
    if not shutil.which('service'):
        raise InfraError('MariaDB is not running and there is no service '
                         'command to start it')
    _run(['service', 'mariadb', 'start'], 'service mariadb start')
    sql('SELECT 1')


def create_databases():
    drop_databases()
    statements = ['CREATE DATABASE %s%s CHARACTER SET utf8;'
                  % (PREFIX, name) for name in DATABASES]
    for host in ('127.0.0.1', 'localhost'):
        statements.append("CREATE USER '%s'@'%s' IDENTIFIED BY '%s';"
                          % (USER, host, PASSWORD))
        statements.append("GRANT ALL PRIVILEGES ON `%s%%`.* TO '%s'@'%s';"
                          % (PREFIX.replace('_', '\\_'), USER, host))
    sql('\n'.join(statements))
    # utf8 (MariaDB's utf8mb3), as nova's install guide makes its
    # databases: some of nova's indexes exceed InnoDB's key length in utf8mb4.
    # Four workers and the driver each hold pools to three databases.
    sql('SET GLOBAL max_connections = GREATEST(@@max_connections, 1000);')
    # The schemas from the models (nova's and placement's own
    # metadata.create_all, as placement's test fixture makes its
    # database): running every alembic migration on MariaDB takes minutes
    # and gives the same tables.
    for name, base in (('api', api_models.BASE),
                       ('cell', main_models.BASE),
                       ('placement', placement_models.BASE)):
        engine = sqlalchemy.create_engine(url(name))
        try:
            for table in base.metadata.sorted_tables:
                try:
                    table.create(engine)
                except sqlalchemy.exc.OperationalError as e:
                    # nova's migrations index cell tables' columns in
                    # 3825 bytes of utf8mb3 (migrations_by_host_nodes_and_
                    # status_idx), over InnoDB's 3072: the table is made,
                    # the index (of a table the benchmark leaves empty)
                    # not.
                    if e.orig.args[0] != KEY_TOO_LONG:
                        raise
        finally:
            engine.dispose()


def empty_databases():
    """Delete every row a configuration made, before the next one."""
    for name in DATABASES:
        engine = sqlalchemy.create_engine(url(name))
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql('SET FOREIGN_KEY_CHECKS = 0')
                for table in sqlalchemy.inspect(conn).get_table_names():
                    if name == 'placement' and table in PLACEMENT_KEPT:
                        continue
                    conn.exec_driver_sql('DELETE FROM `%s`' % table)
                conn.exec_driver_sql('SET FOREIGN_KEY_CHECKS = 1')
        finally:
            engine.dispose()


def drop_databases():
    statements = ['DROP DATABASE IF EXISTS %s%s;' % (PREFIX, name)
                  for name in DATABASES]
    statements += ["DROP USER IF EXISTS '%s'@'%s';" % (USER, host)
                   for host in ('127.0.0.1', 'localhost')]
    sql('\n'.join(statements))


def _rabbitmqctl(*args):
    return _run(['rabbitmqctl', '-q'] + list(args),
                'rabbitmqctl ' + ' '.join(args))


def create_vhost():
    """A virtual host of the run's own: no message of another reaches it."""
    delete_vhost()
    _rabbitmqctl('add_vhost', VHOST)
    _rabbitmqctl('set_permissions', '-p', VHOST, BROKER_USER,
                 '.*', '.*', '.*')
    return 'rabbit://%s:%s@%s/%s' % (BROKER_USER, BROKER_USER, BROKER, VHOST)


def delete_vhost():
    if VHOST in _rabbitmqctl('list_vhosts', 'name').split():
        _rabbitmqctl('delete_vhost', VHOST)


def environment():
    """The environment of a worker: the driver's nova concurrency mode."""
    return dict(os.environ)
