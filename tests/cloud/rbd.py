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

"""The cloud's Ceph through its own CLIs, ceph and rbd, as an operator
looks at it."""

import json
import subprocess

from tools.cloud import ceph


def ceph_cli(*argv, tool='ceph'):
    done = subprocess.run([tool, '--conf', ceph.CONF] + list(argv),
                          capture_output=True, text=True, timeout=60)
    if done.returncode:
        raise AssertionError('%s %s failed (%d): %s' % (
            tool, ' '.join(argv), done.returncode, done.stderr))
    return done.stdout


def pool_images(pool):
    return set(json.loads(ceph_cli('ls', pool, '--format', 'json',
                                   tool='rbd')))
