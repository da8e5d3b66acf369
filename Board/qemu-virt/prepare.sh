#!/usr/bin/env bash
# Prepares the virtual board's kernel once per kernel version, before any test runs (Tests/run.sh
# calls it after Board/install-deps.sh; Board/qemu-virt/run.sh calls it too and then finds it done):
# Debian's current linux-image-amd64 kernel downloaded and unpacked (dpkg -x, no install), depmod,
# the out-of-tree vicodec + v4l2-mem2mem (extra-modules.sh), the uncompressed vmlinux and the
# busybox initramfs. Everything lives in $RILL_VM_CACHE/kernel-KVER (default
# /var/cache/rill/qemu-virt; outside /tmp, which the guest covers with a tmpfs), so a new Debian
# kernel ABI gets a fresh tree and the initramfs and modules always match their kernel.
#
#   Board/qemu-virt/prepare.sh        → prints the kernel tree's path (KDIR) on stdout
#
# Environment: RILL_VM_CACHE, RILL_VM_KERNEL (a kernel version, e.g. 6.1.0-56-amd64, instead of
# linux-image-amd64's dependency).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${RILL_VM_CACHE:-/var/cache/rill/qemu-virt}
mkdir -p "$cache"
say() { echo "qemu-virt prepare: $*" >&2; }

"$here/../install-deps.sh" vm >&2

# One preparation at a time on this machine (two test runs may start together).
exec 9>"$cache/.prepare.lock"
flock 9

# The kernel: Debian's current linux-image-amd64 dependency (apt's lists may be empty on a fresh
# machine: update once); offline, the newest kernel already in the cache.
kernel_version() { apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: linux-image-//p' | head -1; }
kver=${RILL_VM_KERNEL:-$(kernel_version)}
if [ -z "$kver" ]; then
  apt-get -o DPkg::Lock::Timeout=600 update -q >&2 || true
  kver=$(kernel_version)
fi
if [ -z "$kver" ]; then
  kver=$(find "$cache" -maxdepth 1 -name 'kernel-*' -printf '%f\n' | sed 's/^kernel-//' | sort -V | tail -1)
  [ -n "$kver" ] || { say "apt knows no linux-image-amd64 and the cache holds no kernel"; exit 1; }
  say "apt knows no linux-image-amd64; using the cached kernel $kver"
fi
kdir=$cache/kernel-$kver

if [ ! -s "$kdir/lib/modules/$kver/modules.dep" ]; then
  start=$SECONDS
  say "downloading and unpacking linux-image-$kver"
  tmp=$cache/download; rm -rf "$tmp" "$kdir.part"; mkdir -p "$tmp"
  (cd "$tmp" && timeout 600 apt-get download "linux-image-$kver" >&2)
  dpkg -x "$tmp"/linux-image-*.deb "$kdir.part"; rm -rf "$tmp"
  depmod -b "$kdir.part" "$kver"
  rm -rf "$kdir"; mv "$kdir.part" "$kdir"
  say "kernel $kver unpacked in $((SECONDS - start)) s"
fi

start=$SECONDS
"$here/extra-modules.sh" "$kdir" "$kver" >&2
[ $((SECONDS - start)) -lt 2 ] || say "extra modules ready in $((SECONDS - start)) s"

# The uncompressed kernel boots ≈ 3 s faster under TCG (PVH entry point).
if [ ! -s "$kdir/vmlinux" ]; then
  off=$(LC_ALL=C grep -a -b -o -P '\xfd7zXZ\x00' "$kdir/boot/vmlinuz-$kver" | head -1 | cut -d: -f1)
  tail -c +$((off + 1)) "$kdir/boot/vmlinuz-$kver" | xz -dc > "$kdir/vmlinux.part" 2>/dev/null || true
  [ -s "$kdir/vmlinux.part" ] || { say "could not unpack $kdir/boot/vmlinuz-$kver"; exit 1; }
  mv "$kdir/vmlinux.part" "$kdir/vmlinux"
fi

# The initramfs: static busybox, the virtio/9p modules of this kernel, and init.sh (its hash in
# the name, so a changed /init gets a new image).
initrd=$kdir/initrd-$(sha256sum "$here/init.sh" | cut -c1-12).img
if [ ! -s "$initrd" ]; then
  r=$cache/initrd-root; rm -rf "$r"; mkdir -p "$r"/{bin,dev,proc,sys,newroot,mods}
  cp /bin/busybox "$r/bin/"
  for m in virtio_pci 9pnet_virtio 9p; do modprobe -d "$kdir" -S "$kver" --show-depends "$m"; done | awk '$1 == "insmod" {print $2}' |
    while read -r p; do b=$(basename "$p" .ko)
      grep -qx "$b" "$r/modules.list" 2>/dev/null || { echo "$b" >> "$r/modules.list"; cp "$p" "$r/mods/"; }
    done
  [ -s "$r/modules.list" ] || { say "no virtio/9p modules found in $kdir"; exit 1; }
  cp "$here/init.sh" "$r/init"; chmod +x "$r/init"
  (cd "$r" && find . | cpio -o -H newc --quiet | gzip -1) > "$initrd.part" && mv "$initrd.part" "$initrd"
  rm -rf "$r"
fi
ln -sfn "$(basename "$initrd")" "$kdir/initrd.img"
echo "$kdir"
