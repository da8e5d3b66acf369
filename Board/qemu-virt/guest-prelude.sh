# Sourced at the top of every guest script (PID 1 in the virtual board; host root read-only).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/swift/usr/bin HOME=/tmp LANG=C
ip link set lo up 2>/dev/null || busybox ip link set lo up
# Heartbeat for the host (run.sh): the guest's uptime every 2 s in the share. A guest that stops
# writing it (a KVM emulation failure pauses qemu, a hung kernel) is killed and, under KVM, rerun
# under TCG. Guest scripts must therefore never `wait` without a pid.
# The file is replaced whole (written beside, then renamed): the host must never read it
# half-written (an empty file read mid-write once counted as "no heartbeat" and killed a working guest).
beat() { echo "$*" > /tmp/out/progress.new && mv -f /tmp/out/progress.new /tmp/out/progress; }
beat "boot $(cut -d' ' -f1 /proc/uptime)"
(while :; do beat "alive $(cut -d' ' -f1 /proc/uptime)"; sleep 2; done) </dev/null >/dev/null 2>&1 &
# Marks a step in the guest log and in the share (run.sh names the last step when a boot fails).
step() { echo "== $* ($(cut -d' ' -f1 /proc/uptime) s)"; echo "$*" > /tmp/out/step; beat "step $*"; }
# Loads a module (and its dependencies) from the unpacked Debian kernel.
load() { modprobe -d "$RILL_VM_KDIR" "$@"; }
