#!/usr/bin/env bash
# Soak: Tests/soak.sh HOURS [CSV]
#
# Runs the box for HOURS (a decimal: 0.17 is ten minutes) in a network namespace of its own — test
# source 640x360@25, x264, AAC, an RTP multicast output, an SRT listener output with one client
# (srt-live-transmit) and a recording (file://, split every 10 minutes) — and samples every process of
# the box (rilld and each stage it runs) every 10 s into CSV (default: soak-YYYYmmdd-HHMMSS.csv in the
# current directory): epoch, elapsed_s, process, pid, rss_kib (VmRSS), fds (/proc/PID/fd), threads.
# Then Tests/tools/trend.py fits each process's series over the second half of the run and fails on
# a positive trend beyond its tolerance (fds 1, threads 1, RSS 2048 KiB over the fitted span; set
# SOAK_FD_TOLERANCE, SOAK_THREAD_TOLERANCE, SOAK_RSS_TOLERANCE_KIB to change them) or on a stage that
# was restarted. Prints trend.py's JSON summary; exits 1 on a failure, 2 when it cannot run.
# Run it for 10 minutes at least: the mux's and senders' RSS climbs for about the first 4 minutes
# while the TS ring's pages are written (and read) for the first time (mux 38.6 -> 53.7 MB at this
# rate), and a shorter run fits that warm-up in its second half.
# Leaves no process, namespace or /dev/shm ring behind. Needs root; RILL_BINARY overrides
# .build/debug/rill.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
hours=${1:?usage: Tests/soak.sh HOURS [CSV]}
csv=${2:-$PWD/soak-$(date -u +%Y%m%d-%H%M%S).csv}
rill=$(realpath "${RILL_BINARY:-$root/.build/debug/rill}")
period=10
seconds=$(python3 -c "print(int(float('$hours') * 3600))")
[ "$(id -u)" = 0 ] || { echo "soak: needs root (network namespace)" >&2; exit 2; }
[ -x "$rill" ] || { echo "soak: $rill is not executable (build first)" >&2; exit 2; }
command -v srt-live-transmit >/dev/null || { echo "soak: srt-live-transmit missing" >&2; exit 2; }

tag=$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')
ns=rill-soak-$tag
instance=rill-soak-$tag
dir=$(mktemp -d "/tmp/rill-soak-$tag-XXXX")
box=""
client=""

cleanup() {
    set +e
    [ -n "$client" ] && kill "$client" 2>/dev/null
    if [ -n "$box" ] && kill -0 "$box" 2>/dev/null; then
        kill -TERM "$box"
        for _ in $(seq 50); do kill -0 "$box" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$box" 2>/dev/null
    fi
    wait 2>/dev/null
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
        echo "soak: left in the namespace: $(tr '\0' ' ' < /proc/$pid/cmdline)" >&2
        kill -KILL "$pid"
    done
    ip netns del "$ns" 2>/dev/null
    for ring in /dev/shm/rill."$instance".*; do
        [ -e "$ring" ] && { echo "soak: ring left behind: $ring" >&2; rm -f "$ring"; }
    done
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link set lo multicast on
ip -n "$ns" route add 224.0.0.0/4 dev lo
mkdir -p "$dir/rec"
cat > "$dir/config.json" <<EOF
{
  "system": { "instance": "$instance", "runDirectory": "$dir/run" },
  "source": { "type": "testsrc", "video": { "width": 640, "height": 360, "fps": 25 },
              "audio": { "sampleRate": 48000, "channels": 2 } },
  "encoders": { "video": { "codec": "h264", "bitrate": 1000000, "keyint": 25, "preset": "ultrafast" },
                "audio": { "codec": "aac", "bitrate": 128000 } },
  "program": { "serviceName": "Soak", "providerName": "Rill Tests", "mode": "vbr" },
  "outputs": [
    { "id": "rtp", "url": "rtp://239.255.51.1:5000?ttl=1" },
    { "id": "srt", "url": "srt://:9000?latency=120" },
    { "id": "rec", "url": "file://$dir/rec/\$output-\$datetime.ts?split=600" }
  ],
  "api": { "enabled": false }
}
EOF
ip netns exec "$ns" "$rill" run --config "$dir/config.json" > "$dir/box.log" 2>&1 &
box=$!

# The box's processes: rilld and its children (the stages), named as the supervisor names them.
processes() {
    echo "$box rilld"
    for stat in /proc/[0-9]*/stat; do
        { read -r line < "$stat"; } 2>/dev/null || continue  # processes come and go while we look
        rest=${line##*) }
        set -- $rest
        [ "$2" = "$box" ] || continue
        pid=${stat#/proc/}; pid=${pid%/stat}
        { mapfile -d '' args < "/proc/$pid/cmdline"; } 2>/dev/null || continue
        name=${args[2]:-?}
        if [ "$name" = send ]; then
            for i in "${!args[@]}"; do [ "${args[$i]}" = --output ] && name=send-${args[$((i + 1))]}; done
        fi
        echo "$pid $name"
    done
}

for _ in $(seq 150); do
    [ "$(processes | wc -l)" -ge 7 ] && grep -q "started send-srt" "$dir/box.log" && break
    kill -0 "$box" 2>/dev/null || { cat "$dir/box.log" >&2; exit 2; }
    sleep 0.2
done
ip netns exec "$ns" srt-live-transmit -q -a yes "srt://127.0.0.1:9000?latency=120" file://con > "$dir/srt.ts" 2>/dev/null &
client=$!
for _ in $(seq 100); do [ -s "$dir/srt.ts" ] && break; sleep 0.2; done
[ -s "$dir/srt.ts" ] || { echo "soak: the SRT client gets nothing" >&2; tail -20 "$dir/box.log" >&2; exit 2; }

echo "soak: $ns, $seconds s, $(processes | wc -l) processes, sampling every $period s into $csv" >&2
echo "epoch,elapsed_s,process,pid,rss_kib,fds,threads" > "$csv"
start=$(date +%s)
next=$start
while :; do
    now=$(date +%s)
    elapsed=$((now - start))
    [ "$elapsed" -le "$seconds" ] || break
    kill -0 "$box" 2>/dev/null || { echo "soak: rilld exited" >&2; tail -20 "$dir/box.log" >&2; exit 1; }
    while read -r pid name; do
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
        threads=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
        fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
        [ -n "$rss" ] && echo "$now,$elapsed,$name,$pid,$rss,$fds,$threads" >> "$csv"
    done < <(processes)
    next=$((next + period))
    sleep $((next - $(date +%s) > 0 ? next - $(date +%s) : 0))
done

srt_bytes=$(stat -c %s "$dir/srt.ts")
recordings=$(ls "$dir/rec" | wc -l)
restarts=$(grep -c "restart [0-9]* in" "$dir/box.log" || true)
echo "soak: done; SRT client received $srt_bytes bytes, $recordings recording files, $restarts stage restarts" >&2
status=0
python3 Tests/tools/trend.py "$csv" --from-fraction 0.5 \
    --fd-tolerance "${SOAK_FD_TOLERANCE:-1}" --thread-tolerance "${SOAK_THREAD_TOLERANCE:-1}" \
    --rss-tolerance-kib "${SOAK_RSS_TOLERANCE_KIB:-2048}" || status=$?
[ "$restarts" = 0 ] || { echo "soak: $restarts stage restarts:" >&2; grep "restart [0-9]* in" "$dir/box.log" >&2; status=1; }
exit $status
