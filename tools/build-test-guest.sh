#!/bin/bash
# Build a tiny little-endian Linux test guest for QEMU/KVM pseries from
# Debian 12 ppc64el packages: OUTDIR/{vmlinux,initramfs.cpio.gz,disk.raw}.
#
# Usage: tools/build-test-guest.sh [OUTDIR]
# Needs: apt-get, dpkg-deb, cpio, gzip, xz (root or sudo for the apt setup).
#
# Boot: qemu-system-ppc64 -M pseries -m 512 -nographic -kernel vmlinux
#   -initrd initramfs.cpio.gz -append console=hvc0
#   -drive file=disk.raw,format=raw,if=virtio
# Console lines: POWERKVM-GUEST-BOOTED, POWERKVM-DISK-WRITE-OK|FAILED,
#   POWERKVM-GUEST-READY, then POWERKVM-TICK <n> every 5 seconds.

set -euo pipefail

OUTDIR=${1:-${POWERKVM_GUEST_DIR:-$HOME/.cache/powerkvm-nova/guest}}
ARCH=ppc64el
# Kernel config symbol:module pairs the guest needs to see a virtio disk.
NEEDED="VIRTIO_PCI:virtio_pci VIRTIO_BLK:virtio_blk"

die() {
    echo "build-test-guest: $*" >&2
    exit 1
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Fast path: outputs exist and the checksummed ones are intact.
# disk.raw is excluded from the sums because the guest writes to it.
if [ -f "$OUTDIR/SHA256SUMS" ] && [ -f "$OUTDIR/disk.raw" ] &&
        (cd "$OUTDIR" && sha256sum --quiet -c SHA256SUMS) >/dev/null 2>&1; then
    echo "test guest already built in $OUTDIR"
    exit 0
fi

for tool in apt-get apt-cache dpkg-deb cpio gzip xz sha256sum; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done

echo "preparing apt for $ARCH..."
if ! dpkg --print-foreign-architectures | grep -qx "$ARCH"; then
    as_root dpkg --add-architecture "$ARCH"
fi
if ! compgen -G "/var/lib/apt/lists/*_binary-${ARCH}_Packages*" >/dev/null; then
    # A partially failing update (e.g. a mirror mid-sync) is fine as long
    # as the main archive's lists arrived; the apt-cache check below says.
    as_root apt-get -q update || echo "warning: apt-get update had errors"
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
    dpkg-deb -f "$deb" Package Version | paste -sd' ' >>versions
done
kver=${kpkg#linux-image-}
kmods=pkg/lib/modules/$kver
[ -f "pkg/boot/vmlinux-$kver" ] || die "no /boot/vmlinux-$kver in $kpkg"

echo "selecting kernel modules..."
mkdir -p root/bin root/dev root/etc root/lib/modules
: >root/etc/modules
mods=" "

# Copy module $1 (uncompressed: busybox insmod cannot read .xz/.zst),
# after its dependencies, so root/etc/modules is in insmod order.
add_module() {
    local name=$1 ko dep
    case $mods in *" $name "*) return ;; esac
    ko=$(find "$kmods" \( -name "$name.ko*" -o -name "${name//_/-}.ko*" \) \
        -print -quit)
    [ -n "$ko" ] || die "module $name not found in $kpkg"
    case $ko in
        *.xz) xz -dc "$ko" >"root/lib/modules/$name.ko" ;;
        *.zst) zstd -dqc "$ko" >"root/lib/modules/$name.ko" ;;
        *) cp "$ko" "root/lib/modules/$name.ko" ;;
    esac
    # Dependencies live in the .modinfo section; no host kmod needed.
    for dep in $(tr '\0' '\n' <"root/lib/modules/$name.ko" |
            sed -n 's/^depends=//p' | tr ',' ' '); do
        add_module "$dep"
    done
    mods="$mods$name "
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
if [ "$(id -u)" -eq 0 ]; then mknod -m 600 root/dev/console c 5 1; fi
cat >root/init <<'EOF'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /sbin /usr/bin /usr/sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# hvc0 is the console on pseries; /dev/console follows console=.
exec </dev/console >/dev/console 2>&1
for m in $(cat /etc/modules); do
    insmod "/lib/modules/$m.ko" || echo "insmod $m failed"
done
echo "POWERKVM-GUEST-BOOTED arch=$(uname -m)"

fail() { echo "POWERKVM-DISK-WRITE-FAILED $*"; }
rd() { dd if="$disk" bs=512 count=1 2>/dev/null | tr -d '\000' | head -n 1; }
disk=
i=0
while [ -z "$disk" ] && [ "$i" -lt 20 ]; do
    for d in /dev/vd[a-z]; do [ -b "$d" ] && disk=$d && break; done
    [ -n "$disk" ] || sleep 1
    i=$((i + 1))
done
if [ -z "$disk" ]; then
    fail "no virtio disk (/dev/vd*) after 20s"
else
    # Boot count survives reboots on the disk itself, so reboot shows 2.
    prev=$(rd | sed -n 's/^POWERKVM-DISK-MARK count=\([0-9]*\)$/\1/p')
    mark="POWERKVM-DISK-MARK count=$((${prev:-0} + 1))"
    if ! echo "$mark" | dd of="$disk" bs=512 count=1 conv=sync,fsync \
            2>/dev/null; then
        fail "dd to $disk failed"
    else
        # Drop the page cache so the read-back comes from the device.
        sync
        echo 3 >/proc/sys/vm/drop_caches
        got=$(rd)
        if [ "$got" = "$mark" ]; then
            echo "POWERKVM-DISK-WRITE-OK $got"
        else
            fail "read back '$got' from $disk"
        fi
    fi
fi
echo "POWERKVM-GUEST-READY"
n=0
while :; do
    n=$((n + 1))
    echo "POWERKVM-TICK $n"
    sleep 5
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
rm -f "$OUTDIR/disk.raw"
truncate -s 16M "$OUTDIR/disk.raw"
cp versions "$OUTDIR/PACKAGES"
# Written last: it doubles as the "build complete" stamp.
(cd "$OUTDIR" && sha256sum vmlinux initramfs.cpio.gz PACKAGES >SHA256SUMS)
echo "done in ${SECONDS}s: $(paste -sd, versions)"
ls -l "$OUTDIR"
