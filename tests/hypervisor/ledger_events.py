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

"""The endianness ledger on nova's own libvirt Host, as nova-compute runs it.

    python -m tests.hypervisor.ledger_events PREFIX

A process of its own, because nova's Host runs libvirt's event loop in
threads that never end (the in-process hypervisor tier turns it off). Its
concurrency mode is nova's: eventlet unless OS_NOVA_DISABLE_EVENTLET_PATCHING
is set. With the real libvirtd it checks, and prints as JSON:

* the ledger's marker comes from lifecycle events on nova's connection,
  beside nova's own lifecycle callback, which still gets its events;
* a check in steady state calls neither domain counter;
* a domain defined and started behind nova's back, on a connection of its
  own (as virsh would), counts on the host, and stops counting once it is
  gone, without any resync.
"""

import os
import sys

if not os.environ.get('OS_NOVA_DISABLE_EVENTLET_PATCHING'):
    import nova.monkey_patch  # noqa: F401  (first, as nova-compute does)

import json  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from unittest import mock  # noqa: E402
import uuid  # noqa: E402

import libvirt  # noqa: E402
from nova.virt import event as virtevent  # noqa: E402
from nova.virt.libvirt import host as nova_host  # noqa: E402

from powerkvm_nova.compute import domains  # noqa: E402
from powerkvm_nova.endianness import Endianness  # noqa: E402
from powerkvm_nova.endianness import ledger  # noqa: E402

URI = 'qemu:///system'
TIMEOUT = 30
XML = '''<domain type='qemu'>
  <name>%(name)s</name><uuid>%(uuid)s</uuid>
  <memory unit='MiB'>256</memory><vcpu>1</vcpu>
  <os><type arch='ppc64' machine='pseries'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-ppc64</emulator></devices>
</domain>'''


def _until(what, predicate):
    deadline = time.monotonic() + TIMEOUT
    start = time.monotonic()
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit('%s: not within %d s' % (what, TIMEOUT))
        time.sleep(0.01)
    return time.monotonic() - start


def main(prefix):
    nova_events = []
    lock = threading.Lock()

    def lifecycle(event):
        with lock:
            nova_events.append((event.uuid, event.transition))

    host = nova_host.Host(URI, lifecycle_event_handler=lifecycle,
                          conn_event_handler=lambda *a, **k: None)
    host.initialize()
    source = domains.LibvirtDomains(host, libvirt, events=True)
    book = ledger.HostLedger(source, 'events-probe')
    book.rescan()
    figures = {'subscribed': source._subscribed is host.get_connection(),
               'held_before': str(book.holds())}

    counters = ('numOfDomains', 'numOfDefinedDomains')
    with mock.patch.multiple(libvirt.virConnect, **{
            name: mock.DEFAULT for name in counters}) as calls:
        for _ in range(100):
            book.check('a-guest', Endianness.BIG)
        figures['counter_calls'] = sum(calls[n].call_count for n in counters)

    behind = libvirt.open(URI)
    dom_uuid = str(uuid.uuid4())
    dom = behind.defineXML(XML % {'name': prefix + 'behind-nova',
                                  'uuid': dom_uuid})
    try:
        figures['define_seen_s'] = _until(
            'the ledger counting a domain defined behind nova\'s back',
            lambda: book.holds() == Endianness.BIG)
        dom.create()
        started = (dom_uuid, virtevent.EVENT_LIFECYCLE_STARTED)
        figures['nova_started_event_s'] = _until(
            'nova\'s lifecycle callback getting the domain\'s start',
            lambda: started in list(nova_events))
        dom.destroy()
    finally:
        dom.undefine()
        behind.close()
    figures['undefine_seen_s'] = _until(
        'the ledger forgetting the undefined domain',
        lambda: book.holds() is None)
    print(json.dumps(figures), flush=True)
    # nova's event threads never end: leave without waiting for them.
    os._exit(0)


if __name__ == '__main__':
    main(sys.argv[1])
