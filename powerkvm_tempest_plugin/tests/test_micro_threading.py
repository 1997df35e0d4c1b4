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

"""Micro-threading flavors (doc/cpu.md): split-core POWER8 hosts, the
guest cores their mode runs, and the powerkvm: extra specs nova's API
validates."""

from tempest.lib import decorators
from tempest.lib import exceptions as lib_exc

from powerkvm_tempest_plugin.tests import base

# powerkvm: extra specs nova's API refuses (powerkvm_nova/api/extra_specs.py)
BAD_EXTRA_SPECS = (
    ('powerkvm:micro_threading', 'sometimes'),
    ('powerkvm:subcores_per_core', '3'),
    ('powerkvm:threads_per_core', '3'),
    ('powerkvm:no_such_key', '1'),
)


class MicroThreadingTest(base.PowerKVMTest):

    def split_hosts(self):
        split = {h for h, d in self.hosts.items() if d.micro_threading}
        if not split:
            raise self.skipException(
                'no POWER8 host in split-core mode (a provider with the '
                'trait %sMICRO_THREADING)' % base.TRAIT_PREFIX)
        return split

    @decorators.idempotent_id('0b6d4f3e-8a0c-4f6e-b7d2-6c1f0f5e2a01')
    def test_required_lands_on_a_split_core_host(self):
        split = self.split_hosts()
        flavor = self.make_flavor('mt-required', vcpus=2, **{
            'powerkvm:micro_threading': 'required'})
        server = self.boot(self.le_image, flavor=flavor)
        self.assertIn(self.host_of(server), split)

    @decorators.idempotent_id('0b6d4f3e-8a0c-4f6e-b7d2-6c1f0f5e2a02')
    def test_forbidden_is_never_on_a_split_core_host(self):
        split = self.split_hosts()
        if set(self.hosts) <= split:
            raise self.skipException('every PowerKVM host is split-core')
        flavor = self.make_flavor('mt-forbidden', **{
            'powerkvm:micro_threading': 'forbidden'})
        server = self.boot(self.le_image, flavor=flavor)
        self.assertNotIn(self.host_of(server), split)
        # asked for by name, a split-core host is still refused
        refused = self.boot(self.le_image, flavor=flavor,
                            host=sorted(split)[0], wait_until='ERROR')
        self.assertIn('No valid host', refused['fault']['message'])

    @decorators.idempotent_id('0b6d4f3e-8a0c-4f6e-b7d2-6c1f0f5e2a03')
    def test_guest_cores_of_the_threads_their_host_mode_runs(self):
        split = self.split_hosts()
        # Each split-core host takes guest cores of up to its subcores'
        # threads; one more than the smallest such mode runs goes to a
        # host whose mode runs it, or ends in ERROR where none does.
        fits = min(self.hosts[h].threads_per_subcore for h in split)
        for threads in (fits, fits * 2):
            if threads > 8:
                continue
            flavor = self.make_flavor('mt-smt%d' % threads, vcpus=threads,
                                      **{'powerkvm:micro_threading':
                                         'required',
                                         'powerkvm:threads_per_core':
                                         str(threads)})
            runs = {h for h in split
                    if self.hosts[h].threads_per_subcore >= threads}
            server = self.boot(self.le_image, flavor=flavor,
                               wait_until='ACTIVE' if runs else 'ERROR')
            if runs:
                self.assertIn(self.host_of(server), runs)
            else:
                self.assertIn('No valid host', server['fault']['message'])

    @decorators.idempotent_id('0b6d4f3e-8a0c-4f6e-b7d2-6c1f0f5e2a04')
    def test_bad_powerkvm_extra_specs_refused_with_400(self):
        flavor = self.make_flavor('bad')
        client = self.admin_flavors_client
        for key, value in BAD_EXTRA_SPECS:
            self.assertRaises(lib_exc.BadRequest,
                              client.set_flavor_extra_spec, flavor['id'],
                              **{key: value})
        self.assertEqual({}, client.list_flavor_extra_specs(
            flavor['id'])['extra_specs'])
