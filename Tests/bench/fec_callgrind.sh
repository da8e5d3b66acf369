#!/usr/bin/env bash
# Instructions per TS packet for RTP + SMPTE 2022-1 FEC (10×10, level B) packaging, Rill's
# (rill-bench rtpfec, what an rtp://…?fec=2022-1 output does per chunk) side by side with FFmpeg's
# `-c copy -f rtp_mpegts -fec prompeg=l=10:d=10`, on the same TS files, under valgrind callgrind.
# Each side runs on a short and a long file; the difference divided by the difference in TS
# packets removes start-up costs. Usage: Tests/bench/fec_callgrind.sh [seconds of the long file]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
out=.build/bench-fec; mkdir -p "$out"
swift build -c release --product rill-bench >/dev/null 2>&1
# Valgrind 3.19 cannot read the Swift 6 toolchain's DWARF ("possibly corrupted debuginfo"): it
# runs a stripped copy (totals need no symbols).
strip -o "$out/rill-bench" .build/release/rill-bench
make() {  # name seconds
  ffmpeg -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=25" -t "$2" -c:v libx264 -preset ultrafast -g 25 -b:v 4M \
    -maxrate 4M -bufsize 2M -f mpegts "$out/$1.ts"
}
[ -s "$out/short.ts" ] || make short 2
[ -s "$out/long-$secs.ts" ] || make "long-$secs" "$secs"
ir() {  # label command… → total instructions (Ir) of the whole program run
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.$1" "${@:2}" > "$out/$1.log" 2>&1
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out/$1.log"
}
packets() { echo $(( $(stat -c %s "$1") / 188 )); }
ps=$(packets "$out/short.ts"); pl=$(packets "$out/long-$secs.ts")
rs=$(ir rill-short "$out/rill-bench" rtpfec "$out/short.ts" 10 10)
rl=$(ir rill-long "$out/rill-bench" rtpfec "$out/long-$secs.ts" 10 10)
fs=$(ir ffmpeg-short ffmpeg -nostdin -v error -i "$out/short.ts" -c copy -f rtp_mpegts -fec prompeg=l=10:d=10 "rtp://127.0.0.1:9?pkt_size=1316")
fl=$(ir ffmpeg-long ffmpeg -nostdin -v error -i "$out/long-$secs.ts" -c copy -f rtp_mpegts -fec prompeg=l=10:d=10 "rtp://127.0.0.1:9?pkt_size=1316")
rill=$(( (rl - rs) / (pl - ps) )); ffmpeg=$(( (fl - fs) / (pl - ps) ))
echo "TS packets: short $ps, long $pl"
echo "Rill   RTP + 2022-1 10x10 level B: $rill instructions per TS packet"
echo "FFmpeg -c copy -f rtp_mpegts -fec prompeg=l=10:d=10: $ffmpeg instructions per TS packet"
awk -v r="$rill" -v f="$ffmpeg" 'BEGIN { printf "ratio Rill/FFmpeg: %.3f (goal ≤ 0.333)\n", r / f }'
