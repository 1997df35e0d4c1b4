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

"""The driver's side: nova-conductor and the simulated PowerKVM computes.

Hosts: what a PowerKVM compute makes of itself when it starts (nova's
resource tracker, compute/resource_tracker.py, and nova-manage cell_v2
discover_hosts): a Service and a ComputeNode in the cell database, the
ComputeNode's stats as powerkvm_nova/endianness/records.py host_stats
gives them for an empty host, a HostMapping in the API database and a
resource provider with its inventory in placement.

A request: what nova's conductor does with a boot (conductor/manager.py
schedule_and_build_instances, then build_instances on a reschedule): one
select_destinations call over RPC with return_alternates, the selected
host first (the scheduler claimed its allocation), then, on a refusal,
the next alternate whose allocation claim succeeds
(scheduler/utils.py claim_resources), up to [scheduler] max_attempts
hosts (scheduler/utils.py populate_retry), else the server is in ERROR.

A host's admission: what the driver does before a spawn
(powerkvm_nova/compute/endianness_steps.py _admit): the host's own
HostLedger admits under its lock or refuses; an admitted guest records its
endianness in its system metadata (records.record, _pin_guest_arch) and
the schedulers are told at once (compute/scheduler_notices.py took, nova's
update_instance_info fanout). A refused one loses its allocation, as
nova's compute deletes it before it asks the conductor to reschedule
(compute/manager.py _do_build_and_run_instance, RescheduledException).
"""

import collections
import threading

from nova.compute import vm_states
from nova import context as nova_context
from nova import exception as nova_exception
from nova import objects
from nova.scheduler.client import query
from nova.scheduler.client import report
from nova.scheduler import utils as scheduler_utils
from oslo_messaging import exceptions as messaging_exceptions
from oslo_serialization import jsonutils
from oslo_utils import uuidutils

from powerkvm_nova.endianness import Endianness
from powerkvm_nova.endianness import ledger
from powerkvm_nova.endianness import records
from powerkvm_nova import exception

# A POWER9 host of the size the project's cloud describes, and a small
# flavor: about 30 guests a host fill it by memory.
HOST_VCPUS = 64
HOST_MEMORY_MB = 131072
HOST_DISK_GB = 2000
FLAVOR = dict(id=1, flavorid='pkvm.small', name='pkvm.small', vcpus=2,
              memory_mb=4096, root_gb=10, ephemeral_gb=0, swap=0,
              rxtx_factor=1.0, vcpu_weight=0, disabled=False, is_public=True,
              extra_specs={}, description=None)
PROJECT = 'pkvm-scale-project'
USER = 'pkvm-scale-user'
PLACEMENT_VERSION = '1.20'
# nova's default: the first host and two alternates
MAX_ATTEMPTS = 3


def images():
    """{Endianness: image id} and what the image service says of each."""
    ids = {e: uuidutils.generate_uuid() for e in Endianness}
    service = {ids[e]: {'id': ids[e], 'status': 'active',
                        'properties': {'hw_architecture': e.arch}}
               for e in Endianness}
    return ids, service


class Domains(ledger.DomainSource):
    """A host's libvirt, in memory: every spawn is instant and succeeds."""

    def __init__(self):
        self._lock = threading.Lock()
        self._domains = {}
        self._changes = 0

    def marker(self):
        return self._changes

    def uuids(self):
        with self._lock:
            return list(self._domains)

    def endianness_of(self, uuid):
        return self._domains.get(uuid)

    def shut_off(self):
        return []

    def define(self, uuid, endianness):
        with self._lock:
            self._domains[uuid] = endianness
            self._changes += 1


class Host:
    def __init__(self, name, policy):
        self.name = name
        self.domains = Domains()
        self.ledger = ledger.HostLedger(self.domains, name, policy)
        self.node = None
        # the resource tracker's COMPUTE_RESOURCE_SEMAPHORE
        self.lock = threading.Lock()


class Figures:
    """The counts of one configuration, kept under a lock."""

    NAMES = ('admitted', 'refused', 'rescheduled', 'error_no_host',
             'error_retries', 'error_other')

    def __init__(self):
        self._lock = threading.Lock()
        self.counts = collections.Counter()
        self.mixed = set()
        self.errors = collections.Counter()

    def count(self, name, reason=None):
        with self._lock:
            self.counts[name] += 1
            if reason:
                # a remote exception's text goes on with its traceback
                self.errors[reason.splitlines()[0][:200]] += 1

    def mixed_host(self, name):
        with self._lock:
            self.mixed.add(name)


class Cloud:
    """One configuration's cell, hosts and conductor."""

    def __init__(self, transport_url, cell_db, hosts, rule, image_ids):
        self.rule = rule
        self.image_ids = image_ids
        self.context = nova_context.get_admin_context()
        self.cell = objects.CellMapping(
            self.context, uuid=uuidutils.generate_uuid(), name='cell1',
            transport_url=transport_url, database_connection=cell_db)
        self.cell.create()
        self.cell_context = nova_context.get_admin_context()
        nova_context.set_target_cell(self.cell_context, self.cell)
        self.query = query.SchedulerQueryClient()
        self.placement = report.report_client_singleton()
        policy = ledger.EXCLUSIVE if rule else ledger.MIXED
        self.hosts = {}
        for i in range(hosts):
            host = Host('pkvm%04d' % i, policy)
            self._create_host(host)
            self.hosts[host.name] = host
        self.flavor = objects.Flavor(self.context, **FLAVOR)
        self.figures = Figures()

    # -- the computes' start ----------------------------------------------

    def _create_host(self, host):
        ctxt = self.cell_context
        service = objects.Service(ctxt, host=host.name,
                                  binary='nova-compute', topic='compute',
                                  report_count=0, disabled=False)
        service.create()
        stats = records.host_stats({}, host.ledger.policy)
        node = objects.ComputeNode(
            ctxt, uuid=uuidutils.generate_uuid(), host=host.name,
            hypervisor_hostname=host.name, service_id=service.id,
            vcpus=HOST_VCPUS, memory_mb=HOST_MEMORY_MB, local_gb=HOST_DISK_GB,
            vcpus_used=0, memory_mb_used=0, local_gb_used=0,
            free_ram_mb=HOST_MEMORY_MB, free_disk_gb=HOST_DISK_GB,
            current_workload=0, running_vms=0,
            disk_available_least=HOST_DISK_GB,
            hypervisor_type='QEMU', hypervisor_version=7002000,
            cpu_info='{}', host_ip='192.0.2.1',
            supported_hv_specs=[
                objects.HVSpec(arch=e.arch, hv_type='kvm', vm_mode='hvm')
                for e in (Endianness.LITTLE, Endianness.BIG)],
            stats=stats, cpu_allocation_ratio=1.0, ram_allocation_ratio=1.0,
            disk_allocation_ratio=1.0)
        node.create()
        host.node = node
        objects.HostMapping(self.context, host=host.name,
                            cell_mapping=self.cell).create()
        resp = self.placement.post('/resource_providers', {
            'uuid': node.uuid, 'name': host.name},
            version=PLACEMENT_VERSION)
        if resp.status_code not in (200, 201):
            raise RuntimeError('placement: %s' % resp.text)
        inventories = {
            rc: {'total': total, 'reserved': 0, 'min_unit': 1,
                 'max_unit': total, 'step_size': 1, 'allocation_ratio': 1.0}
            for rc, total in (('VCPU', HOST_VCPUS),
                              ('MEMORY_MB', HOST_MEMORY_MB),
                              ('DISK_GB', HOST_DISK_GB))}
        resp = self.placement.put(
            '/resource_providers/%s/inventories' % node.uuid,
            {'resource_provider_generation': 0, 'inventories': inventories},
            version=PLACEMENT_VERSION)
        if resp.status_code != 200:
            raise RuntimeError('placement: %s' % resp.text)
        # OWNER_NOVA: nova's resource tracker marks its compute nodes' root
        # providers so (compute/provider_tree.py, resource_tracker.py
        # _update_to_placement), and the scheduler asks for it
        # (root_required). Both POWER arches: what a PowerKVM host reports
        # (doc/endianness.md, image_metadata_prefilter).
        resp = self.placement.put(
            '/resource_providers/%s/traits' % node.uuid,
            {'resource_provider_generation': 1,
             'traits': ['OWNER_NOVA', 'HW_ARCH_PPC64', 'HW_ARCH_PPC64LE']},
            version=PLACEMENT_VERSION)
        if resp.status_code != 200:
            raise RuntimeError('placement: %s' % resp.text)

    def synchronise(self):
        """What each compute tells the schedulers of its instances.

        At start (compute/manager.py init_host, _update_scheduler_instance_
        info) and periodically (_sync_scheduler_instance_info): a host the
        scheduler does not know yet is read from the database, and one whose
        list then matches is trusted from the casts that follow
        (scheduler/host_manager.py sync_instance_info); until then the
        HostManager reads every host's instances from the cell database for
        every request.
        """
        for _ in range(2):
            for name in self.hosts:
                self.query.sync_instance_info(self.context, name, [])

    # -- a request --------------------------------------------------------

    def boot(self, endianness):
        uuid = uuidutils.generate_uuid()
        image = objects.ImageMeta.from_dict({
            'id': self.image_ids[endianness], 'status': 'active',
            'disk_format': 'qcow2', 'container_format': 'bare',
            'min_ram': 0, 'min_disk': 0, 'size': 1,
            'properties': {'hw_architecture': endianness.arch}})
        spec = objects.RequestSpec.from_components(
            self.context, uuid, image, self.flavor, None, None, {}, None,
            None, project_id=PROJECT, user_id=USER)
        try:
            selections = self.query.select_destinations(
                self.context, spec, [uuid], return_objects=True,
                return_alternates=True)[0]
        except nova_exception.NoValidHost as e:
            self.figures.count('error_no_host', str(e))
            return
        except messaging_exceptions.MessagingTimeout as e:
            self.figures.count('error_other', 'RPC timeout: %s' % e)
            return
        instance = self._instance(uuid, endianness)
        selection = selections.pop(0)
        attempt = 1
        while True:
            if self._admit(selection, instance, endianness):
                return
            self.figures.count('refused')
            self.placement.delete_allocation_for_instance(
                self.cell_context, uuid, force=True)
            attempt += 1
            selection = self._next_host(spec, uuid, selections) \
                if attempt <= MAX_ATTEMPTS else None
            if selection is None:
                instance.vm_state = vm_states.ERROR
                instance.save()
                self.figures.count('error_retries',
                                   'retries exhausted (attempt %d)'
                                   % attempt)
                return
            self.figures.count('rescheduled')

    def _next_host(self, spec, uuid, alternates):
        """conductor/manager.py build_instances: the next claimable one."""
        while alternates:
            selection = alternates.pop(0)
            if scheduler_utils.claim_resources(
                    self.cell_context, self.placement, spec, uuid,
                    jsonutils.loads(selection.allocation_request),
                    selection.allocation_request_version):
                return selection
        return None

    def _instance(self, uuid, endianness):
        """The instance as the conductor creates it in the cell.

        nova's API writes the image's properties into its system metadata
        (image_hw_architecture, records.SM_ARCH); the host is set by the
        compute's claim.
        """
        flavor = self.flavor
        instance = objects.Instance(
            self.cell_context, uuid=uuid, project_id=PROJECT, user_id=USER,
            flavor=flavor, old_flavor=None, new_flavor=None,
            instance_type_id=flavor.id, vcpus=flavor.vcpus,
            memory_mb=flavor.memory_mb, root_gb=flavor.root_gb,
            ephemeral_gb=flavor.ephemeral_gb,
            image_ref=self.image_ids[endianness],
            vm_state=vm_states.BUILDING, power_state=0,
            system_metadata={records.SM_ARCH: endianness.arch})
        instance.create()
        return instance

    def _claim(self, host):
        """What the compute's resource tracker writes at a build's claim.

        compute/resource_tracker.py instance_claim, _update: the compute
        node's usage, which the schedulers read for their weighers (nova's
        RAM, CPU and disk weighers spread by it; HostState.update reads a
        compute node again when it was updated).
        """
        flavor = self.flavor
        with host.lock:
            node = host.node
            node.vcpus_used += flavor.vcpus
            node.memory_mb_used += flavor.memory_mb
            node.local_gb_used += flavor.root_gb
            node.free_ram_mb = node.memory_mb - node.memory_mb_used
            node.free_disk_gb = node.local_gb - node.local_gb_used
            node.running_vms += 1
            node.save()

    def _admit(self, selection, instance, endianness):
        """The simulated compute: True if it admitted the guest."""
        host = self.hosts[selection.service_host]
        try:
            host.ledger.admit(instance.uuid, endianness)
        except exception.OtherEndianness:
            return False
        host.domains.define(instance.uuid, endianness)
        host.ledger.committed(instance.uuid)
        if len(set(host.ledger.holders().values())) > 1:
            self.figures.mixed_host(host.name)
        self._claim(host)
        instance.host = host.name
        instance.node = host.name
        instance.compute_id = host.node.id
        records.record(instance, endianness)
        instance.vm_state = vm_states.ACTIVE
        instance.save()
        self.query.update_instance_info(
            self.context, host.name, objects.InstanceList(
                objects=[instance]))
        self.figures.count('admitted')
        return True
