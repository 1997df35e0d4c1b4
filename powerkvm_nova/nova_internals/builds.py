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

"""What nova's compute knows of a build and its driver is not told.

nova's conductor sends a build to a host with the alternate hosts left for
it (ComputeManager._do_build_and_run_instance's host_list). A reschedule
from the last of them ends in the conductor's bare "Exhausted all hosts
available for retrying build failures", which says nothing of why
(conductor/manager.py, build_instances). A host that knows it is the last
can end the build itself, with its reason as the server's fault: as nova
does for a policy's reschedule when retries are off (no 'retry' in the
build's filter_properties: the reason becomes the fault, the server goes
to ERROR, and it is no failed build of the host).

The compute runs each build, its driver's spawn included, in one thread
(green or native), where this module keeps the build's arguments.
"""

import functools
import inspect
import threading

from nova.compute import build_results

_build = threading.local()


def watch(manager):
    """Keep each build's alternates and retry state, for this thread.

    :param manager: nova's ComputeManager (the driver's virtapi._compute)
    """
    run = manager._do_build_and_run_instance
    signature = inspect.signature(run)

    @functools.wraps(run)
    def keeping_the_build(*args, **kwargs):
        call = signature.bind(*args, **kwargs)
        _build.call = call.arguments
        _build.ended_here = False
        try:
            result = run(*args, **kwargs)
        finally:
            ended_here, _build.ended_here = _build.ended_here, False
            _build.call = None
        # a policy's reschedule with retries off
        if ended_here and result == build_results.FAILED_BY_POLICY:
            # nova keeps the placement allocation of a build that ends
            # this way (ComputeManager.build_and_run_instance deletes it
            # only for a failed build); the server is on no host
            manager.reportclient.delete_allocation_for_instance(
                call.arguments['context'], call.arguments['instance'].uuid,
                force=True)
        return result

    manager._do_build_and_run_instance = keeping_the_build


def last_host():
    """Whether nova has no other host for the build running here.

    None outside a build nova's compute runs (watch()).
    """
    call = getattr(_build, 'call', None)
    if call is None:
        return None
    return not call.get('host_list')


def end_here():
    """Make nova end the build here on a policy's reschedule.

    Returns False outside a build nova's compute runs: the caller ends it
    some other way.
    """
    call = getattr(_build, 'call', None)
    if call is None:
        return False
    (call.get('filter_properties') or {}).pop('retry', None)
    _build.ended_here = True
    return True
