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

# The scheduler side of the endianness rule (doc/endianness.md): the filter,
# last, and the weigher that packs guests by endianness.
function configure_powerkvm_scheduler {
    local filters
    filters=$(iniget "$NOVA_CONF" filter_scheduler enabled_filters)
    filters=${filters:-ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter,ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter}
    if [[ ",$filters," != *",PowerKVMEndiannessFilter,"* ]]; then
        filters="$filters,PowerKVMEndiannessFilter"
    fi
    iniset "$NOVA_CONF" filter_scheduler available_filters \
        nova.scheduler.filters.all_filters
    iniadd "$NOVA_CONF" filter_scheduler available_filters \
        powerkvm_nova.scheduler.filters.PowerKVMEndiannessFilter
    iniset "$NOVA_CONF" filter_scheduler enabled_filters "$filters"
    iniset "$NOVA_CONF" filter_scheduler weight_classes \
        nova.scheduler.weights.all_weighers
    iniadd "$NOVA_CONF" filter_scheduler weight_classes \
        powerkvm_nova.scheduler.weighers.PowerKVMEndiannessWeigher
    iniset "$NOVA_CONF" powerkvm endianness_weight_multiplier \
        "${POWERKVM_ENDIANNESS_WEIGHT:-10.0}"
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
    configure_powerkvm_scheduler
fi

if [[ "$1" == "clean" ]]; then
    cleanup_powerkvm_nova
fi
