#!/usr/bin/env bash
# Whole-chain latency and pacing with the release binary: test source 1280x720@50 → x264
# (veryfast, zerolatency) + AAC → VBR (or CBR) mux → paced RTP to 127.0.0.1, for $SECONDS_RUN s.
# Reads the output's statistics: capture→wire, encoder output→wire (everything outside x264),
# send time − deadline.
set -euo pipefail
cd "$(dirname "$0")/../.."
R=${RILL:-.build/release/rill}
MODE=${1:-vbr}
SECONDS_RUN=${SECONDS_RUN:-30}
dir=$(mktemp -d)
program='"mode": "vbr"'
[ "$MODE" = cbr ] && program='"mode": "cbr", "muxrate": 6000000'
cat > $dir/config.json <<JSON
{ "system": { "instance": "bench$$", "runDirectory": "$dir/run" },
  "source": { "type": "testsrc", "video": { "width": 1280, "height": 720, "fps": 50 } },
  "encoders": { "video": { "codec": "h264", "bitrate": 4000000, "keyint": 50, "preset": "veryfast" },
                "audio": { "codec": "aac", "bitrate": 128000 } },
  "program": { $program },
  "outputs": [ { "id": "out", "url": "rtp://127.0.0.1:5300" } ] }
JSON
$R run --config $dir/config.json > $dir/log.txt 2>&1 &
B=$!
sleep "$SECONDS_RUN"
kill -TERM $B; wait $B || true
python3 - "$dir/run/bench$$/stats/out.json" "$MODE" <<'PY'
import json, sys; s = json.load(open(sys.argv[1])); m = sys.argv[2].upper()
us = lambda h, k: h[k] / 1000
c, e, p = s["captureToWire"], s["encodedToWire"], s["pacing"]
print(f"{m} capture→wire: p50 {us(c,'p50Ns')/1000:.2f} ms, p99 {us(c,'p99Ns')/1000:.2f} ms ({c['count']} chunks)")
print(f"{m} encoder output→wire (outside x264): p50 {us(e,'p50Ns'):.0f} µs, p99 {us(e,'p99Ns'):.0f} µs, max {us(e,'maxNs'):.0f} µs")
print(f"{m} pacing (send − deadline): p50 {us(p,'p50Ns'):.0f} µs, p99 {us(p,'p99Ns'):.0f} µs, max {us(p,'maxNs'):.0f} µs over {p['count']} datagrams")
PY
rm -rf "$dir"
