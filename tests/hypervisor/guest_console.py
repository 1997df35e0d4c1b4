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

"""Whether a test guest is alive, asked through its console.

The test guest (tools/build-test-guest.sh) answers a line "ping <word>"
written to its console with "POWERKVM-PONG <word> <uptime>". Its ticks
come from its timer; the answer only from the console's interrupt (QEMU's
spapr-vty pulses its interrupt on input: hw/char/spapr_vty.c,
vty_receive). A TCG guest migrated by QEMU before 8.1 (Debian 12 has 7.2)
loses its decrementer (fixed by QEMU's "target/ppc: Migrate DECR SPR"): it
stops ticking until something wakes it, but it answers at once. Its uptime
(the timebase, which a migration carries) tells that its clock went on and
that it was not booted again. Under KVM on POWER the decrementer is the
CPU's.
"""

import os
import re
import subprocess
import sys
import threading
import time
import uuid

import libvirt

PONG = re.compile(r'POWERKVM-PONG (\S+) (\d+\.\d+)')
# a ping is written again (another interrupt) when unanswered this long
RESEND_EVERY = 5
# a libvirt call of the asking process returns within this, or it stalled
CALL_LIMIT = 20
# the asking process's exit status when a libvirt call stalled
STALLED = 3


class NoAnswer(Exception):
    pass


def ping(dom, timeout=60, call_limit=CALL_LIMIT):
    """The guest's uptime (s) in its answer to a ping on its console.

    The answer is read from the console itself, not its log file, which a
    failed migration's destination may have truncated or replaced. It is
    read in a process of its own: a console stream is read with blocking
    calls, which would stop every greenthread of an eventlet process.

    A libvirt call of the asking process that does not return in
    CALL_LIMIT seconds (seen once in about 40 runs: the console stream of a
    guest just migrated in, with 0 bytes read) ends that process; the
    question is asked once more on a new connection, and the stall is
    written to stderr, where the test's output keeps it. A guest that does
    not answer is not asked twice.

    :param dom: the guest's libvirt domain, with a pty console
    :param call_limit: seconds a libvirt call may take
    :raises NoAnswer: with what the console printed, when no answer came
        in timeout, or when a libvirt call stalled twice
    """
    uri, domain = dom.connect().getURI(), dom.UUIDString()
    for attempt in (1, 2):
        asked = subprocess.run(
            [sys.executable, os.path.abspath(__file__), uri, domain,
             str(timeout), str(call_limit)],
            capture_output=True, text=True,
            timeout=timeout + 3 * call_limit)
        if asked.returncode != STALLED or attempt == 2:
            break
        sys.stderr.write('guest_console: asked again on a new connection: '
                         '%s\n' % asked.stderr[-500:])
    if asked.returncode:
        raise NoAnswer(asked.stderr[-3000:])
    return float(asked.stdout)


def _ask(uri, domain, timeout, call_limit=CALL_LIMIT):
    """Ping the domain's console until it answers; print its uptime."""
    printed = []
    # the libvirt call under way and when it must have returned by, for a
    # watchdog that says which one did not
    stage = ['connecting to %s' % uri, time.monotonic() + call_limit]

    def call(what):
        stage[:] = [what, time.monotonic() + call_limit]

    def watch():
        while time.monotonic() < stage[1]:
            time.sleep(0.5)
        sys.stderr.write('a libvirt call did not return in %d s: %s; the '
                         'console printed:\n%s'
                         % (call_limit, stage[0], ''.join(printed)[-2000:]))
        sys.stderr.flush()
        os._exit(STALLED)

    threading.Thread(target=watch, daemon=True).start()
    conn = libvirt.open(uri)
    call('looking the domain up')
    dom = conn.lookupByUUIDString(domain)
    call('opening the console')
    stream = conn.newStream(0)
    dom.openConsole(None, stream, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
    # "ping" and 6 hex digits: the line fits spapr-vty's 16-byte input
    # buffer (VTERM_BUFSIZE), so a guest slow to read loses none of it
    word = uuid.uuid4().hex[:6]

    def read():
        while True:
            data = stream.recv(4096)
            if not data:
                return
            printed.append(data.decode(errors='replace'))

    threading.Thread(target=read, daemon=True).start()
    # The console stays open until the answer: QEMU stops reading a pty
    # whose other end closed, and a line written just before the close
    # waits there for the next opening.
    deadline = time.monotonic() + timeout
    sent = 0
    while time.monotonic() < deadline:
        call('writing ping %d (%d bytes read)'
             % (sent + 1, len(''.join(printed))))
        stream.send(('ping %s\r' % word).encode())
        sent += 1
        # waiting is not a libvirt call: the watchdog waits past it
        stage[1] = float('inf')
        resend = min(deadline, time.monotonic() + RESEND_EVERY)
        while time.monotonic() < resend:
            for answered, uptime in PONG.findall(''.join(printed)):
                if answered == word:
                    print(uptime)
                    return 0
            time.sleep(0.1)
    sys.stderr.write('no answer to %d pings "ping %s" in %d s; the console '
                     'printed:\n%s'
                     % (sent, word, timeout, ''.join(printed)[-2000:]))
    return 1


if __name__ == '__main__':
    rc = _ask(*sys.argv[1:3], *map(float, sys.argv[3:5]))
    sys.stdout.flush()
    sys.stderr.flush()
    # the reader may be blocked in libvirt: leave without waiting for it
    os._exit(rc)
