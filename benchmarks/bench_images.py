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

"""Spawn from a cached 64 MiB image against a cached 4 GiB image.

In-process nova (API, conductor, scheduler, placement) with one
PowerKVMDriver compute on the real libvirtd (qemu:///system), as the
hypervisor tier runs it. Two qcow2 images of a big-endian guest (SLOF),
virtual sizes 64 MiB and 4 GiB, each with 8 MiB of data and sparse beyond,
each booted once to fill the image cache, then booted ROUNDS times each,
alternating, timing API create to ACTIVE. The instance disk is a qcow2
overlay on the cached base, so nothing is copied and the ratio should stay
close to 1. It also reports the bytes the head inspection reads of each
image before nova downloads it.

Needs root, a running libvirtd and qemu-img.
Usage: python benchmarks/bench_images.py [--rounds N] [--json FILE]
"""

import collections
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import tests  # noqa: E402,F401  (nova's concurrency mode, first)
from tests.hypervisor import base  # noqa: E402

import common  # noqa: E402

MiB = 1024 * 1024
SIZES = {'64MiB': 64 * MiB, '4GiB': 4096 * MiB}
DATA = 8 * MiB
# glanceclient's download chunk
CHUNK = 64 * 1024
FIGURES = {}


class ImageSpawnBenchmark(base.RealHypervisorTestBase):

    ROUNDS = 3

    def test_spawn_from_cached_images(self):
        work = tempfile.mkdtemp(prefix='pkvm-bench-', dir='/var/tmp')
        self.addCleanup(subprocess.run, ['rm', '-rf', work])
        read = collections.Counter()
        download = self.glance.download

        def counted(context, image_id, data=None, dst_path=None, **kw):
            if data is None:
                return download(context, image_id, dst_path=dst_path, **kw)
            # Streamed in chunks as nova's glance client delivers them
            # (nova's fixture writes the whole image at once).
            blob = self.glance._imagedata.get(image_id, b'')
            for offset in range(0, len(blob), CHUNK):
                chunk = blob[offset:offset + CHUNK]
                read[image_id] += len(chunk)
                data.write(chunk)
        self.glance.download = counted
        flavor = self._create_flavor(vcpu=1, memory_mb=512, disk=5,
                                     ephemeral=0)
        images, file_sizes = {}, {}
        for name, size in SIZES.items():
            # DATA bytes of content, the rest sparse: the file is larger
            # than the inspection's bound, as real images are.
            raw = os.path.join(work, name + '.raw')
            with open(raw, 'wb') as f:
                f.write(os.urandom(DATA))
                f.truncate(size)
            path = os.path.join(work, name + '.qcow2')
            subprocess.run(['qemu-img', 'convert', '-O', 'qcow2', raw, path],
                           check=True)
            os.unlink(raw)
            file_sizes[name] = os.path.getsize(path)
            images[name] = self._image(name, 'qcow2', path,
                                       hw_architecture='ppc64')
        times = collections.defaultdict(list)

        def boot(name):
            start = time.monotonic()
            server = self._create_server(image_uuid=images[name],
                                         flavor_id=flavor, networks='none')
            elapsed = time.monotonic() - start
            self._delete_server(server)
            return elapsed

        for name in SIZES:
            print('caching %s...' % name, flush=True)
            boot(name)
        for i in range(self.ROUNDS):
            for name in SIZES:
                times[name].append(boot(name))
                print('round %d/%d %s: %.2f s' % (
                    i + 1, self.ROUNDS, name, times[name][-1]), flush=True)
        small, large = (statistics.median(times[n]) for n in SIZES)
        FIGURES.update({
            'spawn_cached_64MiB_s': round(small, 3),
            'spawn_cached_4GiB_s': round(large, 3),
            'ratio_4GiB_over_64MiB': round(large / small, 3),
            'bytes_read_by_inspection': {n: read[images[n]] for n in SIZES},
            'image_file_bytes': file_sizes,
        })


def main():
    args = common.arguments(__doc__, rounds=3)
    ImageSpawnBenchmark.ROUNDS = args.rounds
    if not common.run_case(ImageSpawnBenchmark(
            'test_spawn_from_cached_images')) or not FIGURES:
        return 1
    f = FIGURES
    print('spawn from cached 64 MiB image: %.2f s (median of %d)'
          % (f['spawn_cached_64MiB_s'], args.rounds))
    print('spawn from cached 4 GiB image:  %.2f s' % f['spawn_cached_4GiB_s'])
    print('ratio 4 GiB / 64 MiB:           %.3f' % f['ratio_4GiB_over_64MiB'])
    for name in SIZES:
        print('bytes read before download, %s image: %d of %d (file); '
              'bound %d' % (name, f['bytes_read_by_inspection'][name],
                            f['image_file_bytes'][name], 1024 * 1024))
    return common.save(f, args.json)


if __name__ == '__main__':
    sys.exit(main())
