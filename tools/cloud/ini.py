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

"""INI files as oslo.config reads them, and devstack's iniset on them.

    ini.py set FILE SECTION KEY VALUE   one line key = value in the section
    ini.py add FILE SECTION KEY VALUE   one more line (multi-valued options)
    ini.py get FILE SECTION KEY         the first value, or nothing

set, get and add do what devstack's iniset, iniget and iniadd do
(devstack's inc/ini-config), leaving every other line as it was: add
appends one more line of a multi-valued option, as oslo.config's
MultiStrOpt reads. The cloud configures its nova services with the devstack
plugin's own functions (devstack/plugin.sh) over these, and the plugin's
test (tests/fixtures/devstack/stubs.sh) runs them too.
"""

import re
import sys


def write(path, sections):
    """Write {section: {option: value or [values]}} as a new file."""
    with open(path, 'w') as f:
        for name, options in sections.items():
            f.write('[%s]\n' % name)
            for option, value in options.items():
                for one in value if isinstance(value, list) else [value]:
                    f.write('%s = %s\n' % (option, _text(one)))
            f.write('\n')


def _text(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def main(action, path, section, key, value=None):
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        lines = []
    header = '[%s]' % section
    if header not in lines:
        if action == 'get':
            return
        lines += ['', header]
    start = lines.index(header) + 1
    end = next((i for i in range(start, len(lines))
                if lines[i].startswith('[')), len(lines))
    mine = [i for i in range(start, end)
            if re.match(r'\s*%s\s*=' % re.escape(key), lines[i])]
    if action == 'get':
        if mine:
            print(lines[mine[0]].split('=', 1)[1].strip())
        return
    if action == 'set':
        for i in reversed(mine):
            del lines[i]
            end -= 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    lines.insert(end, '%s = %s' % (key, value))
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main(*sys.argv[1:])
