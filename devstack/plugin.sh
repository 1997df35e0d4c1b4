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

# The POWER CPU mode: which probe describes the host (doc/cpu.md).
function configure_powerkvm_cpu {
    local conf=${NOVA_CPU_CONF:-$NOVA_CONF}
    iniset "$conf" powerkvm host_probe "$POWERKVM_HOST_PROBE"
    if [[ "$POWERKVM_HOST_PROBE" == "static" ]]; then
        iniset "$conf" powerkvm static_generation "$POWERKVM_STATIC_GENERATION"
        iniset "$conf" powerkvm static_cores "$POWERKVM_STATIC_CORES"
        iniset "$conf" powerkvm static_threads_per_core \
            "$POWERKVM_STATIC_THREADS_PER_CORE"
        iniset "$conf" powerkvm static_subcores_per_core \
            "$POWERKVM_STATIC_SUBCORES_PER_CORE"
    fi
}

# The scheduler side (doc/endianness.md, doc/cpu.md): the filters, last,
# and the weigher that packs guests by endianness.
function configure_powerkvm_scheduler {
    local filters filter
    filters=$(iniget "$NOVA_CONF" filter_scheduler enabled_filters)
    filters=${filters:-ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter,ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter}
    iniset "$NOVA_CONF" filter_scheduler available_filters \
        nova.scheduler.filters.all_filters
    for filter in PowerKVMCpuFilter PowerKVMEndiannessFilter; do
        if [[ ",$filters," != *",$filter,"* ]]; then
            filters="$filters,$filter"
        fi
        iniadd "$NOVA_CONF" filter_scheduler available_filters \
            "powerkvm_nova.scheduler.filters.$filter"
    done
    iniset "$NOVA_CONF" filter_scheduler enabled_filters "$filters"
    iniset "$NOVA_CONF" filter_scheduler weight_classes \
        nova.scheduler.weights.all_weighers
    iniadd "$NOVA_CONF" filter_scheduler weight_classes \
        powerkvm_nova.scheduler.weighers.PowerKVMEndiannessWeigher
    iniset "$NOVA_CONF" powerkvm endianness_weight_multiplier \
        "${POWERKVM_ENDIANNESS_WEIGHT:-10.0}"
}

# Example flavors: micro-threading (split-core hosts) and whole-core.
function create_powerkvm_flavors {
    local name vcpus ram spec
    while read -r name vcpus ram spec; do
        if ! openstack flavor show "$name" >/dev/null 2>&1; then
            openstack flavor create "$name" --vcpus "$vcpus" --ram "$ram" \
                --disk 10 --property "$spec"
        fi
    done <<EOF
pkvm.mt.small 2 2048 powerkvm:micro_threading=required
pkvm.mt.medium 4 4096 powerkvm:micro_threading=required
pkvm.whole.large 8 8192 powerkvm:micro_threading=forbidden
EOF
}

# Images devstack uploaded for POWER: say their endianness, from the name
# (cirros-*-ppc64le, *-ppc64el*, *-ppc64*), so that the scheduler knows it.
function label_powerkvm_images {
    local id name arch
    while read -r id name; do
        case "$name" in
            *ppc64le*|*ppc64el*) arch=ppc64le ;;
            *ppc64*) arch=ppc64 ;;
            *) continue ;;
        esac
        openstack image set --property hw_architecture="$arch" "$id"
    done < <(openstack image list -f value -c ID -c Name)
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
    configure_powerkvm_cpu
    configure_powerkvm_scheduler
elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
    echo_summary "Creating PowerKVM example flavors, labelling POWER images"
    create_powerkvm_flavors
    label_powerkvm_images
fi

# unstack: the plugin runs no service of its own; nova's are devstack's.

if [[ "$1" == "clean" ]]; then
    cleanup_powerkvm_nova
fi
