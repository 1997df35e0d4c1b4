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

"""What the driver and every scheduler worker configure alike.

Both sides run nova's own code against one MariaDB server and one
RabbitMQ virtual host; this module sets nova.conf for them and serves
placement in-process over the shared placement database, as nova's
functional tests do (nova/tests/functional/fixtures.py PlacementFixture:
placement's WSGI application behind wsgi-intercept, nova's report client
calling it directly instead of through the keystone catalog).
"""

import nova.conf
from nova import config as nova_config
from nova.db.api import api as api_db_api
from nova.db.main import api as main_db_api
from nova import rpc
from nova.tests import fixtures as nova_fixtures
from nova.tests.functional import fixtures as func_fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslo_messaging import opts as messaging_opts
from placement import db_api as placement_db

CONF = nova.conf.CONF

FILTER = 'powerkvm_nova.scheduler.filters.PowerKVMEndiannessFilter'
FILTER_NAME = 'PowerKVMEndiannessFilter'
WEIGHER = 'powerkvm_nova.scheduler.weighers.PowerKVMEndiannessWeigher'
# doc/endianness.md, "In the scheduler": the weigher outweighs nova's
# spreading weighers (1.0 each) at 10.
WEIGHT_MULTIPLIER = 10.0


def configure(settings):
    """nova.conf of a process of the simulation.

    :param settings: {'transport_url', 'api_db', 'cell_db', 'rule'}
    """
    nova_config.parse_args([''], default_config_files=[],
                           configure_db=False, init_rpc=False)
    # oslo.messaging registers [DEFAULT] transport_url only when it makes
    # a transport (rpc.init below); its own list of options gives it now.
    for group, opts in messaging_opts.list_opts():
        if group is None or group == 'DEFAULT':
            CONF.register_opts(opts)
    CONF.set_override('transport_url', settings['transport_url'])
    CONF.set_override('connection', settings['api_db'], 'api_database')
    CONF.set_override('connection', settings['cell_db'], 'database')
    # Hundreds of requests of a burst wait in the scheduler's queue at
    # once; nova's default (60 s) would time them out at full scale.
    CONF.set_override('rpc_response_timeout', 600)
    # The simulated computes send no heartbeat; nova's ComputeFilter
    # (servicegroup DB driver, is_up) would drop them after
    # service_down_time (60 s) otherwise.
    CONF.set_override('service_down_time', 24 * 3600)
    # Each process holds a pool per database; the driver's threads and a
    # worker's RPC executor threads use them at once.
    CONF.set_override('max_pool_size', 20, 'database')
    CONF.set_override('max_pool_size', 20, 'api_database')
    if settings['rule']:
        # doc/endianness.md, "In the scheduler": nova's defaults plus the
        # project's filter (last) and weigher.
        CONF.set_override('available_filters', [
            'nova.scheduler.filters.all_filters', FILTER],
            'filter_scheduler')
        # enabled_filters names classes, available_filters modules' paths
        CONF.set_override('enabled_filters', list(
            CONF.filter_scheduler.enabled_filters) + [FILTER_NAME],
            'filter_scheduler')
        CONF.set_override('weight_classes', [
            'nova.scheduler.weights.all_weighers', WEIGHER],
            'filter_scheduler')
        CONF.set_override('endianness_weight_multiplier', WEIGHT_MULTIPLIER,
                          'powerkvm')
    main_db_api.configure(CONF)
    api_db_api.configure(CONF)
    rpc.init(CONF)


class SharedPlacement(func_fixtures.PlacementFixture):
    """nova's functional PlacementFixture, on the shared MariaDB database.

    db=False: the fixture's own in-memory SQLite is not made; placement's
    enginefacade is pointed at the benchmark's database instead.
    """

    def __init__(self, connection):
        config = cfg.ConfigOpts()
        super().__init__(conf_fixture=config_fixture.Config(config),
                         db=False)
        self._connection = connection

    def setUp(self):
        self.conf_fixture.setUp()
        super().setUp()
        # nova's test base (nova/test.py) sets it up for every test: the
        # report client's openstacksdk adapter without a keystone catalog
        # (its calls go through the methods the fixture above replaces).
        self.useFixture(nova_fixtures.OpenStackSDKFixture())

    def _configure_placement(self, conf_fixture):
        super()._configure_placement(conf_fixture)
        # placement's own defaults (5, overflow 10) are for a WSGI
        # process of a few threads; here it serves every RPC thread of a
        # scheduler worker, which wait for connections held by the others
        # past the pool's 30 s timeout otherwise.
        conf_fixture.config(connection=self._connection,
                            max_pool_size=20, max_overflow=50,
                            group='placement_database')
        # placement's application syncs its traits at load
        # (deploy.loadapp, update_database): its database is set first,
        # or oslo.db's unconfigured facade falls back to nova's [database].
        conf_fixture.conf([], default_config_files=[])
        placement_db.configure(conf_fixture.conf)
