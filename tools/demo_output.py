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


"""How the demo speaks: lines, wrapped lines, tables, checks."""

import textwrap


def say(text=''):
    print(text, flush=True)


def say_wrapped(text, indent, hang='  '):
    say(textwrap.fill(text, width=100, initial_indent=indent,
                      subsequent_indent=indent + hang,
                      break_on_hyphens=False))


def table(rows, indent='   '):
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        say((indent + '  '.join(str(c).ljust(w)
                                for c, w in zip(row, widths))).rstrip())
        if n == 0:
            say(indent + '  '.join('-' * w for w in widths))


def topology_text(topology):
    return ' x '.join(str(n) for n in topology) if topology else '-'


class Report:
    """What the story checked.

    Kept outside the test case: nova's test base clears a case's
    attributes when it ends.
    """

    def __init__(self):
        self.passed = 0
        self.failures = []

    def check(self, ok, what, detail=None):
        if ok:
            self.passed += 1
            say('         ok    %s' % what)
        else:
            seen = ' (seen: %s)' % detail if detail else ''
            self.failures.append(what + seen)
            say_wrapped('FAIL  ' + what + seen, ' ' * 9, ' ' * 6)
        return ok
