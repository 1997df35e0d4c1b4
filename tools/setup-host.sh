#!/bin/bash
# Prepare this Debian 12 machine for powerkvm-nova's tests and demo: the
# system packages, libvirt's daemons, tox, and the tiny ppc64le test guest.
# Idempotent; needs root (apt-get, libvirtd). Used by tools/dev and .ci/run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
packages=(
    libvirt-daemon-system libvirt-dev qemu-system-ppc qemu-utils bindfs
    rabbitmq-server
    mariadb-server openssh-server openvswitch-switch iputils-ping
    pkg-config gcc cpio xz-utils iproute2 git
    xorriso
    # tools/idle_kernel.py: the assembler for the idle kernel
    binutils-powerpc64-linux-gnu
)
# the cloud's storage (tools/cloud/ceph.py): a one-node Ceph, its Python
# bindings, and QEMU's RBD block driver (librbd, no kernel module); without
# their recommendations, which would add Ceph's dashboard and its kin
storage_packages=(
    ceph-mon ceph-mgr ceph-osd ceph-common python3-rados python3-rbd
    qemu-block-extra
)

if [[ $(id -u) -ne 0 ]]; then
    echo "setup-host: run as root (apt-get, libvirtd): sudo $0" >&2
    exit 1
fi

function missing_of {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
            | grep -q 'ok installed' || echo "$p"
    done
}
missing=($(missing_of "${packages[@]}"))
storage_missing=($(missing_of "${storage_packages[@]}"))
if [[ ${#missing[@]} -gt 0 || ${#storage_missing[@]} -gt 0 ]]; then
    echo "setup-host: installing ${missing[*]} ${storage_missing[*]}..."
    # the ppc64el lists tools/build-test-guest.sh adds may be mid-sync on
    # the mirror; the amd64 ones are what apt-get install needs
    apt-get update -qq || echo "setup-host: apt-get update warned; going on"
fi
if [[ ${#missing[@]} -gt 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
if [[ ${#storage_missing[@]} -gt 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${storage_missing[@]}"
fi

# Debian's packages start these with systemd; without it (containers, CI)
# start them here. The machine's own, found by their default pid files: a
# test bed's hosts run daemons of the same names (tools/testbed.py).
function machine_daemon {
    local pid
    pid=$(cat "/run/$1.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null
}
machine_daemon virtlogd || { echo "setup-host: starting virtlogd"; virtlogd -d; }
virsh -c qemu:///system version >/dev/null 2>&1 || machine_daemon libvirtd \
    || { echo "setup-host: starting libvirtd"; libvirtd -d; }
for _ in $(seq 60); do
    virsh -c qemu:///system version >/dev/null 2>&1 && break
    sleep 0.5
done
virsh -c qemu:///system version >/dev/null \
    || { echo "setup-host: libvirtd does not answer on qemu:///system" >&2; exit 1; }
echo "setup-host: libvirtd up ($(virsh -c qemu:///system version | grep -i 'hypervisor' | xargs))"

# The message bus between nova's control plane and the test bed's
# nova-computes, which run as processes of their own (tests/hypervisor).
if ! rabbitmqctl -q status >/dev/null 2>&1; then
    echo "setup-host: starting rabbitmq-server"
    service rabbitmq-server start >/dev/null
fi
rabbitmqctl -q await_startup --timeout 60 \
    || { echo "setup-host: rabbitmq-server does not start" >&2; exit 1; }
echo "setup-host: rabbitmq-server up"

# tox, tox-uv and uv at the versions constraints/tox.txt pins (pip changes
# nothing when they are there already)
echo "setup-host: tox, tox-uv and uv as constraints/tox.txt pins them"
python3 -m pip install -q --root-user-action=ignore \
    -r "$here/../constraints/tox.txt"

"$here/build-test-guest.sh"
# the big-endian guest: a kernel compiled once per machine (about 5 min on
# 2 cores), then cached by its inputs
"$here/build-be-guest.sh"
