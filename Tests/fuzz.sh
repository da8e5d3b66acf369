#!/usr/bin/env bash
# Builds each libFuzzer target from the pure modules' sources and runs it for a while.
# Usage: Tests/fuzz.sh [seconds-per-target]   (default 20; CI uses this)
#        FUZZ_RUNS=10000000 Tests/fuzz.sh         (the campaign: that many executions per target, then
#                                                   the corpus is merged, minimised, into Tests/Fuzz/corpus/)
#        FUZZ_TARGETS="ts sdp" Tests/fuzz.sh 60   (only those targets; FUZZ_MERGE=1 keeps the corpus too)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
out=.build/fuzz
mkdir -p "$out"
build() {  # name, sources...: compiled as one module, so the imports between them go
  local name=$1; shift
  local src="$out/src-$name"
  rm -rf "$src"; mkdir -p "$src"
  for f in "$@"; do sed -E '/^import (MediaTime|MPEGTS|RTP|FEC|Config|Events|Encode)$/d' "$f" > "$src/$(basename "$(dirname "$f")")-$(basename "$f")"; done
  # No stale binary may stand in for a target that no longer builds.
  rm -f "$out/$name"
  if ! swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name "Fuzz_$name" "$src"/*.swift -o "$out/$name" \
    > "$out/$name.build.log" 2>&1 || [ ! -x "$out/$name" ]; then
    grep -E "error" "$out/$name.build.log" | head -20 || tail -20 "$out/$name.build.log"
    echo "fuzz $name: the target FAILED to build (log: $out/$name.build.log)"
    exit 1
  fi
}
build ts Sources/MediaTime/*.swift Sources/MPEGTS/*.swift Tests/Fuzz/FuzzTSAnalyzer.swift
build tr101290 Sources/MediaTime/*.swift Sources/MPEGTS/*.swift Tests/Fuzz/FuzzTR101290.swift
build tskey Sources/MediaTime/*.swift Sources/MPEGTS/*.swift Sources/Encode/V4L2M2M/CodedKeyframe.swift \
  Sources/Confidence/TSKeyframeFinder.swift Tests/Fuzz/FuzzTSKeyframe.swift
build sdp Sources/MediaTime/*.swift Sources/RTP/*.swift Tests/Fuzz/FuzzSDP.swift
build rtp Sources/MediaTime/*.swift Sources/RTP/*.swift Tests/Fuzz/FuzzRTP.swift
build fec Sources/MediaTime/*.swift Sources/RTP/*.swift Sources/FEC/*.swift Tests/Fuzz/FuzzFEC.swift
build config Sources/MediaTime/*.swift Sources/RTP/*.swift Sources/FEC/*.swift Sources/Config/*.swift Tests/Fuzz/FuzzConfig.swift
build event Sources/MediaTime/*.swift Sources/RTP/*.swift Sources/FEC/*.swift Sources/Config/*.swift Sources/Events/Event.swift Tests/Fuzz/FuzzEvent.swift
build web Sources/API/Session/RequestFields.swift Sources/API/Session/SessionStore.swift Sources/API/Session/RandomHex.swift Tests/Fuzz/FuzzWebFields.swift
# A real TS chunk seeds the TS fuzzer.
mkdir -p "$out/corpus-ts"
if [ ! -s "$out/corpus-ts/seed.ts" ]; then
  printf '\x47\x40\x00\x10\x00\x00\xb0\x0d\x00\x01\xc1\x00\x00\x00\x01\xf0\x00' > "$out/corpus-ts/seed.ts"
  head -c 171 /dev/zero | tr '\0' '\377' >> "$out/corpus-ts/seed.ts"
fi
for t in ${FUZZ_TARGETS:-ts tr101290 tskey sdp rtp fec config event web}; do
  corpus="$out/corpus-$t"; mkdir -p "$corpus"
  [ -d "Tests/Fuzz/corpus/$t" ] && cp -n Tests/Fuzz/corpus/$t/* "$corpus/" 2>/dev/null || true
  if [ -n "${FUZZ_RUNS:-}" ]; then budget=(-runs="$FUZZ_RUNS"); echo "fuzz $t: $FUZZ_RUNS runs"
  else budget=(-max_total_time="$secs"); echo "fuzz $t: ${secs}s"; fi
  set +e
  # fec: a few packets per input is enough to reach every recovery path, and the recovery buffer
  # scans all its slots after each packet, so 8 KiB inputs (hundreds of packets) ran at ≈ 600/s.
  maxlen=8192; [ "$t" = fec ] && maxlen=2048
  SWIFT_BACKTRACE=enable=no "$out/$t" "${budget[@]}" -max_len=$maxlen -print_final_stats=1 \
    -artifact_prefix="$out/$t-" "$corpus" > "$out/$t.log" 2>&1
  rc=$?
  set -e
  if [ $rc -eq 0 ] && { [ -n "${FUZZ_RUNS:-}" ] || [ -n "${FUZZ_MERGE:-}" ]; }; then
    # Keep what the campaign found, minimised, with the repository (the seed corpus of later runs).
    rm -rf "Tests/Fuzz/corpus/$t.new"; mkdir -p "Tests/Fuzz/corpus/$t.new"
    "$out/$t" -merge=1 -max_len=$maxlen "Tests/Fuzz/corpus/$t.new" "$corpus" > "$out/$t.merge.log" 2>&1
    # Hand-written seeds (named, not content hashes) stay as they are.
    for f in Tests/Fuzz/corpus/$t/*; do
      [ -f "$f" ] && ! basename "$f" | grep -qE '^[0-9a-f]{40}$' && cp "$f" "Tests/Fuzz/corpus/$t.new/"
    done
    rm -rf "Tests/Fuzz/corpus/$t"; mv "Tests/Fuzz/corpus/$t.new" "Tests/Fuzz/corpus/$t"
  fi
  grep -E "stat::number_of_executed_units|Done" "$out/$t.log" || true
  if [ $rc -ne 0 ]; then
    grep -vE "^\s+#" "$out/$t.log" | tail -20
    echo "fuzz $t FAILED (exit $rc); reproducer in $out/$t-crash-*"
    exit 1
  fi
done
echo "fuzz: all targets ran clean"
