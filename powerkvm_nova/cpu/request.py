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

"""What a flavor and image ask of a POWER CPU, and the topology it gets.

The powerkvm: flavor extra specs (validated by the API, see
powerkvm_nova.api.extra_specs):
- powerkvm:micro_threading = required | forbidden: a host in a split-core
  mode (subcores_per_core 2 or 4) or in whole-core mode (1);
- powerkvm:subcores_per_core = 1 | 2 | 4: exactly that mode;
- powerkvm:threads_per_core = 1 | 2 | 4 | 8: exactly that many threads a
  guest core (vCPUs must be a multiple).

They combine with nova's topology properties: hw:cpu_threads (flavor) and
hw_cpu_threads (image) must agree with powerkvm:threads_per_core when both
are set; hw:cpu_max_threads / hw_cpu_max_threads cap the threads the
packing may choose; hw:cpu_sockets / hw_cpu_sockets fix the sockets, and
hw:cpu_max_sockets / hw_cpu_max_sockets cap them; hw:cpu_cores /
hw_cpu_cores fix the guest cores, so the threads a core (a POWER guest
core's threads share one host (sub)core, so they are what a host must
run); hw:cpu_max_cores / hw_cpu_max_cores cap the cores, so the packing
needs at least that many threads. Contradictions raise RequestError
naming both sides.
"""

import dataclasses

from powerkvm_nova.cpu import host as cpu_host
from powerkvm_nova import exception

MICRO_THREADING = 'powerkvm:micro_threading'
SUBCORES = 'powerkvm:subcores_per_core'
THREADS = 'powerkvm:threads_per_core'
THREAD_CHOICES = (1, 2, 4, 8)
_MT_MODES = {'required': frozenset({2, 4}), 'forbidden': frozenset({1})}


class RequestError(exception.PowerKVMError):
    """The flavor and image contradict each other: no host can help."""


class NoFit(exception.PowerKVMError):
    """This host's mode cannot serve the request; another host may.

    need says what the request needs, the same for every host that cannot
    serve it, so a scheduler can name it once for all of them.
    """

    def __init__(self, need, host=None):
        self.need = need
        self.host = host
        super().__init__(need if host is None
                         else '%s; this host is %s' % (need, host))


@dataclasses.dataclass(frozen=True)
class Topology:
    sockets: int
    cores: int
    threads: int

    def __str__(self):
        return '%d socket(s) x %d core(s) x %d thread(s)' % (
            self.sockets, self.cores, self.threads)


@dataclasses.dataclass(frozen=True)
class CpuRequest:
    vcpus: int
    threads: int | None = None
    max_threads: int | None = None
    sockets: int | None = None
    subcores: frozenset | None = None
    max_cores: int | None = None

    @property
    def constrained(self):
        return self.threads is not None or self.subcores is not None


def _int(source, key, name):
    value = source.get(key)
    if value in (None, ''):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RequestError('%s=%r is not a whole number' % (name, value))


def _one_of(values):
    """The single value all the named sources agree on, or None.

    :param values: [(name, value or None)]
    """
    named = [(n, v) for n, v in values if v is not None]
    for name, value in named[1:]:
        if value != named[0][1]:
            raise RequestError('%s=%s contradicts %s=%s' % (
                named[0][0], named[0][1], name, value))
    return named[0][1] if named else None


def from_specs(vcpus, extra_specs, image_props):
    """The CpuRequest of a flavor (vcpus, extra_specs) and image properties.

    :raises RequestError: the specs and properties contradict each other
    """
    specs, props = extra_specs or {}, image_props or {}
    threads = _one_of([
        (THREADS, _int(specs, THREADS, THREADS)),
        ('hw:cpu_threads', _int(specs, 'hw:cpu_threads', 'hw:cpu_threads')),
        ('image hw_cpu_threads',
         _int(props, 'hw_cpu_threads', 'hw_cpu_threads')),
    ])
    caps = _caps(specs, props, 'threads')
    max_threads = min((v for _, v in caps), default=None)
    sockets = _one_of([
        ('hw:cpu_sockets', _int(specs, 'hw:cpu_sockets', 'hw:cpu_sockets')),
        ('image hw_cpu_sockets',
         _int(props, 'hw_cpu_sockets', 'hw_cpu_sockets')),
    ])
    for name, cap in _caps(specs, props, 'sockets'):
        if (sockets or 1) > cap:
            raise RequestError('%d sockets exceed %s=%d'
                               % (sockets or 1, name, cap))
    threads = _threads_of_cores(vcpus, threads, sockets, _one_of([
        ('hw:cpu_cores', _int(specs, 'hw:cpu_cores', 'hw:cpu_cores')),
        ('image hw_cpu_cores', _int(props, 'hw_cpu_cores', 'hw_cpu_cores')),
    ]))
    core_caps = _caps(specs, props, 'cores')
    max_cores = min((v for _, v in core_caps), default=None)
    subcores = _subcores(specs)
    if threads is not None:
        if threads not in THREAD_CHOICES:
            raise RequestError('%d threads a guest core: POWER guest cores '
                               'have 1, 2, 4 or 8' % threads)
        for name, cap in caps:
            if threads > cap:
                raise RequestError('%d threads a guest core exceeds %s=%d'
                                   % (threads, name, cap))
        if vcpus % (threads * (sockets or 1)):
            raise RequestError(
                '%d vCPUs cannot be made of guest cores of %d threads%s'
                % (vcpus, threads,
                   ' in %d sockets' % sockets if sockets else ''))
        if subcores and all(threads > 8 // mode for mode in subcores):
            raise RequestError(
                '%d threads a guest core do not fit %s (at most %d threads '
                'a subcore)' % (threads, _describe_modes(subcores),
                                8 // min(subcores)))
        for name, cap in core_caps:
            if vcpus // (threads * (sockets or 1)) > cap:
                raise RequestError(
                    '%d guest cores of %d threads exceed %s=%d'
                    % (vcpus // (threads * (sockets or 1)), threads, name,
                       cap))
    if sockets and vcpus % sockets:
        raise RequestError('%d vCPUs cannot be split into %d sockets'
                           % (vcpus, sockets))
    return CpuRequest(vcpus=vcpus, threads=threads, max_threads=max_threads,
                      sockets=sockets, subcores=subcores, max_cores=max_cores)


def _caps(specs, props, what):
    """[(name, value)] of hw:cpu_max_<what> and image hw_cpu_max_<what>."""
    flavor, image = 'hw:cpu_max_' + what, 'hw_cpu_max_' + what
    return [(n, v) for n, v in (
        (flavor, _int(specs, flavor, flavor)),
        ('image ' + image, _int(props, image, image))) if v]


def _threads_of_cores(vcpus, threads, sockets, cores):
    """The threads a core fixed guest cores imply, checked against threads.

    A POWER guest core's threads run on one host (sub)core, so fixing the
    cores fixes what a host must run.
    """
    if cores is None:
        return threads
    per_socket = sockets or 1
    if cores < 1 or vcpus % (cores * per_socket):
        raise RequestError('%d vCPUs cannot be made of %d guest cores%s'
                           % (vcpus, cores, ' in each of %d sockets'
                              % sockets if sockets else ''))
    implied = vcpus // (cores * per_socket)
    if threads is not None and threads != implied:
        raise RequestError('%d threads a guest core contradict hw:cpu_cores='
                           '%d (%d threads a core)' % (threads, cores,
                                                       implied))
    return implied


def _subcores(specs):
    wanted = specs.get(MICRO_THREADING)
    exact = _int(specs, SUBCORES, SUBCORES)
    if wanted is not None and wanted not in _MT_MODES:
        raise RequestError('%s=%r: use required or forbidden'
                           % (MICRO_THREADING, wanted))
    if exact is not None and exact not in cpu_host.SUBCORE_MODES:
        raise RequestError('%s=%s: POWER8 split-core modes are 1, 2 and 4'
                           % (SUBCORES, exact))
    if exact is not None and wanted and exact not in _MT_MODES[wanted]:
        raise RequestError('%s=%s contradicts %s=%s'
                           % (SUBCORES, exact, MICRO_THREADING, wanted))
    if exact is not None:
        return frozenset({exact})
    return _MT_MODES.get(wanted)


def check_fit(request, host):
    """Raise NoFit naming the host's mode when it cannot serve the request."""
    blocker = host.kvm_blocker
    if blocker:
        raise NoFit(blocker)
    if request.subcores is not None and \
            host.subcores_per_core not in request.subcores:
        raise NoFit('the flavor needs %s' % _describe_modes(request.subcores),
                    host.mode)
    limit = host.max_guest_threads
    if request.threads and limit is not None and request.threads > limit:
        raise NoFit('the flavor needs %d threads a guest core'
                    % request.threads, '%s, at most %d' % (host.mode, limit))
    if limit is not None and not request.threads and request.max_cores:
        if _packed_threads(request, limit) is None:
            raise NoFit('the flavor needs at most %d guest cores of %d vCPUs'
                        % (request.max_cores, request.vcpus),
                        '%s, at most %d threads a core' % (host.mode, limit))


def _packed_threads(request, limit):
    """The most threads a core the vCPUs divide into, within the caps."""
    sockets = request.sockets or 1
    cap = min(limit, request.max_threads or limit)
    fits = [t for t in THREAD_CHOICES
            if t <= cap and request.vcpus % (t * sockets) == 0 and
            (not request.max_cores or
             request.vcpus // (t * sockets) <= request.max_cores)]
    return max(fits, default=None)


def _describe_modes(modes):
    if modes == _MT_MODES['required']:
        return 'micro-threading (split-core mode 2 or 4)'
    if modes == _MT_MODES['forbidden']:
        return 'whole cores (no micro-threading)'
    return 'split-core mode %s' % '/'.join(str(m) for m in sorted(modes))


def plan(request, host, emulated=False):
    """The guest Topology on this host, or None to keep nova's.

    vCPUs are packed as threads of as few guest cores as the flavor and
    host allow (a guest core owns a (sub)core while it runs, so fewer,
    fuller cores waste fewer hardware threads); emulated (TCG) hosts run
    one thread a core.

    :raises NoFit: see check_fit
    """
    check_fit(request, host)
    limit = host.max_guest_threads
    if limit is None and not emulated:
        return None
    sockets = request.sockets or 1
    if emulated:
        threads = 1
    elif request.threads:
        threads = request.threads
    else:
        threads = _packed_threads(request, limit)
    return Topology(sockets=sockets,
                    cores=request.vcpus // (sockets * threads),
                    threads=threads)


_IMAGE_PROPS = ('hw_cpu_threads', 'hw_cpu_max_threads', 'hw_cpu_sockets',
                'hw_cpu_max_sockets', 'hw_cpu_cores', 'hw_cpu_max_cores')


def of_nova(flavor, image_meta):
    """The CpuRequest of nova's flavor and image objects.

    One adapter for the driver and the scheduler.

    :raises RequestError: the flavor and image contradict each other
    """
    props = {}
    if image_meta is not None and 'properties' in image_meta:
        props = {name: image_meta.properties.get(name)
                 for name in _IMAGE_PROPS
                 if image_meta.properties.obj_attr_is_set(name)}
    return from_specs(flavor.vcpus, flavor.extra_specs or {}, props)
