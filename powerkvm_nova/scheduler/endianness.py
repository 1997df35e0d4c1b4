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

"""What the scheduler knows of endianness: the request's and each host's.

The request's endianness comes from the same detectors as on the host,
minus image content (the scheduler reads no image data): the image's
properties in the request, and those nova does not model (os_version) from
the image service, once per request.

A host's comes from two places, each with its own freshness:
- the instances the compute reports to the scheduler when it admits a
  guest and after each build and delete ([filter_scheduler]
  track_instance_changes, on by default; else nova reads them from the
  cell database for each request). nova tracks them by UUID only; the arch
  the driver pinned into each one's system metadata at spawn is read from
  the cell database once per instance and remembered for one resource
  update interval (an instance keeps its endianness for life, but for a
  rebuild, which stays on its host and is forgotten here when it is
  scheduled);
- the 'powerkvm_endianness_unlisted' stat the compute reports with its
  resources: the domains of guests nova does not list on the host (defined
  behind nova's back, arriving by migration, a resize's source), refreshed
  by nova's update_available_resource periodic task ([DEFAULT]
  update_resources_interval, 60 s by default).
So a delete frees its host at once (a deleted guest never counts, even
before a scheduler has heard of the delete), and so does a live migration
(_live_migrating). A host the scheduler thinks free can
meanwhile have been taken by a concurrent build, or by a domain defined by
hand since the last periodic task: the host's own admission, under its
lock, closes both windows: it refuses and nova reschedules.
"""

import threading
import time

from nova.compute import task_states
import nova.conf
from nova import context as nova_context
from nova import exception as nova_exception
from nova import objects
from nova.scheduler import utils as scheduler_utils
from oslo_log import log as logging

from powerkvm_nova import conf as powerkvm_conf
from powerkvm_nova.endianness import detectors
from powerkvm_nova.endianness import Endianness
from powerkvm_nova.endianness import evidence
from powerkvm_nova.endianness import ledger
from powerkvm_nova.endianness import records
from powerkvm_nova.scheduler import move_requests

CONF = nova.conf.CONF
powerkvm_conf.register_opts(CONF)
LOG = logging.getLogger(__name__)

_CACHE = '_powerkvm_endianness'
_DETECTORS = {}


def _detectors():
    names = tuple(CONF.powerkvm.endianness_detectors)
    if names not in _DETECTORS:
        _DETECTORS[names] = detectors.load(names)
    return _DETECTORS[names]


def _request_properties(spec_obj):
    """(image id or None, the properties of the request's image).

    An image's from the image service: os_version too, which nova's
    ImageMeta has no field for. A server booted from a volume has an image
    without id (the volume's image metadata): its properties are those
    nova's API kept in the instance's system metadata, which is what the
    host reads too (evidence.instance_image_properties).
    """
    image = spec_obj.image if spec_obj.obj_attr_is_set('image') else None
    if image is None:
        return None, {}
    properties = evidence.meta_properties(image)
    image_id = image.id if 'id' in image else None
    context = getattr(spec_obj, '_context', None)
    if context is None:
        return image_id, properties
    try:
        if image_id:
            properties = evidence.image_service_properties(
                context, image_id, properties)
        elif spec_obj.obj_attr_is_set('instance_uuid'):
            properties = evidence.instance_image_properties(
                _system_metadata(context.elevated(),
                                 spec_obj.instance_uuid), image)
    except Exception as e:
        # The host decides without it; say why the scheduler could not.
        LOG.warning('PowerKVM: the properties of the image of instance %s '
                    'are unavailable to the scheduler (%s)',
                    spec_obj.instance_uuid if spec_obj.obj_attr_is_set(
                        'instance_uuid') else '-', e)
    return image_id, properties


def _system_metadata(context, instance_uuid):
    """The system metadata of an instance being scheduled.

    A first boot's instance is in its build request (API database) until
    the conductor creates it in a cell; a later request's is in its cell.
    """
    try:
        return objects.BuildRequest.get_by_instance_uuid(
            context, instance_uuid).instance.system_metadata
    except nova_exception.BuildRequestNotFound:
        mapping = objects.InstanceMapping.get_by_instance_uuid(
            context, instance_uuid)
        with nova_context.target_cell(context,
                                      mapping.cell_mapping) as cctxt:
            return objects.Instance.get_by_uuid(
                cctxt, instance_uuid,
                expected_attrs=['system_metadata']).system_metadata


def is_powerkvm(host_state):
    """Whether the host is a PowerKVM compute (it reports the rule's stats).

    Another driver's host, or an x86 one beside the PowerKVM ones, is left
    to nova: nothing of it is read or judged here.
    """
    return records.STAT_POLICY in (host_state.stats or {})


def foreign(spec_obj):
    """Why no PowerKVM host runs the request's guest, or None: it may.

    An image of another architecture (hw_architecture, canonical in the
    request as nova's API and ImagePropertiesFilter take it), or one that
    asks nova to emulate one (hw_emulation_architecture, which nova's
    libvirt driver builds the domain for: LibvirtDriver.
    _check_emulation_arch). Such a request goes to the cloud's other hosts
    as nova would send it, unjudged for endianness. A moving guest is what
    its image was when it booted.
    """
    image = spec_obj.image if spec_obj.obj_attr_is_set('image') else None
    if image is None or 'properties' not in image:
        return None
    props = image.properties
    image_id = image.id if 'id' in image else 'volume'
    emulated = evidence.emulation_refusal(image_id, props)
    if emulated:
        return emulated
    arch = props.get('hw_architecture')
    if arch and Endianness.from_arch(arch) is None:
        return ('image %s is hw_architecture=%s; PowerKVM hosts run ppc64 '
                '(big-endian) and ppc64le (little-endian) guests only'
                % (image_id, arch))
    return None


def wanted(spec_obj):
    """The request's Endianness, or None when the scheduler cannot tell.

    A moving guest's is the one recorded in it at spawn.

    Memoised on the request: filters and weighers ask once per host.

    :raises PowerKVMError: the image is mislabelled
    """
    if hasattr(spec_obj, _CACHE):
        return getattr(spec_obj, _CACHE)
    move = None if is_rebuild(spec_obj) else move_requests.of(spec_obj)
    if move is not None and move.endianness is not None:
        # A guest that runs already is what it was recorded as at spawn,
        # whatever its image says (or no longer says).
        setattr(spec_obj, _CACHE, move.endianness)
        return move.endianness
    # A first boot, or a rebuild: what the (new) image makes.
    image_id, properties = _request_properties(spec_obj)
    facts = detectors.ImageFacts(image_id or 'volume', properties)
    finding = detectors.detect(facts, _detectors())
    if finding is not None:
        result = finding.endianness
    elif evidence.kernel_of(properties) or \
            CONF.powerkvm.unknown_endianness != 'assume':
        # The kernel may tell on the host; or the host refuses anyway.
        result = None
    else:
        result = Endianness.from_arch(CONF.powerkvm.default_guest_arch)
    setattr(spec_obj, _CACHE, result)
    return result


def _interval():
    """How long a host's report can be stale: one resource update.

    0 (nova's default) runs the update at every periodic tick, 60 s.
    """
    interval = CONF.update_resources_interval
    return interval if interval > 0 else 60


def is_rebuild(spec_obj):
    """A rebuild with a new image: the guest stays, its image changes."""
    return scheduler_utils.request_is_rebuild(spec_obj)


def rebuilt(spec_obj):
    """The UUID of the guest a rebuild request is for, or None."""
    if not is_rebuild(spec_obj) or \
            not spec_obj.obj_attr_is_set('instance_uuid'):
        return None
    return spec_obj.instance_uuid


class _InstanceEndianness:
    """instance UUID -> Endianness, read from the cell databases.

    An entry is kept for one resource update interval at most, and only
    for the image it was read for: a guest's endianness changes only by a
    rebuild, which nova's API records as a new image_ref and the host's
    admission casts to every scheduler worker (scheduler_notices.took);
    the worker that scheduled it also reads it afresh for one interval
    (forget()), and the host's own report catches up within that interval.
    Filters run in the scheduler's worker threads (nova's native threading
    mode) as well as greenthreads: the table is read and written under a
    lock, and the database is read outside it.
    """

    LIMIT = 100000

    def __init__(self, clock=time.monotonic):
        # uuid -> (Endianness, until when, the image it was read for)
        self._known = {}
        # uuid -> until when it is read afresh every time (a rebuild)
        self._volatile = {}
        self._cells = {}
        self._lock = threading.Lock()
        self._clock = clock

    def __call__(self, cell_uuid, guests):
        """The set of the guests' Endiannesses.

        :param guests: their UUIDs, or {uuid: image_ref or None}
        """
        if not isinstance(guests, dict):
            guests = dict.fromkeys(guests)
        known, missing = self._split(guests)
        found = self._load(cell_uuid, missing) if missing and cell_uuid \
            else {}
        self._remember(found, guests)
        return set(known.values()) | set(found.values())

    def forget(self, uuid):
        """Read this guest afresh for one interval: it is being rebuilt."""
        with self._lock:
            self._known.pop(uuid, None)
            self._volatile[uuid] = self._clock() + _interval()

    def _split(self, guests):
        """({uuid: Endianness} still valid, [uuids to read])."""
        now = self._clock()
        known = {}
        with self._lock:
            for uuid, image in guests.items():
                entry = self._known.get(uuid)
                if entry is None:
                    continue
                endianness, until, read_for = entry
                if until <= now or (image is not None and
                                    read_for is not None and
                                    image != read_for):
                    del self._known[uuid]
                else:
                    known[uuid] = endianness
        return known, [u for u in guests if u not in known]

    def _remember(self, found, guests):
        now = self._clock()
        until = now + _interval()
        with self._lock:
            for uuid in [u for u, t in self._volatile.items() if t <= now]:
                del self._volatile[uuid]
            if len(self._known) + len(found) > self.LIMIT:
                self._known.clear()
            for uuid, endianness in found.items():
                if uuid not in self._volatile:
                    self._known[uuid] = (endianness, until, guests.get(uuid))

    def _load(self, cell_uuid, uuids):
        found = {}
        for instance in self._read(cell_uuid, {'uuid': uuids},
                                   ['system_metadata']):
            endianness = records.counted_endianness(instance)
            if endianness is not None:
                found[instance.uuid] = endianness
        return found

    def placed(self, cell_uuid, uuids, host):
        """Those of these guests the cell database has on host, read now."""
        if not cell_uuid:
            return set(uuids)
        return {i.uuid for i in self._read(
            cell_uuid, {'uuid': list(uuids), 'host': host}, [])}

    def _read(self, cell_uuid, filters, expected_attrs):
        """The cell's instances that match filters and are not deleted."""
        ctxt = nova_context.get_admin_context()
        cell = self._cells.get(cell_uuid)
        if cell is None:
            cell = objects.CellMapping.get_by_uuid(ctxt, cell_uuid)
            self._cells[cell_uuid] = cell
        with nova_context.target_cell(ctxt, cell) as cctxt:
            # without 'deleted', nova's query returns deleted ones too
            return objects.InstanceList.get_by_filters(
                cctxt, dict(filters, deleted=False),
                expected_attrs=expected_attrs)


_instances = _InstanceEndianness()


def running(host_state, excluding=None):
    """The set of Endiannesses the host runs (records.running).

    :param excluding: a guest of the host not to count (a rebuild's own)
    """
    cell = getattr(host_state, 'cell_uuid', None)
    # Copied in one step before it is read: nova's HostManager adds to this
    # dict from the thread of another compute's notice meanwhile
    # (update_instance_info), and iterating it then would fail the request.
    instances = (host_state.instances or {}).copy()
    others = {u: _image_of(i) for u, i in instances.items()
              if u != excluding}
    moved = {u for u in others if _live_migrating(instances[u])}
    if moved:
        gone = moved - _instances.placed(cell, moved, host_state.host)
        others = {u: i for u, i in others.items() if u not in gone}
    by_others = _instances(cell, others) if others else set()
    # A compute of an earlier release reports every guest, the rebuilt one
    # too: its recorded endianness is taken out unless another guest there
    # is of it too.
    rebuilt = set()
    if excluding is not None and \
            records.unlisted_endianness(host_state.stats) is None:
        rebuilt = _instances(cell, [excluding])
    return records.running(host_state.stats, by_others,
                           reported_less=rebuilt)


def _live_migrating(instance):
    """Whether nova's entry is a live migration's, maybe of its source.

    When a live migration completes, nova's source compute sends the
    schedulers the guest as one of the source's own
    (ComputeManager._post_live_migration, _update_scheduler_instance_info
    with its own host), as it was then: task_state 'migrating'. Until the
    source's next instance sync ([DEFAULT] scheduler_instance_sync_interval,
    120 s by default) it would hold the source to its endianness. Such
    entries count where the cell database has the guest, read for each
    request: nova sends no other entry while a guest migrates, so this
    costs a query per request only for the source of a live migration,
    until its sync. The destination's driver sends the guest as nova
    records it there, task over (scheduler_notices.arrived).
    """
    try:
        return 'task_state' in instance and \
            instance.task_state == task_states.MIGRATING
    except TypeError:  # not an Instance object
        return False


def _image_of(instance):
    """The image_ref of an instance nova's HostState holds, or None."""
    try:
        return instance.image_ref if 'image_ref' in instance else None
    except TypeError:  # not an Instance object (nova keeps them so)
        return None


def exclusive(host_state):
    """Whether the host keeps the one-endianness rule (its own setting)."""
    policy = (host_state.stats or {}).get(records.STAT_POLICY) or \
        CONF.powerkvm.endianness_policy
    return policy == ledger.EXCLUSIVE


def forget(uuid):
    """Read the guest's endianness afresh for one interval (a rebuild)."""
    _instances.forget(uuid)
