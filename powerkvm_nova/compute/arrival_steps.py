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

"""The endianness steps of guests arriving by migration (doc/migration.md).

The guest's endianness is the one recorded in it at spawn. The destination
reserves before the guest's domain exists there (from its live-migration
pre-check, or when nova finishes a cold migration or resize) and releases
if the move fails; the source of a cold move refuses before it powers the
guest off when the destination reported the other endianness
(departure_steps). They use EndiannessSteps' ledger and record;
compute.lifecycle calls them in its sequences.
"""

import nova.conf
from nova import exception as nova_exception

from powerkvm_nova import exception

CONF = nova.conf.CONF


class ArrivalSteps:
    """The steps that keep the rule for guests that move here."""

    def _reserve_arrival(self, instance, lapse_after=None,
                         error=nova_exception.MigrationError):
        try:
            self.ledger.admit(instance.uuid,
                              self._recorded_endianness(instance),
                              lapse_after=lapse_after)
        except exception.PowerKVMError as e:
            raise error(reason=str(e))

    def _claim_live_arrival(self, instance):
        """Hold the host for a guest from its live migration's pre-check.

        A boot of the other endianness meanwhile is refused, not the
        migration later. nova tells the destination nothing when the move
        fails before it starts here, so the claim also lapses by itself.
        """
        self._reserve_arrival(
            instance, lapse_after=CONF.powerkvm.migration_claim_timeout,
            error=nova_exception.MigrationPreCheckError)

    def _claim_incoming_domain(self, instance):
        """Hold the host for the incoming domain of a live migration.

        The domain, which then counts in its own right, is defined here as
        soon as the source starts the migration.
        """
        self._reserve_arrival(
            instance, lapse_after=CONF.powerkvm.migration_claim_timeout)

    def _arrived(self, instance):
        """The guest's domain is here: the ledger counts it from libvirt."""
        self.ledger.committed(instance.uuid)

    def _not_arrived(self, instance):
        """The move failed or was rolled back: the claim ends."""
        self.ledger.release(instance.uuid)
