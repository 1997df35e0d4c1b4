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

"""The functional harness's cell lock against the inversion CI hung on.

Three threads in the places CI's stacks showed them (tests/fixtures/
cell_lock.py): one in a target_cell body that goes on to write, one in a
writer transaction that opens a nested one, one switching cells.
"""

import threading
import time

from nova import test
from nova.tests import fixtures as nova_fixtures

from tests.fixtures import cell_lock

# Long enough for any machine to get past a lock nobody keeps; a thread
# still waiting after it waits for good.
PATIENCE = 60
# How long the deadlock is given to show itself: it never ends.
DEADLOCK = 2


def _until(condition):
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError('never came about')
        time.sleep(0.01)


def inversion(lock, rlock_wait):
    """Whether the target_cell body got the database's RLock."""
    db = threading.RLock()
    reading, writing = threading.Event(), threading.Event()
    got_db = []

    def target_cell_body():
        with lock.read_lock():
            reading.set()
            writing.wait(PATIENCE)
            acquired = db.acquire(timeout=rlock_wait)
            got_db.append(acquired)
            if acquired:
                db.release()

    def nested_transaction():
        with db:
            writing.set()
            # the switching thread waits for the write lock
            _until(lambda: bool(lock._pending_writers))
            with lock.read_lock():
                pass

    def switching_cells():
        with lock.write_lock():
            pass

    body = threading.Thread(target=target_cell_body, daemon=True)
    body.start()
    reading.wait(PATIENCE)
    nested = threading.Thread(target=nested_transaction, daemon=True)
    nested.start()
    writing.wait(PATIENCE)
    switch = threading.Thread(target=switching_cells, daemon=True)
    switch.start()
    for thread in (body, nested, switch):
        thread.join(PATIENCE)
        if thread.is_alive():
            raise AssertionError('a thread is still waiting')
    return got_db == [True]


class CellLockTestCase(test.NoDBTestCase):

    def test_nova_lock_inverts(self):
        # the red run: nova's own lock, the thread in the body never gets
        # the RLock while the others wait on it; giving up unties it
        self.assertFalse(inversion(nova_fixtures.ReaderWriterLock(),
                                   DEADLOCK))

    def test_reader_first_lock_does_not(self):
        self.assertTrue(inversion(cell_lock.ReaderFirstLock(), PATIENCE))

    def test_a_writer_still_excludes_readers(self):
        lock = cell_lock.ReaderFirstLock()
        inside, order = threading.Event(), []

        def write():
            with lock.write_lock():
                inside.set()
                time.sleep(0.05)
                order.append('writer')

        writer = threading.Thread(target=write)
        writer.start()
        inside.wait(PATIENCE)
        with lock.read_lock():
            order.append('reader')
        writer.join(PATIENCE)
        self.assertEqual(['writer', 'reader'], order)

    def test_the_harness_uses_it(self):
        self.useFixture(cell_lock.CellLock())
        self.assertIsInstance(nova_fixtures.CellDatabases()._cell_lock,
                              cell_lock.ReaderFirstLock)
