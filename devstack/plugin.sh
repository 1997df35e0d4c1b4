#!/bin/bash
# devstack plugin for powerkvm-nova:
#   enable_plugin powerkvm-nova <repo url> [branch]
# Installs the driver beside nova and points nova-compute at it.

function install_powerkvm_nova {
    setup_develop "$POWERKVM_NOVA_DIR"
    # devstack installs nova editable: its nova.virt is the source tree,
    # where nova's loader looks for compute drivers.
    "$(get_python_exec_prefix)/powerkvm-nova-shim" install
    "$(get_python_exec_prefix)/powerkvm-nova-shim" check
}

function configure_powerkvm_nova {
    local conf=${NOVA_CPU_CONF:-$NOVA_CONF}
    iniset "$conf" DEFAULT compute_driver powerkvm.PowerKVMDriver
    iniset "$conf" powerkvm host_mode "$POWERKVM_HOST_MODE"
    if [[ "$POWERKVM_HOST_MODE" == "emulated" ]] || \
       [[ "$POWERKVM_HOST_MODE" == "auto" && ! "$(uname -m)" =~ ^ppc64 ]]; then
        iniset "$conf" libvirt virt_type qemu
    fi
}

function cleanup_powerkvm_nova {
    "$(get_python_exec_prefix)/powerkvm-nova-shim" remove || true
}

if [[ "$1" == "stack" && "$2" == "install" ]]; then
    echo_summary "Installing powerkvm-nova"
    install_powerkvm_nova
elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
    echo_summary "Configuring nova-compute for PowerKVM"
    configure_powerkvm_nova
fi

if [[ "$1" == "clean" ]]; then
    cleanup_powerkvm_nova
fi
