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

"""The steps that keep a host to one endianness (doc/endianness.md).

Every path that puts a guest on this host asks the host ledger under its
lock before the guest's domain exists here, and tells it how it ended:
spawn (create, rebuild, evacuate, unshelve) and rescue here; a guest
arriving by migration in arrival_steps. A guest holds the host until it
really leaves it, across nova's remaking of its domain (doc/endianness.md,
"The lifecycle"). compute.lifecycle calls these steps in its sequences.
"""

import contextlib
import sys

from nova.compute import task_states
from nova.compute import utils as compute_utils
from nova.compute import vm_states
import nova.conf
from nova import exception as nova_exception
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import utils as libvirt_utils
from oslo_log import log as logging
from oslo_utils import excutils

from powerkvm_nova.compute import admission
from powerkvm_nova.compute import allocation_keeper
from powerkvm_nova.compute import domains
from powerkvm_nova.compute import other_hosts
from powerkvm_nova.compute import reconcile
from powerkvm_nova.compute import scheduler_notices
from powerkvm_nova.endianness import Endianness
from powerkvm_nova.endianness import evidence
from powerkvm_nova.endianness import ledger
from powerkvm_nova.endianness import records
from powerkvm_nova import exception
from powerkvm_nova.nova_internals import builds

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

# The task states in which nova undefines a guest's domain and defines it
# again on the same host: a hard reboot, also nova's fallback for a failed
# soft one, start and resume (LibvirtDriver._hard_reboot calls destroy),
# and a rebuild (ComputeManager._rebuild_default_impl destroys, then
# spawns). The guest stays, and so does its hold on the host.
_STAYS = frozenset(task_states.soft_reboot_states +
                   task_states.hard_reboot_states +
                   task_states.rebuild_states +
                   (task_states.POWERING_ON, task_states.RESUMING))


class RuleRefusal(nova_exception.GroupAffinityViolation):
    """A build this host refuses by the endianness rule.

    nova reschedules a build whose late check finds a scheduling policy
    violated (GroupAffinityViolation, caught in ComputeManager.
    _build_and_run_instance) as RescheduledByPolicyException: unlike any
    other spawn failure, that is not a failed build of the host. A failed
    build puts the host last for every request in nova's
    BuildFailureWeigher (multiplier 1000000) until its next good one.
    """
    msg_fmt = '%(reason)s'


@contextlib.contextmanager
def _admission_event(context, host, instance):
    """Record the host's admission as an event of the build's action.

    When a refused build runs out of alternate hosts, nova's fault says only
    "Exhausted all hosts available for retrying build failures"; the event
    keeps the reason, for 'openstack server event show'.
    """
    reporter = compute_utils.EventReporter(
        context, 'powerkvm_endianness_admission', host, instance.uuid,
        graceful_exit=True)
    try:
        reporter.__enter__()
    except nova_exception.InstanceActionNotFound:
        yield  # a call outside any API action: nothing to record to
        return
    try:
        yield
    except Exception:
        with excutils.save_and_reraise_exception():
            reporter.__exit__(*sys.exc_info())
    else:
        reporter.__exit__(None, None, None)


class EndiannessSteps:
    """The ledger of this host, and the steps that keep its rule."""

    def _init_endianness(self):
        try:
            self._admission = admission.Admission.from_config(CONF.powerkvm)
        except exception.PowerKVMError as e:
            raise nova_exception.InvalidConfiguration(str(e))
        # The hypervisor is the record: the ledger reads libvirt (at
        # init_host and whenever domains change), never its own memory.
        self._domains = domains.LibvirtDomains(
            self._host, libvirt_driver.libvirt, events=True)
        self.ledger = ledger.HostLedger(
            self._domains, CONF.host, CONF.powerkvm.endianness_policy)
        self._refused_rebuilds = allocation_keeper.AllocationKeeper(
            self.ledger.host)
        # what nova's records said of guests here, for good: found with
        # their endianness recorded (reconcile.listed), found deleted with
        # their domains left (reconcile.leftover_domains); each periodic
        # report reads only the guests it has not seen, and which guests
        # nova lists here every few reports (reconcile.Listing)
        self._recorded_here = set()
        self._deleted_here = set()
        self._listing = reconcile.Listing(self.ledger.host)
        # nova's compute, where the driver runs in one (ComputeVirtAPI)
        manager = getattr(self.virtapi, '_compute', None)
        if manager is not None:
            builds.watch(manager)

    def _log_ledger(self):
        try:
            holds = self.ledger.holds()
        except exception.PowerKVMError as e:
            LOG.error('%s', e)
            return
        LOG.info('PowerKVM host %s runs %s guests (endianness_policy = %s).',
                 self.ledger.host, holds.value if holds else 'no POWER',
                 self.ledger.policy)

    def _endianness_stats(self):
        self._refused_rebuilds.restore()
        # Free what nova's records say no longer holds this host, then
        # catch up with domains defined or undefined behind nova's back.
        for what, uuids in (
                (reconcile.finished_arrivals, self.ledger.lapsing()),
                (reconcile.departed, self.ledger.restarting())):
            found = what(self.ledger.host, uuids) if uuids else {}
            for uuid, why in found.items():
                LOG.info('PowerKVM: guest %s no longer holds this host '
                         '(%s)', uuid, why)
                self.ledger.release(uuid)
        rebuilds = self.ledger.rebuilds()
        for uuid, why in (reconcile.rebuilds_over(self.ledger.host, rebuilds)
                          if rebuilds else {}).items():
            LOG.info('PowerKVM: guest %s no longer holds this host for its '
                     'rebuild (%s)', uuid, why)
            self.ledger.end_rebuild(uuid)
        self.ledger.resync()
        shut_off = self._domains.shut_off()
        here = self._listing.current(shut_off)
        leftovers = reconcile.leftover_domains(
            self.ledger.host, self._host.get_hostname(), shut_off,
            here, self._deleted_here) if shut_off else {}
        for uuid in self.ledger.disregard(leftovers):
            LOG.info('PowerKVM: shut-off domain %s is left by a guest %s; '
                     'it does not hold this host to its endianness until '
                     'nova removes it', uuid, leftovers[uuid])
        holders = self.ledger.holders()
        return records.host_stats(
            holders, self.ledger.policy,
            reconcile.listed(self.ledger.host, holders, here,
                             self._recorded_here))

    def _unadmit(self, context, instance):
        """A spawn failed: the guest no longer holds this host.

        A failed rebuild in place leaves the server here in ERROR (nova
        keeps its host, and never tells the schedulers it left): they go
        on counting it here, for nova's affinity filters as for this rule.
        """
        self.ledger.release(instance.uuid)
        if not self._rebuilt_in_place(instance):
            scheduler_notices.left(context, self.ledger.host, instance)

    def _rebuilt_in_place(self, instance):
        # An evacuation's rebuild has a migration context (nova's
        # rebuild_claim); a rebuild on the guest's own host has none.
        return (instance.task_state in task_states.rebuild_states and
                instance.host == self.ledger.host and
                instance.migration_context is None)

    def _admit(self, context, instance, image_meta):
        """Decide the guest's endianness and reserve this host for it.

        Runs before the domain exists. A guest this host cannot take is
        rescheduled by nova to another host; an image nothing can take
        (mislabelled, unknown) aborts the build with the reason.
        """
        try:
            endianness = self._admission.endianness(
                context, instance, image_meta)
        except exception.PowerKVMError as e:
            raise nova_exception.BuildAbortException(
                instance_uuid=instance.uuid, reason=str(e))
        with _admission_event(context, self.ledger.host, instance):
            try:
                self.ledger.admit(instance.uuid, endianness)
            except exception.OtherEndianness as e:
                LOG.warning('%s', e, instance=instance)
                raise self._refusal(instance, e)
        # Recorded once admitted: nova has already set the instance's host
        # to this one, and what other hosts read of this host counts the
        # guests nova lists here by their record (other_hosts.running_on).
        # A guest refused here and recorded would count here meanwhile.
        try:
            self._pin_guest_arch(instance, image_meta, endianness.arch)
        except Exception:
            with excutils.save_and_reraise_exception():
                self.ledger.release(instance.uuid)
        self._listing.admitted(instance.uuid)
        scheduler_notices.took(context, self.ledger.host, instance)

    def _refusal(self, instance, refused):
        """What tells nova that this host refuses the guest.

        An evacuation is not rescheduled: nova's rebuild_instance takes
        RescheduledException as a refusal that leaves the server where and
        as it was, and any other error as a failure that puts it in ERROR.
        A build is a policy's reschedule (RuleRefusal), unless this host
        knows no other host will take the guest: then it ends the build
        with the reason, where nova would retry and end with its own fault
        that says nothing of why.
        """
        uuid = instance.uuid
        if instance.task_state in task_states.rebuild_states:
            return nova_exception.RescheduledException(
                instance_uuid=uuid, reason=str(refused))
        final = self._final_reason(refused)
        if final is not None:
            if builds.end_here():
                return RuleRefusal(instance_uuid=uuid, reason=final)
            return nova_exception.BuildAbortException(
                instance_uuid=uuid, reason=final)
        if instance.vm_state == vm_states.BUILDING:
            return RuleRefusal(instance_uuid=uuid, reason=str(refused))
        return nova_exception.RescheduledException(
            instance_uuid=uuid, reason=str(refused))

    def _final_reason(self, refused):
        """Why no host will take the refused guest, or None if one may.

        Said within the 255 characters nova keeps of a fault.
        """
        wanted = refused.wanted.value
        if not other_hosts.others_could_take(self.ledger.host,
                                             refused.wanted):
            return ('PowerKVM host %s runs %s, and no other enabled '
                    'PowerKVM host can take this %s guest: a host runs '
                    'guests of one endianness only'
                    % (refused.host, refused.held, wanted))
        if builds.last_host():
            return ('PowerKVM host %s runs %s, and nova has no other '
                    'host left for this %s guest: a host runs guests of '
                    'one endianness only, and the hosts running %s guests '
                    'or none are full or outside the request'
                    % (refused.host, refused.held, wanted, wanted))
        return None

    def _recorded_endianness(self, instance):
        return (records.recorded_endianness(instance) or
                Endianness.from_arch(CONF.powerkvm.default_guest_arch))

    def _create_snapshot_metadata(self, image_meta, instance, img_fmt,
                                  snp_name):
        metadata = super()._create_snapshot_metadata(
            image_meta, instance, img_fmt, snp_name)
        # A snapshot says what it is, whatever nova's inheritance settings
        # ([DEFAULT] non_inheritable_image_properties) and however the
        # original was known (os_distro, its kernel): booting it follows the
        # rule with no relabelling.
        metadata['properties']['hw_architecture'] = \
            self._recorded_endianness(instance).arch
        return metadata

    def _hold_if_staying(self, instance):
        """Hold the host for a guest whose domain nova makes again here.

        Held before the domain goes: a build of the other endianness never
        finds the host empty while the guest is restarted. Returns whether
        the guest stays.
        """
        stays = self._stays(instance)
        if stays:
            try:
                self.ledger.hold(instance.uuid,
                                 self._recorded_endianness(instance))
            except exception.OtherEndianness as e:
                # Its domain is gone and the host took the other endianness
                # meanwhile (a failed rebuild, a refused arrival left here).
                LOG.warning('%s', e, instance=instance)
                raise nova_exception.NovaException(message=(
                    '%s: this server\'s guest is no longer defined here and '
                    'cannot be made again beside them. Delete it, or move '
                    'the host\'s other guests away and hard-reboot it' % e))
        return stays

    def _stays(self, instance):
        """Whether nova destroys this guest's domain to make it again here.

        Everything else that destroys a domain here (delete, shelve
        offload, a failed build, the source or destination of a move, an
        evacuated guest's cleanup) sees the guest leave this host.
        """
        return (instance.host == self.ledger.host and
                instance.task_state in _STAYS)

    def _check_rebuild(self, context, instance, image_meta, allocations):
        """Refuse a rebuild in place that would mix this host.

        Decided before nova touches the guest: LibvirtDriver has no rebuild
        of its own, so nova then powers the guest off, destroys its domain
        and spawns it anew (_rebuild_default_impl), where a refusal would
        leave the server with no guest. The refused guest's allocation is
        kept (allocation_keeper).
        """
        try:
            self._refuse_mixing_rebuild(context, instance, image_meta)
        except nova_exception.InstanceFaultRollback:
            with excutils.save_and_reraise_exception():
                self._refused_rebuilds.keep(instance, allocations)

    def _refuse_mixing_rebuild(self, context, instance, image_meta):
        """Refuse a rebuild that would mix this host, before it starts.

        nova's API has already rewritten the instance's image properties;
        the guest's own record (records.SM_RECORD) still says what runs.
        The refusal keeps the server's state (InstanceFaultRollback) and
        records the reason as its fault.
        """
        try:
            endianness = self._admission.endianness(
                context, instance, image_meta)
            self.ledger.rebuilding(instance.uuid, endianness)
        except exception.PowerKVMError as e:
            LOG.warning('Rebuild refused: %s', e, instance=instance)
            raise nova_exception.InstanceFaultRollback(
                inner_exception=nova_exception.NovaException(
                    message='the rebuild was refused before the guest was '
                    'touched; it still runs its old image: %s' % e))

    def _check_rescue(self, context, instance, image_meta):
        """Give the rescue guest the guest's endianness, or refuse it.

        The rescue guest replaces the guest on this host: it must be of
        the guest's endianness, by every evidence nova's rescue boots with:
        the rescue image's properties (os_version too, which only the image
        service has) and the kernel (LibvirtDriver.rescue: [libvirt]
        rescue_kernel_id, else the instance's). One that says nothing
        rescues the guest as what it is; the instance's own record is left
        alone.
        """
        guest = self._recorded_endianness(instance)
        image_id = image_meta.id if 'id' in image_meta else (
            CONF.libvirt.rescue_image_id or instance.image_ref or 'rescue')
        try:
            properties = evidence.image_service_properties(
                context, image_id, evidence.meta_properties(image_meta))
            rescuer = self._admission.of_image(
                context, image_id, properties, default=guest,
                kernel_id=(CONF.libvirt.rescue_kernel_id or
                           instance.kernel_id or None))
            if rescuer != guest:
                raise exception.PowerKVMError(
                    '%s rescue image for a %s guest: a PowerKVM host runs '
                    'one endianness' % (rescuer.value, guest.value))
        except exception.PowerKVMError as e:
            self._refuse_rescue(instance, e)
        image_meta.properties.hw_architecture = rescuer.arch

    def _refuse_rescue(self, instance, reason):
        """Start the guest nova powered off for the rescue, and refuse.

        nova's compute manager powers the guest off before the driver's
        rescue and puts the server in ERROR on any error (rescue_instance):
        the guest at least runs again, and the fault says how the server
        returns to ACTIVE first (nova keeps 255 characters of it; the
        action's event has all).
        """
        LOG.warning('Rescue refused: %s', reason, instance=instance)
        try:
            self._host.get_guest(instance).launch()
            now = ('the guest runs again; "openstack server set --state '
                   'active" restores the server')
        except Exception as e:
            LOG.warning('The guest could not be started again: %s', e,
                        instance=instance)
            now = 'the guest is off; a hard reboot starts it'
        raise nova_exception.NovaException(message='%s. Refused: %s' % (
            now, reason))

    def _pin_guest_arch(self, instance, image_meta, arch):
        """Give the guest its POWER arch and record it in the instance.

        Without it nova falls back to the host's arch, which on an emulated
        host is not POWER, and later operations rebuild image_meta from the
        instance's system metadata, so the arch is kept there.
        """
        image_meta.properties.hw_architecture = arch
        if records.record(instance, Endianness.from_arch(arch)):
            instance.save()

    def _pin_recorded_arch(self, instance, image_meta):
        """Make the domain for the endianness recorded at spawn.

        Whatever the guest's image properties say now (a rebuild refused by
        the scheduler leaves the new image's there). Returns the recorded
        Endianness, or None.
        """
        recorded = records.recorded_endianness(instance)
        if recorded is not None:
            image_meta.properties.hw_architecture = recorded.arch
        return recorded

    def _tag_endianness(self, guest, recorded):
        """Write the guest's endianness into its domain's metadata."""
        endianness = recorded or Endianness.from_arch(guest.os_arch)
        if endianness is not None:
            guest.metadata.append(domains.GuestMetadata(endianness))

    def _check_emulation_arch(self, image_meta):
        # nova builds the domain for hw_emulation_architecture when an image
        # sets it; admission refuses such images, and a guest spawned
        # before that keeps the arch it was admitted as.
        return libvirt_utils.get_arch(image_meta)
