#!/usr/bin/env bash
# Builds the kernel modules the virtual board needs and Debian's kernel does not ship:
# vicodec (the kernel's FWHT mem2mem codec, the only stateful encoder a board without hardware can
# offer) and the v4l2-mem2mem framework it uses. Debian 12's config has
# `# CONFIG_VIDEO_VICODEC is not set` and no CONFIG_V4L2_MEM2MEM_DEV, so both are built out of tree
# from the linux-source package of the same version, against that kernel's headers, and installed
# under KDIR/lib/modules/KVER/updates/rill (then depmod). Unsigned: the kernel has MODULE_SIG but
# not MODULE_SIG_FORCE, so they load (tainting it, which the tests do not mind).
#
#   Board/qemu-virt/extra-modules.sh KDIR KVER
set -euo pipefail
kdir=$1; kver=$2
here=$(cd "$(dirname "$0")" && pwd)
dest=$kdir/lib/modules/$kver/updates/rill
# Built for this kernel (KDIR is per version) by this script (its hash marks the build).
stamp=$dest/.built-$(sha256sum "$0" | cut -c1-12)
[ -f "$stamp" ] && [ -s "$dest/vicodec.ko" ] && [ -s "$dest/v4l2-mem2mem.ko" ] && exit 0

"$here/../install-deps.sh" kernel "$kver" >/dev/null
# The source of the running image's version: linux-image-KVER and linux-source-X.Y come from the
# same Debian source package, so their versions match.
version=$(dpkg-query -W -f='${Version}' "linux-headers-$kver")
series=${kver%%.0-*}   # 6.1.0-56-amd64 → 6.1
work=$(mktemp -d "${RILL_VM_CACHE:-/var/cache/rill/qemu-virt}/modsrc.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$work" && timeout 600 apt-get download "linux-source-$series=$version" >/dev/null)
tree=linux-source-$series
dpkg --fsys-tarfile "$work"/linux-source-*.deb | tar x -C "$work" "./usr/src/$tree.tar.xz"
tar xJf "$work/usr/src/$tree.tar.xz" -C "$work" \
  "$tree/drivers/media/test-drivers/vicodec" "$tree/drivers/media/v4l2-core/v4l2-mem2mem.c"
build=$work/build; mkdir -p "$build"
cp "$work/$tree"/drivers/media/test-drivers/vicodec/*.[ch] "$work/$tree/drivers/media/v4l2-core/v4l2-mem2mem.c" "$build/"
cat > "$build/Kbuild" <<'EOF'
obj-m += v4l2-mem2mem.o vicodec.o
vicodec-objs := vicodec-core.o codec-fwht.o codec-v4l2-fwht.o
EOF
make -s -C "/usr/src/linux-headers-$kver" M="$build" modules 2>&1 | grep -v 'Skipping BTF' || true
for m in vicodec v4l2-mem2mem; do
  [ -s "$build/$m.ko" ] || { echo "extra-modules: $m.ko did not build for $kver" >&2; exit 1; }
done
rm -rf "$dest"; mkdir -p "$dest"
cp "$build/vicodec.ko" "$build/v4l2-mem2mem.ko" "$dest/"
depmod -b "$kdir" "$kver"
touch "$stamp"
