# nova's tests need its concurrency mode chosen before anything else is
# imported: eventlet by default, native threads when
# OS_NOVA_DISABLE_EVENTLET_PATCHING=1.
from nova import monkey_patch

monkey_patch.patch()

# The [powerkvm] options exist before the driver is first loaded, so a test
# can set them for the computes it starts.
import nova.conf  # noqa: E402

from powerkvm_nova import conf as powerkvm_conf  # noqa: E402

powerkvm_conf.register_opts(nova.conf.CONF)

# Every test fails on its own timeout with every thread's and greenthread's
# stack, instead of hanging (tests/fixtures/timeouts.py).
from tests.fixtures import timeouts  # noqa: E402

timeouts.install()
