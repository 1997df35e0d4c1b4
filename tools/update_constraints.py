"""The project's pinned package versions: OpenStack's, plus a local overlay.

Each OpenStack release the project installs against has a folder
constraints/<release>/ of three files:

  upstream.txt           openstack/requirements' upper-constraints.txt, as
                         that repository has it, with a header naming the
                         branch and commit it came from
  local.txt              the overlay: a package upstream does not list (a
                         service such as nova, tempest, the linters), or
                         must be pinned differently; each line says why
  upper-constraints.txt  what every install names (pip install -c, tox's
                         deps): upstream.txt with local.txt applied,
                         written by this tool and never edited by hand

Usage:
  python3 tools/update_constraints.py RELEASE --requirements DIR [--ref REF]
      take upstream.txt anew from an openstack/requirements checkout (a
      clone or a bare mirror; REF defaults to its HEAD), write the merged
      file, and print the versions that changed
  python3 tools/update_constraints.py RELEASE
      write the merged file again from upstream.txt and local.txt (after
      an edit of local.txt), printing what changed
  python3 tools/update_constraints.py RELEASE --check
      exit 1 if the merged file is not what the two give
"""

import argparse
import dataclasses
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONSTRAINTS = os.path.join(ROOT, 'constraints')
# the release whose constraints every install uses unless told otherwise
CURRENT = '2026.2'

# "name===version" with an optional environment marker after ";"
PIN = re.compile(r'^([A-Za-z0-9][A-Za-z0-9._-]*)===([^;\s]+)(;.*)?$')


def canonical(name):
    """PEP 503's normalized form: the same package however it is spelt."""
    return re.sub(r'[-_.]+', '-', name).lower()


@dataclasses.dataclass(frozen=True)
class Pin:
    name: str
    version: str
    marker: str = ''
    reason: str = ''

    @property
    def key(self):
        return canonical(self.name)

    def line(self):
        text = '%s===%s%s' % (self.name, self.version, self.marker)
        return '%s  # %s' % (text, self.reason) if self.reason else text


def parse(text, source, need_reason=False):
    """The pins of a constraints file, in order; comments are skipped."""
    pins = []
    for number, raw in enumerate(text.splitlines(), 1):
        line, _, reason = raw.partition(' #')
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        match = PIN.match(line)
        if not match:
            raise ValueError('%s:%d: not a "name===version" pin: %r'
                             % (source, number, raw))
        reason = reason.strip().lstrip('#').strip()
        if need_reason and not reason:
            raise ValueError('%s:%d: %s is pinned with no reason ("  # why")'
                             % (source, number, match.group(1)))
        pins.append(Pin(match.group(1), match.group(2),
                        match.group(3) or '', reason))
    return pins


def read(path, need_reason=False):
    with open(path) as f:
        return parse(f.read(), path, need_reason)


def header_of(path):
    """The leading comment lines of a file: where its pins came from."""
    header = []
    with open(path) as f:
        for line in f:
            if not line.startswith('#'):
                break
            header.append(line.rstrip('\n'))
    return header


def merge(upstream, local):
    """Upstream's pins with the overlay applied.

    Upstream's order is kept; a package the overlay names is replaced in
    place (all of its marker variants) by the overlay's pin, and the
    overlay's other pins follow. Returns (pins, overridden names, added
    names).
    """
    by_key = {pin.key: pin for pin in local}
    upstream_keys = {pin.key for pin in upstream}
    merged, overridden = [], []
    for pin in upstream:
        if pin.key not in by_key:
            merged.append(pin)
        elif pin.key not in overridden:
            merged.append(by_key[pin.key])
            overridden.append(pin.key)
    added = [pin for pin in local if pin.key not in upstream_keys]
    return merged + added, overridden, [pin.key for pin in added]


def render(release, upstream_header, pins, overridden, added):
    lines = [
        '# powerkvm-nova: the package versions every install uses for the',
        '# %s release (pip install -c this file). Written by' % release,
        '# tools/update_constraints.py from upstream.txt and local.txt:',
        '# edit local.txt (with a reason) and run the tool, not this file.',
        '# %d overridden by local.txt: %s' % (
            len(overridden), ', '.join(overridden) or 'none'),
        '# %d added by local.txt: %s' % (len(added), ', '.join(added)),
    ]
    lines += upstream_header
    lines += [pin.line() for pin in pins]
    return '\n'.join(lines) + '\n'


def versions(pins):
    found = {}
    for pin in pins:
        found.setdefault(pin.key, set()).add(pin.version)
    return {key: ', '.join(sorted(v)) for key, v in found.items()}


def changes(old, new):
    """Lines saying which packages' versions differ between two pin lists."""
    old, new = versions(old), versions(new)
    out = []
    for key in sorted(set(old) | set(new)):
        if key not in old:
            out.append('  added    %s %s' % (key, new[key]))
        elif key not in new:
            out.append('  removed  %s %s' % (key, old[key]))
        elif old[key] != new[key]:
            out.append('  changed  %s %s -> %s' % (key, old[key], new[key]))
    return out


def paths(release):
    folder = os.path.join(CONSTRAINTS, release)
    return (os.path.join(folder, 'upstream.txt'),
            os.path.join(folder, 'local.txt'),
            os.path.join(folder, 'upper-constraints.txt'))


def expected(release):
    """The merged file's text as upstream.txt and local.txt give it."""
    upstream_path, local_path, _ = paths(release)
    pins, overridden, added = merge(read(upstream_path),
                                    read(local_path, need_reason=True))
    return render(release, header_of(upstream_path), pins, overridden, added)


def _git(checkout, *args):
    return subprocess.run(['git', '-C', checkout, *args], check=True,
                          capture_output=True, text=True).stdout


def take_upstream(release, checkout, ref):
    """Write upstream.txt from openstack/requirements at ref."""
    commit, date = _git(checkout, 'log', '-1', '--format=%H %cs', ref,
                        '--').split()
    text = _git(checkout, 'show', '%s:upper-constraints.txt' % commit)
    parse(text, 'upper-constraints.txt')     # refuse what is not pins
    upstream_path = paths(release)[0]
    os.makedirs(os.path.dirname(upstream_path), exist_ok=True)
    with open(upstream_path, 'w') as f:
        f.write('# upstream: openstack/requirements %s, commit %s (%s):\n'
                '# its upper-constraints.txt as it is there, below\n'
                % (ref, commit, date))
        f.write(text)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('release', help='e.g. %s' % CURRENT)
    parser.add_argument('--requirements', metavar='DIR',
                        help='an openstack/requirements checkout')
    parser.add_argument('--ref', default='HEAD',
                        help='its branch or commit (default HEAD)')
    parser.add_argument('--check', action='store_true')
    args = parser.parse_args(argv)
    merged_path = paths(args.release)[2]
    old = read(merged_path) if os.path.exists(merged_path) else []
    if args.check:
        with open(merged_path) as f:
            if f.read() != expected(args.release):
                print('%s is not upstream.txt with local.txt applied: run '
                      'python3 tools/update_constraints.py %s'
                      % (merged_path, args.release))
                return 1
        return 0
    if args.requirements:
        take_upstream(args.release, args.requirements, args.ref)
    text = expected(args.release)
    with open(merged_path, 'w') as f:
        f.write(text)
    new = parse(text, merged_path)
    diff = changes(old, new) if old else []
    print('%s: %d pins; %s' % (
        os.path.relpath(merged_path, ROOT), len(new),
        'a new file' if not old else
        '%d changed:' % len(diff) if diff else 'no version changed'))
    for line in diff:
        print(line)
    return 0


if __name__ == '__main__':
    sys.exit(main())
