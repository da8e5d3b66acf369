#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need from Debian, prepares the
# virtual board's kernel and modules, builds once, runs every test (unit, multi-process ring, end
# to end against ffprobe/ffmpeg/GStreamer/tshark in network namespaces, capture in the virtual
# board), then the fuzz targets briefly. Needs root (network namespaces, tshark on lo).
# Leaves nothing behind: at exit it lists, kills and removes every process the run started that
# is still alive, every new /dev/shm/rill.* ring and rill-* network namespace, and then fails.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every process of this run carries this mark in its environment (children inherit it), so the
# final check finds what the run left behind without touching anybody else's processes.
export RILL_TEST_RUN="$$-$(date +%s)"
shm_before=$(ls /dev/shm 2>/dev/null | grep '^rill\.' || true)
ns_before=$(ip netns list 2>/dev/null | awk '/^rill-/{print $1}' || true)

# Processes carrying this run's mark (bash builtins only, so the scan itself adds none).
marked_processes() {
  local d pid kv
  marked=()
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [ "$pid" = $$ ] && continue
    while IFS= read -r -d '' kv; do
      if [ "$kv" = "RILL_TEST_RUN=$RILL_TEST_RUN" ]; then marked+=("$pid"); break; fi
    done 2>/dev/null < "$d/environ" || true
  done
}
describe() { local pid=$1 cmd; cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-160); echo "  pid $pid: ${cmd:-?}"; }

no_debris() {
  local rc=$? left=0 pid
  trap - EXIT
  set +e
  marked_processes
  if [ ${#marked[@]} -gt 0 ]; then
    sleep 2  # what is just exiting (a stage after its parent's SIGTERM) may finish by itself
    marked_processes
  fi
  if [ ${#marked[@]} -gt 0 ]; then
    echo "no-debris: ${#marked[@]} process(es) of this run still running (killed now):"
    for pid in "${marked[@]}"; do describe "$pid"; done
    for pid in "${marked[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    left=1
  fi
  local rings
  rings=$(comm -13 <(echo "$shm_before" | sort) <(ls /dev/shm 2>/dev/null | grep '^rill\.' | sort))
  if [ -n "$rings" ]; then
    echo "no-debris: $(echo "$rings" | wc -l) ring(s) left in /dev/shm (removed now):"
    echo "$rings" | sed 's/^/  /'
    for r in $rings; do rm -f "/dev/shm/$r"; done
    left=1
  fi
  local spaces
  spaces=$(comm -13 <(echo "$ns_before" | sort) <(ip netns list 2>/dev/null | awk '/^rill-/{print $1}' | sort))
  if [ -n "$spaces" ]; then
    echo "no-debris: network namespace(s) left (deleted now): $spaces"
    for n in $spaces; do ip netns del "$n"; done
    left=1
  fi
  if [ $left -ne 0 ]; then
    echo "no-debris: FAILED — the run left the processes, rings or namespaces above behind"
    [ $rc -ne 0 ] || rc=1
  else
    echo "no-debris: no process, ring or namespace left behind"
  fi
  exit $rc
}
trap no_debris EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

Board/install-deps.sh test
# The browser tests' Python (Selenium in .build/browser-venv; quick when already there).
Tests/browser/setup.sh
# The virtual board's kernel, modules (vicodec built from source) and initramfs, before any test
# and its timeout (cached per kernel version; minutes on a fresh machine, a second afterwards).
Board/qemu-virt/prepare.sh > /dev/null
export PATH="/opt/swift/usr/bin:$PATH"
swift --version | head -1
# Stale rings or namespaces of an interrupted earlier run must not disturb this one.
rm -f /dev/shm/rill.test-* 2>/dev/null || true
for ns in $(ip netns list 2>/dev/null | awk '/^rill-/{print $1}'); do ip netns del "$ns" || true; done
ns_before=""
shm_before=$(ls /dev/shm 2>/dev/null | grep '^rill\.' || true)
# Exactly the dependency versions of Package.resolved (firmware builds are reproducible).
mkdir -p .build  # a clean clone has none yet, and tee needs the directory
swift build --build-tests --force-resolved-versions 2>&1 | tee .build/build-tests.log
# The project's own code builds without a warning, and stays so.
if grep -E "^$PWD/Sources/.*: warning:" .build/build-tests.log | sort -u; then
  echo "build: the warnings above are in Sources/ (the project builds without warnings)"; exit 1
fi
# The release binary the virtual board's guest runs (the product as shipped; a debug build costs
# twice the CPU under emulation).
swift build -c release --product rill --force-resolved-versions 2>&1 | tail -3
export RILL_VM_BINARY="$PWD/.build/release/rill"
# One formatting (.swift-format): the tree is formatted, and stays so.
swift format lint --recursive --strict Package.swift Sources Tests
# One test at a time: the end-to-end tests measure timing on a 2-core machine.
swift test --skip-build --no-parallel
Tests/fuzz.sh "${FUZZ_SECONDS:-20}"
