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

"""nova-compute as a process of its own, for a test bed host.

    python -m tests.hypervisor.compute_process --config-file nova.conf \\
        --image-catalogue DIR

This is nova's own nova-compute (nova.cmd.compute.main: its concurrency
mode, RPC server on the message bus, conductor for every object, placement
over HTTP, a real privsep daemon as the config's helper_command says). Two
stand-ins take the place of services this machine does not run:

* Glance: nova's GlanceFixture, whose images are read from the catalogue
  the test writes (tests.fixtures.images.Catalogue), data streamed from
  the test guest's files.
* Neutron: nova's NeutronFixture. The test's servers have no ports, so
  nova asks it only for the (empty) port lists.
"""

import shutil
import sys

import fixtures
from nova.cmd import compute
from nova import exception
from nova.tests.fixtures import glance as glance_fixture
from nova.tests.fixtures import neutron as neutron_fixture
from oslo_config import cfg

from tests.fixtures import images


class CatalogueGlance(glance_fixture.GlanceFixture):
    """nova's GlanceFixture, serving the images in a catalogue."""

    def __init__(self, test, catalogue):
        super().__init__(test)
        self.catalogue = catalogue
        self._paths = {}

    def show(self, context, image_id, include_locations=False,
             show_deleted=True):
        if str(image_id) not in self.images:
            image, path = self.catalogue.get(image_id)
            if image is None:
                raise exception.ImageNotFound(image_id=image_id)
            self.images[image['id']] = image
            self._paths[image['id']] = path
        return super().show(context, image_id, include_locations,
                            show_deleted)

    def download(self, context, image_id, data=None, dst_path=None,
                 trusted_certs=None):
        self.show(context, image_id)
        with open(self._paths[str(image_id)], 'rb') as source:
            if data is not None:
                shutil.copyfileobj(source, data)
                return
            with open(dst_path, 'wb') as target:
                shutil.copyfileobj(source, target)


class _Patches(fixtures.Fixture):
    """What nova's fixtures ask of a test case, for a process that has none.

    Patches last as long as the process: nothing is torn down.
    """

    def stub_out(self, old, new):
        self.useFixture(fixtures.MonkeyPatch(old, new))

    def flags(self, **kwargs):
        for name, value in kwargs.items():
            cfg.CONF.set_override(name, value)


def main(argv=None):
    argv = list(sys.argv if argv is None else argv)
    # Taken out before nova parses the rest.
    index = argv.index('--image-catalogue')
    catalogue = images.Catalogue(argv[index + 1])
    del argv[index:index + 2]
    patches = _Patches()
    patches.setUp()
    patches.useFixture(CatalogueGlance(patches, catalogue))
    patches.useFixture(neutron_fixture.NeutronFixture(patches))
    sys.argv = argv
    compute.main()


if __name__ == '__main__':
    main()
