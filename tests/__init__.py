# nova's tests need its concurrency mode chosen before anything else is
# imported: eventlet by default, native threads when
# OS_NOVA_DISABLE_EVENTLET_PATCHING=1.
from nova import monkey_patch

monkey_patch.patch()
