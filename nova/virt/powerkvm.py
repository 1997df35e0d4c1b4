# nova loads compute drivers only from nova.virt; this resolves
# compute_driver = powerkvm.<Name> through the powerkvm_nova.compute_drivers
# entry points. Installed by powerkvm-nova (see
# powerkvm_nova/nova_internals/loader.py).
from powerkvm_nova.nova_internals.loader import __getattr__  # noqa: F401
