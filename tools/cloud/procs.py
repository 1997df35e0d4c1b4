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

"""The cloud's processes: started with a mark, found by it, stopped.

Each service runs in a session of its own with
PKVM_CLOUD_SERVICE=<name>@<the cloud's run directory> in its environment,
which its children inherit: 'down' finds them that way,
even those a killed 'up' had no time to record, and never a process of
anything else. A process that sets its title (oslo.service's and
cotyledon's workers, through setproctitle) may write over the memory
/proc/<pid>/environ shows, and lose the mark: each session is also
recorded as it starts, and its members are found by their session id,
which the kernel never gives another process while one of them lives.
"""

import concurrent.futures
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

from tools.cloud import layout

MARK = 'PKVM_CLOUD_SERVICE'


class CloudError(Exception):
    """The cloud cannot be brought up or down; the message says why."""


def log_path(name):
    return os.path.join(layout.LOG_DIR, '%s.log' % name)


def sessions_path():
    return os.path.join(layout.RUN_DIR, 'sessions')


def start(name, argv, env=None, wrap=None):
    """Start argv as service name, its output in its log.

    :param wrap: a function of the argv giving the one to run (nsenter
        into a host), or None
    """
    os.makedirs(layout.LOG_DIR, exist_ok=True)
    os.makedirs(layout.RUN_DIR, exist_ok=True)
    environ = dict(os.environ, **(env or {}))
    environ[MARK] = _mark(name)
    with open(log_path(name), 'ab') as log:
        process = subprocess.Popen(
            wrap(argv) if wrap else argv, env=environ,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    stat = _stat(process.pid)
    with open(sessions_path(), 'a') as f:
        f.write('%d %s %s\n' % (process.pid, stat[1] if stat else '-', name))
    return process


def _mark(name):
    # whose, too: another cloud's (a test's) services are not this one's
    return '%s@%s' % (name, layout.RUN_DIR)


def _stat(pid):
    """(session id, start time) of pid, or None once it is gone.

    A zombie is gone: it waits only for its parent to read its status.
    """
    try:
        with open('/proc/%s/stat' % pid) as f:
            # after "pid (comm) ": state ppid pgrp session ... starttime
            fields = f.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] == 'Z':
        return None
    return int(fields[3]), fields[19]


def _recorded():
    """{session id: name} of the sessions start() recorded.

    A leader alive with another start time is another process that got the
    pid once the session had ended: not the cloud's.
    """
    sessions = {}
    try:
        with open(sessions_path()) as f:
            lines = f.read().splitlines()
    except OSError:
        return sessions
    for line in lines:
        pid, started, name = line.split(' ', 2)
        leader = _stat(pid)
        if leader is None or leader[1] == started:
            sessions[int(pid)] = name
    return sessions


def marked():
    """{pid: service name} of every process of the cloud."""
    found = {}
    sessions = _recorded()
    suffix = _mark('').encode()
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        stat = _stat(entry)
        if stat is None:
            continue
        if stat[0] in sessions:
            found[int(entry)] = sessions[stat[0]]
            continue
        try:
            with open('/proc/%s/environ' % entry, 'rb') as f:
                environ = f.read().split(b'\0')
        except OSError:
            continue
        for item in environ:
            if item.startswith(MARK.encode() + b'=') and \
                    item.endswith(suffix):
                found[int(entry)] = item.split(b'=', 1)[1][
                    :-len(suffix)].decode()
                break
    return found


def naming(*texts):
    """{pid: command line} of processes whose command line has a text."""
    found = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open('/proc/%s/cmdline' % entry, 'rb') as f:
                    cmdline = f.read().replace(b'\0', b' ').decode(
                        errors='replace')
            except OSError:
                continue
            if (any(text in cmdline for text in texts)
                    and _stat(entry) is not None):
                found[int(entry)] = cmdline[:200]
    return found


def services():
    """The names of the services that run (a process has their mark)."""
    return set(marked().values())


def stop_all(timeout=20):
    """SIGTERM every marked process, SIGKILL what outlives timeout."""
    _stop(marked, (signal.SIGTERM, signal.SIGKILL), timeout)


def kill(name, timeout=20):
    """SIGKILL service name's processes, as a crash or a power cut would."""
    _stop(lambda: {pid: service for pid, service in marked().items()
                   if service == name}, (signal.SIGKILL,), timeout)


def _stop(processes, signals, timeout):
    for sig in signals:
        for pid in processes():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while processes() and time.monotonic() < deadline:
            time.sleep(0.2)
        if not processes():
            return
    raise CloudError('processes outlive %s: %s' % (signals[-1].name,
                                                   processes()))


def wait_for(what, predicate, timeout, log=None):
    """Until predicate() is true; else CloudError with log's tail."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise CloudError('%s not ready after %d s%s' % (
                what, timeout, (':\n' + tail(log)) if log else ''))
        time.sleep(0.5)


def process_alive(process):
    if process.poll() is not None:
        raise CloudError('%s exited with %d' % (
            ' '.join(process.args[:3]), process.returncode))
    return True


def answers_http(url):
    """Whether url answers HTTP at all (any status: it is up)."""
    try:
        urllib.request.urlopen(url, timeout=5).close()
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False
    return True


def listens(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return False
    return True


def tail(path, lines=30):
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError as e:
        return '(no log: %s)' % e


def parallel(*steps):
    """Run the functions steps at once; raise the first one's error."""
    with concurrent.futures.ThreadPoolExecutor(len(steps)) as pool:
        for future in [pool.submit(step) for step in steps]:
            future.result()


def run(argv, what=None, timeout=600, **kwargs):
    """subprocess.run(argv); CloudError with its output when it fails."""
    done = subprocess.run(argv, capture_output=True, text=True,
                          timeout=timeout, **kwargs)
    if done.returncode:
        raise CloudError('%s failed (%d): %s' % (
            what or ' '.join(argv[:3]), done.returncode,
            (done.stderr or done.stdout)[-3000:]))
    return done.stdout
