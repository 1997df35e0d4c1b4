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

"""tempest against the running cloud (doc/tempest.md).

    python -m tools.cloud.tempest conf   a workspace with this cloud's
                                         tempest.conf
    python -m tools.cloud.tempest run    conf, then upstream tempest's
                                         selection, then the project's
                                         plugin; the counts of each
    python -m tools.cloud.tempest ci     the same with upstream's CI
                                         selection (the cloud tier)

The workspace is in the cloud's state directory: 'down' removes it.
"""

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time

from tools.cloud import configs
from tools.cloud import control
from tools.cloud import guest_images
from tools.cloud import ini
from tools.cloud import layout
from tools.cloud import starter

WORKSPACE = os.path.join(layout.STATE_DIR, 'tempest')
CONF = os.path.join(WORKSPACE, 'etc', 'tempest.conf')
REGISTRY = os.path.join(layout.STATE_DIR, 'tempest-workspaces.yaml')
HERE = os.path.dirname(os.path.abspath(__file__))
# which upstream tests run, and which of them do not, each with its reason
UPSTREAM = os.path.join(HERE, 'tempest-upstream.txt')
# the part of it that fits CI's hour (tox.ini, cloud)
UPSTREAM_CI = os.path.join(HERE, 'tempest-ci.txt')
EXCLUDED = os.path.join(HERE, 'tempest-excluded.txt')
PLUGIN = r'^powerkvm_tempest_plugin\.'
# flavors sized for the emulated hosts: the test guest boots in 512 MiB;
# the alternative (resize) is one vCPU and 128 MiB more
FLAVORS = {'pkvm-tempest': (1, 512), 'pkvm-tempest-alt': (1, 640)}
TEMPEST = os.path.join(layout.BIN_DIR, 'tempest')
# a test's own limit (tempest reads OS_TEST_TIMEOUT); a run's, above which
# it is killed: about three times what it took on a slow day here
# (doc/tempest.md: 317 s, the plugin 237 s)
TEST_TIMEOUT = 900
PLUGIN_LIMIT = 900
UPSTREAM_CI_LIMIT = 900
TOTALS = re.compile(r'^ - (Passed|Skipped|Failed|Expected Fail|'
                    r'Unexpected Success): (\d+)$', re.M)


def flavors(cloud):
    return {name: starter.flavor(cloud, name, vcpus, ram).id
            for name, (vcpus, ram) in FLAVORS.items()}


def max_microversion(cloud):
    return cloud.compute.get('/').json()['version']['version']


def enabled_filters():
    """The scheduler's filters, as the devstack plugin set them."""
    done = subprocess.run(
        [sys.executable, ini.__file__, 'get', configs.path('nova'),
         'filter_scheduler', 'enabled_filters'],
        capture_output=True, text=True, check=True)
    return done.stdout.strip()


def options():
    """tempest.conf of this cloud, {section: {option: value}}."""
    cloud = control.connection()
    images = guest_images.ensure()
    flavor = flavors(cloud)
    return {
        'DEFAULT': {'log_file': os.path.join(WORKSPACE, 'tempest.log')},
        'auth': {
            'admin_username': layout.ADMIN,
            'admin_password': layout.PASSWORD,
            'admin_project_name': layout.ADMIN,
            'admin_domain_name': 'Default',
            'use_dynamic_credentials': True,
            # the projects use the shared provider network (no routers,
            # no DHCP: tools/cloud/network.py)
            'create_isolated_networks': False,
        },
        'identity': {'uri_v3': layout.url('keystone'), 'auth_version': 'v3',
                     'region': layout.REGION},
        'service_available': {
            'nova': True, 'glance': True, 'neutron': True,
            'placement': True, 'cinder': True, 'swift': False,
            'horizon': False, 'heat': False},
        'compute': {
            # the little-endian Linux test guest; the big-endian one where
            # a test needs a second image (rebuild)
            'image_ref': images['le'], 'image_ref_alt': images['be'],
            'flavor_ref': flavor['pkvm-tempest'],
            'flavor_ref_alt': flavor['pkvm-tempest-alt'],
            'fixed_network_name': layout.PROVIDER_NETWORK,
            # the POWER hosts upstream's tests run on (run())
            'min_compute_nodes': len(layout.COMPUTES) - 1,
            'max_microversion': max_microversion(cloud),
            'region': layout.REGION,
            # a TCG boot on a busy 2-core machine (tests/cloud/base.py)
            'build_timeout': 600,
        },
        # what the driver does (doc/tempest.md, "What is enabled")
        'compute-feature-enabled': {
            'live_migration': True,
            'block_migration_for_live_migration': True,
            # a volume in Ceph, which every host reaches
            'volume_backed_live_migration': True,
            # not every host can take every guest: endianness, split-core
            # mode
            'can_migrate_between_any_hosts': False,
            'cold_migration': True, 'resize': True, 'snapshot': True,
            'pause': True, 'suspend': True, 'shelve': True,
            'shelve_migrate': True, 'rescue': True,
            'console_output': True, 'interface_attach': True,
            # a pseries machine has no IDE bus
            'ide_bus': False,
            # no guest agent or metadata client in the test guest, no
            # consoles but the serial log (vnc is off: configs.py)
            'change_password': False,
            'metadata_service': False, 'config_drive': False,
            'vnc_console': False, 'spice_console': False,
            'serial_console': False,
            # nova's libvirt driver ignores auto disk config
            'disk_config': False,
            'personality': False, 'attach_encrypted_volume': False,
            'scheduler_enabled_filters': enabled_filters(),
        },
        'image': {'region': layout.REGION},
        # cinder, as keystone's catalogue has it (layout.APIS), with its
        # RBD backend; no cinder-backup runs
        'volume': {'catalog_type': layout.APIS['cinder'][2],
                   'region': layout.REGION, 'storage_protocol': 'ceph',
                   'volume_size': 1,
                   'max_microversion': 'latest'},
        'volume-feature-enabled': {'backup': False},
        'network': {'region': layout.REGION,
                    'public_network_id': ''},
        # the plugin reads providers' traits (placement 1.6)
        'placement': {'region': layout.REGION, 'max_microversion': 'latest'},
        # no address of a guest is reachable by ssh: the test guest has no
        # sshd (tools/build-test-guest.sh)
        'validation': {'run_validation': False},
        'powerkvm': {
            'le_image_ref': images['le'], 'be_image_ref': images['be'],
            'flavor_ram': 512,
            'cpu_compat_mode': configs.CPU_COMPAT_MODE,
        },
    }


def conf():
    if not os.path.isdir(WORKSPACE):
        # registered in a list of the cloud's own, not the user's
        # (~/.tempest/workspace.yaml, where an earlier cloud's stays)
        subprocess.run([TEMPEST, 'init', '--workspace-path', REGISTRY,
                        WORKSPACE], check=True, capture_output=True,
                       timeout=120)
    ini.write(CONF, options())
    print('tempest: %s' % CONF)


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # done meanwhile


def _tempest_run(what, argv, limit):
    """tempest run in the workspace, its output passed on; its exit code.

    Each test has OS_TEST_TIMEOUT (tempest's own fixture); the run, limit
    seconds: then it is killed with its workers (a class's setup, which
    no test's timeout covers, cannot stall a CI run).
    """
    began = time.monotonic()
    output = []
    env = dict(os.environ)
    env.setdefault('OS_TEST_TIMEOUT', str(TEST_TIMEOUT))
    with subprocess.Popen([TEMPEST, 'run'] + argv, cwd=WORKSPACE, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, start_new_session=True) as tempest:
        watchdog = threading.Timer(limit, _kill_group, (tempest.pid,))
        watchdog.start()
        try:
            for line in tempest.stdout:
                sys.stdout.write(line)
                output.append(line)
            tempest.wait()
        finally:
            watchdog.cancel()
    took = time.monotonic() - began
    if tempest.returncode == -signal.SIGKILL:
        print('tempest: %s: killed, not done after its %d s' % (what, limit))
    counts = {name: int(n) for name, n in TOTALS.findall(''.join(output))}
    print('tempest: %s: passed %d, failed %d, skipped %d in %.0f s' % (
        what, counts.get('Passed', 0), counts.get('Failed', 0),
        counts.get('Skipped', 0), took))
    return tempest.returncode


@contextlib.contextmanager
def _hosts_disabled(hosts, why):
    """The computes of hosts disabled while tempest runs, enabled after.

    tempest's moves name their destination: the first other compute that
    is up and enabled (tempest/api/compute/base.py, get_host_other_than),
    whatever its architecture or storage, and the test guest is POWER's.
    An operator of a mixed cloud runs tempest so, or in an availability
    zone.
    """
    cloud = control.connection()
    disabled = []
    try:
        for host in hosts:
            service, = cloud.compute.services(binary='nova-compute',
                                              host=host)
            cloud.compute.disable_service(service, disabled_reason=why)
            disabled.append(service)
        yield
    finally:
        for service in disabled:
            cloud.compute.enable_service(service)
        cloud.close()


def run(selection=UPSTREAM, what='upstream', limit=3600):
    # stdout is a pipe in CI (tox, tee): a line is shown as it comes, not
    # a buffer's worth at a time
    sys.stdout.reconfigure(line_buffering=True)
    began = time.monotonic()
    conf()
    with _hosts_disabled([layout.X86_COMPUTE],
                         'tempest runs on the POWER hosts'):
        # nova moves a guest's disk only between hosts of one images_type
        # (the rbd host's guests' disks are in Ceph, the others' files):
        # upstream's moves, whose destination tempest names, stay among
        # the others; the plugin's tests refuse the moves they try
        with _hosts_disabled([layout.RBD_COMPUTE],
                             'tempest moves among hosts of one storage'):
            upstream = _tempest_run(what, [
                '--include-list', selection, '--exclude-list', EXCLUDED,
                '--concurrency', '2'], limit)
        plugin = _tempest_run('powerkvm plugin', [
            '--regex', PLUGIN, '--concurrency', '1'], PLUGIN_LIMIT)
    failed = bool(upstream or plugin)
    print('tempest: %s in %.0f s' % ('FAILED' if failed else 'passed',
                                     time.monotonic() - began))
    return 1 if failed else 0


def ci():
    return run(UPSTREAM_CI, 'upstream, CI selection', UPSTREAM_CI_LIMIT)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m tools.cloud.tempest')
    parser.add_argument('action', choices=('conf', 'run', 'ci'))
    args = parser.parse_args(argv)
    return {'conf': conf, 'run': run, 'ci': ci}[args.action]() or 0


if __name__ == '__main__':
    sys.exit(main())
