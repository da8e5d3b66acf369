#!/usr/bin/env python3
"""Chaos campaign: kill -9 a random stage of a running box every 5-20 s while independent receivers
watch, and check that the box heals every time.

The box (`rill run`, test source 640x360@25, x264 keyint 25, AAC) runs in a network namespace of its
own with four outputs, each watched by a peer that is not our code:
  rtp   rtp://239.255.50.1:5000 (multicast on lo)                 -> tshark captures it
  srt   srt://:9000 (listener)  -> srt-live-transmit (caller, auto-reconnect) -> udp 239.255.50.2:5100 -> tshark
  rist  rist://127.0.0.1:8000 (Main profile caller) -> ristreceiver -> udp 239.255.50.3:5200 -> tshark
  rec   file://DIR/rec/$output-$datetime.ts (a recording; a restarted recorder starts a new file)
One tshark capture on the namespace's lo holds every relayed datagram with its arrival time.

Every 5-20 s (uniformly random) a stage is drawn from a shuffled bag of all the box's stages (so
every stage is hit once before any is hit twice) and SIGKILLed. Afterwards:
  - outage: for each receiver, every interval between consecutive decoded pictures by arrival time
    (of the datagram holding the picture) and by PTS, and every audio PTS interval (ffprobe decodes
    the TS reassembled from the capture); each must be <= --max-outage (1.5 s). One exception: after
    a kill of send-srt itself the SRT caller only notices the dead peer through libsrt's dead-peer
    detection (more than 16 timer expirations, about 5 s; srt-live-transmit 1.5's peeridletimeo does
    not shorten it), so that outage is held to --srt-own-kill-outage (6.5 s) and reported apart;
  - after every PTS gap the first decoded picture is a keyframe (the stream resumes at an IDR); each
    recording file starts with one;
  - continuity: tshark's mp2t fields (pid, cc, afc, af.length, af.di) per TS packet: a CC jump is
    allowed only on a packet whose discontinuity_indicator is set;
  - the supervisor never gives up: no stage ever "failed" in GET /api/v1/status, no "giving up" in
    its log, every killed stage running again under a new pid;
  - rilld's open fds, threads and VmRSS sampled every 10 s: the least-squares growth over the
    chaos period must stay within a small tolerance;
  - the box stops on SIGTERM, and nothing is left behind: no process in the namespace, no
    /dev/shm/rill.<instance>.* ring.
A JSON summary goes to stdout (also to --json FILE); progress to stderr. Exit status 1 when any check
fails (the summary's "failures" names each), 2 when the run could not be set up.

Needs root (network namespace, capture on lo), tshark, srt-live-transmit, ristreceiver, ffprobe.
Usage: Tests/chaos.py [--minutes 10] [--seed N] [--rill .build/debug/rill] [--json out.json]"""
import argparse
import bisect
import glob
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tools"))
import trend  # noqa: E402

MAX_OUTAGE_S = 1.5  # the campaign's limit for any outage a receiver sees
SRT_OWN_KILL_OUTAGE_S = 6.5  # the SRT caller's dead-peer detection (libsrt, about 5 s) + 1.5 s
OUTAGE_REPORT_S = 0.2  # intervals between pictures (or audio frames) listed in the summary
KILL_INTERVAL_S = (5.0, 20.0)  # a kill every 5-20 s
SAMPLE_PERIOD_S = 10.0  # rilld's fds/threads/RSS
STATUS_PERIOD_S = 1.0  # GET /api/v1/status
RESTART_POLL_S = 0.1  # GET /api/v1/status while a killed stage is not back
FPS = 25
VIDEO_TICKS = 90_000 // FPS  # PTS ticks per picture (90 kHz, ISO/IEC 13818-1 2.4.3.7)
AUDIO_TICKS = 1024 * 90_000 // 48_000  # one AAC-LC frame (1024 samples at 48 kHz) in 90 kHz ticks
TS_PACKET = 188  # ISO/IEC 13818-1 2.4.3.2
NULL_PID = 0x1FFF
API_PORT = 8080
RTP_PORT, SRT_RELAY_PORT, RIST_RELAY_PORT = 5000, 5100, 5200
SRT_PORT, RIST_PORT = 9000, 8000
# Tolerated fitted growth of rilld over the chaos period.
FD_TOLERANCE = 2.0
THREAD_TOLERANCE = 2.0
RSS_TOLERANCE_KIB = 4096.0


def log(msg):
    print(f"[chaos {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class SetupError(Exception):
    pass


class Chaos:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        tag = uuid.uuid4().hex[:6]
        self.ns = f"rill-chaos-{tag}"
        self.instance = f"rill-chaos-{tag}"
        self.dir = tempfile.mkdtemp(prefix=f"rill-chaos-{tag}-")
        self.procs = {}  # name -> Popen
        self.logs = []
        self.rilld = None
        self.kills = []  # {"t", "stage", "pid", "restartedAfterS"}
        self.samples = []  # (t, fds, threads, rss_kib)
        self.failed_seen = set()
        self.failures = []
        self.stop_seconds = None
        self.stop_status = None

    # ---- set-up -------------------------------------------------------------------------------

    def sh(self, cmd, check=True, timeout=30):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise SetupError(f"{' '.join(cmd)}: {r.stderr.strip()}")
        return r

    def in_ns(self, cmd):
        return ["ip", "netns", "exec", self.ns] + cmd

    def spawn(self, name, cmd):
        path = os.path.join(self.dir, f"{name}.log")
        f = open(path, "wb")
        self.logs.append(f)
        p = subprocess.Popen(self.in_ns(cmd), stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.procs[name] = p
        return p

    def make_namespace(self):
        for cmd in (["ip", "netns", "add", self.ns], ["ip", "-n", self.ns, "link", "set", "lo", "up"],
                    ["ip", "-n", self.ns, "link", "set", "lo", "multicast", "on"],
                    ["ip", "-n", self.ns, "route", "add", "224.0.0.0/4", "dev", "lo"]):
            self.sh(cmd)

    def config(self):
        rec = os.path.join(self.dir, "rec")
        outputs = [
            {"id": "rtp", "url": f"rtp://239.255.50.1:{RTP_PORT}?ttl=1"},
            {"id": "srt", "url": f"srt://:{SRT_PORT}?latency=120"},
            {"id": "rist", "url": f"rist://127.0.0.1:{RIST_PORT}?profile=main"},
            {"id": "rec", "url": f"file://{rec}/$output-$datetime.ts"},
        ]
        return {
            "system": {"instance": self.instance, "runDirectory": os.path.join(self.dir, "run")},
            "source": {"type": "testsrc", "video": {"width": 640, "height": 360, "fps": FPS},
                       "audio": {"sampleRate": 48000, "channels": 2}},
            "encoders": {"video": {"codec": "h264", "bitrate": 1_000_000, "keyint": FPS, "preset": "ultrafast"},
                         "audio": {"codec": "aac", "bitrate": 128000}},
            "program": {"serviceName": "Chaos", "providerName": "Rill Tests", "mode": "vbr"},
            "outputs": outputs,
            "events": [],
            "api": {"port": API_PORT, "credentials": os.path.join(self.dir, "credentials.json"),
                    "authOnLocalhost": False},
        }

    def status(self):
        """GET /api/v1/status inside the namespace, or None."""
        try:
            r = subprocess.run(self.in_ns(["curl", "-s", "-m", "3", f"http://127.0.0.1:{API_PORT}/api/v1/status"]),
                               capture_output=True, text=True, timeout=10)
            return json.loads(r.stdout) if r.returncode == 0 else None
        except (subprocess.TimeoutExpired, json.JSONDecodeError):
            return None

    def start(self):
        self.make_namespace()
        os.makedirs(os.path.join(self.dir, "rec"))
        cfg = os.path.join(self.dir, "config.json")
        with open(cfg, "w") as f:
            json.dump(self.config(), f, indent=1)
        # The capture first: every receiver's first datagram lands in it.
        ports = " or ".join(f"dst port {p}" for p in (RTP_PORT, SRT_RELAY_PORT, RIST_RELAY_PORT))
        self.pcap = os.path.join(self.dir, "capture.pcap")
        self.spawn("tshark", ["tshark", "-q", "-i", "lo", "-B", "32", "-F", "pcap", "-f", f"udp and ({ports})",
                              "-w", self.pcap])
        if not wait(15, lambda: os.path.exists(self.pcap) and os.path.getsize(self.pcap) >= 24):
            raise SetupError("tshark did not start capturing: " + self.read_log("tshark"))
        self.rilld = self.spawn("rilld", [self.args.rill, "run", "--config", cfg])
        self.stages = []

        def all_running():
            s = self.status()
            if not s:
                return False
            self.stages = [st["name"] for st in s.get("stages", [])]
            return bool(self.stages) and all(st["state"] == "running" and st["pid"] > 0 for st in s["stages"])
        if not wait(30, all_running):
            raise SetupError("the box did not come up: " + self.read_log("rilld")[-2000:])
        self.spawn("srt-live-transmit", ["srt-live-transmit", "-q", "-a", "yes",
                                         f"srt://127.0.0.1:{SRT_PORT}?latency=120&peeridletimeo=1000",
                                         f"udp://239.255.50.2:{SRT_RELAY_PORT}?ttl=1"])
        self.spawn("ristreceiver", ["ristreceiver", "-p", "1", "-S", "0", "-i",
                                    f"rist://@127.0.0.1:{RIST_PORT}?buffer=500",
                                    "-o", f"udp://239.255.50.3:{RIST_RELAY_PORT}"])

        def flowing():
            counts = datagram_counts(self.pcap)
            recs = glob.glob(os.path.join(self.dir, "rec", "*.ts"))
            return all(counts.get(p, 0) > 200 for p in (RTP_PORT, SRT_RELAY_PORT, RIST_RELAY_PORT)) and \
                any(os.path.getsize(r) > 100_000 for r in recs)
        if not wait(30, flowing):
            raise SetupError(f"not every receiver gets the stream: datagrams per port {datagram_counts(self.pcap)}; "
                             f"recordings {glob.glob(os.path.join(self.dir, 'rec', '*'))}")
        log(f"box up in {self.ns}: stages {', '.join(self.stages)}; every receiver gets the stream")

    def read_log(self, name):
        try:
            with open(os.path.join(self.dir, f"{name}.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    # ---- the campaign -----------------------------------------------------------------------------

    def observe(self, now):
        """One status poll: failed stages, restarts of killed stages."""
        s = self.status()
        if not s:
            return
        for st in s.get("stages", []):
            if st["state"] == "failed" and st["name"] not in self.failed_seen:
                self.failed_seen.add(st["name"])
                log(f"supervisor gave up on {st['name']}: {st.get('lastExit')}")
            for k in self.kills:
                if k["stage"] == st["name"] and k["restartedAfterS"] is None and st["pid"] not in (0, k["pid"]) \
                        and st["state"] == "running":
                    k["restartedAfterS"] = round(now - k["t"], 3)
                    k["newPid"] = st["pid"]
        return s

    def sample(self, now):
        v = trend.sample(self.rilld.pid)
        if v:
            self.samples.append((now, *v))

    def is_stage_of_box(self, pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            return ppid == self.rilld.pid
        except (FileNotFoundError, IndexError, ValueError):
            return False

    def campaign(self):
        seconds = self.args.minutes * 60
        start = time.time()
        end = start + seconds
        self.chaos_start = start
        bag = []
        next_sample = start
        next_kill = start + self.rng.uniform(*KILL_INTERVAL_S)
        last = None
        while True:
            now = time.time()
            if now >= next_sample:
                self.sample(now)
                next_sample += SAMPLE_PERIOD_S
            last = self.observe(now) or last
            if self.rilld.poll() is not None:
                self.failures.append(f"rilld exited during the campaign (status {self.rilld.returncode})")
                return
            if now >= end:
                break
            if now >= next_kill and last:
                if not bag:
                    bag = list(self.stages)
                    self.rng.shuffle(bag)
                stage = bag.pop()
                st = next((x for x in last["stages"] if x["name"] == stage), None)
                if st and st["pid"] > 0 and st["state"] == "running" and self.is_stage_of_box(st["pid"]):
                    os.kill(st["pid"], signal.SIGKILL)
                    self.kills.append({"t": time.time(), "stage": stage, "pid": st["pid"], "restartedAfterS": None})
                    log(f"kill -9 {stage} (pid {st['pid']}), kill {len(self.kills)}")
                else:
                    log(f"{stage} not running at its turn ({st and st['state']}); skipped")
                next_kill = time.time() + self.rng.uniform(*KILL_INTERVAL_S)
            # Poll fast while a killed stage is not back yet (its restart time), else once a second.
            period = RESTART_POLL_S if any(k["restartedAfterS"] is None for k in self.kills[-1:]) else STATUS_PERIOD_S
            time.sleep(max(0.0, min(period - (time.time() - now), next_kill - time.time())))
        # A quiet tail: the last kill heals inside the capture.
        tail_end = time.time() + 10
        while time.time() < tail_end:
            self.observe(time.time())
            time.sleep(STATUS_PERIOD_S)
        self.sample(time.time())
        self.chaos_end = time.time()

    def stop(self):
        for name in ("srt-live-transmit", "ristreceiver"):
            stop_process(self.procs.get(name), signal.SIGTERM)
        # Let the last datagrams land, then end the capture so the pcap is complete.
        time.sleep(0.5)
        stop_process(self.procs.get("tshark"), signal.SIGINT, grace=10)
        t0 = time.time()
        self.stop_status = stop_process(self.rilld, signal.SIGTERM, grace=5)
        self.stop_seconds = round(time.time() - t0, 3)

    def cleanup(self):
        """Kills whatever is left in our namespace (by pid), deletes it and the instance's rings;
        returns what it had to clean up (none is expected after an orderly stop)."""
        left = {"processes": [], "rings": []}
        try:
            # What is still exiting after an orderly stop (tshark's dumpcap child after its parent's
            # SIGINT) gets up to 3 s to finish by itself before it counts as left behind.
            deadline = time.time() + 3
            while True:
                r = subprocess.run(["ip", "netns", "pids", self.ns], capture_output=True, text=True, timeout=10)
                if not r.stdout.split() or time.time() >= deadline:
                    break
                time.sleep(0.1)
            for pid in r.stdout.split():
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        left["processes"].append(f.read().replace(b"\0", b" ").decode(errors="replace").strip())
                    os.kill(int(pid), signal.SIGKILL)
                except (FileNotFoundError, ProcessLookupError):
                    pass
        except subprocess.TimeoutExpired:
            pass
        for p in self.procs.values():
            stop_process(p, signal.SIGKILL, grace=2)
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True, timeout=10)
        for ring in glob.glob(f"/dev/shm/rill.{self.instance}.*"):
            left["rings"].append(os.path.basename(ring))
            try:
                os.unlink(ring)
            except FileNotFoundError:
                pass
        for f in self.logs:
            f.close()
        return left

    # ---- analysis ---------------------------------------------------------------------------------

    def kill_causing(self, start, end):
        """The kill an outage from `start` to `end` (arrival times) follows: the first one at or after
        the last picture before it (a kill just before that picture still counts), so a later kill
        of another stage while the stream is still down is not blamed for it; "stage@seconds"."""
        k = [k for k in self.kills if start - 0.5 <= k["t"] <= end + 0.05]
        return f"{k[0]['stage']}@{k[0]['t'] - self.chaos_start:.1f}s" if k else self.kill_before(end)

    def kill_before(self, t, window=8.0):
        """The kill that an event at time t follows (within `window` s), as "stage@seconds"."""
        k = [k for k in self.kills if k["t"] <= t + 0.05 and t - k["t"] <= window]
        return f"{k[-1]['stage']}@{k[-1]['t'] - self.chaos_start:.1f}s" if k else None

    def encoder_lost_frames(self):
        """Raw pictures the video encoder reported skipping ("fell behind the source: N frames lost":
        it read the raw ring after the writer had overwritten them, e.g. on a starved CPU). The coded
        stream stays whole across such a skip (the next picture is predicted from the last one coded),
        so a PTS jump it explains is not an outage."""
        try:
            with open(os.path.join(self.dir, "rilld.log"), errors="replace") as f:
                return sum(int(m.group(1)) for m in re.finditer(r"encode-video: fell behind the source: (\d+) frames lost", f.read()))
        except OSError:
            return 0

    def analyse(self):
        self.lost_by_encoder = self.encoder_lost_frames()
        self.skip_pts = set()
        payloads = split_capture(self.pcap, {RTP_PORT: True, SRT_RELAY_PORT: False, RIST_RELAY_PORT: False})
        cc = tshark_continuity(self.pcap)
        receivers = {}
        for name, port in (("rtp", RTP_PORT), ("srt", SRT_RELAY_PORT), ("rist", RIST_RELAY_PORT)):
            times, offsets, data = payloads.get(port, ([], [], b""))
            ts = os.path.join(self.dir, f"{name}.ts")
            with open(ts, "wb") as f:
                f.write(data)
            r = self.media_report(name, ts, times, offsets)
            r["datagrams"] = len(times)
            gaps = [b - a for a, b in zip(times, times[1:])]
            r["maxDatagramGapS"] = round(max(gaps), 3) if gaps else None
            c = cc.get(port, {})
            r["continuity"] = self.continuity_report(name, c)
            receivers[name] = r
        receivers["rec"] = self.recording_report()
        return receivers

    def media_report(self, name, ts, times, offsets):
        """Decoded pictures and audio frames of one received TS: outages by arrival and PTS, and
        whether every PTS gap resumes at a keyframe."""
        video, audio = ffprobe_frames(ts)
        r = {"pictures": len(video), "audioFrames": len(audio)}
        if len(video) < 2:
            self.failures.append(f"{name}: only {len(video)} pictures decoded from what it received")
            return r
        arrival = [times[max(0, bisect.bisect_right(offsets, pos) - 1)] if pos >= 0 and times else None
                   for _, _, pos in video]
        # Every interval between consecutive pictures longer than OUTAGE_REPORT_S, by arrival or PTS.
        outages = []
        for i in range(1, len(video)):
            by_arrival = arrival[i] - arrival[i - 1] if arrival[i] is not None and arrival[i - 1] is not None else 0.0
            by_pts = (video[i][0] - video[i - 1][0]) / 90_000
            if max(by_arrival, by_pts) > OUTAGE_REPORT_S:
                t = arrival[i] if arrival[i] is not None else None
                start = arrival[i - 1] if arrival[i - 1] is not None else (t - max(by_arrival, by_pts) if t else None)
                outages.append({"seconds": round(max(by_arrival, by_pts), 3), "byArrivalS": round(by_arrival, 3),
                                "byPtsS": round(by_pts, 3), "resumesAtKeyframe": video[i][1],
                                "after": self.kill_causing(start, t) if t else None, "_pts": video[i][0], "_gap": by_pts > VIDEO_TICKS * 1.5 / 90_000 or by_pts <= 0})
        # Audio: intervals by PTS, named by the video picture arriving next.
        video_pts = [v[0] for v in video]
        for g in pts_gaps(audio, AUDIO_TICKS):
            if g["seconds"] > OUTAGE_REPORT_S:
                j = min(bisect.bisect_left(video_pts, audio[g["index"]][0]), len(video) - 1)
                t = arrival[j]
                # t is the arrival of the next picture after the gap, which can be up to a second
                # (a GOP's worth of waiting for a keyframe) after the audio resumed: start earlier.
                outages.append({"seconds": g["seconds"], "audio": True,
                                "after": self.kill_causing(t - g["seconds"] - 1.0, t) if t else None})
        gaps = [o for o in outages if o.get("_gap")]
        not_key = [o for o in gaps if not o["resumesAtKeyframe"]]
        # A PTS jump while pictures kept arriving (no arrival gap) is the encoder skipping raw pictures
        # it could not keep up with: decodable, and accepted only up to the frames it said it lost.
        skips = [o for o in not_key if o["byArrivalS"] <= 2 * VIDEO_TICKS / 90_000 and o["byPtsS"] > 0]
        skipped = sum(round(o["byPtsS"] * 90_000 / VIDEO_TICKS) - 1 for o in skips)
        if skips and skipped <= self.lost_by_encoder:
            not_key = [o for o in not_key if o not in skips]
            self.skip_pts.update(o["_pts"] for o in skips)
        r["encoderSkips"] = {"gaps": len(skips), "frames": skipped, "reportedByEncoder": self.lost_by_encoder}

        def limit(o):
            # A caller cannot tell a killed SRT listener from a slow one before libsrt's dead-peer
            # detection (> 16 expirations, about 5 s, whatever peeridletimeo says) gives up.
            own = o["after"] and o["after"].split("@")[0] == f"send-{name}"
            return self.args.srt_own_kill_outage if name == "srt" and own else self.args.max_outage
        over = [o for o in outages if o["seconds"] > limit(o)]
        judged = [o for o in outages if limit(o) == self.args.max_outage]
        r["maxOutageS"] = max((o["seconds"] for o in judged), default=0.0)
        if name == "srt":
            r["maxOutageAfterOwnSenderKillS"] = max((o["seconds"] for o in outages if o not in judged), default=None)
        r["maxDecodedPictureGapByArrivalS"] = round(max((b - a for a, b in zip(arrival, arrival[1:])
                                                         if a is not None and b is not None), default=0.0), 3)
        r["ptsGaps"] = len(gaps)
        r["gapsNotResumingAtKeyframe"] = len(not_key)
        r["outages"] = [{k: v for k, v in o.items() if not k.startswith("_")} for o in outages]
        for o in over:
            self.failures.append(f"{name}: outage {o['seconds']} s > {limit(o)} s after {o['after']}"
                                 f"{' (audio)' if o.get('audio') else ''}")
        if not_key:
            self.failures.append(f"{name}: {len(not_key)} of {len(gaps)} gaps resume at a picture that is not a keyframe "
                                 f"(after {', '.join(str(g['after']) for g in not_key[:6])})")
        return r

    def continuity_report(self, name, c):
        if not c:
            self.failures.append(f"{name}: tshark dissected no TS packet")
            return {}
        r = {"packets": c["packets"], "flaggedDiscontinuities": c["flagged"], "unflaggedErrors": len(c["errors"]),
             "tsharkCCDrops": c["tsharkDrops"]}
        if c["errors"]:
            r["unflaggedAfter"] = sorted({str(self.kill_before(t)) for t, _ in c["errors"]})
            r["unflaggedPIDs"] = sorted({f"0x{pid:04x}" for _, pid in c["errors"]})
            self.failures.append(f"{name}: {len(c['errors'])} continuity errors without discontinuity_indicator on PIDs "
                                 f"{', '.join(r['unflaggedPIDs'])} (after {', '.join(r['unflaggedAfter'][:6])})")
        return r

    def recording_report(self):
        """The recording: every file starts at a keyframe and decodes; the files join with gaps
        <= the outage limit; continuity within each file."""
        files = sorted(glob.glob(os.path.join(self.dir, "rec", "*.ts")))
        spans = []
        errors = flagged = not_key = bad_starts = 0
        worst = (0.0, None)
        for path in files:
            video, audio = ffprobe_frames(path)
            if not video:
                self.failures.append(f"rec: {os.path.basename(path)} holds no decodable picture")
                continue
            if not video[0][1]:
                bad_starts += 1
            gaps = pts_gaps(video, VIDEO_TICKS)
            # The encoder's own skips, seen live by the network receivers, are no outage here either.
            not_key += sum(1 for g in gaps if not g["resumesAtKeyframe"] and video[g["index"]][0] not in self.skip_pts)
            inner = max((g["seconds"] for g in gaps), default=VIDEO_TICKS / 90_000)
            agaps = pts_gaps(audio, AUDIO_TICKS)
            inner = max(inner, max((g["seconds"] for g in agaps), default=0.0))
            if inner > worst[0]:
                worst = (inner, os.path.basename(path))
            spans.append((video[0][0], video[-1][0], os.path.basename(path)))
            c = tshark_continuity_file(path)
            errors += len(c["errors"])
            flagged += c["flagged"]
        spans.sort()
        for (a0, a1, an), (b0, b1, bn) in zip(spans, spans[1:]):
            gap = (b0 - a1) / 90_000
            if gap > worst[0]:
                worst = (gap, f"{an} -> {bn}")
        r = {"files": len(files), "filesNotStartingAtKeyframe": bad_starts, "gapsNotResumingAtKeyframe": not_key, "maxOutageS": round(worst[0], 3), "maxOutageAt": worst[1],
             "continuity": {"flaggedDiscontinuities": flagged, "unflaggedErrors": errors}}
        if len(files) < 1:
            self.failures.append("rec: no recording file")
        if worst[0] > self.args.max_outage:
            self.failures.append(f"rec: outage {round(worst[0], 3)} s > {self.args.max_outage} s at {worst[1]}")
        if bad_starts:
            self.failures.append(f"rec: {bad_starts} files start at a picture that is not a keyframe")
        if not_key:
            self.failures.append(f"rec: {not_key} gaps inside files resume at a picture that is not a keyframe")
        if errors:
            self.failures.append(f"rec: {errors} continuity errors without discontinuity_indicator inside files")
        return r

    def summary(self, receivers, left):
        per_stage = {}
        for k in self.kills:
            per_stage[k["stage"]] = per_stage.get(k["stage"], 0) + 1
        not_restarted = [k for k in self.kills if k["restartedAfterS"] is None]
        if not_restarted:
            self.failures.append("not restarted: " + ", ".join(f"{k['stage']} (pid {k['pid']})" for k in not_restarted))
        if self.failed_seen:
            self.failures.append("supervisor gave up on " + ", ".join(sorted(self.failed_seen)))
        text = self.read_log("rilld")
        if "giving up" in text:
            self.failures.append("supervisor log: " + next(line for line in text.splitlines() if "giving up" in line))
        if len(self.kills) < 2:
            self.failures.append(f"only {len(self.kills)} kills: the campaign did not run")
        resources = {}
        if len(self.samples) >= 2:
            t = [s[0] for s in self.samples]
            for i, (key, tol) in enumerate((("fds", self.args.fd_tolerance), ("threads", self.args.thread_tolerance),
                                            ("rssKiB", self.args.rss_tolerance_kib)), start=1):
                resources[key] = trend.trend(t, [s[i] for s in self.samples], tol)
                if resources[key]["grew"]:
                    self.failures.append(f"rilld {key} grew {resources[key]['fittedGrowth']} over the run "
                                         f"(first {resources[key]['first']}, last {resources[key]['last']}, tolerance {tol})")
        else:
            self.failures.append("fewer than two resource samples of rilld")
        if self.stop_status != 0:
            self.failures.append(f"rilld exited with {self.stop_status} on SIGTERM")
        if left["processes"]:
            self.failures.append("processes left in the namespace after the stop: " + "; ".join(left["processes"]))
        if left["rings"]:
            self.failures.append("rings left in /dev/shm after the stop: " + ", ".join(left["rings"]))
        restart = [k["restartedAfterS"] for k in self.kills if k["restartedAfterS"] is not None]
        return {
            "result": "fail" if self.failures else "pass",
            "failures": self.failures,
            "minutes": self.args.minutes,
            "seed": self.args.seed,
            "kills": len(self.kills),
            "killsPerStage": per_stage,
            "killList": [{"atS": round(k["t"] - self.chaos_start, 1), "stage": k["stage"],
                          "restartedAfterS": k["restartedAfterS"]} for k in self.kills],
            "maxRestartS": max(restart) if restart else None,
            "supervisorGaveUp": sorted(self.failed_seen),
            "maxOutageS": {name: r.get("maxOutageS") for name, r in receivers.items()},
            "receivers": receivers,
            "rilld": resources,
            "stopSeconds": self.stop_seconds,
            "leftBehind": left,
            "directory": self.dir,
        }


# ---- helpers -------------------------------------------------------------------------------------


def wait(timeout, cond, interval=0.25):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(interval)
    return cond()


def stop_process(p, sig, grace=3.0):
    """Signals one process we started and reaps it (SIGKILL after `grace` s); its exit status."""
    if p is None:
        return None
    if p.poll() is None:
        try:
            p.send_signal(sig)
            return p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            p.kill()
            return p.wait()
    return p.returncode


def read_pcap(path):
    """Yields (epoch seconds, udp dst port, udp payload) from a classic pcap (Ethernet or Linux
    cooked), tolerating a truncated last record (a capture still being written)."""
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return
        magic = struct.unpack("<I", head[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            endian = "<"
        elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
            endian = ">"
        else:
            raise SetupError(f"{path}: not a classic pcap (magic {magic:#x})")
        nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
        linktype = struct.unpack(endian + "I", head[20:24])[0]
        link_len = {1: 14, 113: 16}.get(linktype)
        if link_len is None:
            raise SetupError(f"{path}: link type {linktype} not handled")
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            sec, frac, incl, _ = struct.unpack(endian + "IIII", rec)
            data = f.read(incl)
            if len(data) < incl:
                return
            ip = data[link_len:]
            if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
                continue
            ihl = (ip[0] & 15) * 4
            udp = ip[ihl:]
            port = struct.unpack(">H", udp[2:4])[0]
            yield sec + frac / (1e9 if nano else 1e6), port, udp[8:]


def datagram_counts(path):
    counts = {}
    try:
        for _, port, _ in read_pcap(path):
            counts[port] = counts.get(port, 0) + 1
    except (FileNotFoundError, SetupError):
        pass
    return counts


def rtp_payload(d):
    """The payload of an RTP packet (RFC 3550 5.1: 12 bytes, CSRCs, header extension)."""
    if len(d) < 12 or d[0] >> 6 != 2:
        return b""
    n = 12 + 4 * (d[0] & 15)
    if d[0] & 0x10 and len(d) >= n + 4:
        n += 4 + 4 * struct.unpack(">H", d[n + 2:n + 4])[0]
    end = len(d) - (d[-1] if d[0] & 0x20 else 0)
    return d[n:end]


def split_capture(path, ports):
    """Per port: arrival times, byte offsets and the TS bytes of every datagram (RTP headers stripped
    where ports[port] is True)."""
    out = {p: ([], [], bytearray()) for p in ports}
    for t, port, payload in read_pcap(path):
        if port not in ports:
            continue
        ts = rtp_payload(payload) if ports[port] else payload
        times, offsets, data = out[port]
        times.append(t)
        offsets.append(len(data))
        data += ts
    return {p: (a, b, bytes(c)) for p, (a, b, c) in out.items()}


def ffprobe_frames(path):
    """(video, audio): lists of (pts, keyframe, pkt_pos) of every frame FFmpeg decodes."""
    r = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "frame=media_type,pts,key_frame,pkt_pos",
                        "-of", "json", path], capture_output=True, text=True, timeout=1800)
    try:
        frames = json.loads(r.stdout).get("frames", [])
    except json.JSONDecodeError:
        return [], []
    video, audio = [], []
    for fr in frames:
        if "pts" not in fr:
            continue
        entry = (int(fr["pts"]), fr.get("key_frame") == 1, int(fr.get("pkt_pos", -1)))
        (video if fr.get("media_type") == "video" else audio if fr.get("media_type") == "audio" else []).append(entry)
    return video, audio


def pts_gaps(frames, ticks):
    """Where consecutive frames are further apart than 1.5 frame durations (or go backwards):
    index of the frame after the gap, its length in seconds, whether that frame is a keyframe."""
    gaps = []
    for i in range(1, len(frames)):
        step = frames[i][0] - frames[i - 1][0]
        if step > ticks * 3 // 2 or step <= 0:
            gaps.append({"index": i, "seconds": round(step / 90_000, 3), "resumesAtKeyframe": frames[i][1]})
    return gaps


TSHARK_FIELDS = ["-e", "frame.time_epoch", "-e", "mp2t.pid", "-e", "mp2t.cc", "-e", "mp2t.afc", "-e",
                 "mp2t.af.length", "-e", "mp2t.af.di", "-E", "occurrence=a", "-E", "aggregator=,"]


def continuity(lines, port_field):
    """Counts CC errors per stream from tshark field lines, excusing those on packets whose
    discontinuity_indicator is set (ISO/IEC 13818-1 2.4.3.5). Payload packets increment the CC,
    adaptation-only packets repeat it, one duplicate is allowed."""
    streams = {}

    def ints(s):
        return [int(x, 16) if x.startswith("0x") else int(x) for x in s.split(",") if x]
    for line in lines:
        f = line.split("\t")
        if len(f) < 6 + port_field:
            continue
        key = int(f[1]) if port_field else 0
        g = f[port_field:]
        t = float(f[0])
        pids, ccs, afcs, lengths, dis = ints(g[1]), ints(g[2]), ints(g[3]), ints(g[4]), ints(g[5])
        s = streams.setdefault(key, {"last": {}, "packets": 0, "flagged": 0, "errors": [], "tsharkDrops": 0})
        ai = di = 0
        for i, pid in enumerate(pids):
            if i >= len(ccs) or i >= len(afcs):
                break
            afc, cc = afcs[i], ccs[i]
            flag = False
            if afc & 2:
                length = lengths[ai] if ai < len(lengths) else 0
                ai += 1
                if length > 0:
                    flag = di < len(dis) and dis[di] == 1
                    di += 1
            s["packets"] += 1
            if pid == NULL_PID:
                continue
            has_payload = afc & 1 == 1
            last = s["last"].get(pid)
            if last is not None:
                expected = (last + 1) & 15 if has_payload else last
                if cc != expected and not (has_payload and cc == last):
                    if flag:
                        s["flagged"] += 1
                    else:
                        s["errors"].append((t, pid))
            elif flag:
                s["flagged"] += 1
            # A flagged discontinuity starts the count afresh, even on an adaptation-only packet.
            if has_payload or last is None or flag:
                s["last"][pid] = cc
    return streams


def tshark_continuity(pcap):
    """Continuity per relayed port of the capture, from tshark's mp2t dissector."""
    decode = ["-d", f"udp.port=={RTP_PORT},rtp", "-d", f"udp.port=={SRT_RELAY_PORT},mp2t",
              "-d", f"udp.port=={RIST_RELAY_PORT},mp2t"]
    r = subprocess.run(["tshark", "-r", pcap, "--disable-protocol", "mpeg-pes"] + decode +
                       ["-T", "fields", "-e", "frame.time_epoch", "-e", "udp.dstport"] + TSHARK_FIELDS[2:],
                       capture_output=True, text=True, timeout=3600)
    streams = continuity(r.stdout.splitlines(), 1)
    drops = subprocess.run(["tshark", "-r", pcap, "--disable-protocol", "mpeg-pes"] + decode +
                           ["-Y", "mp2t.cc.drop", "-T", "fields", "-e", "udp.dstport"],
                           capture_output=True, text=True, timeout=3600)
    for line in drops.stdout.split():
        if line.isdigit() and int(line) in streams:
            streams[int(line)]["tsharkDrops"] += 1
    return streams


def tshark_continuity_file(path):
    """Continuity of a TS file (tshark reads MPEG-TS files, one packet per frame)."""
    r = subprocess.run(["tshark", "-r", path, "--disable-protocol", "mpeg-pes", "-T", "fields"] + TSHARK_FIELDS,
                       capture_output=True, text=True, timeout=1800)
    return continuity(r.stdout.splitlines(), 0).get(0, {"packets": 0, "flagged": 0, "errors": []})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the kill campaign (default 10)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: drawn and reported)")
    ap.add_argument("--rill", default=None, help="the rill executable (default $RILL_BINARY, else .build/debug/rill)")
    ap.add_argument("--max-outage", type=float, default=MAX_OUTAGE_S, help="longest allowed outage, s (1.5)")
    ap.add_argument("--srt-own-kill-outage", type=float, default=SRT_OWN_KILL_OUTAGE_S,
                    help="longest allowed SRT outage after a kill of send-srt itself, s (6.5)")
    ap.add_argument("--fd-tolerance", type=float, default=FD_TOLERANCE)
    ap.add_argument("--thread-tolerance", type=float, default=THREAD_TOLERANCE)
    ap.add_argument("--rss-tolerance-kib", type=float, default=RSS_TOLERANCE_KIB)
    ap.add_argument("--json", help="also write the summary to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (capture, recordings, logs)")
    args = ap.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 31)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    args.rill = os.path.abspath(args.rill or os.environ.get("RILL_BINARY") or os.path.join(root, ".build/debug/rill"))
    missing = [t for t in ("ip", "tshark", "srt-live-transmit", "ristreceiver", "ffprobe", "curl") if not shutil.which(t)]
    if missing or not os.access(args.rill, os.X_OK) or os.geteuid() != 0:
        print(json.dumps({"result": "error", "failures": [
            f"cannot run: missing {missing}" if missing else
            f"cannot run: {args.rill} is not executable" if not os.access(args.rill, os.X_OK) else "cannot run: needs root"]}))
        return 2

    c = Chaos(args)
    # SIGTERM (a test runner's timeout) cleans up like Ctrl-C.
    def interrupted(*_):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, interrupted)
    summary = None
    left = {"processes": [], "rings": []}
    try:
        log(f"seed {args.seed}, {args.minutes} min, work directory {c.dir}")
        c.start()
        c.campaign()
        c.stop()
        left = c.cleanup()
        log(f"campaign over: {len(c.kills)} kills; analysing the capture and the recordings")
        receivers = c.analyse()
        summary = c.summary(receivers, left)
    except SetupError as e:
        summary = {"result": "error", "failures": [f"set-up: {e}"], "directory": c.dir}
    except KeyboardInterrupt:
        summary = {"result": "error", "failures": ["interrupted"], "directory": c.dir}
    finally:
        left2 = c.cleanup()
        if summary is not None and summary.get("result") == "pass" and (left2["processes"] or left2["rings"]):
            summary["result"] = "fail"
            summary["failures"].append(f"left behind: {left2}")
    text = json.dumps(summary, indent=1)
    print(text, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    if not args.keep and summary.get("result") == "pass":
        shutil.rmtree(c.dir, ignore_errors=True)
    return {"pass": 0, "fail": 1}.get(summary.get("result"), 2)


if __name__ == "__main__":
    sys.exit(main())
