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

"""What every benchmark does with its figures and its test harness."""

import argparse
import faulthandler
import json
import sys
import unittest

# A benchmark that stops making progress ends with every thread's stack
# instead of waiting for ever (none takes this long on the CI machine).
WATCHDOG_SECONDS = 1800


def arguments(doc, **counts):
    """A benchmark's command line: --json FILE and --NAME N for each count.

    The counts' values are their defaults; doc's first line describes it.
    It also starts the benchmark's watchdog.
    """
    faulthandler.dump_traceback_later(WATCHDOG_SECONDS, exit=True)
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, default in counts.items():
        parser.add_argument('--' + name, type=int, default=default)
    parser.add_argument('--json', help='also write the figures here')
    return parser.parse_args()


def run_case(case):
    """Run one test-harness case (in-process nova); True if it passed."""
    result = unittest.TextTestRunner(stream=sys.stderr, verbosity=0).run(
        unittest.TestSuite([case]))
    return result.wasSuccessful()


def save(figures, path):
    """Write the figures as JSON to path (when given), for a later run."""
    if path:
        with open(path, 'w') as f:
            json.dump(figures, f, indent=2)
    return 0
