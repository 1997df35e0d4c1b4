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

"""doc/figures.md's benchmark table, written from the benchmarks' JSON.

The table is never edited by hand: it is rendered from the JSON files of
one run, kept in benchmarks/figures/ beside the document, and the docs
tier checks that the two agree.

Usage:
  python benchmarks/figures.py --update [--results DIR]
      copy DIR's JSON (benchmarks/results/, what tox -e bench writes) into
      benchmarks/figures/ and rewrite the table in doc/figures.md
  python benchmarks/figures.py --check
      fail if doc/figures.md's table is not that of benchmarks/figures/
"""

import argparse
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KEPT = os.path.join(HERE, 'figures')
DOC = os.path.join(os.path.dirname(HERE), 'doc', 'figures.md')
BEGIN = '<!-- benchmarks/figures.py writes this table: do not edit -->'
END = '<!-- end of the table benchmarks/figures.py writes -->'
NAMES = ('admission', 'spawn', 'images', 'scheduler', 'resources',
         'live_migration', 'scale')


def _ms(seconds):
    return '%.3g ms' % (seconds * 1e3)


def _admission(f):
    return [
        ('`bench_admission.py`: endianness admission, %d guests defined, '
         'through nova\'s libvirt Host (threading mode)' % f['guests'],
         'a check: %s; after a domain defined behind nova\'s back: %s; '
         'counting domains instead: %s; start-up rescan: %s' % (
             _ms(f['admission_s']), _ms(f['admission_after_change_s']),
             _ms(f['counting_admission_s']), _ms(f['rescan_s'])),
         'bare spawn (define, start, destroy, undefine a pseries guest): '
         '%.2f s' % f['bare_spawn_s'],
         '%.4f %% (after a change %.2f %%); a naive list-and-parse check '
         'is %.0f x slower' % (f['admission_over_spawn'] * 100,
                               f['admission_after_change_over_spawn'] * 100,
                               f['naive_over_admission']))]


def _spawn(f):
    return [('`bench_spawn.py`: API create to ACTIVE on the real hypervisor, '
             'same big-endian pseries image (median of %d)' % f['rounds'],
             'PowerKVMDriver: %.3f s' % f['powerkvm_driver_s'],
             'nova\'s LibvirtDriver: %.3f s' % f['libvirt_driver_s'],
             '%.3f' % f['ratio'])]


def _images(f):
    read = f['bytes_read_by_inspection']
    return [('`bench_images.py`: spawn from a cached image, API create to '
             'ACTIVE', '4 GiB image: %.2f s (%d bytes read before the '
             'download)' % (f['spawn_cached_4GiB_s'], read['4GiB']),
             '64 MiB image: %.2f s (%d bytes read)' % (
                 f['spawn_cached_64MiB_s'], read['64MiB']),
             '%.2f: overlays copy nothing' % f['ratio_4GiB_over_64MiB'])]


def _scheduler(f):
    passing = f['passing']
    return [('`bench_scheduler.py`: filters over %d host states' % f['hosts'],
             'PowerKVMCpuFilter %.1f ms (%d pass); PowerKVMEndiannessFilter '
             '%.1f ms (%d pass)' % (
                 f['powerkvm_cpu_filter_ms'], passing['cpu'],
                 f['powerkvm_endianness_filter_ms'], passing['endianness']),
             'nova\'s ImagePropertiesFilter: %.1f ms' %
             f['image_properties_filter_ms'],
             '%.2f and %.2f' % (f['cpu_over_image_properties'],
                                f['endianness_over_image_properties']))]


def _resources(f):
    rows = []
    ways = [('directly', f)]
    if 'through_conductor' in f:
        through = f['through_conductor']
        ways.append(('through nova-conductor, %g ms a call'
                     % through['latency_ms'], through))
    for way, figures in ways:
        gar, upt = (figures['get_available_resource'],
                    figures['update_provider_tree'])
        calls = ''
        if 'powerkvm_driver_calls' in gar:
            calls = ' (%d and %d conductor calls a report)' % (
                gar['powerkvm_driver_calls'], gar['libvirt_driver_calls'])
        rows.append((
            '`bench_resources.py`: %d guests defined (%d of them shut-off '
            'domains of deleted guests), nova\'s fake libvirt, %s' % (
                f['guests'], f.get('left_by_deleted_guests', 0), way),
            'PowerKVMDriver: get_available_resource %.1f ms, '
            'update_provider_tree %.2f ms' % (
                gar['powerkvm_driver_ms'], upt['powerkvm_driver_ms']),
            'LibvirtDriver: %.1f ms, %.2f ms' % (
                gar['libvirt_driver_ms'], upt['libvirt_driver_ms']),
            '%.3f and %.3f%s' % (gar['ratio'], upt['ratio'], calls)))
    return rows


def _live_migration(f):
    rows = [('`bench_live_migration.py`: a running little-endian Linux '
             'guest between two real libvirt hosts, median of %d each way'
             % f['migrations_each'],
             'through nova and PowerKVMDriver: %.2f s; downtime %s ms' % (
                 f['nova_s'], f['nova_downtime_ms']),
             '`virsh migrate --live --p2p`: %.2f s; downtime %s ms' % (
                 f['virsh_s'], f['virsh_downtime_ms']),
             '%.2f' % f['ratio'])]
    if 'libvirt_driver_s' in f:
        spread = ''
        if 'driver_ratio_quartiles' in f:
            spread = ', median of %d rounds\' ratios, quartiles %.3f-%.3f' % (
                (f['rounds'],) + tuple(f['driver_ratio_quartiles']))
        rows.append(('the same through nova and its LibvirtDriver',
                     'PowerKVMDriver: %.2f s' % f['nova_s'],
                     'LibvirtDriver: %.2f s; downtime %s ms' % (
                         f['libvirt_driver_s'],
                         f['libvirt_driver_downtime_ms']),
                     '%.3f%s (LibvirtDriver / virsh: %.2f)' % (
                         f['driver_ratio'], spread,
                         f['nova_overhead_ratio'])))
    return rows


def _scale(f):
    runs = f['results']
    rows = []
    for workers in sorted({r['workers'] for r in runs}):
        on = [r for r in runs if r['workers'] == workers and r['rule']]
        off = [r for r in runs if r['workers'] == workers and not r['rule']]
        if not on:
            continue
        on = on[0]
        rows.append((
            '`bench_scale.py`: %d simulated hosts, %d requests in bursts '
            'of %d, half each endianness, %d scheduler worker process%s' % (
                on['hosts'], on['requests'], on['burst'], workers,
                'es' if workers > 1 else ''),
            'the rule: %d refused by hosts, %d rescheduled, %d ERROR, '
            '%d hosts mixed, %d hosts used; %.1f requests/s' % (
                on['refused'], on['rescheduled'], on['errors'],
                on['mixed_hosts'], on['hosts_used'],
                on['requests_per_second']),
            ('no rule (nova\'s default filters and weighers): %d ERROR, '
             '%d hosts mixed; %.1f requests/s' % (
                 off[0]['errors'], off[0]['mixed_hosts'],
                 off[0]['requests_per_second'])) if off else '',
            '%.2f of its requests/s' % (
                on['requests_per_second'] / off[0]['requests_per_second'])
            if off else ''))
    return rows


ROWS = {'admission': _admission, 'spawn': _spawn, 'images': _images,
        'scheduler': _scheduler, 'resources': _resources,
        'live_migration': _live_migration, 'scale': _scale}


def render(results):
    """The markdown table of these benchmarks' figures ({name: figures})."""
    lines = ['| benchmark | figure | baseline in the same run | ratio |',
             '| --- | --- | --- | --- |']
    for name in NAMES:
        if name in results:
            lines += ['| %s |' % ' | '.join(row)
                      for row in ROWS[name](results[name])]
    return '\n'.join(lines)


def load(directory):
    results = {}
    for name in NAMES:
        path = os.path.join(directory, '%s.json' % name)
        if os.path.exists(path):
            with open(path) as f:
                results[name] = json.load(f)
    return results


def _with_table(text, table):
    head, begin, rest = text.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise SystemExit('%s has no table markers' % DOC)
    return '%s%s\n%s\n%s%s' % (head, BEGIN, table, END, tail)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--results', default=os.path.join(HERE, 'results'))
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument('--update', action='store_true')
    action.add_argument('--check', action='store_true')
    args = parser.parse_args()
    with open(DOC) as f:
        text = f.read()
    if args.update:
        os.makedirs(KEPT, exist_ok=True)
        for name in load(args.results):
            shutil.copy(os.path.join(args.results, '%s.json' % name), KEPT)
    wanted = _with_table(text, render(load(KEPT)))
    if args.check:
        if wanted != text:
            print('%s: its table is not that of %s; run python '
                  'benchmarks/figures.py --update after a benchmark run'
                  % (DOC, KEPT))
            return 1
        print('%s: its table is that of %s' % (DOC, KEPT))
        return 0
    with open(DOC, 'w') as f:
        f.write(wanted)
    return 0


if __name__ == '__main__':
    sys.exit(main())
