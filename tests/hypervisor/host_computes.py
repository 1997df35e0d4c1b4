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

"""nova-computes that run on the test bed's hosts, as processes of their own.

TwoHostTestBase runs both nova-computes in the test process: they share its
files, so nova finds every instances directory shared and never block
migrates. Here each host's nova-compute is nova's own nova-compute process
(tests.hypervisor.compute_process) in that host's mount and UTS namespaces:
it sees only its host's instances directory and libvirtd, as on a machine of
its own. The control plane stays in the test process, as nova's functional
harness runs it, and reaches them over what a deployment has:

* a real message bus: RabbitMQ on this machine's loopback (started by
  tools/setup-host.sh), in a virtual host of the test's own, in place of
  the harness's in-process fake bus;
* placement over HTTP: the harness's placement application, also served on
  the loopback for the computes;
* images: the glance stand-in of each compute reads what the test
  registers from a catalogue (tests.fixtures.images.Catalogue).
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from wsgiref import simple_server

import fixtures
from nova import context as nova_context
from nova import objects
from nova import rpc
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import oslo_messaging as messaging
from oslo_utils import uuidutils
from placement import deploy
from testtools import content

from powerkvm_nova.endianness import records
from tests.fixtures import images
from tests.hypervisor import base
from tests.hypervisor import two_hosts
from tools import testbed

CONF = cfg.CONF
# tools/setup-host.sh's broker; its guest user may log in from the loopback
# only, which is where the computes reach it
BROKER = ('127.0.0.1', 5672)
BROKER_USER = 'guest'
REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
START_TIMEOUT = 120
GRACEFUL_SHUTDOWN_TIMEOUT = 5
STOP_TIMEOUT = GRACEFUL_SHUTDOWN_TIMEOUT + 15


class MessageBus(fixtures.Fixture):
    """nova's RPC over RabbitMQ, in place of nova's in-process fake one.

    Every cell's transport is this one bus, as nova's RPCFixture collapses
    its fake ones. It is a virtual host of the test's own, deleted with all
    its queues at cleanup, so no message of another test reaches it.
    """

    def __init__(self):
        super().__init__()
        self.vhost = 'pkvmtest-' + uuidutils.generate_uuid()
        self.url = 'rabbit://%s:%s@%s:%d/%s' % (
            BROKER_USER, BROKER_USER, BROKER[0], BROKER[1], self.vhost)

    def setUp(self):
        super().setUp()
        self._check_reachable()
        _rabbitmqctl('add_vhost', self.vhost)
        self.addCleanup(_rabbitmqctl, 'delete_vhost', self.vhost)
        _rabbitmqctl('set_permissions', '-p', self.vhost, BROKER_USER,
                     '.*', '.*', '.*')
        conf = self.useFixture(config_fixture.Config(CONF))
        conf.config(transport_url=self.url)
        # RPC only: notifications stay with nova's test notifier
        transport = messaging.get_rpc_transport(
            CONF, url=self.url, allowed_remote_exmods=rpc.get_allowed_exmods())
        self.addCleanup(transport.cleanup)
        self.useFixture(fixtures.MonkeyPatch('nova.rpc.TRANSPORT', transport))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.rpc.create_transport', lambda url: transport))
        # nova's cell database fixture sends a context's database with it,
        # which only an in-process bus can carry; on a real bus a context
        # travels as in a deployment, and its receiver targets the cell.
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.CheatingSerializer.serialize_context',
            rpc.RequestContextSerializer.serialize_context))

    @staticmethod
    def _check_reachable():
        try:
            socket.create_connection(BROKER, timeout=5).close()
        except OSError as e:
            raise AssertionError(
                'no message bus at %s:%d (%s): run tools/setup-host.sh, '
                'which installs and starts rabbitmq-server' % (BROKER + (e,)))


def _rabbitmqctl(*args):
    done = subprocess.run(['rabbitmqctl', '-q'] + list(args),
                          capture_output=True, text=True, timeout=60)
    if done.returncode:
        raise AssertionError('rabbitmqctl %s failed: %s'
                             % (' '.join(args), done.stderr.strip()))


class PlacementServer(fixtures.Fixture):
    """A placement WSGI application served over HTTP on the loopback."""

    def __init__(self, app):
        super().__init__()
        self.app = app

    def setUp(self):
        super().setUp()
        server = simple_server.make_server(
            '127.0.0.1', 0, self.app, handler_class=_QuietHandler)
        self.endpoint = 'http://127.0.0.1:%d' % server.server_port
        thread = threading.Thread(target=server.serve_forever,
                                  name='placement-http', daemon=True)
        thread.start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, format, *args):
        """placement logs its requests itself."""


class HostCompute(fixtures.Fixture):
    """nova-compute of one bed host, in the host, until cleanup.

    Its configuration file, state and log are in work_dir; the log's tail
    says why it failed to start.
    """

    def __init__(self, bed, host, work_dir, catalogue, options):
        super().__init__()
        self.bed = bed
        self.host = host
        self.work_dir = work_dir
        self.catalogue = catalogue
        self.options = options
        self.log = os.path.join(work_dir, 'nova-compute.log')
        self.process = None

    def setUp(self):
        super().setUp()
        os.makedirs(os.path.join(self.work_dir, 'locks'), exist_ok=True)
        config = os.path.join(self.work_dir, 'nova.conf')
        options = dict(self.options)
        options['nova_sys_admin'] = {
            # privsep's daemon, started as root without sudo
            'helper_command': '%s --config-file %s' % (
                os.path.join(os.path.dirname(sys.executable),
                             'privsep-helper'), config)}
        _write_config(config, options)
        with open(self.log, 'ab') as log:
            self.process = self.bed.spawn(
                self.host,
                [sys.executable, '-m', 'tests.hypervisor.compute_process',
                 '--config-file', config,
                 '--image-catalogue', self.catalogue.directory],
                # entering a mount namespace leaves the working directory;
                # native threads are nova-compute's own default (nova 34),
                # said here for tests/__init__.py's patching too
                env=dict(os.environ, PYTHONPATH=REPOSITORY,
                         OS_NOVA_DISABLE_EVENTLET_PATCHING='1'),
                stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        self.addCleanup(self.stop)

    def running(self):
        return self.process is not None and self.process.poll() is None

    def terminate(self):
        """SIGTERM: nova-compute stops its service (not waited for)."""
        if self.running():
            os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self):
        """SIGTERM, and SIGKILL if it outlives its graceful shutdown."""
        if not self.running():
            return
        self.terminate()
        try:
            self.process.wait(STOP_TIMEOUT)
        except testbed.timeout_errors():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines=40):
        with open(self.log, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])


def _write_config(path, options):
    with open(path, 'w') as f:
        for group, values in options.items():
            f.write('[%s]\n' % group)
            for name, value in values.items():
                f.write('%s = %s\n' % (name, value))
            f.write('\n')


class HostComputesTestBase(two_hosts.TwoHostTestBase):
    """Two bed hosts, each with its nova-compute running in it."""

    # casts stay casts, as in a deployment
    CAST_AS_CALL = False
    # nova-compute's periodic resource update, to see a host's new state
    # soon (nova's default: every 60 s)
    UPDATE_RESOURCES_INTERVAL = 5
    # {group: {option: value}} more for both nova-computes
    COMPUTE_OPTIONS = {}

    def setUp(self):
        # the harness's placement application, to serve it over HTTP too
        self._placement_apps = []
        loadapp = deploy.loadapp

        def keep(conf):
            app = loadapp(conf)
            self._placement_apps.append(app)
            return app

        self.useFixture(fixtures.MonkeyPatch(
            'placement.deploy.loadapp', keep))
        super().setUp()

    def _setup_services(self):
        bus = self.useFixture(MessageBus())
        for cell in self.cell_mappings.values():
            cell.transport_url = bus.url
            cell.save()
        self.bus = bus
        super()._setup_services()
        self._wait_for_computes()

    def _setup_compute_service(self):
        placement = self.useFixture(PlacementServer(self._placement_apps[-1]))
        self.work_dir = self.useFixture(fixtures.TempDir()).path
        os.chmod(self.work_dir, 0o755)
        catalogue_dir = os.path.join(self.work_dir, 'images')
        os.mkdir(catalogue_dir)
        self.catalogue = images.Catalogue(catalogue_dir)
        self.host_computes = {}
        for host in (two_hosts.SOURCE, two_hosts.DEST):
            work_dir = os.path.join(self.work_dir, host)
            os.mkdir(work_dir)
            self.host_computes[host] = self.useFixture(HostCompute(
                self.bed, host, work_dir, self.catalogue,
                self._compute_options(host, work_dir, placement.endpoint)))
            self.reconnect(host)
        # both shut down at once, before each is waited for
        for compute in self.host_computes.values():
            self.addCleanup(compute.terminate)
        self.addCleanup(self._disconnect)
        self.addOnException(self._attach_compute_logs)

    def _attach_compute_logs(self, exc_info):
        for host, compute in self.host_computes.items():
            with open(compute.log, errors='replace') as f:
                self.addDetail('nova-compute of %s' % host,
                               content.text_content(f.read()))

    def _compute_options(self, host, work_dir, placement_endpoint):
        powerkvm = {name: CONF.powerkvm[name] for name in (
            'host_probe', 'static_generation', 'static_cores',
            'static_subcores_per_core')}
        options = {
            'DEFAULT': {
                'host': host,
                'compute_driver': base.DRIVER,
                'instances_path': self.bed.instances_path,
                'state_path': work_dir,
                'instance_name_template': CONF.instance_name_template,
                'shutdown_timeout': CONF.shutdown_timeout,
                'transport_url': self.bus.url,
                'update_resources_interval': self.UPDATE_RESOURCES_INTERVAL,
                # nova 34's nova-compute in native threading mode does not
                # end its graceful shutdown by itself: its default thread
                # pool never drains, for libvirt's event dispatch loops run
                # in it forever (nova/virt/libvirt/host.py)
                'graceful_shutdown_timeout': GRACEFUL_SHUTDOWN_TIMEOUT,
                'debug': True,
            },
            'libvirt': {
                'virt_type': CONF.libvirt.virt_type,
                'connection_uri': self.bed.uri(host),
            },
            'powerkvm': powerkvm,
            'placement': {
                # placement's noauth2 middleware takes 'admin' as admin
                'auth_type': 'admin_token',
                'endpoint': placement_endpoint,
                'token': 'admin',
            },
            'oslo_messaging_notifications': {'driver': 'noop'},
            'oslo_concurrency': {
                'lock_path': os.path.join(work_dir, 'locks')},
        }
        for group, values in self.COMPUTE_OPTIONS.items():
            options.setdefault(group, {}).update(values)
        return options

    def _wait_for_computes(self):
        """Until both computes are up and mapped to the cell.

        Mapping them is what an operator does with 'nova-manage cell_v2
        discover_hosts' once a new compute has registered.
        """
        deadline = time.monotonic() + START_TIMEOUT
        ctxt = nova_context.get_admin_context()
        waiting = set(self.host_computes)
        while waiting:
            for host in sorted(waiting):
                compute = self.host_computes[host]
                if not compute.running():
                    self.fail('nova-compute of %s exited (%s); its log:\n%s'
                              % (host, compute.process.returncode,
                                 compute.log_tail()))
                services = self.admin_api.get_services(
                    binary='nova-compute', host=host)
                if (services and services[0]['state'] == 'up'
                        and self._has_node(host)):
                    waiting.discard(host)
            if time.monotonic() > deadline:
                self.fail('nova-compute of %s not up after %ss; log:\n%s'
                          % (', '.join(sorted(waiting)), START_TIMEOUT,
                             '\n'.join(self.host_computes[h].log_tail()
                                       for h in sorted(waiting))))
            time.sleep(0.5)
        objects.host_mapping.discover_hosts(ctxt)

    def _has_node(self, host):
        """Whether host's compute node is in placement (so in nova too)."""
        return bool(self.placement.get(
            '/resource_providers?name=%s' % host).body['resource_providers'])

    # -- where a host keeps its guests' files -------------------------------

    def instance_dir_on(self, host, server):
        return os.path.join(self.bed.host_instances_dir(host), server['id'])

    def instance_dir(self, server):
        """The server's directory on the host nova says it is on."""
        host = self.api.get_server(server['id'])['OS-EXT-SRV-ATTR:host']
        return self.instance_dir_on(host, server)

    def host_endianness(self, host):
        """What host last told the scheduler it holds (guests and claims)."""
        node = objects.ComputeNode.get_by_nodename(
            nova_context.get_admin_context(), host)
        return node.stats.get(records.STAT_ENDIANNESS)

    def wait_for_endianness(self, holds, timeout=60):
        """Until each host of holds reports its endianness ('' for none)."""
        deadline = time.monotonic() + timeout
        while True:
            reported = {h: self.host_endianness(h) for h in holds}
            if reported == holds:
                return
            if time.monotonic() > deadline:
                self.fail('hosts report %s, not %s, after %ss'
                          % (reported, holds, timeout))
            time.sleep(0.5)

    def _image(self, name, disk_format, path, **properties):
        image_id = super()._image(name, disk_format, path, **properties)
        self.catalogue.add(self.glance.show(None, image_id), path)
        return image_id
