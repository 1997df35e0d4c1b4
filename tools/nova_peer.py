#!/usr/bin/env python3
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

"""nova's libvirt functional suite under LibvirtDriver and PowerKVMDriver.

  compare   run the suite (tests/nova_peer) under both drivers on the same
            fake POWER9 hosts and print the ratio: of the tests
            LibvirtDriver passes, how many PowerKVMDriver passes; then every
            test that differs, with its cause. --write saves the tests
            LibvirtDriver passes as the list `check` runs.
  check     run PowerKVMDriver only, over the committed list of tests
            LibvirtDriver passes (tests/nova_peer/libvirt_passes.txt) less
            the documented exceptions (tests/nova_peer/exceptions.txt,
            doc/nova-peer.md): any failure is a regression against nova's
            own behaviour, and the exit status says so.

Usage: tools/nova_peer.py compare [--write] [--concurrency N] [REGEX]
       tools/nova_peer.py check [--ci | --all] [--concurrency N] [REGEX]
Run from the repository root in the nova-peer tox environment.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import subunit
import testtools

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PEER = os.path.join(ROOT, 'tests', 'nova_peer')
PASSES = os.path.join(PEER, 'libvirt_passes.txt')
EXCEPTIONS = os.path.join(PEER, 'exceptions.txt')
# Tests run under neither driver: they hang on the fake POWER hosts under
# both, and a hung test leaves greenthreads holding nova's test-database
# lock, which stalls the tests after it in the same process.
HANGS = os.path.join(PEER, 'hangs.txt')
PASSED = ('success', 'xfail')
# The part of the list CI runs (check --ci), within CI's time budget: the
# modules closest to what PowerKVMDriver changes (guest config, CPU and
# NUMA, images, moves).
CI_PART = (r'libvirt\.test_(evacuate|live_migration|rescue_deleted_base|'
           r'vif_model)\.|libvirt\.test_numa_servers\.(NUMAServersTest|'
           r'NUMAServersRebuildTests)\.')


def read_list(path):
    """Test ids of a list file; '#' starts a comment."""
    ids = {}
    with open(path) as f:
        for line in f:
            test_id, _, comment = line.partition('#')
            if test_id.strip():
                ids[test_id.strip()] = comment.strip()
    return ids


def run(driver, concurrency, regex=None, load_list=None):
    """{test id: (status, cause)} of one run of the suite under driver."""
    env = dict(os.environ, NOVA_PEER_DRIVER=driver)
    cmd = [sys.executable, '-m', 'stestr', '--test-path', PEER, 'run',
           '--subunit', '--concurrency', str(concurrency),
           '--exclude-list', HANGS]
    if load_list:
        cmd += ['--load-list', load_list]
    if regex:
        cmd.append(regex)
    start = time.monotonic()
    with tempfile.TemporaryFile() as out:
        subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.DEVNULL,
                       cwd=ROOT, check=False)
        out.seek(0)
        results = parse(out)
    print('%s: %d tests in %.0f s' % (driver, len(results),
                                      time.monotonic() - start), flush=True)
    return results


def parse(stream):
    results = {}

    def on_test(test):
        if test['status'] in ('exists', 'inprogress'):
            return
        results[test['id']] = (test['status'], cause(test))
    case = subunit.ByteStreamToStreamResult(stream, non_subunit_name='stdout')
    summary = testtools.StreamToDict(on_test)
    summary.startTestRun()
    case.run(summary)
    summary.stopTestRun()
    return results


def cause(test):
    """The last line of a failed test's traceback, or ''."""
    for name in ('traceback', 'reason'):
        detail = test['details'].get(name)
        if detail is None:
            continue
        text = detail.as_text().strip().splitlines()
        for line in reversed(text):
            if line.strip():
                return line.strip()[:240]
    return ''


def passed(results):
    return {t for t, (status, _) in results.items() if status in PASSED}


def ratio(libvirt, powerkvm):
    """(PowerKVMDriver passes, LibvirtDriver passes) over the latter's."""
    lv = passed(libvirt)
    return len(lv & passed(powerkvm)), len(lv)


def report(libvirt, powerkvm, exceptions):
    """The comparison's lines, and the differences no exception explains."""
    lv, pk = passed(libvirt), passed(powerkvm)
    both, total = ratio(libvirt, powerkvm)
    lines = [
        'LibvirtDriver passes %d of %d; PowerKVMDriver %d of %d (%d tests '
        'that hang under both not run: %s)'
        % (len(lv), len(libvirt), len(pk), len(powerkvm),
           len(read_list(HANGS)) if os.path.exists(HANGS) else 0,
           os.path.relpath(HANGS, ROOT)),
        'ratio (PowerKVMDriver passes / LibvirtDriver passes, over the '
        'tests LibvirtDriver passes): %d / %d = %.3f'
        % (both, total, both / total if total else 0.0)]
    for test_id in sorted(lv - pk):
        status, why = powerkvm.get(test_id, ('missing', 'not run'))
        lines.append('  PowerKVMDriver %s %s' % (status, test_id))
        lines.append('      %s' % why)
        if test_id in exceptions:
            lines.append('      documented: %s' % exceptions[test_id])
    for test_id in sorted(pk - lv):
        lines.append('  only PowerKVMDriver passes %s' % test_id)
        lines.append('      LibvirtDriver: %s' % libvirt[test_id][1])
    return lines, sorted((lv - pk) - set(exceptions))


def compare(args):
    libvirt = run('libvirt', args.concurrency, args.regex)
    powerkvm = run('powerkvm', args.concurrency, args.regex)
    lines, undocumented = report(libvirt, powerkvm, read_list(EXCEPTIONS))
    print('\n'.join(lines))
    if args.write:
        with open(PASSES, 'w') as f:
            f.write('# tests nova\'s LibvirtDriver passes on the fake POWER9 '
                    'hosts (tools/nova_peer.py compare --write)\n')
            f.writelines('%s\n' % t for t in sorted(passed(libvirt)))
        print('wrote %s' % os.path.relpath(PASSES, ROOT))
    if undocumented:
        print('%d difference(s) not in %s' % (
            len(undocumented), os.path.relpath(EXCEPTIONS, ROOT)))
    return 1 if undocumented else 0


def check(args):
    if args.ci:
        args.regex = CI_PART
    wanted = set(read_list(PASSES)) - set(read_list(EXCEPTIONS))
    with tempfile.NamedTemporaryFile('w', suffix='.txt') as load:
        load.writelines('%s\n' % t for t in sorted(wanted))
        load.flush()
        results = run('powerkvm', args.concurrency, args.regex,
                      load_list=load.name)
    if args.regex:
        wanted = {t for t in wanted if re.search(args.regex, t)}
    failed = sorted(t for t in wanted
                    if results.get(t, ('missing',))[0] not in PASSED)
    print('PowerKVMDriver passes %d of the %d tests LibvirtDriver passes '
          '(less documented exceptions)' % (len(wanted) - len(failed),
                                            len(wanted)))
    for test_id in failed:
        status, why = results.get(test_id, ('missing', 'not run'))
        print('  %s %s\n      %s' % (status, test_id, why))
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('command', choices=('compare', 'check'))
    parser.add_argument('regex', nargs='?')
    parser.add_argument('--concurrency', type=int, default=0,
                        help='stestr workers (0: one a CPU)')
    parser.add_argument('--write', action='store_true',
                        help='compare: save the LibvirtDriver passes')
    parser.add_argument('--ci', action='store_true',
                        help='check: only the part CI runs')
    parser.add_argument('--all', action='store_true',
                        help='check: the whole list (the default)')
    args = parser.parse_intermixed_args()
    return compare(args) if args.command == 'compare' else check(args)


if __name__ == '__main__':
    sys.exit(main())
