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

"""Endianness admission on a host with 1,000 guests, against spawning one.

On the real libvirtd (qemu:///system), with N guests defined (shut off,
as PowerKVMDriver records them), through nova's own libvirt Host as
nova-compute runs it (libvirt's event loop running, nova's lifecycle
callback registered, threading mode), it times, in one run:

  admission   one HostLedger.admit(), as every spawn does, in steady
              state (nothing defined or undefined in between): the
              marker is the count of libvirt's lifecycle events;
  counting admission
              the same with the marker counting domains (numOfDomains +
              numOfDefinedDomains), what a connection without events
              does;
  admission after a change
              the same once a domain defined behind nova's back was
              reported (the ledger lists UUIDs once and reads the new
              domain only);
  naive check list every domain and parse its XML, what a check without
              the ledger would do each time;
  bare spawn  the libvirt part of a spawn, the baseline: define and start
              a 1-vCPU pseries guest (TCG), then destroy and undefine it.

and prints each with the ratios. Needs root and a running libvirtd.
Usage: python benchmarks/bench_admission.py [--guests N] [--json FILE]
"""

import itertools
import os
import statistics
import sys
import time
import uuid

# nova's threading mode: its libvirt event loop in native threads, no
# monkey patching (set before nova is imported).
os.environ['OS_NOVA_DISABLE_EVENTLET_PATCHING'] = '1'

import libvirt  # noqa: E402
from nova.virt.libvirt import host as nova_host  # noqa: E402

from powerkvm_nova.compute import domains  # noqa: E402
from powerkvm_nova.endianness import Endianness  # noqa: E402
from powerkvm_nova.endianness import ledger  # noqa: E402

import common  # noqa: E402

URI = 'qemu:///system'
PREFIX = 'pkvmbench-'
XML = '''<domain type='qemu'>
  <name>%(name)s</name><uuid>%(uuid)s</uuid>
  <memory unit='MiB'>256</memory><vcpu>1</vcpu>
  <metadata>
    <powerkvm:guest xmlns:powerkvm='%(ns)s' endianness='little-endian'/>
  </metadata>
  <os><type arch='ppc64le' machine='pseries'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-ppc64</emulator></devices>
</domain>'''


def _xml(name):
    return XML % {'name': name, 'uuid': uuid.uuid4(), 'ns': domains.NS}


def _clean(conn):
    for dom in conn.listAllDomains(0):
        if dom.name().startswith(PREFIX):
            if dom.isActive():
                dom.destroy()
            dom.undefine()


def _per_call(fn, repeat):
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _until_changed(source, marker, timeout=30):
    deadline = time.monotonic() + timeout
    while source.marker() == marker:
        if time.monotonic() > deadline:
            raise SystemExit('no lifecycle event within %d s' % timeout)
        time.sleep(0.001)


def main():
    args = common.arguments(__doc__, guests=1000)

    host = nova_host.Host(URI, conn_event_handler=lambda *a, **k: None)
    host.initialize()
    conn = host.get_connection()
    _clean(conn)
    try:
        print('defining %d shut-off ppc64le guests...' % args.guests,
              flush=True)
        for i in range(args.guests):
            conn.defineXML(_xml('%s%05d' % (PREFIX, i)))
        source = domains.LibvirtDomains(host, libvirt, events=True)
        book = ledger.HostLedger(source, 'bench')
        start = time.perf_counter()
        book.rescan()
        rescan = time.perf_counter() - start
        assert book.holds() == Endianness.LITTLE
        if source._subscribed is not conn:
            raise SystemExit('the ledger did not subscribe to events')

        new = ('guest-%d' % i for i in itertools.count())

        def admit(on=book):
            on.admit(next(new), Endianness.LITTLE)

        admission = _per_call(admit, 2000)

        counting = ledger.HostLedger(
            domains.LibvirtDomains(host, libvirt), 'bench-counting')
        counting.rescan()
        counting_admission = _per_call(lambda: admit(counting), 2000)

        def admit_after_change():
            name = '%sextra' % PREFIX
            marker = source.marker()
            dom = conn.defineXML(_xml(name))
            _until_changed(source, marker)
            start = time.perf_counter()
            book.admit('new-guest', Endianness.LITTLE)
            elapsed = time.perf_counter() - start
            book.release('new-guest')
            dom.undefine()
            book.rescan()
            return elapsed

        after_change = statistics.median(
            admit_after_change() for _ in range(20))

        def naive():
            flags = (libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE |
                     libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)
            for dom in conn.listAllDomains(flags):
                domains.endianness_from_xml(dom.XMLDesc(0))

        naive_check = _per_call(naive, 5)

        def spawn():
            dom = conn.defineXML(_xml(PREFIX + 'spawn'))
            dom.create()
            dom.destroy()
            dom.undefine()

        spawn()  # warm QEMU's and libvirt's caches
        bare_spawn = _per_call(spawn, 10)
    finally:
        _clean(conn)

    figures = {
        'guests': args.guests,
        'rescan_s': rescan,
        'admission_s': admission,
        'counting_admission_s': counting_admission,
        'counting_over_admission': counting_admission / admission,
        'admission_after_change_s': after_change,
        'naive_check_s': naive_check,
        'bare_spawn_s': bare_spawn,
        'admission_over_spawn': admission / bare_spawn,
        'admission_after_change_over_spawn': after_change / bare_spawn,
        'naive_over_admission': naive_check / admission,
    }
    print('guests on the host:            %d' % args.guests)
    print('ledger rescan (start-up):      %.1f ms' % (rescan * 1e3))
    print('admission check:               %.1f us' % (admission * 1e6))
    print('  counting domains instead:    %.1f us (%.0f x)'
          % (counting_admission * 1e6, figures['counting_over_admission']))
    print('  after a domain changed:      %.2f ms' % (after_change * 1e3))
    print('naive check (list + parse):    %.1f ms' % (naive_check * 1e3))
    print('bare spawn (define+start+destroy+undefine): %.1f ms'
          % (bare_spawn * 1e3))
    print('ratio admission / bare spawn:  %.6f (%.4f%%)'
          % (figures['admission_over_spawn'],
             100 * figures['admission_over_spawn']))
    print('ratio after change / spawn:    %.4f'
          % figures['admission_after_change_over_spawn'])
    print('ratio naive / admission:       %.0f x'
          % figures['naive_over_admission'])
    status = common.save(figures, args.json)
    sys.stdout.flush()
    # nova's event and connection threads never end: do not wait for them.
    os._exit(status or 0)


if __name__ == '__main__':
    main()
