# Guest script of the capture acceptance test (CaptureVMTests), run by Board/qemu-virt/run.sh as
# PID 1 of the virtual board. Inputs in the share (/tmp/out): rill-path, hd.json, long.json,
# bad.json, change.json, nv12.json, yuv420.json, tone.wav. Everything it produces lands there for the host to check.
# Sized for TCG on 2 host cores (≈ 2.5 min): only the hd run asks for 1280x720 (x264 cannot keep
# up there under emulation, and nothing measured on it depends on timing); the timed runs use a
# raster the emulated guest keeps up with, and their stage statistics are kept for the host.
O=/tmp/out
R=$(cat $O/rill-path)
step modules
load vivid n_devs=1 node_types=0x1 num_inputs=1 input_types=0x3 || return 10
load snd-aloop pcm_substreams=2 || return 11
# vivid's HDMI input receives CEA-861 1280x720p30 (74.25 MHz, 3300x750 total).
v4l2-ctl -d /dev/video0 --set-dv-bt-timings width=1280,height=720,interlaced=0,polarities=3,pixelclock=74250000,hfp=1760,hs=40,hbp=220,vfp=5,vs=5,vbp=20 || return 12
mkdir -p /tmp/run
step devices
$R devices > $O/devices.json 2> $O/devices.err || return 13
step unsupported format
$R stage vcap --config $O/bad.json > $O/bad.log 2>&1; echo $? > $O/bad.rc
# The tone plays into the loopback for the whole session (aloop captures silence otherwise).
timeout 400 aplay -q -D hw:Loopback,0,0 $O/tone.wav &
step hd run
timeout 60 srt-live-transmit -q "udp://:5000" file://con > $O/hd.ts &
UDP=$!
timeout -s INT 14 $R run --config $O/hd.json > $O/hd.log 2>&1
cp /tmp/run/hd/stats/source.json $O/hd-source.json 2>/dev/null
kill $UDP; wait $UDP
step long run
timeout 120 srt-live-transmit -q "udp://:5001" file://con > $O/long.ts &
UDP=$!
$R run --config $O/long.json > $O/long.log 2>&1 &
BOX=$!
sleep 35  # ≥ 50 s of PTS between start-up (slow under TCG) and shutdown
step disconnect
v4l2-ctl -d /dev/video0 -c disconnect=1 || echo "disconnect control failed"
sleep 30
# Every stage's counters (drops, xruns, lost frames): whether the guest kept up.
for f in /tmp/run/long/stats/*.json; do cp "$f" "$O/long-$(basename "$f")"; done
kill -INT $BOX; wait $BOX; echo "box exit $?"
sleep 1; kill $UDP; wait $UDP
step pixel formats
# vcap's other raw formats that vivid offers (NV12 and YUV420; it has no MJPEG), each through the
# whole chain like the hd run, at the long run's raster so the host can compare the pictures;
# after the timed runs, which keep the boot's early, quiet part to themselves.
port=5004
for fmt in nv12 yuv420; do
  timeout 60 srt-live-transmit -q "udp://:$port" file://con > $O/$fmt.ts &
  UDP=$!
  timeout -s INT 20 $R run --config $O/$fmt.json > $O/$fmt.log 2>&1
  kill $UDP; wait $UDP
  port=$((port + 1))
done
step source change
# A receiver that cannot scale (vivid ccs_cap_mode=0) sees 640x480p59.94, then 720x576p50: vcap
# follows the source, and the change reaches the TS as a new geometry (x264 reopened at an IDR).
rmmod vivid && load vivid n_devs=1 node_types=0x1 num_inputs=1 input_types=0x3 ccs_cap_mode=0 || return 14
v4l2-ctl -d /dev/video0 -c dv_timings_signal_mode=4 -c dv_timings=0 || return 15
timeout 60 srt-live-transmit -q "udp://:5003" file://con > $O/change.ts &
UDP=$!
$R run --config $O/change.json > $O/change.log 2>&1 &
BOX=$!
sleep 8
v4l2-ctl -d /dev/video0 -c dv_timings=4 || echo "dv_timings control failed"
sleep 8
kill -INT $BOX; wait $BOX
sleep 1; kill $UDP; wait $UDP
step done
return 0
