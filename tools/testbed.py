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

"""Several libvirt hosts on one machine, to live-migrate real guests.

Each host is a network, mount and UTS namespace held open by a 'sleep'
process (its holder). It has its own hostname, address and /etc/hosts, its
own libvirt configuration and state, and its own virtlogd and libvirtd, so
the QEMUs that libvirtd spawns live in the host too. Commands run in a host
with 'nsenter -t <holder> --net --mount --uts'. The root namespace (where a
test runs nova-compute) reaches each libvirtd over its UNIX socket:
qemu+unix:///system?socket=<state dir>/<host>/run/libvirt-sock. libvirtd A
migrates peer to peer to qemu+tcp://<host B>/system, as between machines.

Why it is built this way:

* The hosts are joined by a Linux bridge in a separate "switch" namespace,
  through a veth pair each, so two or three hosts are wired the same way
  and nothing is added to the root namespace. With no address or route
  there, all migration traffic stays on the hosts' own addresses, from
  198.18.0.0/24 (RFC 2544's benchmarking range, which no real network
  uses).
* Each host bind-mounts its own /etc/hosts naming every host: the source
  libvirtd resolves qemu+tcp://<destination>/system, and the destination
  libvirtd hands the source QEMU a migration URI made of its own hostname.
* Each host's libvirtd.conf has its own host_uuid: libvirt refuses to
  migrate to a host with its own UUID, which hosts of one machine share
  (libvirt reads it from the machine's SMBIOS).
* Per-host /run/libvirt, /var/lib/libvirt, /var/cache/libvirt,
  /var/log/libvirt and /etc/libvirt (bind mounts) keep the daemons apart
  from each other and from the machine's own libvirtd.
* qemu.conf's cgroup_controllers is empty: without systemd, libvirt puts a
  guest in the cgroup /machine/qemu-<id>-<name>, ids start at 1 in every
  libvirtd, and the hosts share the machine's cgroup tree, so both ends of
  a migration would share (and the source then remove) one cgroup.
* The instances directory has one path on every host. storage='shared':
  it is one directory, seen by the root namespace and all hosts (shared
  storage live migration). storage='local': each host bind-mounts its own
  directory over it and cannot see the others' (block migration).
* Each holder has PKVM_TESTBED_HOLDER=<state dir>/<name> in its
  environment, so down() (and up(), which starts with it) finds every
  holder of the bed, even one a killed process had no time to record. It
  kills every process in the holders' network or mount namespaces:
  holders, daemons, QEMUs and what spawn() started. That frees the
  namespaces, and with them the bridge, the veths and every mount (none
  is made in the root namespace); then it removes the directories.
  <state dir>/bed.json tells the hosts and data dir.
* A host given its emulators (emulators={host: ('x86_64', ...)}) sees
  only those QEMU system emulators: /dev/null is bind-mounted over every
  other qemu-system-* in its mount namespace. libvirt lists a guest
  architecture for each emulator binary it finds executable (its
  virQEMUCapsFindBinaryForArch), so that host's libvirtd reports the
  guests of an x86 machine without the POWER emulators, which every host
  of one machine would otherwise share.
"""

import argparse
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid

HOSTS = ('pkvm-a', 'pkvm-b')
STORAGE_MODES = ('shared', 'local')
STATE_DIR = '/run/pkvm-testbed'
# Under /var/lib (on disk) rather than /run (often tmpfs): guest disks.
DATA_DIR = '/var/lib/pkvm-testbed'
SUBNET = '198.18.0.'
FIRST_ADDRESS = 11
PREFIX_LENGTH = 24
BRIDGE = 'br0'
SWITCH = 'switch'
HOST_NAME = '[a-z][a-z0-9-]{0,30}'
# Per-host directory name -> what it is mounted over inside the host.
LIBVIRT_DIRS = (
    ('run', '/run/libvirt'),
    ('lib', '/var/lib/libvirt'),
    ('cache', '/var/cache/libvirt'),
    ('log', '/var/log/libvirt'),
    ('etc', '/etc/libvirt'),
)
# Paths as seen inside a host. Not the defaults (/run/libvirtd.pid...),
# which belong to the machine's own daemons.
LIBVIRTD_PIDFILE = '/run/libvirt/libvirtd.pid'
VIRTLOGD_PIDFILE = '/run/libvirt/virtlogd.pid'
LIBVIRTD_LOG = '/var/log/libvirt/libvirtd.log'
CAPABILITIES_CACHE = '/var/cache/libvirt/qemu/capabilities'
READY_TIMEOUT = 30
TOOLS = ('unshare', 'nsenter', 'ip', 'mount', 'libvirtd', 'virtlogd',
         'virsh', 'bindfs')
# Starts the holder in the background and prints its pid. sh exits at
# once, so the holder is reparented to init, which reaps it when killed.
HOLDER_SCRIPT = 'err=$1; shift; "$@" </dev/null >/dev/null 2>>"$err" & echo $!'
# In a holder's environment: <state dir>/<host or switch>. It finds the
# holders of a bed, even those that a killed up() had no time to record.
HOLDER_MARK = 'PKVM_TESTBED_HOLDER'


class TestBedError(Exception):
    """The test bed cannot be set up or torn down; the message says why."""


class TestBed(object):
    """Hosts in namespaces, each with its libvirtd; see the module doc."""

    def __init__(self, hosts=HOSTS, storage='shared', state_dir=STATE_DIR,
                 data_dir=DATA_DIR, subnet=SUBNET, emulators=None):
        if storage not in STORAGE_MODES:
            raise ValueError('storage must be one of %s, not %r'
                             % (STORAGE_MODES, storage))
        if (not hosts or len(set(hosts)) != len(hosts) or SWITCH in hosts
                or not all(re.fullmatch(HOST_NAME, h) for h in hosts)):
            raise ValueError('hosts must be distinct host names other than '
                             '%r: %r' % (SWITCH, hosts))
        for path in (state_dir, data_dir):
            # down() removes them whole: never '/', '/run' and the like.
            if not os.path.isabs(path) or path.count('/') < 2:
                raise ValueError('%r is not a dedicated absolute directory '
                                 '(like %s)' % (path, STATE_DIR))
        if not re.fullmatch(r'198\.1[89]\.\d{1,3}\.', subnet):
            raise ValueError('subnet must be a /24 of 198.18.0.0/15 (RFC '
                             '2544), as "198.18.1.", not %r' % subnet)
        self.hosts = tuple(hosts)
        # beds of other subnets (the cloud's, a test's) can run at once
        self.subnet = subnet
        self.storage = storage
        self.state_dir = os.path.normpath(state_dir)
        self.data_dir = os.path.normpath(data_dir)
        self.instances_path = os.path.join(self.data_dir, 'instances')
        # host -> the only QEMU guest architectures it has (module doc)
        self.emulators = {h: tuple(a) for h, a in (emulators or {}).items()}
        if not set(self.emulators) <= set(self.hosts):
            raise ValueError('emulators of hosts not in the bed: %s'
                             % sorted(set(self.emulators) - set(hosts)))
        self._holders = {}

    @classmethod
    def attach(cls, state_dir=STATE_DIR):
        """The bed that an earlier up() (say, the CLI's) left in state_dir."""
        state = _load_state(state_dir)
        if state is None:
            raise TestBedError('no test bed in %s' % state_dir)
        bed = cls(state['hosts'], state['storage'], state_dir,
                  state['data_dir'], state.get('subnet', SUBNET),
                  state.get('emulators'))
        bed._holders = _find_holders(state_dir)
        return bed

    def __enter__(self):
        self.up()
        return self

    def __exit__(self, *exc_info):
        self.down()

    # -- where things are --------------------------------------------------

    def uri(self, host):
        """The libvirt URI of host's libvirtd, from the root namespace."""
        sock = os.path.join(self._host_dir(host), 'run', 'libvirt-sock')
        return 'qemu+unix:///system?socket=' + sock

    def address(self, host):
        return self.subnet + str(FIRST_ADDRESS + self.hosts.index(host))

    def host_instances_dir(self, host):
        """Where the root namespace sees host's instances_path."""
        if self.storage == 'local':
            return os.path.join(self.data_dir, 'local', host)
        return self.instances_path

    def libvirtd_pid(self, host):
        return int(_read(self._host_path(host, LIBVIRTD_PIDFILE)))

    def log_tail(self, host, lines=20):
        """The last lines of host's libvirtd log (warnings and errors)."""
        log = _read(self._host_path(host, LIBVIRTD_LOG)) or '(empty)\n'
        return ''.join(log.splitlines(True)[-lines:])

    def _host_dir(self, host):
        return os.path.join(self.state_dir, host)

    def _host_path(self, host, path):
        """The root namespace's path of path inside host's libvirt dirs."""
        for name, mountpoint in LIBVIRT_DIRS:
            if path.startswith(mountpoint + '/'):
                return os.path.join(self._host_dir(host), name,
                                    path[len(mountpoint) + 1:])
        raise ValueError('%s is not in a per-host libvirt directory' % path)

    # -- running things in a host ------------------------------------------

    def run(self, host, argv, **kwargs):
        """subprocess.run(argv) in host's namespaces (check=True default)."""
        kwargs.setdefault('check', True)
        return subprocess.run(self._nsenter(host, argv), **kwargs)

    def spawn(self, host, argv, **kwargs):
        """subprocess.Popen(argv) on host's files, in the machine's network.

        In host's mount and UTS namespaces (its instances directory, its
        libvirt socket, its hostname) but the root network namespace: how
        a host's nova-compute reaches a control plane (message bus,
        placement) served on this machine's loopback. down() kills it too.
        """
        return subprocess.Popen(
            self._nsenter(host, argv, ['--mount', '--uts']), **kwargs)

    def command(self, host, argv):
        """argv as run in host's network, mount and UTS namespaces.

        What a machine's own daemon is: nova-compute of a deployment
        (tools/cloud) runs so, on the host's address.
        """
        return self._nsenter(host, argv)

    def plug_root(self, link, address):
        """Join the root namespace to the switch, as link with address.

        Opt-in, for a control plane served from the root namespace that
        the hosts reach on the bed's network (tools/cloud). The pair is
        made in the switch, its peer straight in the root namespace (that
        of pid 1); it goes with the switch's namespace when down() ends it.
        """
        self._plug('port-root', link, 1)
        _call(['ip', 'address', 'add', '%s/%d' % (address, PREFIX_LENGTH),
               'dev', link])
        _call(['ip', 'link', 'set', link, 'up'])

    def plug_host(self, host, link):
        """A second link of host into the switch, up, with no address.

        Opt-in, for a data plane beside the hosts' own network: a cloud's
        provider network (tools/cloud) on the same switch.
        """
        self._plug('data%d' % self.hosts.index(host), link,
                   self._holders[host])
        self._in(host, 'ip', 'link', 'set', link, 'up')

    def _nsenter(self, name, argv, namespaces=None):
        if name not in self._holders:
            raise TestBedError('%s is not part of the running bed in %s'
                               % (name, self.state_dir))
        if namespaces is None:
            namespaces = ['--net'] if name == SWITCH else [
                '--net', '--mount', '--uts']
        return (['nsenter', '-t', str(self._holders[name])] + namespaces
                + ['--'] + list(argv))

    def _in(self, name, *argv):
        """Run argv in host (or the switch) name, failing with its stderr."""
        return _call(self._nsenter(name, argv))

    # -- up ------------------------------------------------------------------

    def up(self):
        """Start the bed, after cleaning up what an earlier run left."""
        check_prerequisites()
        self.down()
        try:
            self._make_dirs()
            self._start_switch()
            for host in self.hosts:
                self._start_host(host)
        except BaseException:
            self.down()
            raise

    def _make_dirs(self):
        if os.path.exists(self.state_dir):
            raise TestBedError('%s exists but has no bed.json: not a test '
                               'bed\'s state; remove it or use another'
                               % self.state_dir)
        _mkdir(self.state_dir)
        # Written before anything else, so that down() knows the data dir.
        self._save()
        # 0755 all the way: QEMU runs as an unprivileged user.
        _mkdir(self.data_dir)
        _mkdir(self.instances_path)
        for host in self.hosts:
            _mkdir(self.host_instances_dir(host))

    def _spawn_holder(self, name, namespaces):
        """A 'sleep' in new namespaces, marked as name's holder."""
        err = os.path.join(self.state_dir, 'holders.err')
        argv = (['env', '%s=%s' % (HOLDER_MARK, self._host_dir(name)),
                 'unshare'] + namespaces + ['sleep', 'infinity'])
        pid = int(_call(['sh', '-c', HOLDER_SCRIPT, 'holder', err] + argv,
                        start_new_session=True).stdout)
        self._holders[name] = pid

        def unshared():
            comm = _read('/proc/%d/comm' % pid)
            if not comm:
                raise TestBedError('%s failed for %s: %s'
                                   % (' '.join(argv), name, _read(err)))
            # unshare execs sleep once the namespaces exist.
            return comm.strip() == 'sleep'

        _wait_for(unshared, 10, 'the namespaces of %s' % name)

    def _start_switch(self):
        self._spawn_holder(SWITCH, ['--net'])
        self._in(SWITCH, 'ip', 'link', 'add', BRIDGE, 'type', 'bridge')
        self._in(SWITCH, 'ip', 'link', 'set', BRIDGE, 'up')

    def _start_host(self, host):
        self._spawn_holder(host, ['--net', '--mount', '--uts',
                                  '--propagation', 'private'])
        self._write_host_files(host)
        self._connect(host)
        self._mount_host_dirs(host)
        self._in(host, 'virtlogd', '-d', '-p', VIRTLOGD_PIDFILE)
        self._seed_qemu_capabilities(host)
        self.start_libvirtd(host)

    def _seed_qemu_capabilities(self, host):
        """Copy the QEMU capabilities cache of the first host (or machine).

        A libvirtd with no cache probes every installed QEMU binary when it
        starts, seconds each; the first host's (made by the first libvirtd
        or copied from the machine's) spares the other hosts that. libvirt
        checks a cache entry against the binaries and probes a stale one.
        """
        source = CAPABILITIES_CACHE
        if host != self.hosts[0]:
            source = self._host_path(self.hosts[0], CAPABILITIES_CACHE)
        if os.path.isdir(source):
            shutil.copytree(source, self._host_path(host, CAPABILITIES_CACHE))

    def _connect(self, host):
        """Plug host into the switch: its eth0, the bridge's portN."""
        self._plug('port%d' % self.hosts.index(host), 'eth0',
                   self._holders[host])
        self._in(host, 'hostname', host)
        self._in(host, 'ip', 'link', 'set', 'lo', 'up')
        self._in(host, 'ip', 'address', 'add',
                 '%s/%d' % (self.address(host), PREFIX_LENGTH), 'dev', 'eth0')
        self._in(host, 'ip', 'link', 'set', 'eth0', 'up')

    def _plug(self, port, peer, netns_pid):
        """A veth pair: port on the switch's bridge, peer in netns_pid's.

        Made in the switch with its peer straight in the other namespace:
        the pair never exists in the root namespace unless it is the other.
        """
        self._in(SWITCH, 'ip', 'link', 'add', port, 'type', 'veth', 'peer',
                 'name', peer, 'netns', str(netns_pid))
        self._in(SWITCH, 'ip', 'link', 'set', port, 'master', BRIDGE, 'up')

    def _write_host_files(self, host):
        root = self._host_dir(host)
        for name, _mountpoint in LIBVIRT_DIRS:
            _mkdir(os.path.join(root, name))
        etc = os.path.join(root, 'etc')
        _copy_libvirt_config(etc)
        _set_options(os.path.join(etc, 'libvirtd.conf'), {
            'host_uuid': str(uuid.uuid4()),
            'listen_tcp': 1,
            'listen_tls': 0,
            'auth_tcp': 'none',
            'listen_addr': self.address(host),
            'log_outputs': '3:file:' + LIBVIRTD_LOG,
        })
        _set_options(os.path.join(etc, 'qemu.conf'), {
            'cgroup_controllers': [],
            # AppArmor profiles are named after the domain's UUID, which
            # the source and destination share: the source would unload
            # the profile of the destination's QEMU.
            'security_driver': 'none',
        })
        lines = ['127.0.0.1 localhost', '::1 localhost']
        lines += ['%s %s' % (self.address(h), h) for h in self.hosts]
        with open(os.path.join(root, 'hosts'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
        os.chmod(os.path.join(root, 'hosts'), 0o644)

    def _mount_host_dirs(self, host):
        root = self._host_dir(host)
        mounts = [(os.path.join(root, name), mountpoint)
                  for name, mountpoint in LIBVIRT_DIRS]
        mounts.append((os.path.join(root, 'hosts'), '/etc/hosts'))
        if self.storage == 'local':
            mounts.append((self.host_instances_dir(host),
                           self.instances_path))
        if os.path.isdir('/run/dbus'):
            # No system bus: libvirt would register every guest with
            # systemd-machined, which takes each name once per machine.
            _mkdir(os.path.join(root, 'dbus'))
            mounts.append((os.path.join(root, 'dbus'), '/run/dbus'))
        for source, target in mounts:
            self._in(host, 'mount', '--bind', source, target)
        if self.storage == 'shared':
            # libvirt migrates a guest whose disks it sees on a shared
            # file system only (NFS, GlusterFS, Ceph...; otherwise "Migration
            # without shared storage is unsafe", and nova sets no
            # VIR_MIGRATE_UNSAFE). The hosts do share this directory, so
            # they see it through a FUSE mirror typed fuse.glusterfs, which
            # libvirt's virFileIsSharedFS takes as shared.
            self._in(host, 'bindfs', '-o', 'subtype=glusterfs',
                     self.instances_path, self.instances_path)
        if self.storage == 'local':
            # Now that the host has its own, hide the others' directories:
            # what a block migration fails to copy is then missing there.
            self._in(host, 'mount', '-t', 'tmpfs', '-o', 'size=64k,mode=755',
                     'tmpfs', os.path.dirname(self.host_instances_dir(host)))
        # A sysfs mounted in the host shows the host's network devices in
        # /sys/class/net, not the machine's (which libvirt's node device
        # driver would list, and fail to query, into its log). It hides
        # the machine's cgroup mounts, which the hosts' libvirtd does not
        # use (cgroup_controllers is empty).
        self._in(host, 'mount', '-t', 'sysfs', 'sysfs', '/sys')
        for binary in hidden_emulators(self.emulators.get(host)):
            self._in(host, 'mount', '--bind', '/dev/null', binary)

    # -- libvirtd ------------------------------------------------------------

    def start_libvirtd(self, host, wait=True):
        # --listen: not socket-activated by systemd, libvirtd 9 opens its
        # TCP socket (listen_tcp) only when told to.
        self._in(host, 'libvirtd', '-d', '--listen', '-p', LIBVIRTD_PIDFILE)
        if wait:
            self._wait_for_libvirtd(host)

    def stop_libvirtd(self, host, signal=signal.SIGKILL):
        """Signal host's libvirtd and wait for it to exit; its pid.

        Its QEMUs keep running; start_libvirtd() reconnects to them.
        """
        pid = self.libvirtd_pid(host)
        os.kill(pid, signal)
        _wait_for(lambda: not _alive(pid), READY_TIMEOUT,
                  'libvirtd of %s (pid %d) to exit' % (host, pid))
        return pid

    def _wait_for_libvirtd(self, host, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not self._answers(host):
            if time.monotonic() > deadline:
                raise TestBedError(
                    'libvirtd of %s is not answering on %s after %d s; the '
                    'end of its log:\n%s'
                    % (host, self.uri(host), timeout, self.log_tail(host)))
            time.sleep(0.1)

    def _answers(self, host, timeout=5):
        return succeeds(['virsh', '-c', self.uri(host), 'version'], timeout)

    def _virsh(self, host, *args, timeout=60):
        return _call(['virsh', '-c', self.uri(host)] + list(args),
                     timeout=timeout).stdout

    # -- down ----------------------------------------------------------------

    def down(self):
        """Destroy the bed in state_dir and all its traces; repeatable."""
        state = _load_state(self.state_dir)
        self._holders = _find_holders(self.state_dir)
        if state is None and not self._holders:
            return
        # Killing a domain's QEMU is what 'virsh destroy' does too; all at
        # once is quicker than asking each libvirtd, which may be dead.
        _kill_all(self._namespaces())
        shutil.rmtree(state['data_dir'] if state else self.data_dir,
                      ignore_errors=True)
        # The state file goes last: an interrupted down() can be redone.
        shutil.rmtree(self.state_dir, ignore_errors=True)
        self._holders = {}

    def processes(self):
        """PIDs of every process in the bed.

        Holders, daemons, QEMUs and whatever spawn() started.
        """
        return _pids_in(self._namespaces())

    def _live(self, name):
        """Whether name's holder runs (its pid is not someone else's)."""
        pid = self._holders.get(name)
        return pid is not None and _mark(pid) == self._host_dir(name)

    def _namespaces(self):
        """The network and mount namespaces of the live holders."""
        namespaces = set()
        for name, pid in self._holders.items():
            if self._live(name):
                namespaces |= _namespaces_of(pid)
        # Never the machine's own (the switch's mount namespace is),
        # whatever went wrong.
        return namespaces - _namespaces_of(os.getpid())

    # -- status --------------------------------------------------------------

    def status(self):
        """Lines describing the bed (as up() or attach() made it)."""
        lines = ['storage %s, instances at %s'
                 % (self.storage, self.instances_path)]
        for host in self.hosts:
            if not self._live(host):
                lines.append('%s: down' % host)
                continue
            domains = (self._virsh(host, 'list', '--all', '--name').split()
                       if self._answers(host) else ['(libvirtd silent)'])
            lines.append('%s: %s, holder %d, %s, domains: %s' % (
                host, self.address(host), self._holders[host],
                self.uri(host),
                ' '.join(domains) or '-'))
        return lines

    def _save(self):
        state = {'hosts': list(self.hosts), 'storage': self.storage,
                 'data_dir': self.data_dir, 'subnet': self.subnet,
                 'emulators': self.emulators}
        path = os.path.join(self.state_dir, 'bed.json')
        with open(path + '.tmp', 'w') as f:
            json.dump(state, f, indent=1)
        os.replace(path + '.tmp', path)


# -- helpers -----------------------------------------------------------------

def hidden_emulators(arches):
    """The QEMU system emulators on PATH a host of arches must not see."""
    if arches is None:
        return []
    found = set()
    for directory in os.environ.get('PATH', os.defpath).split(os.pathsep):
        found.update(os.path.realpath(b) for b in glob.glob(
            os.path.join(directory, 'qemu-system-*')))
    kept = {'qemu-system-' + arch for arch in arches}
    return sorted(b for b in found if os.path.basename(b) not in kept)


def check_prerequisites():
    """Raise TestBedError saying what the machine lacks for a bed."""
    if os.geteuid() != 0:
        raise TestBedError('the test bed needs root (namespaces, mounts, '
                           'libvirtd)')
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise TestBedError('missing %s: on Debian, apt-get install '
                           'util-linux iproute2 mount libvirt-clients bindfs '
                           'libvirt-daemon-system' % ', '.join(missing))


def timeout_errors():
    """The classes of what subprocess raises when a timeout runs out.

    Under eventlet's monkey patching (nova's eventlet mode), run() with a
    timeout raises the TimeoutExpired of eventlet's unpatched copy of
    subprocess, which ``except subprocess.TimeoutExpired`` misses (eventlet
    issue 624, open).
    """
    patcher = sys.modules.get('eventlet.patcher')
    if patcher is None:
        return (subprocess.TimeoutExpired,)
    return (subprocess.TimeoutExpired,
            patcher.original('subprocess').TimeoutExpired)


def succeeds(argv, timeout):
    """Whether argv exits 0 within timeout seconds (if not, it is killed)."""
    try:
        subprocess.run(argv, check=True, capture_output=True, timeout=timeout)
    except (subprocess.CalledProcessError,) + timeout_errors():
        return False
    return True


def _call(argv, timeout=None, **kwargs):
    """subprocess.run(argv, check=True); an error carries its stderr."""
    try:
        return subprocess.run(argv, check=True, capture_output=True,
                              text=True, timeout=timeout, **kwargs)
    except subprocess.CalledProcessError as e:
        raise TestBedError('%s failed (exit status %d): %s'
                           % (' '.join(argv), e.returncode, e.stderr.strip()))


def _copy_libvirt_config(etc):
    """The machine's libvirt settings, without its domains and such.

    Not its domains, networks, storage pools, secrets or hooks: a host
    starts empty.
    """
    _mkdir(etc)
    for name in os.listdir('/etc/libvirt'):
        path = os.path.join('/etc/libvirt', name)
        if os.path.isfile(path):
            shutil.copy2(path, etc)
    if os.path.isdir('/etc/libvirt/nwfilter'):
        shutil.copytree('/etc/libvirt/nwfilter',
                        os.path.join(etc, 'nwfilter'))


def _set_options(path, options):
    """Set options in a libvirt .conf file, replacing earlier settings."""
    with open(path) as f:
        lines = [line for line in f
                 if line.split('=')[0].strip() not in options]
    # JSON's strings, integers and lists are libvirt's .conf syntax.
    lines += ['%s = %s\n' % (key, json.dumps(value))
              for key, value in options.items()]
    with open(path, 'w') as f:
        f.writelines(lines)


def _kill_all(namespaces):
    """SIGKILL every process in the namespaces, till none is left."""
    deadline = time.monotonic() + READY_TIMEOUT
    killed = set()
    while True:
        pids = _pids_in(namespaces)
        if not pids:
            break
        if time.monotonic() > deadline:
            raise TestBedError('processes %s of the test bed survive SIGKILL'
                               % pids)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        killed.update(pids)
        time.sleep(0.05)
    # A process leaves its namespaces before it is reaped: wait for that
    # too, so that none is left at all when down() returns.
    _wait_for(lambda: not any(os.path.exists('/proc/%d' % pid)
                              for pid in killed),
              READY_TIMEOUT, 'processes %s to be reaped' % sorted(killed))


def _load_state(state_dir):
    text = _read(os.path.join(state_dir, 'bed.json'))
    return json.loads(text) if text else None


def _mkdir(path):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o755)


def _read(path):
    """The file's text, or '' if it does not exist (or vanished)."""
    try:
        with open(path) as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError):
        return ''


def _pids():
    return [int(entry) for entry in os.listdir('/proc') if entry.isdigit()]


def _pids_in(namespaces):
    """PIDs of the processes in any of the namespaces."""
    return [pid for pid in _pids() if _namespaces_of(pid) & namespaces]


def _namespaces_of(pid):
    """pid's network and mount namespaces ('net:[n]', 'mnt:[n]'), if any."""
    namespaces = set()
    for kind in ('net', 'mnt'):
        try:
            namespaces.add(os.readlink('/proc/%d/ns/%s' % (pid, kind)))
        except OSError:
            pass  # gone, or a kernel thread
    return namespaces


def _mark(pid):
    """The holder mark in pid's environment, if any."""
    try:
        with open('/proc/%d/environ' % pid, 'rb') as f:
            environ = f.read().split(b'\0')
    except OSError:
        return None
    prefix = HOLDER_MARK.encode() + b'='
    for variable in environ:
        if variable.startswith(prefix):
            return variable[len(prefix):].decode()
    return None


def _find_holders(state_dir):
    """{host or switch name: pid} of the holders marked for state_dir."""
    holders = {}
    for pid in _pids():
        mark = _mark(pid)
        if mark and os.path.dirname(mark) == state_dir:
            holders[os.path.basename(mark)] = pid
    return holders


def _alive(pid):
    fields = _read('/proc/%d/stat' % pid).rpartition(')')[2].split()
    return bool(fields) and fields[0] != 'Z'


def _wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TestBedError('timed out after %d s waiting for %s'
                               % (timeout, what))
        time.sleep(0.05)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Libvirt hosts in namespaces on this machine, for live '
                    'migration tests (see the module doc of %s).' % __file__)
    parser.add_argument('action', choices=('up', 'down', 'status'))
    parser.add_argument('--hosts', default=','.join(HOSTS),
                        help='comma-separated host names (default: '
                             '%(default)s)')
    parser.add_argument('--storage', choices=STORAGE_MODES,
                        default='shared')
    parser.add_argument('--state-dir', default=STATE_DIR)
    parser.add_argument('--data-dir', default=DATA_DIR,
                        help='for up; down takes it from the state dir')
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        bed = TestBed(args.hosts.split(','), args.storage, args.state_dir,
                      args.data_dir)
        if args.action == 'status':
            print('\n'.join(TestBed.attach(args.state_dir).status()))
            return
        getattr(bed, args.action)()
    except (TestBedError, ValueError) as e:
        sys.exit('testbed: %s' % e)
    print('%s in %.1f s' % (args.action, time.monotonic() - started))
    if args.action == 'up':
        print('\n'.join(bed.status()))


if __name__ == '__main__':
    main()
