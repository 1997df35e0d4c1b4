"""What a tox run's failures were, from its log, in a few screens.

A CI log keeps only its end; the tiers' output (nova's warnings, captured
logs) buries a failure's name and traceback far above it. This prints,
last, each failed test's name and the end of its traceback, then tox's
per-environment lines (result and time).

Usage: python3 tools/test_summary.py LOG
"""

import re
import sys

# stestr (subunit-trace): "{worker} name [time] ... FAILED", then the
# test's details: "Captured traceback:", "Captured stdout:" and so on.
FAILED = re.compile(r'^\{\d+\} (\S+) .*\.\.\. FAILED$')
NEXT = re.compile(r'^(\{\d+\} |={10,}$)')
TOX_ENV = re.compile(r'^\s+\S+: (OK|FAIL|SKIP)\b.*seconds\)')
# the cloud tier's tempest (tools/cloud/tempest.py): its counts and time
TEMPEST = re.compile(r'^tempest: .*\bin \d+ s$')
TRACEBACK_LINES = 40


def failures(lines):
    """[(name, its traceback's last lines)] in the order they failed."""
    found = []
    for i, line in enumerate(lines):
        match = FAILED.match(line)
        if not match:
            continue
        details = []
        for later in lines[i + 1:]:
            if NEXT.match(later):
                break
            details.append(later)
        found.append((match.group(1), _traceback(details)))
    return found


def _traceback(details):
    """The "Captured traceback:" section, its last TRACEBACK_LINES."""
    try:
        start = details.index('Captured traceback:') + 2
    except ValueError:
        start = 0
    tail = []
    for line in details[start:]:
        if line.startswith('Captured ') and line.endswith(':'):
            break
        if line.strip():
            tail.append(line)
    if len(tail) > TRACEBACK_LINES:
        tail = ['    ...'] + tail[-TRACEBACK_LINES:]
    return tail


def main(path):
    with open(path, errors='replace') as f:
        lines = f.read().splitlines()
    failed = failures(lines)
    print('=' * 70)
    print('test summary: %d failed test(s)' % len(failed))
    for name, traceback in failed:
        print('-' * 70)
        print('FAILED: %s' % name)
        print('\n'.join(traceback))
    print('-' * 70)
    for line in lines:
        if TEMPEST.match(line):
            print(line)
    for line in lines:
        if TOX_ENV.match(line):
            print(line)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
