#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need from Debian, builds once,
# runs every test (unit, multi-process ring, end to end against ffprobe/ffmpeg/GStreamer/tshark
# in network namespaces), then the fuzz targets briefly. Needs root (network namespaces, tshark on lo).
set -euo pipefail
cd "$(dirname "$0")/.."
Board/install-deps.sh test
export PATH="/opt/swift/usr/bin:$PATH"
swift --version | head -1
# Stale rings or namespaces of an interrupted earlier run must not disturb this one.
rm -f /dev/shm/rill.test-* 2>/dev/null || true
for ns in $(ip netns list 2>/dev/null | awk '/^rill-/{print $1}'); do ip netns del "$ns" || true; done
swift build --build-tests
# One test at a time: the end-to-end tests measure timing on a 2-core machine.
swift test --skip-build --no-parallel
Tests/fuzz.sh "${FUZZ_SECONDS:-20}"
