#!/usr/bin/env bash
# Installs the Debian 12 packages Rill needs. One apt command at a time (never in parallel),
# safe to re-run. Usage: Board/install-deps.sh [build|test|all|vm|kernel KVER]   (default: all)
#   build: C libraries Rill links against (-dev packages) and pkg-config
#   test:  build + the independent peers the tests talk to (ffmpeg, GStreamer, tshark, srt-tools, …)
#          + the virtual board's qemu, busybox and V4L2/ALSA tools (Board/qemu-virt/)
#   vm:    the virtual board's packages only (Board/qemu-virt/prepare.sh)
#   kernel KVER: headers and compiler for the virtual board's out-of-tree modules
#          (Board/qemu-virt/extra-modules.sh: vicodec, v4l2-mem2mem)
set -euo pipefail
what=${1:-all}
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o DPkg::Lock::Timeout=600 -y --no-install-recommends)
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo

build_pkgs=(pkg-config libx264-dev libavcodec-dev libavutil-dev libsrt-openssl-dev librist-dev
            libv4l-dev libasound2-dev libturbojpeg0-dev)
test_pkgs=(ffmpeg gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
           gstreamer1.0-plugins-bad gstreamer1.0-libav tshark srt-tools rist-tools iproute2 iptables
           procps psmisc curl python3-jsonschema
           chromium chromium-driver python3-venv)
# The virtual board (Board/qemu-virt/run.sh): qemu (TCG), a static busybox for its initramfs, and
# the V4L2/ALSA tools the guest scripts run (the guest sees this machine's root read-only).
vm_pkgs=(qemu-system-x86 busybox-static v4l-utils alsa-utils xz-utils cpio kmod util-linux)

need=()
case "$what" in
  build) need=("${build_pkgs[@]}") ;;
  test|all) need=("${build_pkgs[@]}" "${test_pkgs[@]}" "${vm_pkgs[@]}") ;;
  vm) need=("${vm_pkgs[@]}") ;;
  kernel) need=("linux-headers-${2:?usage: $0 kernel KVER}" make gcc) ;;
  *) echo "usage: $0 [build|test|all|vm|kernel KVER]" >&2; exit 2 ;;
esac

missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "install-deps: all ${#need[@]} packages present"; exit 0; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -q
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get install "${apt_opts[@]}" "${missing[@]}"
