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

"""The cloud's storage: a one-node Ceph, as Ceph's vstart.sh runs one.

Debian 12's Ceph 16.2 (pacific): one monitor, one manager and one OSD
whose BlueStore is a sparse file (bluestore_block_create), every daemon
in the foreground (-d: logs on stderr, into the cloud's log), as this
machine has no systemd to start ceph-osd@ units. One copy of each object
(osd_pool_default_size 1, which a monitor refuses unless
mon_allow_pool_size_one), and placement by OSD, not by host
(osd_crush_chooseleaf_type 0): there is one of each.

The pools and users are those of Ceph's "Block Devices and OpenStack"
(doc/rbd/rbd-openstack.rst): images for glance, volumes for cinder, vms
for nova's disks; client.glance writes images, client.cinder writes
volumes and vms and reads images (the copy-on-write clones' parents).

QEMU reaches RBD through its own librbd (Debian's qemu-block-extra,
block-rbd.so): no kernel module. The services reach it through Ceph's
Python bindings, which are not on PyPI: Debian's python3-rados and
python3-rbd, linked into the cloud's environment (bindings()) as
devstack gives its virtual environment the system's site packages.
"""

import glob
import json
import os
import sys
import sysconfig
import time
import uuid

from tools.cloud import layout
from tools.cloud import procs

CONF_DIR = os.path.join(layout.ETC_DIR, 'ceph')
CONF = os.path.join(CONF_DIR, 'ceph.conf')
DATA = os.path.join(layout.DATA_DIR, 'ceph')
MON_ADDRESS = '[v2:%s:3300,v1:%s:6789]' % (layout.CONTROLLER,
                                           layout.CONTROLLER)
POOLS = ('images', 'volumes', 'vms')
PGS = 16
# the OSD's file: sparse, its size what placement's DISK_GB never sees
OSD_BYTES = 40 << 30
# BlueStore caches to this target; its default, 4 GiB, is a machine's
OSD_MEMORY = 1 << 30
READY_TIMEOUT = 120
# caps from doc/rbd/rbd-openstack.rst ("Setup Ceph Client Authentication")
USERS = {
    'glance': ['mon', 'profile rbd', 'osd', 'profile rbd pool=images',
               'mgr', 'profile rbd pool=images'],
    'cinder': ['mon', 'profile rbd',
               'osd', 'profile rbd pool=volumes, profile rbd pool=vms, '
               'profile rbd-read-only pool=images',
               'mgr', 'profile rbd pool=volumes, profile rbd pool=vms'],
}
BINDINGS = ('rados', 'rbd')
DEBIAN_SITE = '/usr/lib/python3/dist-packages'


def keyring(name):
    return os.path.join(CONF_DIR, 'ceph.%s.keyring' % name)


def key(user):
    """The cephx key of client.user (base64), as libvirt's secret takes it."""
    return _ceph('auth', 'get-key', 'client.' + user).strip()


def _ceph(*args, what=None):
    return procs.run(['ceph', '--conf', CONF, '--connect-timeout', '30'] +
                     list(args), what=what or 'ceph ' + ' '.join(args[:3]))


def _write_conf(fsid):
    os.makedirs(CONF_DIR, exist_ok=True)
    run_dir = os.path.join(layout.RUN_DIR, 'ceph')
    os.makedirs(run_dir, exist_ok=True)
    text = """[global]
fsid = {fsid}
mon host = {mon}
public network = {address}/32
run dir = {run}
admin socket = {run}/$name.asok
pid file = {run}/$name.pid
keyring = {etc}/ceph.$name.keyring
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
# the daemons run in the foreground, their log on stderr (the cloud's log)
log to file = false
log to stderr = true
err to stderr = true
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
[mon]
mon data = {data}/mon
# the machine's disk is shared with everything else
mon data avail warn = 5
mon data avail crit = 1
[mgr]
mgr data = {data}/mgr
[osd]
osd data = {data}/osd$id
osd objectstore = bluestore
bluestore block create = true
bluestore block size = {osd_bytes}
osd memory target = {osd_memory}
""".format(fsid=fsid, mon=MON_ADDRESS, address=layout.CONTROLLER,
           run=run_dir, etc=CONF_DIR, data=DATA, osd_bytes=OSD_BYTES,
           osd_memory=OSD_MEMORY)
    with open(CONF, 'w') as f:
        f.write(text)


def _authtool(*args):
    return procs.run(['ceph-authtool'] + list(args), what='ceph-authtool')


def _start(name, argv, ready):
    process = procs.start(name, argv + ['--conf', CONF, '-d'])
    procs.wait_for(name, lambda: procs.process_alive(process) and ready(),
                   READY_TIMEOUT, procs.log_path(name))


def _osd_up():
    return json.loads(_ceph('osd', 'stat', '--format', 'json'))[
        'num_up_osds'] == 1


def up():
    """Start the cluster, its pools and the services' users."""
    bindings()
    fsid = str(uuid.uuid4())
    _write_conf(fsid)
    for part in ('mon', 'mgr', 'osd0'):
        os.makedirs(os.path.join(DATA, part), exist_ok=True)
    mon_keyring = keyring('mon.')
    _authtool('--create-keyring', mon_keyring, '--gen-key', '-n', 'mon.',
              '--cap', 'mon', 'allow *')
    _authtool('--create-keyring', keyring('client.admin'), '--gen-key',
              '-n', 'client.admin', '--cap', 'mon', 'allow *', '--cap',
              'osd', 'allow *', '--cap', 'mds', 'allow *', '--cap', 'mgr',
              'allow *')
    _authtool(mon_keyring, '--import-keyring', keyring('client.admin'))
    monmap = os.path.join(DATA, 'monmap')
    procs.run(['monmaptool', '--create', '--fsid', fsid, '--addv', 'a',
               MON_ADDRESS, monmap], what='monmaptool')
    procs.run(['ceph-mon', '--conf', CONF, '--mkfs', '-i', 'a', '--monmap',
               monmap, '--keyring', mon_keyring], what='ceph-mon --mkfs')
    _start('ceph-mon', ['ceph-mon', '-i', 'a'],
           lambda: procs.listens(layout.CONTROLLER, 3300))
    _ceph('auth', 'get-or-create', 'mgr.x', 'mon', 'allow profile mgr',
          'osd', 'allow *', 'mds', 'allow *', '-o', keyring('mgr.x'))
    _start('ceph-mgr', ['ceph-mgr', '-i', 'x'], lambda: True)
    _osd()
    for pool in POOLS:
        _ceph('osd', 'pool', 'create', pool, str(PGS))
        _ceph('osd', 'pool', 'application', 'enable', pool, 'rbd')
    for user, caps in USERS.items():
        _ceph('auth', 'get-or-create', 'client.' + user, *caps, '-o',
              keyring('client.' + user))
    _wait_clean()


def _osd():
    """osd.0, made as vstart.sh makes one: ceph osd new, then mkfs."""
    osd_uuid = str(uuid.uuid4())
    key = _authtool('--gen-print-key').strip()
    secret = os.path.join(DATA, 'osd0', 'new.json')
    with open(secret, 'w') as f:
        json.dump({'cephx_secret': key}, f)
    osd_id = _ceph('osd', 'new', osd_uuid, '-i', secret).strip()
    os.unlink(secret)
    if osd_id != '0':
        raise procs.CloudError('ceph: the new OSD is osd.%s, not osd.0'
                               % osd_id)
    _authtool('--create-keyring', keyring('osd.0'), '-n', 'osd.0',
              '--add-key', key)
    procs.run(['ceph-osd', '--conf', CONF, '-i', '0', '--mkfs',
               '--osd-uuid', osd_uuid, '--key', key], what='ceph-osd --mkfs')
    _start('ceph-osd', ['ceph-osd', '-i', '0'], _osd_up)


def _wait_clean():
    """Every placement group active: a pool answers writes."""
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        pgs = json.loads(_ceph('pg', 'stat', '--format', 'json'))
        states = {s['name']: s['num'] for s in
                  pgs.get('pg_summary', pgs).get('num_pg_by_state', [])}
        total = sum(states.values())
        active = sum(n for s, n in states.items() if 'active' in s)
        if total and active == total:
            return
        if time.monotonic() > deadline:
            raise procs.CloudError('ceph: placement groups not active after '
                                   '%d s: %s' % (READY_TIMEOUT, states))
        time.sleep(1)


def bindings():
    """Ceph's Python bindings, Debian's, importable in this environment.

    Built for Debian's CPython 3.11; this environment's is a CPython of the
    same minor version (their extension ABI is the same).
    """
    site = sysconfig.get_paths()['purelib']
    suffix = sysconfig.get_config_var('EXT_SUFFIX')
    for name in BINDINGS:
        source = os.path.join(DEBIAN_SITE, name + suffix)
        if not os.path.exists(source):
            found = glob.glob(os.path.join(DEBIAN_SITE, name + '.*.so'))
            raise procs.CloudError(
                'ceph: no %s for this Python (%s) in %s (found: %s); '
                'python3-%s of Debian 12 is built for Python 3.11'
                % (name + suffix, sys.version.split()[0], DEBIAN_SITE,
                   ', '.join(found) or 'none', name))
        target = os.path.join(site, name + suffix)
        if os.path.realpath(target) != source:
            if os.path.lexists(target):
                os.unlink(target)
            os.symlink(source, target)
    procs.run([sys.executable, '-c', 'import rados, rbd'],
              what='import rados, rbd')
