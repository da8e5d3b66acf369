#!/usr/bin/env bash
# The virtual board: boots Debian's kernel in qemu over this machine's root filesystem (read-only,
# 9p), so capture code meets real kernel drivers (vivid, snd-aloop, snd-dummy, vicodec) that this
# host's kernel cannot load. Recipe: ../shared/reference/virtual-board.md.
#
#   Board/qemu-virt/run.sh GUEST_SCRIPT SHARE_DIR
#
# GUEST_SCRIPT runs as PID 1 in the guest after the prelude (guest-prelude.sh: PATH, HOME, lo up,
# module loading helpers); SHARE_DIR is writable by the guest at /tmp/out. The exit status is the
# guest script's (file SHARE_DIR/rc), 99 if the guest never wrote one (hang or crash: see
# SHARE_DIR/console.log). Installs what it needs (Board/install-deps.sh test) and keeps the kernel
# and initramfs in $RILL_VM_CACHE (default /var/cache/rill/qemu-virt; outside /tmp, which the guest
# covers with a tmpfs). KVM is probed and used when it works; otherwise TCG.
# Environment: VM_TIMEOUT (s, default 300), VM_MEM (MB, 768), VM_CPUS (2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
guest=$(realpath "$1"); share=$(realpath "$2")
cache=${RILL_VM_CACHE:-/var/cache/rill/qemu-virt}
mkdir -p "$cache" "$share"

"$here/../install-deps.sh" test >/dev/null

# The kernel: Debian's current linux-image-amd64 dependency, unpacked, with modules.dep.
kver=${RILL_VM_KERNEL:-$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: linux-image-//p' | head -1)}
kdir=$cache/kernel-$kver
if [ ! -s "$kdir/lib/modules/$kver/modules.dep" ]; then
  tmp=$cache/download; rm -rf "$tmp"; mkdir -p "$tmp"
  (cd "$tmp" && timeout 600 apt-get download "linux-image-$kver")
  rm -rf "$kdir"; dpkg -x "$tmp"/linux-image-*.deb "$kdir"; rm -rf "$tmp"
  depmod -b "$kdir" "$kver"
fi
"$here/extra-modules.sh" "$kdir" "$kver"
# The uncompressed kernel boots ≈ 3 s faster under TCG (PVH entry point).
if [ ! -s "$kdir/vmlinux" ]; then
  off=$(LC_ALL=C grep -a -b -o -P '\xfd7zXZ\x00' "$kdir/boot/vmlinuz-$kver" | head -1 | cut -d: -f1)
  tail -c +$((off + 1)) "$kdir/boot/vmlinuz-$kver" | xz -dc > "$kdir/vmlinux.part" 2>/dev/null || true
  mv "$kdir/vmlinux.part" "$kdir/vmlinux"
fi
# The initramfs: static busybox, the virtio/9p modules, and init.sh.
initrd=$kdir/initrd-$(sha256sum "$here/init.sh" | cut -c1-12).img
if [ ! -s "$initrd" ]; then
  r=$cache/initrd-root; rm -rf "$r"; mkdir -p "$r"/{bin,dev,proc,sys,newroot,mods}
  cp /bin/busybox "$r/bin/"
  for m in virtio_pci 9pnet_virtio 9p; do modprobe -d "$kdir" -S "$kver" --show-depends "$m"; done | awk '$1 == "insmod" {print $2}' |
    while read -r p; do b=$(basename "$p" .ko)
      grep -qx "$b" "$r/modules.list" 2>/dev/null || { echo "$b" >> "$r/modules.list"; cp "$p" "$r/mods/"; }
    done
  cp "$here/init.sh" "$r/init"; chmod +x "$r/init"
  (cd "$r" && find . | cpio -o -H newc --quiet | gzip -1) > "$initrd.part" && mv "$initrd.part" "$initrd"
  rm -rf "$r"
fi

# The guest script: prelude + the caller's script, run as PID 1; rc and log land in the share.
{
  echo "#!/bin/sh"
  echo "RILL_VM_KDIR='$kdir'"
  cat "$here/guest-prelude.sh"
  echo "guest_main() {"
  cat "$guest"
  echo "}"
  echo 'guest_main > /tmp/out/guest.log 2>&1; echo $? > /tmp/out/rc.part; mv /tmp/out/rc.part /tmp/out/rc; sync; busybox poweroff -f'
} > "$share/guest.sh"
rm -f "$share/rc"

# KVM where it works (probed once per machine by booting a guest that only powers off: on some
# hosts /dev/kvm exists but the guest hangs), else TCG.
boot() {  # boot ACCEL_ARGS... (uses $share, $VM_TIMEOUT)
  timeout "${VM_TIMEOUT:-300}" qemu-system-x86_64 "$@" -m "${VM_MEM:-768}" -smp "${VM_CPUS:-2}" \
    -nographic -no-reboot -nic none -kernel "$kdir/vmlinux" -initrd "$initrd" \
    -append 'console=ttyS0 panic=-1 loglevel=4' \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs local,path="$share",mount_tag=out,security_model=none,multidevs=remap \
    </dev/null >"$share/console.log" 2>&1
}
accel=(-accel tcg,tb-size=256 -cpu max)
if [ -w /dev/kvm ] && [ "${RILL_VM_KVM:-probe}" != "no" ]; then
  if [ ! -f "$cache/kvm-works" ]; then
    mv "$share/guest.sh" "$share/guest.sh.real"
    printf '#!/bin/sh\necho 0 > /tmp/out/rc; sync; busybox poweroff -f\n' > "$share/guest.sh"
    if VM_TIMEOUT=30 boot -accel kvm -cpu host && [ -s "$share/rc" ]; then echo yes; else echo no; fi > "$cache/kvm-works"
    rm -f "$share/rc"; mv "$share/guest.sh.real" "$share/guest.sh"
  fi
  if [ "$(cat "$cache/kvm-works")" = yes ]; then accel=(-accel kvm -cpu host); fi
fi
status=0
boot "${accel[@]}" || status=$?
if [ -s "$share/rc" ]; then exit "$(cat "$share/rc")"; fi
echo "qemu-virt: the guest wrote no rc (qemu exit $status); see $share/console.log" >&2
exit 99
