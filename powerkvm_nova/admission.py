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

"""Where nova's objects meet the endianness policy.

Gathers what the detectors look at from an instance and its image (the
image's own properties, which nova keeps in the instance's system metadata,
and a bounded reader of its kernel image), applies [powerkvm]
unknown_endianness, and says what the host reports to the scheduler.
"""

from nova import utils as nova_utils
from oslo_log import log as logging

from powerkvm_nova.endianness import detectors
from powerkvm_nova.endianness import Endianness
from powerkvm_nova import exception
from powerkvm_nova import guest_arch
from powerkvm_nova.images import head

LOG = logging.getLogger(__name__)

# HostState.stats keys (nova copies a driver's 'stats' there).
# STAT_ENDIANNESS: every guest and claim of the host, as of the last
# periodic resource update. STAT_UNLISTED: those of guests nova does not list
# on the host with their endianness recorded (defined by hand, arriving by
# migration, a resize's source); the readers take the others from nova's
# instance records, which follow each build and delete at once.
STAT_ENDIANNESS = 'powerkvm_endianness'
STAT_UNLISTED = 'powerkvm_endianness_unlisted'
STAT_POLICY = 'powerkvm_endianness_policy'
MIXED = 'mixed'

# A guest's endianness is recorded at spawn under two system metadata keys:
# - SM_RECORD, the driver's own, outside nova's image_ namespace: nova's API
#   rewrites every image_* key of a rebuilt instance before the rebuild is
#   scheduled (compute/api.py, rebuild, _reset_image_metadata), so only a
#   key of our own stays true to what runs while the rebuild is decided;
# - SM_ARCH, nova's copy of the image's hw_architecture
#   (nova.utils.SM_IMAGE_PROP_PREFIX): nova rebuilds instance.image_meta
#   from it for every later operation.
SM_RECORD = 'powerkvm_endianness'
SM_ARCH = 'image_hw_architecture'


def recorded_endianness(instance):
    """The Endianness recorded in the instance at spawn, or None.

    A guest spawned before SM_RECORD existed has only SM_ARCH.
    """
    sysmeta = instance.system_metadata
    recorded = sysmeta.get(SM_RECORD)
    if recorded:
        try:
            return Endianness(recorded)
        except ValueError:
            LOG.warning('Instance %s: unreadable %s=%r ignored',
                        instance.uuid, SM_RECORD, recorded)
    return Endianness.from_arch(sysmeta.get(SM_ARCH))


def record(instance, endianness):
    """Record the endianness the guest runs as; True if anything changed.

    The caller saves the instance.
    """
    wanted = {SM_RECORD: endianness.value, SM_ARCH: endianness.arch}
    changed = {k: v for k, v in wanted.items()
               if instance.system_metadata.get(k) != v}
    instance.system_metadata.update(changed)
    return bool(changed)


class Admission:
    """Decides a guest's endianness from its image."""

    def __init__(self, detector_list, unknown, default_arch):
        self.detectors = detector_list
        self.unknown = unknown
        self.default = Endianness.from_arch(default_arch)

    @classmethod
    def from_config(cls, conf):
        return cls(detectors.load(conf.endianness_detectors),
                   conf.unknown_endianness, conf.default_guest_arch)

    def endianness(self, context, instance, image_meta):
        """The Endianness of the guest an instance's image makes.

        :raises PowerKVMError: a non-POWER or mislabelled image, or an
            unknown one under unknown_endianness = refuse
        """
        image_id = image_meta.id if 'id' in image_meta else \
            instance.image_ref
        # The kernel nova boots: the one its API resolved for the instance
        # (none for 'nokernel'), not the raw image property.
        return self.of_image(context, image_id or 'volume',
                             image_properties(instance, image_meta),
                             kernel_id=instance.kernel_id or None)

    def of_image(self, context, image_id, properties, default=None,
                 kernel_id=None):
        """The Endianness an image's properties (and kernel) say.

        :param default: for an image no detector can tell, instead of
            [powerkvm] unknown_endianness
        :param kernel_id: the kernel image the guest boots, if any
        """
        refuse_emulation(image_id, properties)
        declared = properties.get('hw_architecture')
        if declared:
            guest_arch.resolve(declared, None)
        facts = detectors.ImageFacts(
            image_id, properties, kernel_reader(context, kernel_id))
        finding = detectors.detect(facts, self.detectors)
        if finding is not None:
            LOG.debug('Image %s: %s', image_id, finding)
            return finding.endianness
        if default is not None:
            return default
        if self.unknown == 'refuse':
            raise exception.PowerKVMError(
                'the endianness of image %s is unknown to the detectors '
                '(%s): set hw_architecture=ppc64 (big-endian) or ppc64le '
                '(little-endian) on the image, or os_distro and os_version'
                % (image_id, ', '.join(d.name for d in self.detectors)))
        LOG.info('Endianness of image %s unknown; assuming %s '
                 '([powerkvm] default_guest_arch).', image_id,
                 self.default.value)
        return self.default


def refuse_emulation(image_id, properties):
    """Refuse an image that asks nova to emulate an architecture.

    nova's libvirt driver builds the domain for hw_emulation_architecture
    rather than hw_architecture (LibvirtDriver._check_emulation_arch), so
    an image could declare one endianness and run as the other. A PowerKVM
    host runs POWER guests natively and emulates nothing per image.

    :raises PowerKVMError: the image sets hw_emulation_architecture
    """
    emulated = properties.get('hw_emulation_architecture')
    if emulated:
        raise exception.PowerKVMError(
            'image %s sets hw_emulation_architecture=%s; PowerKVM hosts run '
            'POWER guests natively and emulate no architecture: remove the '
            'property and set hw_architecture=ppc64 (big-endian) or ppc64le '
            '(little-endian)' % (image_id, emulated))


def image_properties(instance, image_meta):
    """The image's own properties: all that nova kept, os_version too.

    nova keeps every property of the image an instance runs in its system
    metadata (image_<name>), including ones ImageMeta has no field for;
    a boot-from-volume image's come from ImageMeta alone.
    """
    properties = dict(nova_utils.get_image_from_system_metadata(
        instance.system_metadata).get('properties', {}))
    for name, value in meta_properties(image_meta).items():
        properties.setdefault(name, value)
    return {k: v for k, v in properties.items() if isinstance(v, str)}


def meta_properties(image_meta):
    """The string properties an ImageMeta object carries."""
    return {k: v for k, v in image_meta.properties.obj_to_primitive()[
        'nova_object.data'].items() if isinstance(v, str)}


# nova's API: an image whose kernel_id is this boots no kernel of its own
# (compute/api.py, _handle_kernel_and_ramdisk).
NO_KERNEL = 'nokernel'


def kernel_of(properties):
    """The kernel image an image's properties name, or None."""
    kernel_id = properties.get('kernel_id')
    return None if kernel_id in (None, '', NO_KERNEL) else kernel_id


def kernel_reader(context, kernel_id):
    """read(n): the first n bytes of image kernel_id; None without one.

    A kernel that cannot be read (gone from the image service, no access)
    reads as nothing: that detector then cannot say, and the others and
    [powerkvm] unknown_endianness decide.
    """
    if not kernel_id or kernel_id == NO_KERNEL:
        return None

    def read(n):
        try:
            return head.read(context, kernel_id, n)
        except Exception as e:
            LOG.warning('Kernel image %s unreadable (%s); its ELF header '
                        'says nothing of the guest\'s endianness',
                        kernel_id, e)
            return None
    return read


def reported_endianness(stats, key=STAT_ENDIANNESS):
    """The set of Endiannesses a host's stat says it runs (empty: none).

    The reader of what host_stats() writes.
    """
    stat = (stats or {}).get(key)
    if stat == MIXED:
        return set(Endianness)
    return {Endianness(stat)} if stat else set()


def unlisted_endianness(stats):
    """What the host holds for guests nova does not list there, or None.

    None: the host reports no such stat (a compute of an earlier release,
    whose STAT_ENDIANNESS counts every guest).
    """
    if STAT_UNLISTED not in (stats or {}):
        return None
    return reported_endianness(stats, STAT_UNLISTED)


def recorded_endiannesses(instances):
    """The Endiannesses recorded in these instances (unrecorded: none)."""
    return {e for e in map(recorded_endianness, instances) if e is not None}


def host_stats(holders, policy, listed=frozenset()):
    """What the host tells the scheduler, as HostState.stats entries.

    :param holders: the host ledger's holders()
    :param policy: the host's endianness_policy
    :param listed: UUIDs of the guests nova lists on this host with their
        endianness recorded (host_reconcile.listed)
    """
    unlisted = {e for u, e in holders.items() if u not in listed}
    return {STAT_ENDIANNESS: _stat(set(holders.values())),
            STAT_UNLISTED: _stat(unlisted),
            STAT_POLICY: policy}


def _stat(endiannesses):
    if len(endiannesses) > 1:
        return MIXED
    return next(iter(endiannesses)).value if endiannesses else ''
