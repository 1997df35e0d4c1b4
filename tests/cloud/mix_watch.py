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

"""Whether a host ever ran guests of both endiannesses, watched live."""

import contextlib
import queue
import threading
import xml.etree.ElementTree as ElementTree

import libvirt

from tools.cloud import layout

_LOOP = threading.Lock()
_looping = []


def arches(conn):
    """{domain UUID: its architecture} of every domain of a libvirtd."""
    found = {}
    for dom in conn.listAllDomains():
        try:
            xml = ElementTree.fromstring(dom.XMLDesc())
        except libvirt.libvirtError:
            continue        # undefined meanwhile
        found[dom.UUIDString()] = xml.find('./os/type').get('arch')
    return found


def host_arches(hosts, host):
    """The architectures of the domains on host, now."""
    with contextlib.closing(libvirt.open(hosts.uri(host))) as conn:
        return set(arches(conn).values())


def _event_loop():
    """libvirt's default event loop, in a thread of its own, once.

    libvirt wants its event implementation registered once a process,
    before the connections whose events it runs are opened.
    """
    with _LOOP:
        if not _looping:
            libvirt.virEventRegisterDefaultImpl()
            thread = threading.Thread(target=_run_events, daemon=True)
            thread.start()
            _looping.append(thread)


def _run_events():
    while True:
        libvirt.virEventRunDefaultImpl()


class MixWatch:
    """Every domain defined or started on each host, as libvirt reports it.

    Each event has its host's domains looked at (their architecture in
    their XML): a host mixed even for a moment is seen, not only at the end.
    """

    def __init__(self, hosts):
        _event_loop()
        self.mixed = []
        self._events = queue.Queue()
        self._stop = threading.Event()
        self._conns = {}
        for host in layout.HOSTS:
            conn = libvirt.open(hosts.uri(host))
            conn.domainEventRegisterAny(
                None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._event,
                host)
            self._conns[host] = conn
        threading.Thread(target=self._check, daemon=True).start()

    def _event(self, conn, dom, event, detail, host):
        # libvirt's event thread: the looking is done elsewhere
        if event in (libvirt.VIR_DOMAIN_EVENT_DEFINED,
                     libvirt.VIR_DOMAIN_EVENT_STARTED):
            self._events.put(host)

    def _check(self):
        while not self._stop.is_set():
            try:
                host = self._events.get(timeout=1)
            except queue.Empty:
                continue
            running = set(self.arches(host).values())
            if len(running) > 1:
                self.mixed.append((host, sorted(running)))

    def arches(self, host):
        return arches(self._conns[host])

    def close(self):
        self._stop.set()
        for conn in self._conns.values():
            conn.close()
