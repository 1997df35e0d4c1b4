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

"""One scheduler worker: nova's SchedulerManager as an RPC server.

What nova-scheduler runs in each of its [scheduler] workers
(nova/cmd/scheduler.py, nova/service.py Service.start): the manager, with
its HostManager and FilterScheduler logic, serving nova's scheduler topic
on the shared bus with nova's object serializer, and placement reached
in-process over the shared placement database (settings.SharedPlacement).

It tells the driver it is ready with a line on stdout once it serves,
and ends when its stdin closes: a driver that dies takes its workers
with it.

Usage: python worker.py SETTINGS_JSON
"""

import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import tests  # noqa: E402,F401  (nova's concurrency mode, first)

import fixtures  # noqa: E402
from nova.image import glance  # noqa: E402
from nova import objects  # noqa: E402
from nova.objects import base as objects_base  # noqa: E402
from nova import rpc  # noqa: E402
from nova.scheduler import manager  # noqa: E402
from nova.scheduler import rpcapi as scheduler_rpcapi  # noqa: E402
from oslo_log import log as logging  # noqa: E402
import oslo_messaging as messaging  # noqa: E402

from scale import settings as scale_settings  # noqa: E402

IMAGES = {}


class _AtOnce:
    """nova's thread_pool_factory, running what it is given before returning.

    HostManager reads its first view of the hosts' instances in the
    background (host_manager.py _init_instance_info), replacing its table
    when that starts; done at once, the view is complete before the worker
    serves, and no later replacement drops what the computes sent.
    """

    @staticmethod
    def spawn(fn, *args, **kwargs):
        return fn(*args, **kwargs)


def _image(self, context, image_id, *args, **kwargs):
    """The image service's answer for the benchmark's two images.

    The scheduler asks the image service (glance) for a request's image
    properties (powerkvm_nova/endianness/evidence.py
    image_service_properties); the simulation has no glance.
    """
    return IMAGES[image_id]


def main():
    settings = json.loads(sys.argv[1])
    scale_settings.configure(settings)
    # nova's services log to stderr here (the worker's log file): stdout
    # tells the driver the worker is ready
    scale_settings.CONF.set_override('use_stderr', True)
    logging.setup(scale_settings.CONF, 'nova')
    objects.register_all()
    placement = scale_settings.SharedPlacement(settings['placement_db'])
    placement.setUp()
    IMAGES.update(settings['images'])
    glance.API.get = _image
    with fixtures.MonkeyPatch(
            'nova.scheduler.host_manager.thread_pool_factory', _AtOnce):
        scheduler = manager.SchedulerManager()
    # nova/service.py Service.start: the manager (and its additional
    # endpoints) behind nova's object serializer on topic + server, which
    # oslo.messaging also subscribes to the topic's fanout.
    target = messaging.Target(topic=scheduler_rpcapi.RPC_TOPIC,
                              server=settings['name'])
    endpoints = [scheduler] + list(scheduler.additional_endpoints)
    server = rpc.get_server(target, endpoints,
                            objects_base.NovaObjectSerializer())
    server.start()
    print('READY', flush=True)
    done = threading.Event()

    def watch_stdin():
        sys.stdin.read()
        done.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    done.wait(settings.get('lifetime', 24 * 3600))
    server.stop()
    server.wait()
    os._exit(0)


if __name__ == '__main__':
    main()
