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

"""What every PowerKVM scenario stands on: the cloud's PowerKVM hosts as
placement describes them, servers booted where a scenario asks and deleted
after its test, and the endianness of what a host runs.

Everything is read through the cloud's APIs, as an operator's tempest run
would: the scenarios run against any cloud with PowerKVM computes.
"""

import dataclasses

from tempest.api.compute import base
from tempest.common import waiters
from tempest import config
from tempest.lib.common.utils import data_utils
from tempest.lib.common.utils import test_utils
from tempest.lib import exceptions as lib_exc

CONF = config.CONF

# What powerkvm-nova reports of a host in placement (doc/cpu.md, "What the
# host says it is"): its generation, split-core mode and threads a subcore.
TRAIT_PREFIX = 'CUSTOM_POWERKVM_'
GENERATION_TRAITS = {
    'HW_CPU_PPC64LE_POWER8': 'POWER8',
    'HW_CPU_PPC64LE_POWER9': 'POWER9',
    'CUSTOM_POWERKVM_HW_CPU_PPC64LE_POWER10': 'POWER10',
}
# an image's hw_architecture and the endianness it names (doc/endianness.md)
ENDIANNESS = {'ppc64': 'big', 'ppc64le': 'little', 'ppc64el': 'little'}
# what the driver's and its scheduler filter's refusals say (doc/
# endianness.md, doc/migration.md)
ENDIANNESS_RULE = 'endianness'
# A cold migration the scheduler refuses: nova's conductor puts its own
# reason in place of the filters' (nova/conductor/manager.py,
# _cold_migrate); the instance fault it records keeps theirs, but nova's
# API shows no fault of an ACTIVE server.
COLD_MIGRATE_NO_HOST = 'No valid host found for cold migrate'


def _endianness(properties):
    """The endianness an image's properties (or a volume's copy) name."""
    return ENDIANNESS.get(properties.get('hw_architecture') or
                          properties.get('architecture'))


@dataclasses.dataclass(frozen=True)
class PowerHost:
    """A PowerKVM compute, as its resource provider's traits say."""

    name: str  # the compute service's host, as nova's API names it
    generation: str  # POWER8, POWER9, POWER10; None if none says
    subcores_per_core: int
    threads_per_subcore: int

    @property
    def micro_threading(self):
        return self.subcores_per_core > 1


def _number(traits, name):
    """N of the trait CUSTOM_POWERKVM_<name>_<N>; None if it has none."""
    prefix = TRAIT_PREFIX + name + '_'
    found = [int(t[len(prefix):]) for t in traits if t.startswith(prefix)
             and t[len(prefix):].isdigit()]
    return found[0] if found else None


class PowerKVMTest(base.BaseV2ComputeAdminTest):
    """An admin's scenario on the PowerKVM hosts of the cloud."""

    # the host a server is booted on (2.74), the details of an instance
    # action's events (2.84), flavor extra specs validated (2.86)
    min_microversion = '2.86'
    # resource provider traits
    placement_min_microversion = '1.6'

    @classmethod
    def resource_setup(cls):
        super().resource_setup()
        cls.hosts = cls.power_hosts()
        if not cls.hosts:
            raise cls.skipException(
                'no PowerKVM compute is up and enabled (none has a '
                'resource provider with a %sSUBCORES_PER_CORE_<N> trait)'
                % TRAIT_PREFIX)
        cls.le_image = CONF.powerkvm.le_image_ref or CONF.compute.image_ref
        cls.be_image = CONF.powerkvm.be_image_ref
        cls.flavor = cls.make_flavor('plain')

    # -- the hosts -----------------------------------------------------------

    @classmethod
    def power_hosts(cls):
        """{host: PowerHost} of the PowerKVM computes up and enabled."""
        placement = cls.os_admin.resource_providers_client
        providers = {p['name']: p['uuid'] for p in
                     placement.list_resource_providers()['resource_providers']}
        hosts = {}
        for hypervisor in cls.os_admin.hypervisor_client.list_hypervisors(
                detail=True)['hypervisors']:
            uuid = providers.get(hypervisor['hypervisor_hostname'])
            if (hypervisor['state'] != 'up' or
                    hypervisor['status'] != 'enabled' or not uuid):
                continue
            traits = set(placement.list_resource_provider_traits(
                uuid)['traits'])
            subcores = _number(traits, 'SUBCORES_PER_CORE')
            if subcores is None:
                continue  # not a PowerKVM compute
            name = hypervisor['service']['host']
            hosts[name] = PowerHost(
                name=name,
                generation=next((g for t, g in GENERATION_TRAITS.items()
                                 if t in traits), None),
                subcores_per_core=subcores,
                threads_per_subcore=_number(traits, 'THREADS_PER_SUBCORE'))
        return hosts

    def need_hosts(self, count, why):
        if len(self.hosts) < count:
            raise self.skipException(
                '%s: needs %d PowerKVM hosts, the cloud has %d'
                % (why, count, len(self.hosts)))

    def need_big_endian(self):
        if not self.be_image:
            raise self.skipException(
                'no big-endian image: set [powerkvm] be_image_ref')

    def endianness_on(self, host):
        """{'little', 'big', None (unknown)} of the servers host runs."""
        servers = self.admin_servers_client.list_servers(
            detail=True, all_tenants=True, host=host)['servers']
        return {self.endianness_of_server(s) for s in servers}

    def endianness_of_server(self, server):
        """That of its image, or of its volume's (a server of a volume)."""
        if server.get('image'):
            return self.endianness_of_image(server['image']['id'])
        for attached in server.get('os-extended-volumes:volumes_attached',
                                   ()):
            volume = self.os_admin.volumes_client_latest.show_volume(
                attached['id'])['volume']
            found = _endianness(volume.get('volume_image_metadata') or {})
            if found:
                return found
        return None

    def endianness_of_image(self, image_id):
        return _endianness(self.admin_image_client.show_image(image_id))

    def free_hosts(self):
        """The PowerKVM hosts that run no server."""
        return [h for h in sorted(self.hosts)
                if not self.admin_servers_client.list_servers(
                    all_tenants=True, host=h)['servers']]

    # -- flavors and servers -------------------------------------------------

    @classmethod
    def make_flavor(cls, name, vcpus=1, **extra_specs):
        """A flavor for this class's servers, deleted after it."""
        client = cls.os_admin.flavors_client
        flavor = client.create_flavor(
            name=data_utils.rand_name(prefix=CONF.resource_name_prefix,
                                      name='powerkvm-' + name),
            ram=CONF.powerkvm.flavor_ram, vcpus=vcpus,
            disk=CONF.powerkvm.flavor_disk,
            id=data_utils.rand_uuid())['flavor']
        cls.addClassResourceCleanup(
            test_utils.call_and_ignore_notfound_exc, client.delete_flavor,
            flavor['id'])
        if extra_specs:
            client.set_flavor_extra_spec(flavor['id'], **extra_specs)
        return flavor

    def boot(self, image, host=None, flavor=None, wait_until='ACTIVE',
             volume_backed=False):
        """A server of image, the admin's, deleted after this test.

        A host is free for either endianness as soon as its last guest is
        deleted (doc/endianness.md, "What the scheduler knows"): a boot
        that must succeed is tried once.

        :param host: the host to boot on (the scheduler's filters still
            decide whether it may)
        :param wait_until: 'ACTIVE', or 'ERROR' for a boot that must fail
        :param volume_backed: boot from a volume of image (deleted with
            the server)
        """
        server = self.settle(self._create(image, host, flavor,
                                          volume_backed))
        self.assertEqual(wait_until, server['status'],
                         'server %s: %s' % (server['id'],
                                            server.get('fault')))
        return server

    def _create(self, image, host, flavor, volume_backed=False):
        kwargs = {'host': host} if host else {}
        server = self.create_test_server(
            clients=self.os_admin, image_id=image,
            flavor=(flavor or self.flavor)['id'], wait_until=None,
            volume_backed=volume_backed, **kwargs)
        self.addCleanup(self.delete, server['id'])
        return server['id']

    def delete(self, server_id):
        test_utils.call_and_ignore_notfound_exc(
            self.admin_servers_client.delete_server, server_id)
        waiters.wait_for_server_termination(self.admin_servers_client,
                                            server_id)

    def settle(self, server_id):
        """The server once no task runs on it: ACTIVE, ERROR, SHUTOFF."""
        last = {}

        def settled():
            last.update(self.show(server_id))
            return (last['status'] in ('ACTIVE', 'ERROR', 'SHUTOFF') and
                    last['OS-EXT-STS:task_state'] is None)

        if not test_utils.call_until_true(settled, self.build_timeout,
                                          self.build_interval):
            self.fail('server %s is still %s/%s after %d s' % (
                server_id, last['status'], last['OS-EXT-STS:task_state'],
                self.build_timeout))
        return dict(last)

    def show(self, server_id):
        return self.admin_servers_client.show_server(server_id)['server']

    @staticmethod
    def host_of(server):
        return server['OS-EXT-SRV-ATTR:host']

    def assert_fault_names_the_rule(self, server, *words):
        fault = server.get('fault', {}).get('message', '')
        for word in (ENDIANNESS_RULE,) + words:
            self.assertIn(word, fault, 'the fault of server %s' % server['id'])

    # -- moves ---------------------------------------------------------------

    def assert_move_refused(self, server, move, *reasons):
        """move() is refused and server stays, ACTIVE, where it was.

        :param reasons: what the refusal may say; one of them must be in it

        nova refuses a move to a named host either in the API's answer
        (400) or, the request accepted, in the move's scheduling or on the
        destination: the migration then ends in error, the server is
        ACTIVE on its source again and the instance action's event has
        the reason (doc/migration.md).
        """
        source = self.host_of(server)
        try:
            move()
        except lib_exc.BadRequest as refused:
            text = str(refused)
        else:
            migration = self.wait_for_migration(server['id'], ('error',))
            self.assertEqual(source, migration['source_compute'])
            waiters.wait_for_server_status(self.admin_servers_client,
                                           server['id'], 'ACTIVE')
            text = self.event_details(server['id'])
        stays = self.show(server['id'])
        self.assertEqual((source, 'ACTIVE', None), (
            self.host_of(stays), stays['status'],
            stays['OS-EXT-STS:task_state']))
        if reasons:
            self.assertTrue(any(r in text for r in reasons),
                            'none of %s in: %s' % (reasons, text))

    def wait_for_migration(self, server_id, statuses):
        """The server's newest migration, once its status is in statuses."""
        client = self.os_admin.migrations_client
        last = {}

        def settled():
            migrations = client.list_migrations(
                instance_uuid=server_id)['migrations']
            last.update(max(migrations, key=lambda m: m['id'])
                        if migrations else {})
            return last.get('status') in statuses

        if not test_utils.call_until_true(settled, self.build_timeout,
                                          self.build_interval):
            self.fail('the migration of server %s is %s, not %s after %d s'
                      % (server_id, last.get('status'), statuses,
                         self.build_timeout))
        return dict(last)

    def event_details(self, server_id):
        """What the events of the server's newest action say (2.84)."""
        actions = self.admin_servers_client.list_instance_actions(
            server_id)['instanceActions']
        newest = max(actions, key=lambda a: a['start_time'])
        action = self.admin_servers_client.show_instance_action(
            server_id, newest['request_id'])['instanceAction']
        return '\n'.join(e.get('details') or '' for e in action['events'])
