# Guest script of the ALSA capture test (AudioCaptureVMTests), run by Board/qemu-virt/run.sh as
# PID 1 of the virtual board. Inputs in the share (/tmp/out): rill-path, s24.json, s32.json,
# xrun.json, tone-s24.raw (S24_3LE) and tone-s32.raw (S32_LE): stereo 48 kHz, 1 kHz at -6 dBFS
# left, 1.5 kHz at -12 dBFS right. Everything it produces lands in the share for the host to check.
# Sized for TCG on 2 host cores (≈ 1.5 min): 320x180 video, SMPTE 302M audio (no float codec).
O=/tmp/out
R=$(cat $O/rill-path)
step modules
# vcap needs a device (a capture source has video): vivid's HDMI input, 1280x720p30, scaled down.
load vivid n_devs=1 node_types=0x1 num_inputs=1 input_types=0x3 || return 10
load snd-aloop pcm_substreams=2 || return 11
v4l2-ctl -d /dev/video0 --set-dv-bt-timings width=1280,height=720,interlaced=0,polarities=3,pixelclock=74250000,hfp=1760,hs=40,hbp=220,vfp=5,vs=5,vbp=20 || return 12
mkdir -p /tmp/run
# srt-live-transmit (the receiver) reads its UDP socket slowly under emulation: a burst after the
# overrun must not overflow the kernel's default receive buffer (that loss would not be acap's).
sysctl -qw net.core.rmem_default=8388608 net.core.rmem_max=8388608
# play FORMAT FILE: the tone into the loopback's playback side in FORMAT, so the capture side
# (which aloop ties to the playback's parameters) delivers exactly that format; sets $PLAYER.
play() {
    timeout 120 aplay -q -D hw:Loopback,0,0 -t raw -f "$1" -r 48000 -c 2 "$2" &
    PLAYER=$!
    sleep 0.5
}
# started NAME: waits (≤ 30 s: start-up is slow under TCG) until acap has published audio.
started() {
    i=0
    until grep -qs '"frames":[1-9]' /tmp/run/$1/stats/audio-source.json || [ $i -ge 60 ]; do sleep 0.5; i=$((i + 1)); done
}
# Format runs: acap opens hw:Loopback,1,0 in S24_3LE, then S32_LE (aloop offers both natively).
port=5010
for fmt in s24:S24_3LE s32:S32_LE; do
    name=${fmt%%:*}
    step "$name run"
    play "${fmt#*:}" $O/tone-$name.raw
    timeout 60 srt-live-transmit -q "udp://:$port" file://con > $O/$name.ts &
    UDP=$!
    $R run --config $O/$name.json > $O/$name.log 2>&1 &
    BOX=$!
    started $name
    sleep 8
    cp /tmp/run/$name/stats/audio-source.json $O/$name-audio-source.json 2>/dev/null
    kill -INT $BOX; wait $BOX
    sleep 1; kill $UDP $PLAYER; wait $UDP; wait $PLAYER
    port=$((port + 1))
done
step xrun run
# An overrun on purpose: acap is stopped (SIGSTOP) for half a second, far longer than its ALSA
# buffer (8 periods of 10 ms), then continued; the box must not restart it.
play S32_LE $O/tone-s32.raw
timeout 90 srt-live-transmit -q "udp://:$port" file://con > $O/xrun.ts &
UDP=$!
$R run --config $O/xrun.json > $O/xrun.log 2>&1 &
BOX=$!
started xrun
# acap's counters once a second through the run (clock fit, xruns, silence), for the host's report.
(while :; do echo "$(cut -d' ' -f1 /proc/uptime) $(cat /tmp/run/xrun/stats/audio-source.json 2>/dev/null)"; sleep 1; done) > $O/xrun-stats.log 2>&1 &
STATS=$!
sleep 4  # tone before the gap
cp /tmp/run/xrun/stats/audio-source.json $O/xrun-before.json 2>/dev/null
ACAP=$(sed -n 's/.*started acap (pid \([0-9]*\)).*/\1/p' $O/xrun.log | head -1)
echo "acap pid $ACAP"
if [ -n "$ACAP" ]; then
    # Shell builtins around the stop (read, kill): the window is the time acap was stopped. Half a
    # second: far beyond the buffer, far below the supervisor's 3 s heartbeat limit even when
    # emulation makes `sleep` itself slow.
    read -r t0 _ < /proc/uptime
    kill -STOP "$ACAP"
    sleep 0.5
    kill -CONT "$ACAP"
    read -r t1 _ < /proc/uptime
    echo "$t0 $t1" > $O/xrun-stop.txt
fi
sleep 6
kill -0 "$ACAP" 2>/dev/null && echo "$ACAP" > $O/xrun-alive.txt
cp /tmp/run/xrun/stats/audio-source.json $O/xrun-audio-source.json 2>/dev/null
kill $STATS; wait $STATS
kill -INT $BOX; wait $BOX; echo "box exit $?"
sleep 1; kill $UDP $PLAYER; wait $UDP; wait $PLAYER
step done
return 0
