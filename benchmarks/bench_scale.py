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

"""The endianness rule at scale: nova's scheduler workers over many hosts.

For 1, 2 and 4 scheduler workers, with and without the rule, over H
simulated PowerKVM hosts and R boot requests arriving in bursts of B, half
little- and half big-endian: how many admissions the hosts refused, how
many reschedules, how many servers ended in ERROR (no valid host, or
retries exhausted), how many hosts were ever mixed, and requests/s.
A burst's requests go out at once to a pool of T threads (--threads, 20),
nova-conductor's in flight; the next burst waits for the last answer.

Real: nova's SchedulerManager (HostManager, filters and weighers, the
FilterScheduler's placement claims) in N processes (scale/worker.py), each
an oslo.messaging RPC server on nova's scheduler topic of one RabbitMQ
virtual host; one MariaDB server with nova's API and cell databases and
placement's; placement's own WSGI application in every process (as nova's
functional tests run it); nova's query client for select_destinations and
the computes' update_instance_info casts; the project's HostLedger on
every host, its filter and weigher in the workers.

With the rule: the project's filter and weigher (doc/endianness.md, "In
the scheduler") and every host's admission (ledger policy exclusive).
Without: nova's default filters and weighers, and hosts that admit all
(ledger policy mixed), counting the hosts that end up running both.

Simplified (scale/cloud.py): the computes are simulated in the driver
process: a spawn is instant and always succeeds, there is no
nova-compute RPC and no periodic task (the compute node's usage is
written at each claim, as nova's resource tracker does, but the hosts'
endianness stats stay as an empty host reports them: every guest is one
nova lists there, which the schedulers read from the instances), and a
refusing host never ends a build by itself (the driver's "no other host
could take it", powerkvm_nova/compute/endianness_steps.py _final_reason,
cannot apply with hosts to spare). The conductor's part is the scheduling
and rescheduling only: no BuildRequest or InstanceMapping, the instance
is created in the cell once scheduled. glance answers with the two
images' properties in the workers. The schemas come from the models
(metadata.create_all), not nova's migrations. The computes send no
heartbeat, so [DEFAULT] service_down_time is a day. Placement runs inside
each worker (and the driver) rather than as a service of its own, with a
larger connection pool than its default (scale/settings.py).

Needs root, MariaDB and RabbitMQ (tools/setup-host.sh), PyMySQL and
placement in the environment: tox -e cloud has both
(.tox/cloud/bin/python benchmarks/bench_scale.py); tox -e bench needs
PyMySQL in its deps first.

Usage: python benchmarks/bench_scale.py [--hosts H] [--requests R]
           [--burst B] [--threads T] [--rule 0|1] [--workers N]
           [--watchdog SECONDS] [--json FILE]
Full scale: python benchmarks/bench_scale.py --hosts 1000 --requests 5000 \\
           --burst 500 --watchdog 10800
"""

import concurrent.futures
import faulthandler
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# The scheduler workers and this driver run nova's native threading mode
# (nova-scheduler's in nova 34) unless the environment says otherwise.
os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')

import tests  # noqa: E402,F401  (nova's concurrency mode, first)

from nova import objects  # noqa: E402

from powerkvm_nova.endianness import Endianness  # noqa: E402

import common  # noqa: E402
from scale import cloud  # noqa: E402
from scale import infra  # noqa: E402
from scale import settings as scale_settings  # noqa: E402

WORKERS = (1, 2, 4)
WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'scale',
                      'worker.py')
START_TIMEOUT = 300
STOP_TIMEOUT = 30
# A burst's requests all answer within this, or the run fails.
BURST_TIMEOUT = 1800
# What the figures are judged against (the task's goal).
GOAL_REFUSALS = 0.01


class Workers:
    """N scheduler worker processes; stopped by closing their stdin."""

    def __init__(self, count, settings, logdir):
        self.procs = []
        self.logs = []
        for i in range(count):
            mine = dict(settings, name='scheduler-%d' % i)
            log = open(os.path.join(logdir, 'rule-%s-workers-%d-%d.log' % (
                'on' if settings['rule'] else 'off', count, i)), 'w')
            self.logs.append(log)
            self.procs.append(subprocess.Popen(
                [sys.executable, WORKER, json.dumps(mine)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                text=True))
        for proc in self.procs:
            self._wait_ready(proc)

    @staticmethod
    def _wait_ready(proc):
        ready = threading.Event()

        def read():
            for line in proc.stdout:
                if line.strip() == 'READY':
                    ready.set()
                    return

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(START_TIMEOUT):
            raise RuntimeError('scheduler worker %d did not start in %d s '
                               '(exit status %s; see its log)'
                               % (proc.pid, START_TIMEOUT, proc.poll()))

    def stop(self):
        for proc in self.procs:
            try:
                proc.stdin.close()
            except OSError:
                pass
        for proc in self.procs:
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT)
        for log in self.logs:
            log.close()


def run(settings, rule, workers, args, image_ids, logdir):
    """One configuration, on emptied databases; its figures."""
    infra.empty_databases()
    settings = dict(settings, rule=rule)
    started = time.monotonic()
    sim = cloud.Cloud(settings['transport_url'], settings['cell_db'],
                      args.hosts, rule, image_ids)
    made = time.monotonic() - started
    pool = Workers(workers, settings, logdir)
    try:
        sim.synchronise()
        # the casts above reach every worker before its first request
        time.sleep(2)
        kinds = [Endianness.LITTLE, Endianness.BIG]
        started = time.monotonic()
        executor = concurrent.futures.ThreadPoolExecutor(args.threads)
        try:
            for first in range(0, args.requests, args.burst):
                count = min(args.burst, args.requests - first)
                futures = [executor.submit(sim.boot, kinds[(first + i) % 2])
                           for i in range(count)]
                done, late = concurrent.futures.wait(futures, BURST_TIMEOUT)
                if late:
                    raise RuntimeError('%d requests unanswered after %d s'
                                       % (len(late), BURST_TIMEOUT))
                for future in done:
                    if future.exception() is not None:
                        sim.figures.count('error_other',
                                          repr(future.exception()))
        finally:
            # a failed run leaves no request queued behind it
            executor.shutdown(wait=False, cancel_futures=True)
        elapsed = time.monotonic() - started
    finally:
        pool.stop()
    figures = dict(sim.figures.counts)
    for name in cloud.Figures.NAMES:
        figures.setdefault(name, 0)
    figures.update(
        rule=rule, workers=workers, hosts=args.hosts,
        requests=args.requests, burst=args.burst,
        errors=sum(figures[n] for n in cloud.Figures.NAMES
                   if n.startswith('error')),
        mixed_hosts=len(sim.figures.mixed),
        hosts_used=sum(1 for h in sim.hosts.values() if h.ledger.holders()),
        most_guests_on_a_host=max(len(h.ledger.holders())
                                  for h in sim.hosts.values()),
        seconds=round(elapsed, 1), setup_seconds=round(made, 1),
        requests_per_second=round(args.requests / elapsed, 1),
        error_reasons=dict(sim.figures.errors))
    figures['goal_met'] = (figures['errors'] == 0 and
                           figures['mixed_hosts'] == 0 and
                           figures['refused'] < GOAL_REFUSALS *
                           args.requests)
    return figures


def table(results):
    head = ('rule', 'workers', 'refused', 'resched', 'ERROR', 'mixed',
            'hosts used', 'req/s', 'seconds', 'goal')
    rows = [head]
    for f in results:
        rows.append(('on' if f['rule'] else 'off', f['workers'], f['refused'],
                     f['rescheduled'], f['errors'], f['mixed_hosts'],
                     f['hosts_used'], f['requests_per_second'], f['seconds'],
                     'met' if f['goal_met'] else '-'))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(head))]
    for row in rows:
        print('  '.join(str(v).rjust(w) for v, w in zip(row, widths)))
    for f in results:
        for reason, n in sorted(f['error_reasons'].items()):
            print('rule %s, %d workers: %d x %s' % (
                'on' if f['rule'] else 'off', f['workers'], n, reason))


def _terminated(signum, frame):
    # SIGTERM ends the run through its cleanup (finally below)
    raise SystemExit('terminated by signal %d' % signum)


def main():
    # --rule 1 or 0: only with or without the rule; --workers N: only N
    # scheduler workers (a larger run within its time).
    args = common.arguments(__doc__, hosts=50, requests=300, burst=100,
                            threads=20, rule=-1, workers=0,
                            watchdog=common.WATCHDOG_SECONDS)
    # A full-scale run takes longer than common's watchdog; still bounded.
    faulthandler.dump_traceback_later(args.watchdog, exit=True)
    signal.signal(signal.SIGTERM, _terminated)
    print('%d hosts, %d requests in bursts of %d (%d threads)' % (
        args.hosts, args.requests, args.burst, args.threads), flush=True)
    infra.start_mariadb()
    image_ids, image_service = cloud.images()
    logdir = tempfile.mkdtemp(prefix='pkvm-scale-')
    results = []
    try:
        transport_url = infra.create_vhost()
        infra.create_databases()
        settings = {'transport_url': transport_url,
                    'api_db': infra.url('api'), 'cell_db': infra.url('cell'),
                    'placement_db': infra.url('placement'), 'rule': False,
                    'hosts': args.hosts,
                    'images': {i: image_service[i] for i in image_service}}
        scale_settings.configure(settings)
        objects.register_all()
        placement = scale_settings.SharedPlacement(settings['placement_db'])
        placement.setUp()
        for rule in (False, True):
            if args.rule >= 0 and rule != bool(args.rule):
                continue
            for workers in [args.workers] if args.workers else WORKERS:
                started = time.monotonic()
                figures = run(settings, rule, workers, args, image_ids,
                              logdir)
                figures['wall_seconds'] = round(time.monotonic() - started,
                                                1)
                print('rule %s, %d workers: %s' % (
                    'on' if rule else 'off', workers, json.dumps(figures)),
                    flush=True)
                results.append(figures)
    finally:
        infra.drop_databases()
        infra.delete_vhost()
    print()
    table(results)
    print('(worker logs: %s)' % logdir)
    return common.save({'results': results}, args.json)


if __name__ == '__main__':
    try:
        status = main()
    except BaseException:
        # Cleaned up already (main's finally); requests still waiting for
        # a stopped worker's answer would hold the exit for their RPC
        # timeout.
        traceback.print_exc()
        sys.stdout.flush()
        os._exit(1)
    sys.exit(status)
