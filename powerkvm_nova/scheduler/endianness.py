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
- the 'powerkvm_endianness' stat the compute reports with its resources
  (every domain libvirt has, those defined behind nova's back too),
  refreshed by nova's update_available_resource periodic task
  ([DEFAULT] update_resources_interval, 60 s by default);
- the instances the compute reports to the scheduler after each build and
  delete ([filter_scheduler] track_instance_changes, on by default). nova
  tracks them by UUID only; the arch the driver pinned into each one's
  system metadata at spawn is read from the cell database once per
  instance and remembered (an instance keeps its endianness for life, but
  for a rebuild, which stays on its host).
A guest deleted since the last periodic run can still colour its host for
up to one interval; a host the scheduler thinks free can meanwhile have
been taken by a concurrent build. The host's own admission, under its lock,
closes both windows: it refuses and nova reschedules.
"""

import nova.conf
from nova import context as nova_context
from nova.image import glance
from nova import objects
from oslo_log import log as logging

from powerkvm_nova import admission
from powerkvm_nova import conf as powerkvm_conf
from powerkvm_nova.endianness import detectors
from powerkvm_nova.endianness import Endianness
from powerkvm_nova.endianness import ledger
from powerkvm_nova.scheduler import moves

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
    image = spec_obj.image if spec_obj.obj_attr_is_set('image') else None
    if image is None:
        return None, {}
    properties = admission.meta_properties(image)
    image_id = image.id if 'id' in image else None
    if image_id and getattr(spec_obj, '_context', None) is not None:
        try:
            raw = glance.API().get(spec_obj._context, image_id)
            properties = dict(raw.get('properties') or {}, **properties)
        except Exception as e:
            # The host decides without it; say why the scheduler could not.
            LOG.warning('PowerKVM: image %s properties unavailable to the '
                        'scheduler (%s)', image_id, e)
    return image_id, properties


def wanted(spec_obj):
    """The request's Endianness, or None when the scheduler cannot tell.

    A moving guest's is the one recorded in it at spawn.

    Memoised on the request: filters and weighers ask once per host.

    :raises PowerKVMError: the image is mislabelled
    """
    if hasattr(spec_obj, _CACHE):
        return getattr(spec_obj, _CACHE)
    move = moves.of(spec_obj)
    if move is not None and move.endianness is not None:
        # A guest that runs already is what it was recorded as at spawn,
        # whatever its image says (or no longer says).
        setattr(spec_obj, _CACHE, move.endianness)
        return move.endianness
    image_id, properties = _request_properties(spec_obj)
    facts = detectors.ImageFacts(image_id or 'volume', properties)
    finding = detectors.detect(facts, _detectors())
    if finding is not None:
        result = finding.endianness
    elif properties.get('kernel_id') or \
            CONF.powerkvm.unknown_endianness != 'assume':
        # The kernel may tell on the host; or the host refuses anyway.
        result = None
    else:
        result = Endianness.from_arch(CONF.powerkvm.default_guest_arch)
    setattr(spec_obj, _CACHE, result)
    return result


class _InstanceEndianness:
    """instance UUID -> Endianness, read from the cell databases."""

    LIMIT = 100000

    def __init__(self):
        self._known = {}
        self._cells = {}

    def __call__(self, cell_uuid, uuids):
        missing = [u for u in uuids if u not in self._known]
        if missing and cell_uuid:
            self._load(cell_uuid, missing)
        return {self._known[u] for u in uuids if u in self._known}

    def _load(self, cell_uuid, uuids):
        ctxt = nova_context.get_admin_context()
        if cell_uuid not in self._cells:
            self._cells[cell_uuid] = objects.CellMapping.get_by_uuid(
                ctxt, cell_uuid)
        with nova_context.target_cell(ctxt, self._cells[cell_uuid]) as cctxt:
            instances = objects.InstanceList.get_by_filters(
                cctxt, {'uuid': uuids}, expected_attrs=['system_metadata'])
        if len(self._known) > self.LIMIT:
            self._known.clear()
        for instance in instances:
            endianness = admission.recorded_endianness(instance)
            if endianness is not None:
                self._known[instance.uuid] = endianness


_instances = _InstanceEndianness()


def held(host_state):
    """The set of Endiannesses the host runs (empty: none)."""
    held = admission.reported_endianness(host_state.stats)
    if host_state.instances:
        held |= _instances(getattr(host_state, 'cell_uuid', None),
                           list(host_state.instances))
    return held


def exclusive(host_state):
    """Whether the host keeps the one-endianness rule (its own setting)."""
    policy = (host_state.stats or {}).get(admission.STAT_POLICY) or \
        CONF.powerkvm.endianness_policy
    return policy == ledger.EXCLUSIVE
