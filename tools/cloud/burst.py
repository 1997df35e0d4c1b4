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

"""python -m tools.cloud burst [--cpu-loops N]: the cloud tier's burst alone.

100 boots, the size doc/figures.md's runs are of ($POWERKVM_CLOUD_BURST_BOOTS
sets another). It takes about 8 minutes here, more than CI's hour leaves:
the cloud tier (tox -e cloud) does not run it.

The same test (tests/cloud/test_burst.py) against the running cloud, with
either driver on its POWER hosts (up --driver): the PowerKVM cloud's runs
and the baseline's come from one command. N 'nice -n 19' CPU loops run
beside it for a run under load; the figure line says how many.
"""

import os
import subprocess
import sys

from tests.cloud import base
from tools.cloud import configs

LOOP = ['nice', '-n', '19', 'sh', '-c', 'while :; do :; done']


def run(cpu_loops=0):
    env = dict(os.environ, OS_NOVA_DISABLE_EVENTLET_PATCHING='1',
               OS_TEST_TIMEOUT='900',
               POWERKVM_CLOUD_BURST_LOAD=str(cpu_loops))
    seen = os.path.getsize(base.FIGURES) if os.path.exists(
        base.FIGURES) else 0
    loops = [subprocess.Popen(LOOP) for _ in range(cpu_loops)]
    try:
        done = subprocess.run(
            [sys.executable, '-m', 'stestr', '--test-path=./tests/cloud',
             'run', '--concurrency', '1', 'tests.cloud.test_burst'],
            cwd=configs.REPOSITORY, env=env)
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
    if os.path.exists(base.FIGURES):
        with open(base.FIGURES) as f:
            f.seek(seen)
            sys.stdout.write(f.read())
    return done.returncode
