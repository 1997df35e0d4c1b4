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

"""What the scheduler knows of a move: the guest, its source, live or not.

A request to place a guest that already runs somewhere (live migration,
cold migration, resize, evacuation) carries only the guest's flavor and
image. The rules of a move also need what the guest is and where it comes
from: the endianness recorded in it at spawn (the image may not say), the
source host's POWER description (a live migration keeps the split-core
mode and never goes to an older generation than the guest runs as), and
whether the move is live.
They are read from the databases once per request and memoised on it.

A first boot has no instance in a cell yet, so it is not a move.
"""

import dataclasses

from nova import context as nova_context
from nova import exception as nova_exception
from nova import objects
from oslo_log import log as logging

from powerkvm_nova.cpu import compat as cpu_compat
from powerkvm_nova.cpu import host as cpu_host
from powerkvm_nova.endianness import Endianness
from powerkvm_nova.endianness import records
from powerkvm_nova.nova_internals import migrations

LOG = logging.getLogger(__name__)

_CACHE = '_powerkvm_move'
LIVE = 'live-migration'


@dataclasses.dataclass(frozen=True)
class Move:
    """A guest moving from its host."""

    instance_uuid: str
    source: str
    # the source's PowerHost, None when it reported none
    source_host: 'cpu_host.PowerHost | None'
    # the Endianness recorded at spawn, None for a guest of an older driver
    endianness: 'Endianness | None'
    live: bool
    # the guest's CPU compatibility mode (cpu/compat.py), None: its host's
    compat_mode: 'str | None' = None


def of(spec_obj):
    """The Move this request is for, or None (a first boot, or unknown).

    Memoised on the request: filters ask once per host.
    """
    if not hasattr(spec_obj, _CACHE):
        setattr(spec_obj, _CACHE, _load(spec_obj))
    return getattr(spec_obj, _CACHE)


def _load(spec_obj):
    uuid = spec_obj.instance_uuid if \
        spec_obj.obj_attr_is_set('instance_uuid') else None
    if not uuid:
        return None
    ctxt = nova_context.get_admin_context()
    try:
        mapping = objects.InstanceMapping.get_by_instance_uuid(ctxt, uuid)
    except nova_exception.InstanceMappingNotFound:
        return None
    if mapping.cell_mapping is None:
        return None
    with nova_context.target_cell(ctxt, mapping.cell_mapping) as cctxt:
        try:
            instance = objects.Instance.get_by_uuid(
                cctxt, uuid, expected_attrs=['system_metadata'])
        except nova_exception.InstanceNotFound:
            return None
        if not instance.host:
            # shelved offloaded: it comes from nowhere
            return None
        return Move(instance_uuid=uuid, source=instance.host,
                    source_host=_described(cctxt, instance),
                    endianness=records.recorded_endianness(instance),
                    live=_is_live(cctxt, uuid),
                    compat_mode=cpu_compat.recorded(instance))


def _described(cctxt, instance):
    try:
        node = objects.ComputeNode.get_by_host_and_nodename(
            cctxt, instance.host, instance.node)
    except nova_exception.NotFound as e:
        # The destination checks the source again before the move.
        LOG.warning('PowerKVM: source of the move unknown to the scheduler '
                    '(%s)', e, instance=instance)
        return None
    return cpu_host.PowerHost.from_stats(node.stats)


def _is_live(cctxt, uuid):
    return any(m.migration_type == LIVE
               for m in migrations.in_progress(cctxt, uuid))
