# Guest script of the mem2mem encoder test (M2MVMTests), run by Board/qemu-virt/run.sh as PID 1 of
# the virtual board. Inputs in the share (/tmp/out): rill-path, in.yuv (640x480 I420 from ffmpeg),
# pipeline.json (a box config; the guest fills in the capture and encoder nodes).
# For each of vicodec's two APIs (single-planar, then multiplanar=1): `rill encoder-check` encodes
# through the FWHT encoder node, and vicodec's decoder node, driven by v4l2-ctl (an independent
# client), decodes what came out. Results land in the share for the host to check.
O=/tmp/out
R=$(cat $O/rill-path)
# vicodec's nodes: the stateful encoder's CAPTURE queue offers FWHT; the decoder's OUTPUT queue does.
node() { for d in /dev/video*; do v4l2-ctl -d "$d" "$1" 2>/dev/null | grep -q "'FWHT'" && { echo "$d"; return; }; done; }
for api in sp mp; do
  step "$api"
  if [ $api = sp ]; then load vicodec || return 10; else rmmod vicodec && load vicodec multiplanar=1 || return 11; fi
  enc=$(node --list-formats); dec=$(node --list-formats-out)
  [ -n "$enc" ] && [ -n "$dec" ] || { ls -l /dev/video*; return 12; }
  $R encoder-check --device "$enc" --codec fwht --size 640x480 --fps 30 --frames 30 --gop 10 \
    --input $O/in.yuv --output $O/$api.fwht > $O/$api.json 2> $O/$api.err
  echo $? > $O/$api.rc
  v4l2-ctl -d "$dec" --set-fmt-video=pixelformat=YU12 --stream-mmap --stream-out-mmap \
    --stream-from $O/$api.fwht --stream-to $O/$api.yuv > $O/$api.decode 2>&1
  # Asking an FWHT-only encoder for H.264: a refusal naming the device and the codec.
  $R encoder-check --device "$enc" --codec h264 --size 640x480 --frames 3 > /dev/null 2> $O/$api-h264.err
  echo $? > $O/$api-h264.rc
done
$R encoder-check --device /dev/video99 --codec fwht --size 640x480 > /dev/null 2> $O/missing.err
echo $? > $O/missing.rc

step pipeline
# The box's chain with vicodec as the board's encoder (multiplanar, loaded above): vivid → vcap →
# raw ring → encode-video (mem2mem, FWHT) → coded ring → mux, which drops FWHT (its PMT declares
# H.264) and sends the audio. Beside the box, `rill ring read` copies both video rings; vicodec's
# decoder, driven by v4l2-ctl, decodes the coded one. vivid scales its 1280x720p30 HDMI input.
load vivid n_devs=1 node_types=0x1 num_inputs=1 input_types=0x3 || return 13
load snd-aloop || return 14
cap=$(for d in /dev/video*; do v4l2-ctl -d "$d" --info 2>/dev/null | grep -q "Driver name *: vivid" && echo "$d"; done | head -1)
[ -n "$cap" ] || { ls -l /dev/video*; return 15; }
v4l2-ctl -d "$cap" --set-dv-bt-timings width=1280,height=720,interlaced=0,polarities=3,pixelclock=74250000,hfp=1760,hs=40,hbp=220,vfp=5,vs=5,vbp=20 || return 16
enc=$(node --list-formats); dec=$(node --list-formats-out)
sed -e "s|@CAPTURE@|$cap|" -e "s|@ENCODER@|$enc|" $O/pipeline.json > /tmp/pipeline.json
mkdir -p /tmp/run
timeout 120 srt-live-transmit -q "udp://:5000" file://con > $O/pipeline.ts &
UDP=$!
$R run --config /tmp/pipeline.json > $O/pipeline.log 2>&1 &
BOX=$!
# Both video rings exist once vcap and the encoder run (slow to start under emulation).
for i in $(seq 1 600); do
  [ -e /dev/shm/rill.pipe.video.raw ] && [ -e /dev/shm/rill.pipe.video.coded ] && break
  sleep 0.1
done
# The raw copy starts first and ends after the coded one, so every coded unit's picture is in it;
# both copies run at SCHED_FIFO 99, above the box's real-time stages, so they keep up in the
# emulated guest (starting a process takes seconds there: the copies are timed by their records).
chrt -f 99 $R ring read --name /rill.pipe.video.raw --start next --records 0 --seconds 90 --payload-to /tmp/raw.yuv \
  > $O/pipeline-raw.jsonl &
RAW=$!
raw() { grep -c '"record"' $O/pipeline-raw.jsonl; }
until [ "$(raw)" -ge 15 ] || ! kill -0 $RAW 2>/dev/null; do sleep 0.05; done
chrt -f 99 $R ring read --name /rill.pipe.video.coded --start next --records 60 --seconds 60 --payload-to $O/pipeline.fwht \
  > $O/pipeline-coded.jsonl
# The last coded unit's picture was captured before it was encoded: 5 more raw frames are past it.
n=$(raw)
until [ "$(raw)" -ge $((n + 5)) ] || ! kill -0 $RAW 2>/dev/null; do sleep 0.05; done
kill -INT $RAW; wait $RAW
# The mux's refusal and a few seconds of audio on the wire.
for i in $(seq 1 100); do grep -q "cannot be carried" $O/pipeline.log && break; sleep 0.1; done
kill -INT $BOX; wait $BOX; echo $? > $O/pipeline.rc
kill $UDP; wait $UDP
cp /tmp/raw.yuv $O/pipeline-raw.yuv
v4l2-ctl -d "$dec" --set-fmt-video=pixelformat=YU12 --stream-mmap --stream-out-mmap \
  --stream-from $O/pipeline.fwht --stream-to $O/pipeline.yuv > $O/pipeline.decode 2>&1
return 0
