#!/usr/bin/env python3
"""Side by side in one run, same machine, same x264 settings: Rill's chain (test source → x264 →
native CBR mux → paced RTP) and FFmpeg (lavfi testsrc2 → libx264 → rtp_mpegts with muxrate).
Reports CPU seconds per minute of output (rusage of the whole process tree) and wire jitter
(tshark: PCR against arrival time, p99). Usage: Tests/bench/compare_ffmpeg.py [seconds]"""
import json, os, resource, signal, subprocess, sys, tempfile, time

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 60
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RILL = os.environ.get("RILL", os.path.join(ROOT, ".build/release/rill"))
X264 = dict(preset="veryfast", bitrate=4_000_000, keyint=50)
MUXRATE = 6_000_000

def capture(port, seconds, pcap):
    return subprocess.Popen(["tshark", "-q", "-i", "lo", "-f", f"udp dst port {port}", "-a", f"duration:{seconds}", "-w", pcap],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def jitter(port, pcap):
    out = subprocess.run(["tshark", "-r", pcap, "-d", f"udp.port=={port},rtp", "-T", "fields", "-e", "frame.time_epoch",
                          "-e", "mp2t.af.pcr", "-E", "occurrence=f"], capture_output=True, text=True).stdout
    pairs = [(float(t), int(p, 16) / 27e6) for t, p in (l.split("\t") for l in out.splitlines()) if p]
    if len(pairs) < 10: return float("nan"), len(pairs)
    t0, p0 = pairs[0]
    raw = [(t - t0) - (p - p0) for t, p in pairs]
    # Remove the linear trend (sender clock vs PCR rate), keep the jitter.
    n = len(raw); xs = [p - p0 for _, p in pairs]; mx = sum(xs) / n; my = sum(raw) / n
    k = sum((x - mx) * (y - my) for x, y in zip(xs, raw)) / max(sum((x - mx) ** 2 for x in xs), 1e-12)
    dev = sorted(abs(y - my - k * (x - mx)) for x, y in zip(xs, raw))
    return dev[int(0.99 * (n - 1))], n

def run(name, argv, port, stop):
    d = tempfile.mkdtemp()
    pcap = os.path.join(d, "cap.pcap")
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(5)  # let rate control settle before measuring the wire
    cap = capture(port, min(20, SECONDS - 8), pcap)
    time.sleep(SECONDS - 5)
    if stop: p.send_signal(signal.SIGTERM)
    _, status, ru = os.wait4(p.pid, 0)
    cap.wait()
    cpu = ru.ru_utime + ru.ru_stime
    p99, n = jitter(port, pcap)
    print(f"{name}: {cpu / SECONDS * 60:.1f} CPU s per minute of output, PCR-vs-arrival jitter p99 {p99 * 1e6:.0f} µs ({n} PCRs)")
    return cpu, p99

d = tempfile.mkdtemp()
cfg = os.path.join(d, "rill.json")
json.dump({"system": {"instance": f"cmp{os.getpid()}", "runDirectory": os.path.join(d, "run")},
           "source": {"type": "testsrc", "video": {"width": 1280, "height": 720, "fps": 50}},
           "encoders": {"video": {"codec": "h264", "bitrate": X264["bitrate"], "maxrate": X264["bitrate"],
                                  "bufsize": X264["bitrate"] // 4, "keyint": X264["keyint"], "preset": X264["preset"]},
                        "audio": {"codec": "aac", "bitrate": 128000}},
           "program": {"mode": "cbr", "muxrate": MUXRATE},
           "outputs": [{"id": "out", "url": "rtp://127.0.0.1:5400"}]}, open(cfg, "w"))
rill_cpu, rill_j = run("rill  ", [RILL, "run", "--config", cfg], 5400, stop=True)
ff = ["ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=50",
      "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000", "-t", str(SECONDS),
      "-c:v", "libx264", "-preset", X264["preset"], "-tune", "zerolatency", "-b:v", str(X264["bitrate"]),
      "-maxrate", str(X264["bitrate"]), "-bufsize", str(X264["bitrate"] // 4), "-g", str(X264["keyint"]),
      "-keyint_min", str(X264["keyint"]), "-sc_threshold", "0", "-x264-params", "nal-hrd=cbr:aud=1",
      "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-f", "rtp_mpegts", "-mpegts_muxer_options", f"muxrate={MUXRATE}",
      "rtp://127.0.0.1:5401"]
ff_cpu, ff_j = run("ffmpeg", ff, 5401, stop=False)
print(f"ratio rill/ffmpeg: CPU {rill_cpu / ff_cpu:.2f}, jitter p99 {rill_j / ff_j:.3f}")
