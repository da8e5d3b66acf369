#!/usr/bin/env python3
"""SRT sender cost with the release binary: CPU % and RSS of the `send-srt` stage serving 1, 10 and
50 srt-live-transmit clients at ~6 Mb/s (CBR TS), and side by side in the same run,
srt-live-transmit relaying the same TS from UDP to one SRT client. Usage: Tests/bench/srt_clients.py [seconds]"""
import json, os, re, signal, subprocess, sys, tempfile, time

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RILL = os.environ.get("RILL", os.path.join(ROOT, ".build/release/rill"))
TICK = os.sysconf("SC_CLK_TCK")

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK  # utime + stime, seconds

def rss_kb(pid):
    return int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{pid}/status").read()).group(1))

def measure(pids):
    c0 = {p: cpu(p) for p in pids}
    time.sleep(SECONDS)
    return {p: (cpu(p) - c0[p]) / SECONDS * 100 for p in pids}

d = tempfile.mkdtemp()
cfg = os.path.join(d, "c.json")
json.dump({"system": {"instance": f"srtb{os.getpid()}", "runDirectory": os.path.join(d, "run")},
           "source": {"type": "testsrc", "video": {"width": 1280, "height": 720, "fps": 50}},
           "encoders": {"video": {"bitrate": 4000000, "preset": "ultrafast"}},
           "program": {"mode": "cbr", "muxrate": 6000000},
           "outputs": [{"id": "srt", "url": "srt://:9401"}, {"id": "udp", "url": "udp://127.0.0.1:9400"}]}, open(cfg, "w"))
log = open(os.path.join(d, "box.log"), "w")
box = subprocess.Popen([RILL, "run", "--config", cfg], stdout=log, stderr=log)
time.sleep(3)
sender = int(re.search(r"started send-srt \(pid (\d+)\)", open(os.path.join(d, "box.log")).read()).group(1))
relay = subprocess.Popen(["srt-live-transmit", "-q", "udp://:9400", "srt://:9402"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
clients = []
def add(n, port=9401):
    for _ in range(n):
        clients.append(subprocess.Popen(["srt-live-transmit", "-q", f"srt://127.0.0.1:{port}", "file://con"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
try:
    idle = rss_kb(sender)
    add(1)
    add(1, 9402)  # the relay's one client
    time.sleep(3)
    r = measure([sender, relay.pid])
    print(f"1 client:   rill send-srt {r[sender]:.2f} % CPU, RSS {rss_kb(sender)/1024:.1f} MB; "
          f"srt-live-transmit UDP→SRT relay {r[relay.pid]:.2f} % CPU, RSS {rss_kb(relay.pid)/1024:.1f} MB; CPU ratio rill/slt {r[sender]/max(r[relay.pid],1e-9):.2f}")
    prev = r[sender]
    for total in (10, 50):
        add(total - (len(clients) - 1))
        time.sleep(3)
        r = measure([sender])
        mem = rss_kb(sender)
        print(f"{total} clients: rill send-srt {r[sender]:.2f} % CPU ({r[sender]/total:.2f} % per client), "
              f"RSS {mem/1024:.1f} MB ({(mem - idle)/total/1024:.2f} MB per client over the idle {idle/1024:.1f} MB)")
finally:
    for c in clients: c.kill()
    relay.kill()
    box.send_signal(signal.SIGTERM); box.wait()
