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

"""The PowerKVM scheduler filters over 10,000 hosts, against nova's
ImagePropertiesFilter over the same hosts, in one run.

Hosts are nova HostState objects as the scheduler holds them: POWER8 in
split-core modes 1, 2 and 4 and POWER9, a third running little-endian
guests, a third big-endian, a third empty; each reports the stats the
driver sends (powerkvm_cpu_*, powerkvm_endianness). The request is a
4-vCPU micro-threading flavor and a little-endian image.

Usage: python benchmarks/bench_scheduler.py [--hosts N] [--json FILE]
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import tests  # noqa: E402,F401  (nova's concurrency mode, first)

from nova import objects  # noqa: E402
from nova.scheduler.filters import image_props_filter  # noqa: E402
from nova.scheduler import host_manager  # noqa: E402

from powerkvm_nova.cpu import host as cpu_host  # noqa: E402
from powerkvm_nova.endianness import records  # noqa: E402
from powerkvm_nova.scheduler import filters  # noqa: E402

import common  # noqa: E402

MODES = [cpu_host.PowerHost('POWER8', 20, 8, 1, m) for m in (1, 2, 4)] + \
    [cpu_host.PowerHost('POWER9', 22, 4, 4, 1)]
COLOURS = ('little-endian', 'big-endian', '')


def hosts(n):
    result = []
    for i in range(n):
        state = host_manager.HostState('host%d' % i, 'node%d' % i, None)
        state.stats = dict(MODES[i % len(MODES)].stats(), **{
            records.STAT_ENDIANNESS: COLOURS[i % len(COLOURS)],
            records.STAT_POLICY: 'exclusive'})
        state.supported_instances = [('ppc64le', 'kvm', 'hvm'),
                                     ('ppc64', 'kvm', 'hvm')]
        state.hypervisor_type = 'QEMU'
        state.hypervisor_version = 7002000
        state.instances = {}
        result.append(state)
    return result


def request():
    return objects.RequestSpec(
        flavor=objects.Flavor(vcpus=4, memory_mb=4096, root_gb=10,
                              extra_specs={
                                  'powerkvm:micro_threading': 'required'}),
        image=objects.ImageMeta.from_dict({
            'disk_format': 'qcow2', 'container_format': 'bare',
            'properties': {'hw_architecture': 'ppc64le'}}))


def timed(fn, repeat):
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        passed = fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), passed


def main():
    args = common.arguments(__doc__, hosts=10000, repeat=5)
    objects.register_all()
    states = hosts(args.hosts)
    baseline = image_props_filter.ImagePropertiesFilter()
    cpu = filters.PowerKVMCpuFilter()
    endianness = filters.PowerKVMEndiannessFilter()

    def run(flt):
        # a fresh request each time: nothing memoised between runs
        return lambda: len(list(flt.filter_all(states, request())))

    base_s, base_n = timed(run(baseline), args.repeat)
    cpu_s, cpu_n = timed(run(cpu), args.repeat)
    end_s, end_n = timed(run(endianness), args.repeat)
    figures = {
        'hosts': args.hosts,
        'image_properties_filter_ms': round(base_s * 1e3, 2),
        'powerkvm_cpu_filter_ms': round(cpu_s * 1e3, 2),
        'powerkvm_endianness_filter_ms': round(end_s * 1e3, 2),
        'cpu_over_image_properties': round(cpu_s / base_s, 3),
        'endianness_over_image_properties': round(end_s / base_s, 3),
        'passing': {'image_properties': base_n, 'cpu': cpu_n,
                    'endianness': end_n},
    }
    print('hosts:                          %d' % args.hosts)
    print('ImagePropertiesFilter (nova):   %.1f ms, %d pass'
          % (base_s * 1e3, base_n))
    print('PowerKVMCpuFilter:              %.1f ms, %d pass (ratio %.2f)'
          % (cpu_s * 1e3, cpu_n, figures['cpu_over_image_properties']))
    print('PowerKVMEndiannessFilter:       %.1f ms, %d pass (ratio %.2f)'
          % (end_s * 1e3, end_n,
             figures['endianness_over_image_properties']))
    return common.save(figures, args.json)


if __name__ == '__main__':
    sys.exit(main())
