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

"""The migration test bed (tools/testbed.py) on this machine, for real.

Plain testtools, not nova's TestCase, which forbids subprocesses and host
access: two libvirt hosts in namespaces, the tiny pseries test guest
(tools/build-test-guest.sh) live-migrated from one to the other with
virsh, on shared storage and by block migration, and nothing of the bed
left after down(), also when the process that made it was killed.
"""

import os
import re
import shutil
import subprocess
import sys
import time

import libvirt
import testtools

from tests.hypervisor import base
from tests.hypervisor import guest_console
from tools import testbed

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
# Not the CLI's default dirs: a bed someone left up is not this test's.
STATE_DIR = '/run/pkvm-testbed-test'
DATA_DIR = '/var/lib/pkvm-testbed-test'
SOURCE, DEST = testbed.HOSTS
DOMAIN = 'pkvm-testbed-guest'
GUEST_FILES = ('vmlinux', 'initramfs.cpio.gz', 'disk.raw')
BOOT_TIMEOUT = 180
BOOTED = 'POWERKVM-GUEST-BOOTED'
READY = 'POWERKVM-GUEST-READY'

DOMAIN_XML = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='ppc64le' machine='pseries'>hvm</type>
    <kernel>{dir}/vmlinux</kernel>
    <initrd>{dir}/initramfs.cpio.gz</initrd>
    <cmdline>console=hvc0</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source file='{dir}/disk'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <console type='pty'>
      <log file='{dir}/console.log' append='on'/>
    </console>
  </devices>
</domain>
"""


class TestBedTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.fail('the test bed needs root')
        for name in GUEST_FILES:
            if not os.path.exists(os.path.join(base.GUEST_DIR, name)):
                self.fail('%s is missing: run tools/build-test-guest.sh'
                          % os.path.join(base.GUEST_DIR, name))
        self.machine_before = _machine()
        # Whatever a test leaves, down() finds it by its holders' mark.
        self.addCleanup(testbed.TestBed(state_dir=STATE_DIR,
                                        data_dir=DATA_DIR).down)

    def test_live_migration_on_shared_storage(self):
        # libvirt trusts only NFS, Ceph, GlusterFS and the like as shared:
        # on a local file system it needs telling that this one is.
        self._check_migration('shared', '--unsafe')

    def test_block_migration_on_local_storage(self):
        self._check_migration('local', '--copy-storage-inc')

    def test_down_after_the_creator_was_killed(self):
        """A bed outlives a killed creator; up() and down() clear it."""
        creator = subprocess.Popen(
            [sys.executable, '-c',
             'from tools import testbed\n'
             'testbed.TestBed(state_dir=%r, data_dir=%r).up()\n'
             'print("up", flush=True)\n'
             'import time; time.sleep(600)\n' % (STATE_DIR, DATA_DIR)],
            cwd=REPO, stdout=subprocess.PIPE, text=True)
        self.addCleanup(creator.stdout.close)
        self.addCleanup(creator.wait)
        self.addCleanup(creator.kill)
        self.assertEqual('up\n', creator.stdout.readline())
        orphan = testbed.TestBed.attach(STATE_DIR)
        self._start_guest(orphan)
        creator.kill()
        creator.wait()
        left = orphan.processes()
        self.assertIn('qemu-system-ppc', ' '.join(_read('/proc/%d/comm' % pid)
                                                  for pid in left))
        left_namespaces = _namespaces(left)

        bed = testbed.TestBed(state_dir=STATE_DIR, data_dir=DATA_DIR)
        bed.up()
        self.assertEqual([], [pid for pid in left if _alive(pid)])
        self.assertEqual([], _virsh(bed, SOURCE, 'list', '--all', '--name'))
        gone = _namespaces(bed.processes()) | left_namespaces
        started = time.monotonic()
        bed.down()
        self._assert_nothing_left(gone, time.monotonic() - started)

    # -- the migrations ------------------------------------------------------

    def _check_migration(self, storage, *flags):
        bed = testbed.TestBed(storage=storage, state_dir=STATE_DIR,
                              data_dir=DATA_DIR)
        started = time.monotonic()
        bed.up()
        up_s = time.monotonic() - started
        self._assert_root_namespace_untouched()

        self._start_guest(bed)
        if storage == 'local':
            self._prepare_instance(bed, DEST)
        # One file on shared storage, one per host on local storage.
        logs = list(dict.fromkeys([_console(bed, SOURCE),
                                   _console(bed, DEST)]))
        self._wait_for_ready(logs)
        before = _uptime(bed, SOURCE)
        dest_log = _console(bed, DEST)
        offset = _size(dest_log)

        started = time.monotonic()
        _virsh(bed, SOURCE, 'migrate', '--live', '--p2p', '--persistent',
               '--undefinesource', *flags, DOMAIN,
               'qemu+tcp://%s/system' % DEST)
        migration_s = time.monotonic() - started
        figures = ('%s storage: up %.1f s, migration %.1f s'
                   % (storage, up_s, migration_s))
        print(figures)

        self.assertEqual(['running'], _virsh(bed, DEST, 'domstate', DOMAIN),
                         figures)
        self.assertNotIn(DOMAIN, _virsh(bed, SOURCE, 'list', '--all',
                                        '--name'))
        qemu = int(bed.run(DEST, ['cat', '/run/libvirt/qemu/%s.pid' % DOMAIN],
                           capture_output=True, text=True).stdout)
        dest_ns = bed.run(DEST, ['readlink', '/proc/self/ns/net'],
                          capture_output=True, text=True).stdout.strip()
        self.assertEqual(dest_ns, _link('/proc/%d/ns/net' % qemu))
        # The same guest answers on the destination (through its console's
        # interrupt, also when the migration lost its decrementer), later
        # on and never booted again.
        after = _uptime(bed, DEST)
        self.assertGreater(after, before)
        self.assertNotIn(BOOTED, _read(dest_log)[offset:],
                         'the guest booted again on %s' % DEST)

        gone = _namespaces(bed.processes())
        started = time.monotonic()
        bed.down()
        down_s = time.monotonic() - started
        figures += ', down %.1f s' % down_s
        print('%s; guest uptime %.1f s on %s, %.1f s before'
              % (figures, after, DEST, before))
        base.record_figure('testbed %s storage: up s' % storage,
                           '%.1f' % up_s)
        base.record_figure('testbed %s storage: live migration s' % storage,
                           '%.1f' % migration_s)
        base.record_figure('testbed %s storage: down s' % storage,
                           '%.1f' % down_s)
        self._assert_nothing_left(gone, down_s)

    def _prepare_instance(self, bed, host):
        """The instance directory as nova makes it, on host."""
        root = bed.host_instances_dir(host)
        for directory in ('_base', DOMAIN):
            os.makedirs(os.path.join(root, directory), exist_ok=True)
            os.chmod(os.path.join(root, directory), 0o755)
        shutil.copy(os.path.join(base.GUEST_DIR, 'disk.raw'),
                    os.path.join(root, '_base'))
        for name in ('vmlinux', 'initramfs.cpio.gz'):
            shutil.copy(os.path.join(base.GUEST_DIR, name),
                        os.path.join(root, DOMAIN))
        # In the host, as nova-compute there would: the backing file path
        # is the instances path every host has.
        bed.run(host, ['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'raw',
                       '-b', bed.instances_path + '/_base/disk.raw',
                       '%s/%s/disk' % (bed.instances_path, DOMAIN)])

    def _start_guest(self, bed):
        self._prepare_instance(bed, SOURCE)
        xml = os.path.join(bed.host_instances_dir(SOURCE), DOMAIN + '.xml')
        with open(xml, 'w') as f:
            f.write(DOMAIN_XML.format(
                name=DOMAIN, dir=os.path.join(bed.instances_path, DOMAIN)))
        _virsh(bed, SOURCE, 'define', xml)
        _virsh(bed, SOURCE, 'start', DOMAIN)

    def _wait_for_ready(self, logs):
        deadline = time.monotonic() + BOOT_TIMEOUT
        while READY not in _text(logs):
            if time.monotonic() > deadline:
                self.fail('%s not on the console in %d s; the end of %s:\n%s'
                          % (READY, BOOT_TIMEOUT, logs[-1],
                             _read(logs[-1])[-2000:]))
            time.sleep(0.5)

    # -- leftovers -----------------------------------------------------------

    def _assert_root_namespace_untouched(self):
        addresses = _output('ip', '-o', 'address')
        self.assertNotIn(testbed.SUBNET, addresses)

    def _assert_nothing_left(self, namespaces, down_s):
        self.assertTrue(namespaces)
        in_bed = [pid for pid in _pids()
                  if _link('/proc/%d/ns/net' % pid) in namespaces]
        self.assertEqual([], in_bed, 'processes left in the bed')
        for path in (STATE_DIR, DATA_DIR):
            self.assertFalse(os.path.exists(path), path)
        self.assertEqual(self.machine_before, _machine(),
                         'down() in %.1f s left links, netns or mounts'
                         % down_s)


def _machine():
    """What of the bed's could be left in the machine's namespaces.

    Only the bed's own names: its switch ports and bridge, mounts over the
    libvirt paths it bind-mounts in its hosts or under its directories, and
    named netns. Other work on the machine (a cloud up or down, a VM
    started) changes other links and mounts and is none of this test's.
    """
    port = re.compile(r'(port\d+|%s)$' % re.escape(testbed.BRIDGE))
    links = {name for name in (
        line.split(':')[1].strip().split('@')[0]
        for line in _output('ip', '-o', 'link').splitlines())
        if port.match(name)}
    watched = tuple(target for _name, target in testbed.LIBVIRT_DIRS)
    with open('/proc/self/mountinfo') as f:
        mounts = sorted(point for point in (line.split()[4] for line in f)
                        if point in watched
                        or point.startswith((STATE_DIR, DATA_DIR)))
    return {'links': links, 'netns': _output('ip', 'netns', 'list'),
            'mounts': mounts}


def _virsh(bed, host, *args):
    """virsh's output words; a failure tells libvirtd's log too."""
    result = subprocess.run(['virsh', '-c', bed.uri(host)] + list(args),
                            capture_output=True, text=True)
    if result.returncode:
        raise AssertionError('virsh %s on %s failed: %s\nlibvirtd log:\n%s'
                             % (' '.join(args), host, result.stderr.strip(),
                                bed.log_tail(host)))
    return result.stdout.split()


def _text(logs):
    return ''.join(_read(log) for log in logs)


def _uptime(bed, host):
    """The guest's uptime on host, in its answer to a console ping."""
    conn = libvirt.open(bed.uri(host))
    try:
        return guest_console.ping(conn.lookupByName(DOMAIN))
    finally:
        conn.close()


def _console(bed, host):
    return os.path.join(bed.host_instances_dir(host), DOMAIN, 'console.log')


def _namespaces(pids):
    return {_link('/proc/%d/ns/net' % pid) for pid in pids} - {None}


def _output(*argv):
    return subprocess.run(argv, check=True, capture_output=True,
                          text=True).stdout


def _pids():
    return [int(entry) for entry in os.listdir('/proc') if entry.isdigit()]


def _alive(pid):
    return os.path.exists('/proc/%d' % pid)


def _link(path):
    try:
        return os.readlink(path)
    except OSError:
        return None


def _read(path):
    try:
        with open(path, errors='replace') as f:
            return f.read()
    except FileNotFoundError:
        return ''


def _size(path):
    return len(_read(path))
