#!/bin/bash
# Build a tiny big-endian ppc64 Linux test guest for QEMU pseries from
# Debian 12 packages: OUTDIR/{vmlinux,initramfs.cpio.gz,disk.raw}.
# Usage: tools/build-be-guest.sh [OUTDIR]   (root or sudo for apt setup)
#   OUTDIR defaults to ${POWERKVM_BE_GUEST_DIR:-~/.cache/powerkvm-nova/be-guest}
#   POWERKVM_BE_GUEST_JOBS sets make -j (default 2); compiles run nice -n 19.
# Boot: qemu-system-ppc64 -M pseries -m 512 -nographic -kernel vmlinux
#   -initrd initramfs.cpio.gz -append console=hvc0
#   -drive file=disk.raw,format=raw,if=virtio
# Console: as the little-endian guest (tools/build-test-guest.sh):
#   POWERKVM-GUEST-BOOTED, POWERKVM-DISK-WRITE-OK|FAILED, POWERKVM-NIC-UP
#   for a NIC, POWERKVM-GUEST-READY and POWERKVM-TICK <n> every 5 seconds;
#   "ping <word>" is answered "POWERKVM-PONG <word> <uptime>"; a shutdown
#   request (QEMU's system_powerdown) powers it off. In addition it prints
#   POWERKVM-GUEST-UNAME ppc64 and POWERKVM-GUEST-BYTEORDER big-endian,
#   decided inside the guest at run time (tools/be_guest/init.c).
# Proof: tools/be_guest/smoke.sh [OUTDIR] boots it and checks all that.
#
# Facts relied on (Debian 12 "bookworm", checked with apt-cache policy, in
# the packages and in the 6.1 source when this was written):
# - Debian 12 has no big-endian ppc64 port in its main archive (ppc64 is a
#   debian-ports architecture), so there is no big-endian kernel or busybox
#   package to take: the kernel is cross-built here, and /init is a small
#   static C program (tools/be_guest/init.c).
# - gcc-powerpc64-linux-gnu (4:12.2.0-5, gcc 12) and libc6-dev-ppc64-cross
#   (2.36-8cross1) are in main: a big-endian ELFv1 cross compiler and glibc
#   with static libraries (libc.a).
# - linux-source-6.1 (6.1.192-3 when written) ships /usr/src/linux-source-6.1.tar.xz,
#   top directory linux-source-6.1/.
# - linux 6.1: allnoconfig + tools/be_guest/kernel.config gives a pseries
#   big-endian kernel (PPC_PSERIES selects PPC_RTAS, FORCE_SMP, XICS/XIVE);
#   arch/powerpc/platforms/pseries/ras.c is obj-y and turns an EPOW
#   "normal shutdown" event (QEMU system_powerdown) into orderly_poweroff(),
#   which runs poweroff_cmd = "/sbin/poweroff" (kernel/reboot.c). The
#   initramfs's /sbin/poweroff is init itself, which then powers off.
# - usr/gen_init_cpio.c (in the kernel source) writes the initramfs with a
#   /dev/console node and fixed timestamps, without root.

set -euo pipefail

OUTDIR=${1:-${POWERKVM_BE_GUEST_DIR:-$HOME/.cache/powerkvm-nova/be-guest}}
JOBS=${POWERKVM_BE_GUEST_JOBS:-2}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$HERE/be_guest
KSRC_PKG=linux-source-6.1
KSRC_TAR=/usr/src/$KSRC_PKG.tar.xz
CROSS=powerpc64-linux-gnu-
PACKAGES="gcc-powerpc64-linux-gnu libc6-dev-ppc64-cross $KSRC_PKG
    gcc libc6-dev make flex bison bc xz-utils gzip binutils"

# What the guest does and how it is built; a guest built by an older
# version is built again.
# 1: the LE guest's protocol (v4) + UNAME and BYTEORDER lines.
GUEST_VERSION=1

die() {
    echo "build-be-guest: $*" >&2
    exit 1
}
step() {
    echo "[$(printf '%4d' "$SECONDS")s] $*"
}

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)

pkg_version() {
    dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true
}
missing_packages() {
    local p
    for p in $PACKAGES; do
        [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = \
            "install ok installed" ] || echo "$p"
    done
}

# The inputs the outputs are built from, one per line; the kernel is
# rebuilt only when its lines change, the guest when any line changes.
kernel_inputs() {
    echo "script $GUEST_VERSION"
    echo "$KSRC_PKG $(pkg_version "$KSRC_PKG")"
    echo "gcc-powerpc64-linux-gnu $(pkg_version gcc-powerpc64-linux-gnu)"
    echo "kernel.config $(sha256sum <"$SRC/kernel.config" | cut -d' ' -f1)"
}
guest_inputs() {
    kernel_inputs
    echo "libc6-dev-ppc64-cross $(pkg_version libc6-dev-ppc64-cross)"
    echo "init.c $(sha256sum <"$SRC/init.c" | cut -d' ' -f1)"
}

[ -f "$SRC/kernel.config" ] && [ -f "$SRC/init.c" ] ||
    die "missing $SRC/kernel.config or $SRC/init.c"

# Fast path: outputs exist, built from these inputs, and the checksummed
# ones are intact. disk.raw is not summed because the guest writes to it.
sums_ok() {
    [ "$(cat "$OUTDIR/VERSION" 2>/dev/null)" = "$GUEST_VERSION" ] &&
        [ "$(cat "$OUTDIR/INPUTS" 2>/dev/null)" = "$(guest_inputs)" ] &&
        (cd "$OUTDIR" && sha256sum --quiet -c SHA256SUMS) >/dev/null 2>&1
}
step "checking $OUTDIR"
if [ -f "$OUTDIR/disk.raw" ] && [ -z "$(missing_packages)" ] && sums_ok; then
    step "big-endian test guest already built in $OUTDIR (cached)"
    echo "done in ${SECONDS}s (cached)"
    exit 0
fi

missing=$(missing_packages | paste -sd' ')
if [ -n "$missing" ]; then
    step "installing $missing..."
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get -q -y install $missing >/dev/null; then
        "${sudo[@]}" apt-get -q update || echo "warning: apt-get update had errors"
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get -q -y install $missing >/dev/null ||
            die "cannot install: $missing"
    fi
fi
[ -f "$KSRC_TAR" ] || die "no $KSRC_TAR (package $KSRC_PKG)"
for tool in ${CROSS}gcc ${CROSS}readelf gcc make flex bison bc xz gzip \
    sha256sum; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$OUTDIR"

# The kernel: reused when built from the same kernel inputs and intact.
kernel_cached() {
    [ "$(cat "$OUTDIR/KERNEL-INPUTS" 2>/dev/null)" = "$(kernel_inputs)" ] &&
        [ -f "$OUTDIR/vmlinux" ] && [ -f "$OUTDIR/config" ] &&
        [ -f "$OUTDIR/KERNEL-SHA256" ] &&
        [ "$(sha256sum <"$OUTDIR/vmlinux" | cut -d' ' -f1)" = \
            "$(cat "$OUTDIR/KERNEL-SHA256")" ]
}
ksrc=$tmp/$KSRC_PKG
if kernel_cached; then
    step "kernel: reusing $OUTDIR/vmlinux (same source, config, compiler)"
    step "extracting usr/gen_init_cpio.c from $KSRC_TAR..."
    tar -C "$tmp" -xJf "$KSRC_TAR" "$KSRC_PKG/usr/gen_init_cpio.c"
else
    rm -f "$OUTDIR/SHA256SUMS" "$OUTDIR/KERNEL-INPUTS"
    step "extracting $KSRC_TAR ($KSRC_PKG $(pkg_version "$KSRC_PKG"))..."
    nice -n 19 tar -C "$tmp" -xJf "$KSRC_TAR"
    # Fixed build stamps (uname -v, /proc/version: the source tarball's
    # date): same inputs, same kernel.
    kmake=(nice -n 19 make -C "$ksrc" -s ARCH=powerpc CROSS_COMPILE="$CROSS"
        KBUILD_BUILD_USER=powerkvm KBUILD_BUILD_HOST=build-be-guest
        KBUILD_BUILD_TIMESTAMP="$(date -u -d "@$(stat -c %Y "$KSRC_TAR")")")
    step "configuring: allnoconfig + tools/be_guest/kernel.config..."
    "${kmake[@]}" KCONFIG_ALLCONFIG="$SRC/kernel.config" allnoconfig >/dev/null
    # Every =y of the fragment must have survived (unmet dependencies
    # would drop a symbol silently).
    lost=$(grep -E '^CONFIG_[A-Z0-9_]+=' "$SRC/kernel.config" |
        grep -vxFf "$ksrc/.config" || true)
    [ -z "$lost" ] || die "config symbols not taken: $(echo $lost)"
    grep -qx '# CONFIG_MODULES is not set' "$ksrc/.config" ||
        die "CONFIG_MODULES is on"
    step "compiling the kernel (make -j$JOBS vmlinux, nice -n 19)..."
    kstart=$SECONDS
    if ! "${kmake[@]}" -j"$JOBS" vmlinux >"$tmp/kbuild.log" 2>&1; then
        tail -n 30 "$tmp/kbuild.log" >&2
        die "kernel build failed"
    fi
    ktime=$((SECONDS - kstart))
    step "kernel compiled in ${ktime}s ($(printf '%d min %02d s' \
        $((ktime / 60)) $((ktime % 60))))"
    ${CROSS}readelf -h "$ksrc/vmlinux" | grep -q 'big endian' ||
        die "vmlinux is not big-endian"
    cp "$ksrc/vmlinux" "$OUTDIR/vmlinux"
    cp "$ksrc/.config" "$OUTDIR/config"
    sha256sum <"$OUTDIR/vmlinux" | cut -d' ' -f1 >"$OUTDIR/KERNEL-SHA256"
    echo "$ktime" >"$OUTDIR/KERNEL-BUILD-SECONDS"
    kernel_inputs >"$OUTDIR/KERNEL-INPUTS"
fi

step "compiling /init (${CROSS}gcc -static)..."
nice -n 19 ${CROSS}gcc -Os -Wall -Wextra -static -s -o "$tmp/init" "$SRC/init.c"
${CROSS}readelf -h "$tmp/init" | grep -q 'big endian' ||
    die "init is not big-endian"

step "writing initramfs (usr/gen_init_cpio)..."
gcc -O2 -o "$tmp/gen_init_cpio" "$ksrc/usr/gen_init_cpio.c"
# The kernel opens /dev/console for init before devtmpfs is mounted.
# /sbin/poweroff is the kernel's poweroff_cmd (see init.c).
cat >"$tmp/cpio_list" <<EOF
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /proc 0755 0 0
dir /sys 0755 0 0
dir /sbin 0755 0 0
file /init $tmp/init 0755 0 0
slink /sbin/poweroff /init 0777 0 0
EOF
"$tmp/gen_init_cpio" -t 0 "$tmp/cpio_list" | gzip -9n >"$tmp/initramfs.cpio.gz"

step "writing outputs to $OUTDIR..."
rm -f "$OUTDIR/SHA256SUMS"
cp "$tmp/initramfs.cpio.gz" "$OUTDIR/initramfs.cpio.gz"
# Fresh zeroed root disk, so the first boot counts 1.
dd if=/dev/zero of="$OUTDIR/disk.raw" bs=1M count=16 status=none
for p in $KSRC_PKG gcc-powerpc64-linux-gnu libc6-dev-ppc64-cross; do
    echo "$p $(pkg_version "$p")"
done >"$OUTDIR/PACKAGES"
echo "$GUEST_VERSION" >"$OUTDIR/VERSION"
guest_inputs >"$OUTDIR/INPUTS"
# Written last: it doubles as the "build complete" stamp.
(cd "$OUTDIR" && sha256sum vmlinux initramfs.cpio.gz config PACKAGES \
    VERSION INPUTS >SHA256SUMS)
step "vmlinux: $(${CROSS}readelf -h "$OUTDIR/vmlinux" |
    sed -n 's/^ *Data: *//p'), $(du -h "$OUTDIR/vmlinux" | cut -f1);" \
    "initramfs: $(du -h "$OUTDIR/initramfs.cpio.gz" | cut -f1)"
echo "done in ${SECONDS}s using: $(paste -sd, "$OUTDIR/PACKAGES")"
