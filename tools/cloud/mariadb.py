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

"""The cloud's MariaDB: a server of its own, its files in the cloud's dir.

Debian's mariadb-server package gives the programs; the server the cloud
runs has its own data directory, socket and pid file, so it neither needs
nor touches the machine's own (which Debian's package may start), and
'down' removes every database with the directory.
"""

import os

from tools.cloud import layout
from tools.cloud import procs

DATA = os.path.join(layout.DATA_DIR, 'mysql')
SOCKET = os.path.join(layout.RUN_DIR, 'mysqld.sock')
# InnoDB's defaults suit a server; these suit many small test databases
# on a machine that also runs the guests: less memory, fewer fsyncs.
OPTIONS = (
    '--innodb-buffer-pool-size=256M',
    '--innodb-flush-log-at-trx-commit=2',
    '--max-connections=1000',
    '--skip-name-resolve',
)


def start():
    if not os.path.isdir(os.path.join(DATA, 'mysql')):
        os.makedirs(DATA, exist_ok=True)
        procs.run(['chown', 'mysql:mysql', DATA])
        procs.run(['mariadb-install-db', '--user=mysql', '--datadir=' + DATA,
                   '--auth-root-authentication-method=socket',
                   '--skip-test-db'], what='mariadb-install-db')
    os.makedirs(layout.RUN_DIR, exist_ok=True)
    procs.run(['chown', 'mysql:mysql', layout.RUN_DIR])
    server = procs.start('mariadb', [
        '/usr/sbin/mariadbd', '--no-defaults', '--user=mysql',
        '--datadir=' + DATA, '--socket=' + SOCKET,
        '--pid-file=' + os.path.join(layout.RUN_DIR, 'mysqld.pid'),
        '--bind-address=127.0.0.1', '--port=%d' % layout.MARIADB_PORT]
        + list(OPTIONS))
    procs.wait_for('mariadb', lambda: procs.process_alive(server) and
                   procs.listens('127.0.0.1', layout.MARIADB_PORT), 60,
                   procs.log_path('mariadb'))
    statements = []
    for database in layout.DATABASES:
        statements.append('CREATE DATABASE IF NOT EXISTS %s '
                          'CHARACTER SET utf8mb4;' % database)
    statements.append("CREATE USER IF NOT EXISTS '%s'@'127.0.0.1' "
                      "IDENTIFIED BY '%s';" % (layout.DB_USER,
                                               layout.PASSWORD))
    statements.append("GRANT ALL PRIVILEGES ON *.* TO '%s'@'127.0.0.1';"
                      % layout.DB_USER)
    sql('\n'.join(statements))


def sql(statements):
    return procs.run(['mariadb', '--no-defaults', '--socket=' + SOCKET,
                      '-u', 'root', '-e', statements], what='mariadb')
