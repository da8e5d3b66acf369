#!/usr/bin/env bash
# Ring benchmarks with the release binary: writer→reader wake latency across processes
# (futex wake, 1000 records/s for 20 s, reader sleeping between records), and throughput with
# 1080p I420 frames (3 110 400 bytes each; the reader copies every frame out).
set -euo pipefail
cd "$(dirname "$0")/../.."
R=${RILL:-.build/release/rill}
name=/rill.bench-$$
trap 'rm -f /dev/shm${name#/}*' EXIT

$R ring write --name $name --rate 1000 --records 21000 --bytes 64 --slots 256 > /dev/null &
sleep 0.5
$R ring read --name $name --start next --records 20000 --quiet true --seconds 40 | tail -1 > /tmp/ring-wake.json
wait
python3 - <<'PY'
import json; s = json.load(open("/tmp/ring-wake.json"))
print(f"ring wake latency (cross-process, futex): p50 {s['wakeP50Ns']/1000:.1f} µs, p99 {s['wakeP99Ns']/1000:.1f} µs, max {s['wakeMaxNs']/1000:.1f} µs over {s['records']} records, lost {s['lost']}")
PY
rm -f /dev/shm/${name#/}

# Unthrottled writer copying each frame in; one reader copying each frame out.
$R ring write --name $name --rate 0 --records 3000 --bytes 3110400 --slots 8 > /tmp/ring-tpw.json &
sleep 0.2
$R ring read --name $name --start next --records 0 --quiet true --seconds 15 | tail -1 > /tmp/ring-tp.json &
wait
python3 - <<'PY'
import json
w = [json.loads(l) for l in open("/tmp/ring-tpw.json") if '"done"' in l][0]
s = json.load(open("/tmp/ring-tp.json"))
ws = w['elapsedNs'] / 1e9; rs = s['elapsedNs'] / 1e9
print(f"ring throughput, 1080p I420 frames (3.1 MB): writer {w['written']/ws:.0f} frames/s ({w['written']*3110400/ws/1e9:.2f} GB/s), "
      f"reader {s['records']/rs:.0f} frames/s ({s['bytes']/rs/1e9:.2f} GB/s), {s['lost']} lapped by the unthrottled writer")
PY
