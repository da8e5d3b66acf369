# Guest script of the mem2mem encoder test (M2MVMTests), run by Board/qemu-virt/run.sh as PID 1 of
# the virtual board. Inputs in the share (/tmp/out): rill-path, in.yuv (640x480 I420 from ffmpeg).
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
return 0
