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

"""What a machine lacks for tools/dev, said before anything is installed.

Standard library only: tools/dev runs it with the system's python3, before
tools/setup-host.sh installs anything.

Usage: python3 tools/preflight.py demo|test
"""

import dataclasses
import os
import shutil
import subprocess
import sys

GIB = 1024 ** 3


@dataclasses.dataclass(frozen=True)
class Need:
    disk_gib: int       # free on the file system of the checkout
    memory_gib: int     # MemAvailable
    namespaces: bool    # the test bed's network namespaces are required


# Measured on a fresh clone after "tools/dev test": its tox environments
# take 2.1 GiB, the package cache and test guest 1.4 GiB, the big-endian
# guest's kernel tree 1.5 GiB while it compiles (then 25 MiB), the images
# under test and the test bed's hosts up to 1 GiB more; with room to spare. The
# demo builds one environment. nova's services run in one process (about
# 1 GiB); QEMU guests take their memory as they touch it, which the demo's
# tiny guests barely do, and the hypervisor tier runs a few at once.
NEEDS = {'demo': Need(disk_gib=4, memory_gib=2, namespaces=False),
         'test': Need(disk_gib=8, memory_gib=4, namespaces=True)}


@dataclasses.dataclass
class Machine:
    uid: int
    disk_free: int      # bytes
    memory_available: int   # bytes, None when unknown
    namespaces: str     # None when they work, else why not


def memory_available(meminfo='/proc/meminfo'):
    try:
        with open(meminfo) as f:
            for line in f:
                if line.startswith('MemAvailable:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def namespaces_problem():
    """None if a network namespace can be made here, else why not."""
    if not shutil.which('unshare'):
        return 'unshare (util-linux) is not installed'
    try:
        run = subprocess.run(['unshare', '--net', '--mount', 'true'],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        return str(e)
    if run.returncode:
        return (run.stderr.strip() or 'unshare exited %d'
                % run.returncode)
    return None


def this_machine(path):
    return Machine(uid=os.geteuid(),
                   disk_free=shutil.disk_usage(path).free,
                   memory_available=memory_available(),
                   namespaces=namespaces_problem() if os.geteuid() == 0
                   else 'not root')


def problems(what, machine):
    """([blocking problem], [note]), each saying what to do."""
    need = NEEDS[what]
    blocking, notes = [], []
    if machine.uid != 0:
        blocking.append(
            'not root: tools/dev installs packages and starts libvirtd. '
            'Run it as root (sudo tools/dev %s).' % what)
    if machine.disk_free < need.disk_gib * GIB:
        blocking.append(
            '%.1f GiB free on the checkout\'s file system, %d GiB needed '
            '(tox environments, test guest, images). Free some space or '
            'clone onto a larger file system.'
            % (machine.disk_free / GIB, need.disk_gib))
    if machine.memory_available is not None and \
            machine.memory_available < need.memory_gib * GIB:
        blocking.append(
            '%.1f GiB of memory available, %d GiB needed (QEMU guests on '
            'three hosts at once). Stop other work or use a larger '
            'machine.' % (machine.memory_available / GIB, need.memory_gib))
    if machine.uid == 0 and machine.namespaces:
        text = ('network namespaces cannot be made here (%s): in a '
                'container, give it CAP_SYS_ADMIN (docker run --privileged)'
                % machine.namespaces)
        if need.namespaces:
            blocking.append(text + '; the hypervisor tier needs them.')
        else:
            notes.append(text + '; the demo will use simulated hosts.')
    return blocking, notes


def main(argv):
    if len(argv) != 2 or argv[1] not in NEEDS:
        print('usage: tools/preflight.py demo|test', file=sys.stderr)
        return 2
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    blocking, notes = problems(argv[1], this_machine(root))
    for note in notes:
        print('tools/dev: note: %s' % note, file=sys.stderr)
    for problem in blocking:
        print('tools/dev: %s' % problem, file=sys.stderr)
    return 1 if blocking else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
