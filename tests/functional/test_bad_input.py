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

"""Bad input sweep: every powerkvm: extra spec and the image properties the
driver reads, with wrong types and values, through nova's REST API. Each is
answered by a 400 or a server fault that names the problem; none by a 500
or a traceback in the message."""

import copy

from nova.tests.functional.api import client as api_client
from testtools import content

from tests.fixtures import images
from tests.fixtures import power_libvirt
from tests.functional import base

FILTERS = ['powerkvm_nova.scheduler.filters.PowerKVMCpuFilter',
           'powerkvm_nova.scheduler.filters.PowerKVMEndiannessFilter']

# (key, value): refused by the flavor extra-spec API
BAD_SPECS = [
    ('powerkvm:micro_threading', v)
    for v in ('', 'yes', 'REQUIRED', '1', 'required ', 'true')
] + [
    ('powerkvm:subcores_per_core', v)
    for v in ('', '0', '3', '8', '-1', 'two', '2.0', ' 2')
] + [
    ('powerkvm:threads_per_core', v)
    for v in ('', '0', '3', '16', '-2', 'x', '4.0', '0x4')
] + [
    (k, '1') for k in ('powerkvm:threads', 'powerkvm:smt', 'powerkvm:',
                       'powerkvm:subcores', 'powerkvm:micro-threading')
]

# (properties, flavor extra specs, what the fault or 400 must name)
BAD_BOOTS = [
    ({'hw_architecture': 'ppc64el'}, {}, 'ppc64el'),
    # another (valid) architecture: nova's ImagePropertiesFilter leaves no
    # host; a cloud may have hosts for it, so the PowerKVM filters do not
    # claim it
    ({'hw_architecture': 'sparc'}, {}, 'No valid host'),
    ({'hw_architecture': 'x86_64'}, {}, 'No valid host'),
    ({'os_distro': 'sles', 'os_version': 'eleven'}, {}, None),
    ({'os_distro': 'rhel', 'os_version': ''}, {}, None),
    ({'os_distro': 'sles', 'os_version': '11',
      'hw_architecture': 'ppc64le'}, {}, 'mislabelled'),
    ({'hw_architecture': 'ppc64le', 'kernel_id': 'missing'}, {},
     'Can not find requested image'),
    ({'hw_architecture': 'ppc64le', 'hw_cpu_threads': 'two'}, {},
     "Invalid image metadata. Error: invalid literal for int() with base "
     "10: 'two'"),
    ({'hw_architecture': 'ppc64le', 'hw_cpu_threads': '3'}, {},
     '3 threads a guest core'),
    ({'hw_architecture': 'ppc64le', 'hw_cpu_threads': '2'},
     {'powerkvm:threads_per_core': '4'},
     'powerkvm:threads_per_core=4 contradicts image hw_cpu_threads=2'),
    ({'hw_architecture': 'ppc64le', 'hw_cpu_max_threads': '1'},
     {'powerkvm:threads_per_core': '2'}, 'hw_cpu_max_threads=1'),
    ({'hw_architecture': 'ppc64le', 'hw_cpu_sockets': '3'}, {},
     'cannot be split into 3 sockets'),
    ({'hw_architecture': 'ppc64le'},
     {'powerkvm:threads_per_core': '4', 'powerkvm:subcores_per_core': '4'},
     '4 threads a guest core do not fit split-core mode 4'),
    ({'hw_architecture': 'ppc64le'}, {'powerkvm:threads_per_core': '8'},
     '4 vCPUs cannot be made of guest cores of 8 threads'),
    ({'hw_architecture': 'ppc64le'},
     {'powerkvm:micro_threading': 'forbidden',
      'powerkvm:subcores_per_core': '2'},
     'contradicts powerkvm:micro_threading=forbidden'),
]


class BadInputTestCase(base.PowerKVMTestBase):

    ADDITIONAL_FILTERS = ['PowerKVMCpuFilter', 'PowerKVMEndiannessFilter']

    def setUp(self):
        self.flags(available_filters=['nova.scheduler.filters.all_filters']
                   + FILTERS, group='filter_scheduler')
        super().setUp()
        self.flags(instances=-1, cores=-1, ram=-1, group='quota')
        self.start_power_compute('p8', power_libvirt.POWER8)

    def test_bad_extra_specs_are_400(self):
        flavor = self._create_flavor(vcpu=4)
        for key, value in BAD_SPECS:
            e = self.assertRaises(
                api_client.OpenStackApiException,
                self.admin_api.post_extra_spec, flavor,
                {'extra_specs': {key: value}})
            self.assertEqual(400, e.response.status_code, (key, value))
        self.assertEqual({}, self.admin_api.get_flavor(flavor)['extra_specs'])
        self.addDetail('figures', content.text_content(
            '%d bad extra specs, %d answered 400' % (len(BAD_SPECS),
                                                     len(BAD_SPECS))))

    def test_bad_image_properties_and_combinations(self):
        answers = {'400': 0, 'fault': 0, 'ACTIVE (defaults apply)': 0}
        for properties, specs, named in BAD_BOOTS:
            image = images.record('bad', 'qcow2', 25165824, **properties)
            self.glance.create(None, copy.deepcopy(image))
            flavor = self._create_flavor(vcpu=4, extra_spec=specs or None)
            body = self._build_server(image_uuid=image['id'],
                                      flavor_id=flavor, networks='none')
            case = (properties, specs)
            try:
                server = self.api.post_server({'server': body})
            except api_client.OpenStackApiException as e:
                self.assertEqual(400, e.response.status_code, case)
                if named:
                    self.assertIn(named, e.response.text, case)
                answers['400'] += 1
                continue
            server = self._wait_for_state_change(server, ['ACTIVE', 'ERROR'])
            if server['status'] == 'ACTIVE':
                # unknown os_version: the detectors cannot tell, and
                # unknown_endianness = assume boots the default arch
                self.assertIsNone(named, case)
                answers['ACTIVE (defaults apply)'] += 1
            else:
                message = server['fault']['message']
                self.assertNotIn('Traceback', message, case)
                self.assertIn(named, message, case)
                answers['fault'] += 1
            self._delete_server(server)
        self.assertEqual(len(BAD_BOOTS), sum(answers.values()))
        self.addDetail('figures', content.text_content(
            '%d bad boots: %s' % (len(BAD_BOOTS), answers)))

    def _wait_for_state_change(self, server, states):
        for _ in range(100):
            server = self.api.get_server(server['id'])
            if server['status'] in states:
                return server
            __import__('time').sleep(0.1)
        self.fail('server %s stuck in %s' % (server['id'], server['status']))
