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

"""The quick benchmarks, each ratio held to its goal (tox -e bench-check).

Runs the benchmarks that take seconds to a minute, each in its own process
writing its JSON, and fails when a ratio passes its goal. Only ratios are
held: both sides of each are measured in the same run, interleaved, so a
loaded machine slows both alike; absolute times are printed, never held.
The figures table of the same run is printed (benchmarks/figures.py).

Usage: python benchmarks/check.py [--results DIR]
"""

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import figures  # noqa: E402

QUICK = ('admission', 'scheduler', 'resources')


@dataclasses.dataclass(frozen=True)
class Goal:
    benchmark: str
    path: tuple  # keys into the benchmark's JSON
    limit: float
    what: str

    def ratio(self, results):
        value = results[self.benchmark]
        for key in self.path:
            value = value[key]
        return value


GOALS = (
    Goal('admission', ('admission_over_spawn',), 0.001,
         'an admission check / a bare spawn'),
    Goal('scheduler', ('cpu_over_image_properties',), 1.2,
         'PowerKVMCpuFilter / ImagePropertiesFilter'),
    Goal('scheduler', ('endianness_over_image_properties',), 1.2,
         'PowerKVMEndiannessFilter / ImagePropertiesFilter'),
    Goal('resources', ('get_available_resource', 'ratio'), 1.05,
         'get_available_resource, PowerKVMDriver / LibvirtDriver'),
    Goal('resources', ('update_provider_tree', 'ratio'), 1.05,
         'update_provider_tree, PowerKVMDriver / LibvirtDriver'),
    Goal('resources', ('through_conductor', 'get_available_resource',
                       'ratio'), 1.05,
         'the same through nova-conductor'),
    Goal('resources', ('through_conductor', 'update_provider_tree',
                       'ratio'), 1.05,
         'update_provider_tree through nova-conductor'),
)


def run(name, results_dir):
    """Run benchmarks/bench_NAME.py; its figures, and its seconds."""
    path = os.path.join(results_dir, '%s.json' % name)
    start = time.monotonic()
    subprocess.run([sys.executable, os.path.join(HERE, 'bench_%s.py' % name),
                    '--json', path], check=True)
    with open(path) as f:
        return json.load(f), time.monotonic() - start


def failures(results, goals=GOALS):
    """['what: ratio > goal'] for each goal a ratio passes."""
    return ['%s: %.4g > %.4g' % (g.what, g.ratio(results), g.limit)
            for g in goals if g.ratio(results) > g.limit]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--results', default=os.path.join(HERE, 'results'))
    args = parser.parse_args()
    os.makedirs(args.results, exist_ok=True)
    results = {}
    for name in QUICK:
        results[name], seconds = run(name, args.results)
        print('bench-check: %s took %.0f s' % (name, seconds), flush=True)
    print(figures.render(results))
    for goal in GOALS:
        print('bench-check: %-55s %8.4g (goal <= %g)'
              % (goal.what, goal.ratio(results), goal.limit))
    failed = failures(results)
    for failure in failed:
        print('bench-check: FAILED %s' % failure)
    print('bench-check: %d of %d goals met'
          % (len(GOALS) - len(failed), len(GOALS)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
