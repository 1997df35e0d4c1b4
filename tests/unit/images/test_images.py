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

"""Image head inspection over images crafted at test time with qemu-img."""

import os
import subprocess

from unittest import mock

import fixtures
from nova import exception as nova_exception
from nova.image import glance
from nova import test
from nova.virt.libvirt import driver as libvirt_driver

from powerkvm_nova.compute import image_head
from powerkvm_nova.compute import image_steps
from powerkvm_nova.images import inspection

MiB = 1024 * 1024
GiB = 1024 * MiB


class InspectionTestCase(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def path(self, name):
        return os.path.join(self.dir, name)

    def qemu_img(self, *args):
        subprocess.run(('qemu-img',) + args, check=True,
                       capture_output=True)

    def head(self, name):
        with open(self.path(name), 'rb') as f:
            data = f.read(inspection.HEAD_BYTES)
        return data, len(data) == os.path.getsize(self.path(name))

    def refused(self, name, disk_format, root_bytes=GiB):
        data, complete = self.head(name)
        e = self.assertRaises(inspection.UnsafeImage,
                              inspection.inspect_head, data, disk_format,
                              complete, root_bytes)
        return str(e)

    def test_plain_qcow2_and_raw_pass(self):
        self.qemu_img('create', '-f', 'qcow2', self.path('ok.qcow2'), '64M')
        self.qemu_img('create', '-f', 'raw', self.path('ok.raw'), '2M')
        for name, disk_format in (('ok.qcow2', 'qcow2'), ('ok.raw', 'raw')):
            data, complete = self.head(name)
            inspection.inspect_head(data, disk_format, complete, GiB)

    def test_hybrid_iso_is_an_iso(self):
        # A bootable-as-block ISO: xorriso puts a GPT in front of the
        # ISO 9660 volume. nova takes iso+gpt as the ISO (nova/virt/
        # images.py, get_image_format); so does the head inspection.
        os.mkdir(self.path('tree'))
        with open(self.path('tree/file'), 'w') as f:
            f.write('content\n')
        with open(self.path('part.img'), 'wb') as f:
            f.write(bytes(65536))
        subprocess.run(
            ('xorriso', '-as', 'mkisofs', '-quiet', '-o',
             self.path('hybrid.iso'), '-V', 'PKVM', '-appended_part_as_gpt',
             '-append_partition', '2', '0x83', self.path('part.img'),
             self.path('tree')), check=True, capture_output=True)
        data, complete = self.head('hybrid.iso')
        inspection.inspect_head(data, 'iso', complete, GiB)
        # still refused under another disk_format, as nova refuses it
        self.assertIn('its content is iso but its disk_format says raw',
                      self.refused('hybrid.iso', 'raw'))

    def test_qcow2_with_backing_file(self):
        # -u: the backing file need not exist; the header names it anyway
        self.qemu_img('create', '-f', 'qcow2', '-u', '-F', 'raw',
                      '-b', '/etc/shadow', self.path('b.qcow2'), '1M')
        self.assertIn('its qcow2 header names a backing file',
                      self.refused('b.qcow2', 'qcow2'))

    def test_qcow2_with_external_data_file(self):
        self.qemu_img('create', '-f', 'qcow2', '-o',
                      'data_file=%s' % self.path('data.raw'),
                      self.path('d.qcow2'), '1M')
        self.assertIn('names an external data file',
                      self.refused('d.qcow2', 'qcow2'))

    def test_vmdk_flat_descriptor(self):
        with open(self.path('flat.vmdk'), 'w') as f:
            f.write('# Disk DescriptorFile\nversion=1\nCID=fffffffe\n'
                    'parentCID=ffffffff\ncreateType="monolithicFlat"\n\n'
                    '# Extent description\nRW 2048 FLAT "/etc/shadow" 0\n')
        self.assertIn('VMDK descriptor is not a single monolithic sparse',
                      self.refused('flat.vmdk', 'vmdk'))

    def test_raw_that_is_really_qcow2(self):
        self.qemu_img('create', '-f', 'qcow2', self.path('q.img'), '1M')
        self.assertEqual('its content is qcow2 but its disk_format says raw:'
                         ' fix the image\'s disk_format or its content',
                         self.refused('q.img', 'raw'))

    def test_qcow2_that_is_really_raw(self):
        with open(self.path('r.img'), 'wb') as f:
            f.write(os.urandom(8192))
        self.assertIn('its content is raw but its disk_format says qcow2',
                      self.refused('r.img', 'qcow2'))

    def test_larger_than_the_root_disk(self):
        # sparse: 4 GiB virtual, a few hundred KiB on disk
        self.qemu_img('create', '-f', 'qcow2', self.path('big.qcow2'), '4G')
        self.assertEqual(
            'its virtual size (4294967296 bytes) exceeds the flavor\'s root '
            'disk (1073741824 bytes): use a flavor with a larger disk',
            self.refused('big.qcow2', 'qcow2', root_bytes=GiB))
        # no root disk size (a volume, or root_gb 0): nova decides
        data, complete = self.head('big.qcow2')
        inspection.inspect_head(data, 'qcow2', complete)

    def test_unknown_format(self):
        self.qemu_img('create', '-f', 'qcow2', self.path('x.img'), '1M')
        self.assertIn("disk_format 'ploop' is not a disk format",
                      self.refused('x.img', 'ploop'))

    def test_head_is_bounded_whatever_the_size(self):
        # a 1 GiB sparse raw image: only the head is read, and it passes
        with open(self.path('huge.raw'), 'wb') as f:
            f.truncate(GiB)
        data, complete = self.head('huge.raw')
        self.assertEqual(inspection.HEAD_BYTES, len(data))
        self.assertFalse(complete)
        inspection.inspect_head(data, 'raw', complete, GiB)

    def test_kernel_images_pass_as_ami(self):
        with open(self.path('vmlinux'), 'wb') as f:
            f.write(b'\x7fELF\x02\x01\x01' + bytes(4096))
        data, complete = self.head('vmlinux')
        inspection.inspect_head(data, 'aki', complete)


class HeadReadTestCase(test.NoDBTestCase):
    """images/head.read through nova's real glance image service.

    Below it, a glance client as python-glanceclient's is: images.data()
    returns a RequestIdProxy (a wrapt ObjectProxy, so .wrapped) over the
    response's chunks, and nova's GlanceClientWrapper.call(context, 2,
    'data', args=(image_id,)) hands that back (nova/image/glance.py).
    """

    class Client:
        def __init__(self, size, chunk=65536):
            self.size, self.chunk, self.served = size, chunk, 0

        def call(self, context, version, method, args=(), kwargs=None):
            assert (version, method) == (2, 'data'), (version, method)
            client = self

            class Chunks:
                wrapped = True

                def __iter__(self):
                    for start in range(0, client.size, client.chunk):
                        n = min(client.chunk, client.size - start)
                        client.served += n
                        yield b'\x07' * n
            return Chunks()

    def test_reads_the_head_only_and_logs_no_error(self):
        client = self.Client(8 * 1024 * 1024)
        self.useFixture(fixtures.MockPatch(
            'nova.image.glance.API',
            return_value=glance.GlanceImageServiceV2(client=client)))
        data = image_head.read(None, 'an-image', inspection.HEAD_BYTES)
        self.assertEqual(b'\x07' * inspection.HEAD_BYTES, data)
        # the download stopped at the head, not the 8 MiB of the image
        self.assertEqual(inspection.HEAD_BYTES, client.served)
        # nova logs any exception its sink raises as an ERROR; the end of
        # a head read is not one
        self.assertNotIn('Error writing to', self.stdlog.logger.output)

    def test_image_shorter_than_the_head(self):
        client = self.Client(1000)
        self.useFixture(fixtures.MockPatch(
            'nova.image.glance.API',
            return_value=glance.GlanceImageServiceV2(client=client)))
        self.assertEqual(b'\x07' * 1000, image_head.read(
            None, 'an-image', inspection.HEAD_BYTES))


class FetchStepTestCase(InspectionTestCase):
    """The inspection before nova's fetch, and before its clone in Ceph.

    nova's own LibvirtDriver._try_fetch_image_cache runs, over a disk
    whose cache() calls the fetch as nova's Image.cache does
    (nova/virt/libvirt/imagebackend.py: fetch_func_sync calls
    fetch_func(target=..., context=..., image_id=..., trusted_certs=...)).
    With images_type = rbd, the fetch nova passes is its closure that
    clones the image in Ceph and downloads only when it cannot
    (LibvirtDriver._create_and_inject_local_root, clone_fallback_to_fetch).
    """

    class Disk:
        def cache(self, fetch_func, context, filename, image_id, size,
                  trusted_certs):
            fetch_func(target='/base/' + filename, context=context,
                       image_id=image_id, trusted_certs=trusted_certs)

    class Steps(image_steps.ImageSteps, libvirt_driver.LibvirtDriver):
        def __init__(self):
            pass  # nova's _try_fetch_image_cache reads no driver state

    def setUp(self):
        super().setUp()
        self.flags(images_type='rbd', group='libvirt')
        self.images, self.reads, self.clones = {}, [], []
        glance_api = self.useFixture(fixtures.MockPatch(
            'powerkvm_nova.compute.image_steps.glance.API')).mock
        glance_api.return_value.get.side_effect = (
            lambda context, image_id: self.images[image_id][1])
        self.useFixture(fixtures.MockPatch(
            'powerkvm_nova.compute.image_head.read',
            side_effect=self._read))
        self.useFixture(fixtures.MockPatch(
            'powerkvm_nova.compute.image_steps._passed',
            image_steps._Passed(image_steps._PASSED_KEPT)))
        self.instance = mock.Mock(trusted_certs=None, vm_state='building',
                                  migration_context=None)

    def _read(self, context, image_id, n):
        self.reads.append(image_id)
        return self.images[image_id][0][:n]

    def image(self, image_id, name, disk_format):
        data, _ = self.head(name)
        self.images[image_id] = (data, {'disk_format': disk_format,
                                        'size': os.path.getsize(
                                            self.path(name))})

    def clone(self, context, target, image_id, trusted_certs=None):
        self.clones.append(image_id)

    def boot(self, image_id, root_bytes=GiB):
        self.Steps()._try_fetch_image_cache(
            self.Disk(), self.clone, 'ctx', 'base-' + image_id, image_id,
            self.instance, root_bytes)

    def test_mislabelled_image_is_refused_before_the_clone(self):
        # a qcow2 labelled raw: Glance takes it (glance/location.py lets
        # raw hold any format that passes its safety check), nova clones
        # it in Ceph and QEMU opens it as raw: a guest with no bootable
        # disk, and no check of nova's ever reads it
        self.qemu_img('create', '-f', 'qcow2', self.path('q.qcow2'), '64M')
        self.image('mislabelled', 'q.qcow2', 'raw')
        e = self.assertRaises(nova_exception.ImageUnacceptable,
                              self.boot, 'mislabelled')
        self.assertIn('its content is qcow2 but its disk_format says raw',
                      str(e))
        self.assertEqual([], self.clones)
        # refused again at its next boot, not remembered as passed
        self.assertRaises(nova_exception.ImageUnacceptable,
                          self.boot, 'mislabelled')
        self.assertEqual(['mislabelled'] * 2, self.reads)

    def test_a_passed_image_s_head_is_read_once_for_its_clones(self):
        self.qemu_img('create', '-f', 'raw', self.path('ok.raw'), '2M')
        self.image('good', 'ok.raw', 'raw')
        for _ in range(3):
            self.boot('good')
        self.assertEqual(['good'] * 3, self.clones)
        self.assertEqual(['good'], self.reads)
        # another flavor's root disk size is another verdict
        self.boot('good', root_bytes=2 * GiB)
        self.assertEqual(['good', 'good'], self.reads)

    def test_passed_heads_kept_are_bounded(self):
        passed = image_steps._Passed(2)
        for key in ('a', 'b', 'a', 'c'):
            passed.add(key)
        self.assertEqual([False, True, True],
                         [k in passed for k in ('b', 'a', 'c')])
