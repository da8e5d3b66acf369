# Sourced at the top of every guest script (PID 1 in the virtual board; host root read-only).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/swift/usr/bin HOME=/tmp LANG=C
ip link set lo up 2>/dev/null || busybox ip link set lo up
# Loads a module (and its dependencies) from the unpacked Debian kernel.
load() { modprobe -d "$RILL_VM_KDIR" "$@"; }
