#!/bin/bash
# Boot the big-endian test guest (tools/build-be-guest.sh) under
# qemu-system-ppc64 -M pseries and prove what it is and that it speaks the
# test guests' console protocol: it is a big-endian ELF kernel, the guest
# says uname -m = ppc64 and big-endian byte order (found at run time), it
# writes its virtio disk, brings up its virtio NIC, ticks, answers
# "ping hello", and powers itself off on QEMU's system_powerdown (EPOW).
# Usage: tools/be_guest/smoke.sh [OUTDIR]   (exit status 0 = all passed)
# SMOKE_BOOT_TIMEOUT (default 300 s) bounds the boot under TCG.
set -euo pipefail

OUTDIR=${1:-${POWERKVM_BE_GUEST_DIR:-$HOME/.cache/powerkvm-nova/be-guest}}
BOOT_TIMEOUT=${SMOKE_BOOT_TIMEOUT:-300}
QEMU=${QEMU:-qemu-system-ppc64}

fails=0
ok() { echo "PASS: $*"; }
bad() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

for f in vmlinux initramfs.cpio.gz disk.raw; do
    [ -f "$OUTDIR/$f" ] || { echo "missing $OUTDIR/$f: run tools/build-be-guest.sh" >&2; exit 2; }
done
command -v "$QEMU" >/dev/null || { echo "no $QEMU" >&2; exit 2; }

# 1. The kernel's ELF header.
data=$(readelf -h "$OUTDIR/vmlinux" | sed -n 's/^ *Data: *//p')
machine=$(readelf -h "$OUTDIR/vmlinux" | sed -n 's/^ *Machine: *//p')
echo "readelf -h vmlinux: Data: $data; Machine: $machine"
case $data in
*"big endian"*) ok "vmlinux is a big-endian ELF ($machine)" ;;
*) bad "vmlinux is not big-endian: $data" ;;
esac

tmp=$(mktemp -d)
qpid=
cleanup() {
    [ -n "$qpid" ] && kill "$qpid" 2>/dev/null || true
    exec 3>&- 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
# A scratch copy: the guest writes its boot count to the disk.
cp "$OUTDIR/disk.raw" "$tmp/disk.raw"
mkfifo "$tmp/in"

# 2. Boot it. hvc0 is QEMU's first serial device, here on stdio (-nographic):
# console input from a FIFO, output to a log; the monitor on a socket.
start=$SECONDS
timeout "$((BOOT_TIMEOUT + 120))" "$QEMU" -M pseries -m 512 -nographic \
    -kernel "$OUTDIR/vmlinux" -initrd "$OUTDIR/initramfs.cpio.gz" \
    -append console=hvc0 \
    -drive file="$tmp/disk.raw",format=raw,if=virtio \
    -nic user,model=virtio-net-pci \
    -monitor unix:"$tmp/monitor",server=on,wait=off \
    <"$tmp/in" >"$tmp/console.log" 2>&1 &
qpid=$!
exec 3>"$tmp/in"

# The console log with QEMU's CRLF line ends made LF.
console() { tr -d '\r' <"$tmp/console.log"; }
# wait_for REGEX SECONDS: until the console shows a line matching REGEX.
wait_for() {
    local deadline
    deadline=$((SECONDS + $2))
    while [ "$SECONDS" -lt "$deadline" ]; do
        console | grep -qaE "$1" && return 0
        kill -0 "$qpid" 2>/dev/null || return 1
        # no point waiting out a guest that died early
        console | grep -qaE 'Program Exception|Kernel panic|Oops' &&
            return 1
        sleep 1
    done
    return 1
}
monitor() {
    python3 - "$tmp/monitor" "$1" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(2)
s.sendall(sys.argv[2].encode() + b'\n')
time.sleep(1)
try:
    s.recv(65536)
except OSError:
    pass
s.close()
EOF
}

if wait_for '^POWERKVM-GUEST-READY' "$BOOT_TIMEOUT"; then
    ok "guest ready after $((SECONDS - start))s"
else
    bad "no POWERKVM-GUEST-READY within ${BOOT_TIMEOUT}s"
    echo "--- console ---"
    console | tail -n 60
    exit 1
fi
console | grep -qax 'POWERKVM-GUEST-UNAME ppc64' &&
    ok "uname -m is ppc64" || bad "no 'POWERKVM-GUEST-UNAME ppc64'"
console | grep -qax 'POWERKVM-GUEST-BYTEORDER big-endian' &&
    ok "guest finds itself big-endian" || bad "no 'POWERKVM-GUEST-BYTEORDER big-endian'"
console | grep -qa '^POWERKVM-DISK-WRITE-OK POWERKVM-DISK-MARK count=1' &&
    ok "disk write/read-back" || bad "no POWERKVM-DISK-WRITE-OK"
console | grep -qa '^POWERKVM-NIC-UP eth0 ' &&
    ok "virtio NIC up" || bad "no POWERKVM-NIC-UP eth0"
wait_for '^POWERKVM-TICK 2$' 30 && ok "ticks every 5 s" || bad "no POWERKVM-TICK 2"

# 3. Console ping.
echo "ping hello" >&3
wait_for '^POWERKVM-PONG hello [0-9.]+$' 30 &&
    ok "answered ping" || bad "no POWERKVM-PONG hello"

# 4. QEMU's system_powerdown (what libvirt's shutdown does): EPOW on pseries.
if kill -0 "$qpid" 2>/dev/null; then
    monitor system_powerdown
    off=$SECONDS
    rc=0
    for _ in $(seq 60); do
        kill -0 "$qpid" 2>/dev/null || break
        sleep 1
    done
    if kill -0 "$qpid" 2>/dev/null; then
        bad "still running 60s after system_powerdown"
    else
        wait "$qpid" || rc=$?
        qpid=
        if [ "$rc" -eq 0 ]; then
            ok "powered itself off $((SECONDS - off))s after system_powerdown (qemu exit 0)"
        else
            bad "qemu exited $rc after system_powerdown"
        fi
    fi
    console | grep -qa '^POWERKVM-GUEST-POWEROFF' &&
        ok "init handled the power-off request" || bad "no POWERKVM-GUEST-POWEROFF"
fi

echo "--- console (selected lines) ---"
console | grep -aE '^Linux version|POWERKVM-|Power off requested|reboot: |ping hello|Kernel panic' || true
echo "--- $fails failure(s) ---"
[ "$fails" -eq 0 ] || { echo "--- full console ---"; console | tail -n 60; }
exit "$((fails > 0))"
