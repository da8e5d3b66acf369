#!/usr/bin/env bash
# The virtual board: boots Debian's kernel in qemu over this machine's root filesystem (read-only,
# 9p), so capture code meets real kernel drivers (vivid, snd-aloop, snd-dummy, vicodec) that this
# host's kernel cannot load. Recipe: ../shared/reference/virtual-board.md.
#
#   Board/qemu-virt/run.sh GUEST_SCRIPT SHARE_DIR
#
# GUEST_SCRIPT runs as PID 1 in the guest after the prelude (guest-prelude.sh: PATH, HOME, lo up,
# heartbeat, `step` and `load` helpers); SHARE_DIR is writable by the guest at /tmp/out. The exit
# status is the guest script's (file SHARE_DIR/rc), 99 if the guest never wrote one (hang, crash or
# deadline: see SHARE_DIR/console.log and stderr). The kernel, modules and initramfs come from
# prepare.sh (run it before the tests; here it only finds them ready).
#
# KVM is trusted per boot, not per machine: a boot under KVM that hits a KVM internal error (qemu
# prints it and pauses the guest), or whose guest writes no heartbeat (guest-prelude.sh) within
# the deadlines, is killed with SIGKILL (a failed qemu ignores SIGTERM) and run again under TCG,
# from a share cleaned of what the failed boot wrote; stderr says so. After such a failure the
# cache notes it for this host boot (kvm-failed) and later boots go straight to TCG.
#
# Environment: VM_TIMEOUT (s per boot, default 300), VM_MEM (MB, 768), VM_CPUS (2),
#   RILL_VM_KVM: auto (default: KVM when /dev/kvm is usable and it has not failed since this host
#   booted), yes (try KVM even after a failure), no (TCG only),
#   RILL_VM_BOOT_DEADLINE (s until the first heartbeat, default 30 under KVM, 120 under TCG),
#   RILL_VM_STALL (s without a heartbeat, default 30 under KVM, 90 under TCG).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
guest=$(realpath "$1"); share=$(realpath "$2")
cache=${RILL_VM_CACHE:-/var/cache/rill/qemu-virt}
mkdir -p "$share"
say() { echo "qemu-virt: $*" >&2; }

kdir=$("$here/prepare.sh" | tail -1)

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
rm -f "$share/rc" "$share/progress" "$share/step"
declare -A inputs=()  # what the caller put in the share: a rerun starts from exactly that
for f in "$share"/* "$share"/.[!.]*; do [ -e "$f" ] && inputs["$(basename "$f")"]=1; done

qpid=""
cleanup() { if [ -n "$qpid" ]; then kill -KILL "$qpid" 2>/dev/null || true; wait "$qpid" 2>/dev/null || true; fi; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# boot NAME ACCEL_ARGS...: one boot, watched. Sets $verdict: done (qemu exited), kvm-error,
# no-boot (no heartbeat by the boot deadline), stalled (heartbeat stopped), timeout.
verdict=""
boot() {
  local name=$1; shift
  local deadline_boot stall
  if [ "$name" = kvm ]; then deadline_boot=${RILL_VM_BOOT_DEADLINE:-30}; stall=${RILL_VM_STALL:-30}
  else deadline_boot=${RILL_VM_BOOT_DEADLINE:-120}; stall=${RILL_VM_STALL:-90}; fi
  local timeout=${VM_TIMEOUT:-300}
  rm -f "$share/progress"
  # qemu dies with this script even if the script is SIGKILLed (a test's timeout).
  setpriv --pdeathsig KILL qemu-system-x86_64 "$@" -m "${VM_MEM:-768}" -smp "${VM_CPUS:-2}" \
    -nographic -no-reboot -nic none -kernel "$kdir/vmlinux" -initrd "$kdir/initrd.img" \
    -append 'console=ttyS0 panic=-1 loglevel=4' \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs local,path="$share",mount_tag=out,security_model=none,multidevs=remap \
    </dev/null >"$share/console.log" 2>&1 &
  qpid=$!
  local start=$SECONDS last="" beat=$SECONDS now seen=0
  verdict=done
  while kill -0 "$qpid" 2>/dev/null; do
    sleep 1
    now=$SECONDS
    if grep -q -e "KVM internal error" -e "emulation failure" "$share/console.log" 2>/dev/null; then verdict=kvm-error
    elif [ -s "$share/progress" ] || [ $seen -eq 1 ]; then
      # Once the guest has beaten, only a heartbeat that stops counts against it: a read that
      # finds the file empty or gone (being replaced) is no news, never "no boot".
      local p; p=$(cat "$share/progress" 2>/dev/null || true)
      if [ -n "$p" ] && [ "$p" != "$last" ]; then last=$p; beat=$now; seen=1
      elif [ $((now - beat)) -ge "$stall" ]; then verdict=stalled; fi
    elif [ $((now - start)) -ge "$deadline_boot" ]; then verdict=no-boot
    fi
    [ $((now - start)) -lt "$timeout" ] || verdict=timeout
    if [ "$verdict" != done ]; then
      kill -KILL "$qpid" 2>/dev/null || true
      break
    fi
  done
  wait "$qpid" 2>/dev/null || true
  qpid=""
  boot_seconds=$((SECONDS - start))
}

# Why a boot failed, for the log.
reason() {
  local s; s=$(cat "$share/step" 2>/dev/null || echo "before the first step")
  case $verdict in
    kvm-error) echo "KVM internal error ($(grep -m1 -o 'KVM internal error.*' "$share/console.log" | head -c 120)), last step: $s" ;;
    no-boot) echo "no heartbeat from the guest within the boot deadline (${boot_seconds} s)" ;;
    stalled) echo "the guest's heartbeat stopped (last: $(cat "$share/progress" 2>/dev/null)), last step: $s" ;;
    timeout) echo "over VM_TIMEOUT=${VM_TIMEOUT:-300} s, last step: $s" ;;
    *) echo "qemu exited without an rc from the guest, last step: $s" ;;
  esac
}

tcg=(-accel tcg,tb-size=256 -cpu max)
kvm=(-accel kvm -cpu host)
boot_id=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
mode=${RILL_VM_KVM:-auto}
use_kvm=no
if [ "$mode" != no ] && [ -c /dev/kvm ] && [ -w /dev/kvm ]; then
  use_kvm=yes
  if [ "$mode" = auto ] && [ -f "$cache/kvm-failed" ] && grep -qx "$boot_id" <(head -1 "$cache/kvm-failed"); then
    use_kvm=no
    say "KVM failed here since this host booted ($(sed -n 2p "$cache/kvm-failed")); using TCG (RILL_VM_KVM=yes tries KVM)"
  fi
fi

if [ "$use_kvm" = yes ]; then
  boot kvm "${kvm[@]}"
  if [ "$verdict" = done ] && [ -s "$share/rc" ]; then
    say "guest ran under KVM in ${boot_seconds} s"
    exit "$(cat "$share/rc")"
  fi
  why=$(reason)
  say "KVM boot failed after ${boot_seconds} s: $why; rerunning this boot under TCG"
  printf '%s\n%s at %s\n' "$boot_id" "$why" "$(date -u +%FT%TZ)" > "$cache/kvm-failed"
  # The rerun starts from the caller's inputs only: nothing the failed boot wrote survives.
  for f in "$share"/* "$share"/.[!.]*; do
    [ -e "$f" ] || continue
    b=$(basename "$f")
    [ -n "${inputs[$b]:-}" ] || [ "$b" = console.log ] || rm -rf "$f"
  done
  mv "$share/console.log" "$share/console-kvm.log"
fi
boot tcg "${tcg[@]}"
if [ "$verdict" = done ] && [ -s "$share/rc" ]; then
  say "guest ran under TCG in ${boot_seconds} s"
  exit "$(cat "$share/rc")"
fi
say "the guest wrote no rc under TCG after ${boot_seconds} s: $(reason); see $share/console.log"
exit 99
