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

"""PowerKVMDriver on a real libvirtd and qemu-system-ppc64 (TCG).

nova's API, conductor, scheduler, placement and compute manager run in this
process (nova's functional harness), exactly as in the functional tier, but
the compute's libvirt is the real one at qemu:///system: guests are real
QEMU pseries machines. Needs root, a running libvirtd and virtlogd, and the
test guest built by tools/build-test-guest.sh. A missing piece fails the
test with the step that provides it; nothing here is skipped.
"""

import calendar
import copy
import os
import shutil
import sys
import tempfile
import time
from unittest import mock

import fixtures
# The real libvirt binding, imported before nova's TestCase poisons new
# imports of 'libvirt' (nova.tests.fixtures.ImportModulePoisonFixture).
import libvirt
from lxml import etree
from nova import context as nova_context
from nova.tests import fixtures as nova_fixtures
from nova.tests.functional import integrated_helpers
import os_vif
from oslo_utils import uuidutils
import psutil

from tests.fixtures import cell_lock
from tests.fixtures import images
from tools import test_guest

URI = 'qemu:///system'
HOST = 'powerkvm-hv1'
DRIVER = 'powerkvm.PowerKVMDriver'
# Domain names of this tier, so a leftover from an interrupted run is
# recognisable and never mistaken for someone else's guest.
NAME_PREFIX = 'pkvmtest-'
# How long nova waits for a guest to power itself off before it destroys
# the domain. The firmware-only BE guests never do: a stop waits this out.
SHUTDOWN_TIMEOUT = 3
# ... and in a test of a clean stop: the Linux test guests power off in
# under a second of their own time, far within this, and nova's test API
# waits for the stop it casts (under the RPC timeout).
CLEAN_SHUTDOWN_TIMEOUT = 30
GUEST_DIR = test_guest.DIR
BE_GUEST_DIR = test_guest.BE_DIR
FIGURES = os.environ.get('POWERKVM_FIGURES',
                         os.path.join(tempfile.gettempdir(),
                                      'powerkvm-hypervisor-figures.txt'))


# nova's TestCase poisons these so that unit tests never look at the test
# node; this tier's compute is the test node and must see it as it is.
_HOST_INSPECTION = {
    'os.uname': os.uname,
    'psutil.net_if_addrs': psutil.net_if_addrs,
}


def record_figure(name, value):
    """Keep a measured figure where CI prints it from."""
    with open(FIGURES, 'a') as f:
        f.write('%s: %s\n' % (name, value))


class _FailOnNewFault:
    """nova's API client, failing the test when a server newly faults.

    A fault recorded since the wait began, on a server in ERROR with no
    task running: an older fault (a server awaited back from ERROR) does
    not count. Fault times have whole seconds.
    """

    def __init__(self, test, api):
        self.test, self.api = test, api
        self.since = time.time() - 1

    def get_server(self, server_id):
        server = self.api.get_server(server_id)
        fault = server.get('fault')
        if (server['status'] == 'ERROR' and fault and
                server.get('OS-EXT-STS:task_state') is None and
                _epoch(fault['created']) >= self.since):
            self.test.fail('server %s went to ERROR: %s' % (
                server_id, fault['message']))
        return server


def _epoch(text):
    """Seconds since the epoch of an API time ('2026-12-01T01:27:25Z')."""
    return calendar.timegm(time.strptime(text, '%Y-%m-%dT%H:%M:%SZ'))


class RealHypervisorTestBase(integrated_helpers._IntegratedTestBase):

    ADMIN_API = True
    microversion = 'latest'
    # A TCG guest boots in tens of seconds; nova's 10 s polls are too short.
    BOOT_TIMEOUT = 240
    # nova's helpers wait 5 s for a server's state (10 polls, 0.5 s
    # apart): enough for its fake driver, not for a real libvirtd and QEMU
    # on a loaded machine (a build here downloads an image, writes a qcow2
    # overlay and starts QEMU). A wait that fails takes this long.
    STATE_TIMEOUT = 180

    def _wait_for_server_parameter(self, server, expected_params,
                                   max_retries=10, **kwargs):
        api = kwargs.get('api') or getattr(self, 'admin_api', self.api)
        if expected_params.get('status', 'ERROR') != 'ERROR':
            # a server that fails while awaited fails the wait at once,
            # with its fault, not STATE_TIMEOUT later
            kwargs['api'] = _FailOnNewFault(self, api)
        return super()._wait_for_server_parameter(
            server, expected_params,
            max_retries=max(max_retries, int(self.STATE_TIMEOUT / 0.5)),
            **kwargs)
    # The emulated host as the static probe describes it: a POWER8 in SMT1
    # with this machine's CPU count as cores (nova's harness forbids
    # reading /sys, and an x86 /sys says nothing of POWER anyway).
    SUBCORES_PER_CORE = 1

    def setUp(self):
        self._check_prerequisites()
        self.conn = libvirt.open(URI)
        self._destroy_leftovers()
        # qemu runs as an unprivileged user: the instance tree must be
        # traversable, which a mkdtemp() directory (0700) is not.
        self.instances_path = tempfile.mkdtemp(prefix='pkvm-hv-',
                                               dir='/var/tmp')
        os.chmod(self.instances_path, 0o755)
        self.addCleanup(shutil.rmtree, self.instances_path, True)
        self.flags(instances_path=self.instances_path,
                   instance_name_template=NAME_PREFIX + '%(uuid)s',
                   shutdown_timeout=SHUTDOWN_TIMEOUT)
        self.flags(virt_type='qemu', group='libvirt')
        self.flags(host_probe='static', static_generation='POWER8',
                   static_cores=os.cpu_count() or 1,
                   static_subcores_per_core=self.SUBCORES_PER_CORE,
                   group='powerkvm')
        self.flags(api_paste_config=os.path.join(
            sys.prefix, 'etc', 'nova', 'api-paste.ini'), group='wsgi')
        os_vif.initialize()
        # before nova's harness makes its CellDatabases
        self.useFixture(cell_lock.CellLock())
        super().setUp()
        self.ctxt = nova_context.get_admin_context()
        self.addCleanup(self.conn.close)

    def _check_prerequisites(self):
        missing = test_guest.missing()
        if missing:
            path, script = missing
            self.fail('%s is missing: run tools/%s %s'
                      % (path, script, os.path.dirname(path)))
        try:
            libvirt.open(URI).close()
        except libvirt.libvirtError as e:
            self.fail('cannot connect to %s (%s): start virtlogd and '
                      'libvirtd as root (see .ci/run)' % (URI, e))

    def _destroy_leftovers(self):
        for dom in self.conn.listAllDomains():
            if dom.name().startswith(NAME_PREFIX):
                # a transient domain (as nova's live snapshot leaves one
                # for a moment) is gone once destroyed
                persistent = dom.isPersistent()
                if dom.isActive():
                    dom.destroy()
                if persistent:
                    dom.undefine()

    def _setup_services(self):
        for name, real in _HOST_INSPECTION.items():
            self.useFixture(fixtures.MonkeyPatch(name, real))
        # nova-compute runs its privileged calls in a privsep daemon as
        # root; this process is root, so they run here, for real.
        self.useFixture(nova_fixtures.PrivsepFixture())
        # libvirt's event loop runs forever in nova's thread pool, which a
        # test must be able to shut down; nova's functional tests turn it
        # off the same way. nova then learns guest state by polling
        # (sync_power_states) instead of lifecycle events.
        self.useFixture(fixtures.MockPatch(
            'nova.virt.libvirt.host.Host._init_events'))
        self.computes = {}
        super()._setup_services()

    def _setup_compute_service(self):
        return self.start_real_compute(HOST)

    def start_real_compute(self, name, driver=DRIVER):
        """A nova-compute service named name on this machine's libvirtd.

        Several may share the one libvirtd (the demo's two hosts); each then
        needs its own node name and node UUID, which nova otherwise takes
        from the machine, as nova's functional tests do for theirs.
        """
        self.flags(compute_driver=driver)
        node_uuid = uuidutils.generate_uuid()
        with mock.patch('nova.virt.node.get_local_node_uuid',
                        return_value=node_uuid), \
                mock.patch('nova.virt.libvirt.host.Host.get_hostname',
                           return_value=name):
            compute = self.start_service('compute', host=name)
            compute.driver._host.get_node_uuid()
        compute.driver._host.get_hostname = lambda: name
        self.computes[name] = compute
        return compute

    # -- images -----------------------------------------------------------

    def _image(self, name, disk_format, path, **properties):
        image = images.record(name, disk_format, os.path.getsize(path),
                              **properties)
        with open(path, 'rb') as data:
            self.glance.create(None, copy.deepcopy(image), data=data)
        return image['id']

    def little_endian_linux_image(self):
        """Debian's ppc64el kernel + a busybox initramfs, booted directly."""
        return self._linux_image('ppc64el', GUEST_DIR,
                                 hw_architecture='ppc64le')

    def big_endian_linux_image(self, labelled=True):
        """The big-endian Linux test guest, booted directly.

        :param labelled: whether the disk image says hw_architecture=ppc64;
            unlabelled, its kernel's ELF header is the only evidence
        """
        labels = {'hw_architecture': 'ppc64'} if labelled else {}
        return self._linux_image('ppc64', BE_GUEST_DIR, **labels)

    def _linux_image(self, arch, where, **labels):
        """A test guest's disk image, with its kernel and initramfs."""
        kernel = self._image(arch + '-vmlinux', 'aki',
                             os.path.join(where, 'vmlinux'))
        ramdisk = self._image(arch + '-initramfs', 'ari',
                              os.path.join(where, 'initramfs.cpio.gz'))
        return self._image(arch + '-linux', 'raw',
                           os.path.join(where, 'disk.raw'),
                           kernel_id=kernel, ramdisk_id=ramdisk, **labels)

    def big_endian_image(self):
        """A blank disk: the BE guest runs SLOF firmware and stays there."""
        return self._image('ppc64-blank', 'raw',
                           os.path.join(GUEST_DIR, 'disk.raw'),
                           hw_architecture='ppc64')

    def keep_uploaded_images(self):
        """Keep what a snapshot uploads, as an image service does.

        nova's glance fixture drops uploaded data; a boot of the snapshot
        must run what the snapshot took.
        """
        update = self.glance.update

        def keeping(context, image_id, metadata, data=None, **kw):
            if data is not None:
                self.glance._imagedata[image_id] = data.read()
            return update(context, image_id, metadata, **kw)
        self.useFixture(fixtures.MockPatchObject(
            self.glance, 'update', side_effect=keeping))

    def snapshot(self, server, name):
        """The id of the server's snapshot, once nova has uploaded it."""
        image_id = self.api.post_server_action(
            server['id'], {'createImage': {'name': name}})['image_id']
        # done when the server's task (image_snapshot, image_uploading) is
        deadline = time.monotonic() + self.BOOT_TIMEOUT
        while time.monotonic() < deadline:
            time.sleep(1)
            if self.api.get_server(server['id'])[
                    'OS-EXT-STS:task_state'] is None:
                return image_id
        self.fail('snapshot %s never finished' % image_id)

    # -- guests -----------------------------------------------------------

    def boot(self, image_id):
        return self._create_server(image_uuid=image_id, networks='none')

    def domain(self, server):
        return self.conn.lookupByUUIDString(server['id'])

    def domain_xml(self, server):
        return etree.fromstring(self.domain(server).XMLDesc(0))

    def instance_dir(self, server):
        return os.path.join(self.instances_path, server['id'])

    def console(self, server):
        try:
            with open(os.path.join(self.instance_dir(server),
                                   'console.log'), errors='replace') as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def wait_for_console(self, server, text, timeout=None):
        """Seconds until the guest's console log shows text."""
        start = time.monotonic()
        deadline = start + (timeout or self.BOOT_TIMEOUT)
        while time.monotonic() < deadline:
            if text in self.console(server):
                return time.monotonic() - start
            time.sleep(0.5)
        self.fail('%r not on the console of %s after %ss; console:\n%s'
                  % (text, server['id'], timeout or self.BOOT_TIMEOUT,
                     self.console(server)[-3000:]))

    def action(self, server, body, state):
        self.api.post_server_action(server['id'], body)
        return self._wait_for_state_change(server, state)

    def assert_nothing_left(self, server):
        names = [d.name() for d in self.conn.listAllDomains()]
        self.assertNotIn(NAME_PREFIX + server['id'], names)
        self.assertFalse(os.path.exists(self.instance_dir(server)),
                         os.listdir(self.instances_path))
