#!/usr/bin/env bash
# Idle cost of rilld (supervisor + API) and the memory of every process while the box streams:
# test source 1280x720@50 → x264 veryfast 4 Mb/s + AAC → VBR TS → one RTP and one SRT listener
# output. Prints per process PSS without shared memory (the rings) and anonymous memory, the sum,
# and rilld's CPU over 10 s. Usage: Tests/bench/rss.sh [path/to/rill]   (default: release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
rill=${1:-.build/release/rill}
[ -x "$rill" ] || swift build -c release --product rill
dir=$(mktemp -d /tmp/rill-rss.XXXX)
cat > "$dir/rill.json" <<JSON
{ "system": {"instance": "rss", "runDirectory": "$dir/run"},
  "encoders": { "video": { "preset": "veryfast", "bitrate": 4000000 } },
  "outputs": [ {"id": "a", "url": "rtp://127.0.0.1:5302"}, {"id": "s", "url": "srt://:9302"} ],
  "api": {"port": 18090, "credentials": "$dir/cred.json"} }
JSON
"$rill" run --config "$dir/rill.json" > "$dir/log" 2>&1 &
box=$!
trap 'kill -TERM $box 2>/dev/null; wait $box 2>/dev/null || true' EXIT
sleep 20
total=0
printf '%-28s %10s %10s\n' process "PSS-shm kB" "anon kB"
for p in $box $(pgrep -P $box); do
  read -r pss anon < <(awk '/^Pss:/{p=$2}/^Pss_Shmem:/{s=$2}/^Pss_Anon:/{a=$2}END{print p-s, a}' /proc/$p/smaps_rollup)
  name=$(tr '\0' ' ' < /proc/$p/cmdline | awk '{print $2, $3}')
  printf '%-28s %10s %10s\n' "$name" "$pss" "$anon"
  total=$((total + pss))
done
echo "all processes, PSS excluding the rings: $total kB"
t1=$(awk '{print $14+$15}' /proc/$box/stat); sleep 10; t2=$(awk '{print $14+$15}' /proc/$box/stat)
echo "rilld CPU while streaming (API idle): $(( (t2 - t1) * 100 / $(getconf CLK_TCK) / 10 )).$(( (t2 - t1) * 1000 / $(getconf CLK_TCK) / 10 % 10 )) %"
