#!/bin/bash
# Build a tiny little-endian Linux test guest for QEMU pseries from Debian 12
# ppc64el packages: OUTDIR/{vmlinux,initramfs.cpio.gz,disk.raw}.
# Usage: tools/build-test-guest.sh [OUTDIR]   (root or sudo for apt setup)
# Boot: qemu-system-ppc64 -M pseries -m 512 -nographic -kernel vmlinux
#   -initrd initramfs.cpio.gz -append console=hvc0
#   -drive file=disk.raw,format=raw,if=virtio
# Console: POWERKVM-GUEST-BOOTED, POWERKVM-DISK-WRITE-OK|FAILED, then
#   POWERKVM-GUEST-READY and POWERKVM-TICK <n> every 5 seconds; a line
#   "ping <word>" written to it is answered "POWERKVM-PONG <word> <uptime>".
#   A shutdown request (QEMU's system_powerdown) powers it off.

set -euo pipefail

OUTDIR=${1:-${POWERKVM_GUEST_DIR:-$HOME/.cache/powerkvm-nova/guest}}
ARCH=ppc64el
# Kernel config symbol:module pairs the guest needs to see a virtio disk.
# virtio_net and IPv6: a guest with a NIC brings it up, and answers on its
# link-local address (tools/cloud's data plane test)
NEEDED="VIRTIO_PCI:virtio_pci VIRTIO_BLK:virtio_blk VIRTIO_NET:virtio_net IPV6:ipv6"

die() {
    echo "build-test-guest: $*" >&2
    exit 1
}

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)

# What the guest does; a guest built by an older version is built again.
# 2: answers console pings.
# 3: brings up its NIC, if it has one.
# 4: powers off when its host asks (a clean shutdown).
GUEST_VERSION=4

# Fast path: outputs exist, of this version, and the checksummed ones are
# intact. disk.raw is not summed because the guest writes to it.
sums_ok() {
    [ "$(cat "$OUTDIR/VERSION" 2>/dev/null)" = "$GUEST_VERSION" ] &&
        (cd "$OUTDIR" && sha256sum --quiet -c SHA256SUMS) >/dev/null 2>&1
}
if [ -f "$OUTDIR/disk.raw" ] && sums_ok; then
    echo "test guest already built in $OUTDIR"
    exit 0
fi

for tool in apt-get apt-cache dpkg-deb cpio gzip xz sha256sum; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done

echo "preparing apt for $ARCH..."
if ! dpkg --print-foreign-architectures | grep -qx "$ARCH"; then
    "${sudo[@]}" dpkg --add-architecture "$ARCH"
fi
lists=(/var/lib/apt/lists/*binary-"${ARCH}"_Packages*)
if [ ! -e "${lists[0]}" ]; then
    # A partly failing update (e.g. a mirror mid-sync) is fine as long as
    # the main archive's lists arrived; the apt-cache check below says.
    "${sudo[@]}" apt-get -q update || echo "warning: apt-get update had errors"
fi

# The metapackage pins the concrete ABI-versioned kernel package.
kpkg=$(apt-cache depends "linux-image-powerpc64le:$ARCH" |
    sed -n 's/^ *Depends: \(linux-image-[^:]*-powerpc64le\).*/\1/p' |
    head -n 1)
[ -n "$kpkg" ] || die "cannot resolve linux-image-powerpc64le:$ARCH"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

echo "fetching kernel $kpkg and busybox-static..."
# Download as the current user: apt's _apt sandbox cannot write to $tmp.
apt-get -q -o APT::Sandbox::User="$(id -un)" download \
    "$kpkg:$ARCH" "busybox-static:$ARCH" >/dev/null
debs=(./*.deb)
[ "${#debs[@]}" -eq 2 ] || die "expected 2 packages, got: ${debs[*]}"

echo "extracting packages..."
mkdir pkg root
for deb in "${debs[@]}"; do
    dpkg-deb -x "$deb" pkg
    echo "$(dpkg-deb -f "$deb" Package):$ARCH $(dpkg-deb -f "$deb" Version)" \
        >>versions
done
kver=${kpkg#linux-image-}
kmods=pkg/lib/modules/$kver
[ -f "pkg/boot/vmlinux-$kver" ] || die "no /boot/vmlinux-$kver in $kpkg"

echo "selecting kernel modules..."
mkdir -p root/{bin,dev,etc,proc,sys,sbin,usr/bin,usr/sbin,lib/modules}

# Copy module $1 after its dependencies, so root/etc/modules lists them
# in insmod order.
add_module() {
    local name=$1 ko dep deps
    grep -qsx "$name" root/etc/modules && return
    ko=$(find "$kmods" \( -name "$name.ko*" -o -name "${name//_/-}.ko*" \) \
        -print -quit)
    [ -n "$ko" ] || die "module $name not found in $kpkg"
    # busybox insmod cannot read .ko.xz; xz -dcf copies plain .ko as is.
    xz -dcf "$ko" >"root/lib/modules/$name.ko"
    # Dependencies live in the .modinfo section; no host kmod needed.
    deps=$(tr '\0' '\n' <"root/lib/modules/$name.ko" |
        sed -n 's/^depends=//p' | tr ',' ' ')
    for dep in $deps; do
        add_module "$dep"
    done
    echo "$name" >>root/etc/modules
}

for pair in $NEEDED; do
    sym=${pair%%:*}
    if grep -qx "CONFIG_$sym=y" "pkg/boot/config-$kver"; then
        echo "  CONFIG_$sym is built in"
    elif grep -qx "CONFIG_$sym=m" "pkg/boot/config-$kver"; then
        add_module "${pair#*:}"
    else
        die "CONFIG_$sym is not enabled in $kpkg"
    fi
done
echo "  modules (load order): $(paste -sd' ' root/etc/modules)"

echo "writing initramfs..."
cp pkg/bin/busybox root/bin/busybox
# The kernel opens /dev/console for init before devtmpfs is mounted.
# (Without root, /init's exec to the devtmpfs console still covers it.)
[ "$(id -u)" -ne 0 ] || mknod -m 600 root/dev/console c 5 1
cat >root/init <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# hvc0 is the console on pseries; /dev/console follows console=.
exec </dev/console >/dev/console 2>&1
# A clean shutdown, as nova asks before a stop, rebuild, shelve or move:
# QEMU turns libvirt's shutdown request into an EPOW event on pseries, and
# the kernel answers it with orderly_poweroff() (arch/powerpc/platforms/
# pseries/ras.c, "Power off requested"), which runs poweroff_cmd
# (kernel/reboot.c). busybox's poweroff would only signal init, which this
# shell is and which ignores it: -f powers off itself.
echo '/bin/busybox poweroff -f' >/proc/sys/kernel/poweroff_cmd
while read -r m; do
    insmod "/lib/modules/$m.ko" || echo "insmod $m failed"
done </etc/modules
echo "POWERKVM-GUEST-BOOTED arch=$(uname -m)"
# A NIC up gets its IPv6 link-local address (from its MAC), which answers
# pings from the guest's network without DHCP or an agent in the guest.
for nic in /sys/class/net/eth*; do
    [ -e "$nic" ] || continue
    ip link set "${nic##*/}" up &&
        echo "POWERKVM-NIC-UP ${nic##*/} $(cat "$nic/address")"
done

fail() { echo "POWERKVM-DISK-WRITE-FAILED $*"; }
rd() { dd if="$disk" bs=512 count=1 2>/dev/null | tr -d '\000' | head -n 1; }
disk_test() {
    # Modules probe asynchronously; give the disk up to 20s to show up.
    for _ in $(seq 20); do
        set -- /dev/vd[a-z]
        [ -b "$1" ] && disk=$1 && break
        sleep 1
    done
    [ -n "$disk" ] || { fail "no virtio disk (/dev/vd*) after 20s"; return; }
    # The boot count lives on the disk itself, so a reboot shows 2.
    prev=$(rd | sed -n 's/^POWERKVM-DISK-MARK count=\([0-9]*\)$/\1/p')
    mark="POWERKVM-DISK-MARK count=$((${prev:-0} + 1))"
    echo "$mark" | dd of="$disk" bs=512 count=1 conv=sync,fsync 2>/dev/null ||
        { fail "dd to $disk failed"; return; }
    # Drop cached blocks so the read-back comes from the device.
    sync
    blockdev --flushbufs "$disk"
    got=$(rd)
    if [ "$got" = "$mark" ]; then
        echo "POWERKVM-DISK-WRITE-OK $got"
    else
        fail "read back '$got' from $disk"
    fi
}
disk_test
echo "POWERKVM-GUEST-READY"
# The guest's clock at work: a tick every 5 s, from its timer.
ticks() {
    n=0
    while :; do
        n=$((n + 1))
        echo "POWERKVM-TICK $n"
        sleep 5
    done
}
ticks &
# Liveness without the guest's timer: each "ping <word>" line written to
# the console is answered at once, woken by the console's interrupt. A TCG
# guest migrated by QEMU < 8.1 loses its decrementer and its ticks stall,
# but it answers; the answer carries its uptime (the timebase, which the
# migration keeps).
while :; do
    if read -r what word; then
        [ "$what" = ping ] &&
            echo "POWERKVM-PONG $word $(cut -d' ' -f1 /proc/uptime)"
    else
        sleep 1
    fi
done
EOF
chmod 755 root/init
(cd root && find . | LC_ALL=C sort |
    cpio -o -H newc --owner 0:0 --quiet) | gzip -9n >initramfs.cpio.gz

echo "writing outputs to $OUTDIR..."
mkdir -p "$OUTDIR"
rm -f "$OUTDIR/SHA256SUMS"
cp "pkg/boot/vmlinux-$kver" "$OUTDIR/vmlinux"
cp initramfs.cpio.gz "$OUTDIR/initramfs.cpio.gz"
# Fresh zeroed root disk, so the first boot counts 1.
dd if=/dev/zero of="$OUTDIR/disk.raw" bs=1M count=16 status=none
cp versions "$OUTDIR/PACKAGES"
echo "$GUEST_VERSION" >"$OUTDIR/VERSION"
# Written last: it doubles as the "build complete" stamp.
(cd "$OUTDIR" && sha256sum vmlinux initramfs.cpio.gz PACKAGES VERSION \
    >SHA256SUMS)
echo "done in ${SECONDS}s using: $(paste -sd, versions)"
