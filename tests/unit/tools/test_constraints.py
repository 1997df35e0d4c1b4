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

"""Every install uses the release's constraints (constraints/, tox.ini),
and the constraints are what upstream's file and the overlay make them."""

import configparser
import glob
import os
import re

from packaging import requirements
import testtools

from tools import update_constraints

ROOT = update_constraints.ROOT
# the one environment meant to install without constraints
UNCONSTRAINED = {'latest'}
# an install command outside tox's deps escapes the constraints
INSTALL_COMMAND = re.compile(r'\b(pip|uv pip|easy_install)\b.*\binstall\b')
SUBSTITUTION = re.compile(r'^\{\[([^\]]+)\]deps\}$')


def tox_config():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(os.path.join(ROOT, 'tox.ini'))
    return parser


def deps_of(config, section):
    """An environment's deps lines, as tox reads them.

    {[section]deps} is expanded, and an environment without deps of its
    own inherits [testenv]'s.
    """
    if not config.has_option(section, 'deps'):
        section = 'testenv'
    lines = []
    for line in config.get(section, 'deps').splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        match = SUBSTITUTION.match(line)
        lines += deps_of(config, match.group(1)) if match else [line]
    return lines


def option(config, section, name, default=''):
    if config.has_option(section, name):
        return config.get(section, name)
    return config.get('testenv', name, fallback=default)


def constraint_file(line):
    """The file a "-c{env:VAR:default}" deps line names by default."""
    match = re.match(r'^-c\s*\{env:[A-Z_]+:(.+)\}$', line)
    if not match:
        return None
    return match.group(1).replace('{toxinidir}', ROOT)


def pins(path):
    return {pin.key: pin.version
            for pin in update_constraints.read(path)}


def environments(config):
    return [s for s in config.sections()
            if s == 'testenv' or s.startswith('testenv:')]


class ToxConstraintsTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.config = tox_config()

    def test_every_environment_installs_with_constraints(self):
        for section in environments(self.config):
            name = section.partition(':')[2] or 'testenv'
            if name in UNCONSTRAINED or name == '.pkg':
                continue
            deps = deps_of(self.config, section)
            installs = deps or option(self.config, section,
                                      'skip_install') != 'True'
            if not installs:
                continue
            files = [constraint_file(d) for d in deps if d.startswith('-c')]
            self.assertTrue(
                files and all(files),
                '[%s] installs Python packages without a '
                '"-c{env:TOX_CONSTRAINTS_FILE:...}" deps line: %s'
                % (section, deps))
            for path in files:
                self.assertTrue(os.path.isfile(path),
                                '[%s] names %s, which is missing'
                                % (section, path))

    def test_package_build_uses_the_constraints(self):
        setenv = self.config.get('testenv:.pkg', 'setenv')
        default = constraint_file(deps_of(self.config, 'testenv')[0])
        for var in ('UV_CONSTRAINT', 'PIP_CONSTRAINT'):
            line = re.search(r'^\s*%s=(.*)$' % var, setenv, re.M)
            self.assertIsNotNone(line, '[testenv:.pkg] sets no %s' % var)
            self.assertEqual(default, constraint_file('-c' + line.group(1)))

    def test_no_environment_installs_in_its_commands(self):
        for section in environments(self.config):
            for key in ('commands', 'commands_pre', 'commands_post'):
                text = self.config.get(section, key, fallback='')
                self.assertIsNone(
                    INSTALL_COMMAND.search(text),
                    '[%s] %s installs packages outside its deps' %
                    (section, key))

    def test_latest_is_the_only_unconstrained_and_not_gating(self):
        deps = deps_of(self.config, 'testenv:latest')
        self.assertEqual([], [d for d in deps if d.startswith('-c')])
        with open(os.path.join(ROOT, 'tools', 'dev')) as f:
            gating = re.findall(r'envs\+?=(\S+)', f.read())
        self.assertNotIn('latest', ','.join(gating).split(','))

    def test_pins_satisfy_what_each_environment_asks(self):
        # A pin outside a requirement's range fails every install at once;
        # say which here, before any install is tried.
        for section in environments(self.config):
            deps = deps_of(self.config, section)
            files = [constraint_file(d) for d in deps if d.startswith('-c')]
            if not files:
                continue
            pinned = pins(files[0])
            for req in self._requirements(deps):
                key = update_constraints.canonical(req.name)
                if key in pinned:
                    self.assertIn(
                        pinned[key], req.specifier,
                        '[%s] asks %s; %s pins %s' % (
                            section, req, os.path.relpath(files[0], ROOT),
                            pinned[key]))

    def _requirements(self, deps):
        lines = []
        for dep in deps:
            if dep.startswith('-r'):
                path = dep[2:].strip().replace('{toxinidir}', ROOT)
                with open(path) as f:
                    lines += f.read().splitlines()
            elif not dep.startswith('-'):
                lines.append(dep)
        for line in lines:
            line = line.split('#')[0].strip()
            if line:
                yield requirements.Requirement(line)


class ShellInstallsTestCase(testtools.TestCase):
    """What the scripts install outside tox is pinned too."""

    def test_scripts_install_only_pinned_files(self):
        scripts = [os.path.join(ROOT, '.ci', 'run'),
                   os.path.join(ROOT, 'tools', 'dev')]
        scripts += glob.glob(os.path.join(ROOT, 'tools', '*.sh'))
        scripts += glob.glob(os.path.join(ROOT, 'tools', 'cloud', '*.sh'))
        found = 0
        for path in scripts:
            with open(path) as f:
                # a command continued over lines reads as one
                text = f.read().replace('\\\n', ' ')
            for line in text.splitlines():
                if line.lstrip().startswith('#'):
                    continue
                if INSTALL_COMMAND.search(line):
                    found += 1
                    self.assertRegex(line, r'-[rc] \S*constraints/',
                                     '%s installs unpinned: %s'
                                     % (path, line.strip()))
        self.assertGreater(found, 0, 'setup-host.sh installs tox')


class MergedFilesTestCase(testtools.TestCase):

    def test_each_release_file_is_upstream_with_the_overlay(self):
        releases = os.listdir(update_constraints.CONSTRAINTS)
        releases = [r for r in releases if os.path.isdir(
            os.path.join(update_constraints.CONSTRAINTS, r))]
        self.assertIn(update_constraints.CURRENT, releases)
        for release in releases:
            with open(update_constraints.paths(release)[2]) as f:
                self.assertEqual(
                    update_constraints.expected(release), f.read(),
                    'constraints/%s/upper-constraints.txt was edited by '
                    'hand, or local.txt since the tool ran' % release)

    def test_upstream_names_its_commit(self):
        for release in ('2026.2', '2026.1'):
            header = update_constraints.header_of(
                update_constraints.paths(release)[0])
            self.assertRegex(header[0], r'^# upstream: openstack/'
                             r'requirements \S+, commit [0-9a-f]{40} ')

    def test_the_pins_the_fresh_install_needed(self):
        # cryptography 51 with pyOpenSSL walked back to 22.0.0 broke every
        # import of glanceclient (AttributeError: GEN_EMAIL); the release's
        # constraints hold the pair that works together.
        current = pins(update_constraints.paths('2026.2')[2])
        self.assertEqual('43.0.3', current['cryptography'])
        self.assertEqual('24.2.1', current['pyopenssl'])
        self.assertEqual('34.0.0', current['nova'])
        previous = pins(update_constraints.paths('2026.1')[2])
        self.assertTrue(previous['nova'].startswith('33.'))


class MergeTestCase(testtools.TestCase):

    def test_override_replaces_every_marker_variant_in_place(self):
        upstream = update_constraints.parse(
            "a===1\nb===1;python_version=='3.10'\n"
            "b===2;python_version>='3.11'\nc===1\n", 'upstream')
        local = update_constraints.parse(
            'B===3  # needs 3\nd===1  # not upstream\n', 'local',
            need_reason=True)
        merged, overridden, added = update_constraints.merge(upstream, local)
        self.assertEqual(['a===1', 'B===3  # needs 3', 'c===1',
                          'd===1  # not upstream'],
                         [pin.line() for pin in merged])
        self.assertEqual((['b'], ['d']), (overridden, added))

    def test_overlay_line_without_reason_refused(self):
        error = self.assertRaises(ValueError, update_constraints.parse,
                                  'nova===34.0.0\n', 'local.txt',
                                  need_reason=True)
        self.assertIn('local.txt:1: nova is pinned with no reason',
                      str(error))

    def test_changes_listed(self):
        old = update_constraints.parse('a===1\nb===1\nc===1\n', 'old')
        new = update_constraints.parse('a===2\nb===1\nd===1\n', 'new')
        self.assertEqual(['  changed  a 1 -> 2', '  removed  c 1',
                          '  added    d 1'],
                         update_constraints.changes(old, new))
