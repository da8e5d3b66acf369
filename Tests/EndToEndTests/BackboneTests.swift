import Foundation
import RillTestSupport
import Testing

/// The backbone end to end: `rill run` in a network namespace with multicast on lo, checked by
/// FFmpeg (ffprobe/ffmpeg), GStreamer and tshark — independent implementations of every layer.
@Suite("Backbone end to end", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct BackboneTests {
    static let fps = 50
    static let frameTicks = Int64(90_000 / fps)

    func startBox(
        _ label: String, group: String, port: Int, width: Int = 640, height: Int = 360,
        audio: String = "\"codec\": \"aac\", \"bitrate\": 128000",
        channels: Int = 2, program: String = "\"mode\": \"vbr\"", videoBitrate: Int = 2_000_000
    ) throws -> (NetworkNamespace, BoxUnderTest, String) {
        let ns = try NetworkNamespace(label)
        let dir = makeTemporaryDirectory(label)
        let sdp = "\(dir)/out.sdp"
        let config = testConfig(
            instance: ns.name, width: width, height: height, fps: Self.fps, videoBitrate: videoBitrate, audio: audio,
            channels: channels, program: program,
            outputs: "{ \"id\": \"mc\", \"url\": \"rtp://\(group):\(port)?ttl=4\", \"sdp\": \"\(sdp)\" }",
            runDirectory: "\(dir)/run")
        let box = try BoxUnderTest(config: config, namespace: ns, label: label)
        let started = waitFor(timeout: 20) {
            FileManager.default.fileExists(atPath: sdp) && box.log.contains("send-mc: RTP")
        }
        if !started { Issue.record("box did not start: \(box.log)") }
        return (ns, box, sdp)
    }

    @Test("multicast + SDP: ffprobe, ffmpeg, GStreamer and tshark agree; SIGTERM stops cleanly")
    func multicastSDP() throws {
        let (ns, box, sdp) = try startBox("mc", group: "239.255.42.11", port: 5010, width: 1280, height: 720)
        defer { ns.close() }

        // The SDP a receiver opens: one m= line, PT 33.
        let text = try String(contentsOfFile: sdp, encoding: .utf8)
        #expect(text.contains("m=video 5010 RTP/AVP 33"))
        #expect(text.contains("c=IN IP4 239.255.42.11/4"))

        // ffprobe on the SDP.
        let streams = try ffprobeStreams(sdp, prefix: ns.command([]))
        let video = try #require(streams.first { $0.codec == "h264" })
        #expect(video.width == 1280 && video.height == 720)
        #expect(video.frameRate == "50/1")
        let audio = try #require(streams.first { $0.codec == "aac" })
        #expect(audio.sampleRate == 48_000 && audio.channels == 2)

        // ffmpeg records 8 s from the SDP; libavcodec decodes it: every frame after the first IDR,
        // PTS advancing by exactly one frame period.
        let dir = box.directory
        let rec = try ffmpegRecord(sdp: sdp, seconds: 8, to: "\(dir)/rec.ts", prefix: ns.command([]))
        #expect(rec.status == 0, "\(rec.stderr.prefix(300))")
        let frames = try ffprobeDecodedVideoFrames("\(dir)/rec.ts")
        let firstIDR = try #require(frames.firstIndex { $0.keyFrame })
        let decoded = Array(frames[firstIDR...])
        #expect(decoded.count >= 6 * Self.fps, "only \(decoded.count) frames decoded after the first IDR")
        let gaps = zip(decoded, decoded.dropFirst()).filter { $1.pts - $0.pts != Self.frameTicks }
        #expect(gaps.isEmpty, "PTS gaps: \(gaps.prefix(5).map { ($0.0.pts, $0.1.pts) })")

        // GStreamer decodes the same multicast: 150 H.264 frames through avdec_h264.
        let gst = try ns.run(
            [
                "gst-launch-1.0", "-q", "udpsrc", "address=239.255.42.11", "port=5010",
                "caps=application/x-rtp,media=video,clock-rate=90000,encoding-name=MP2T,payload=33", "!",
                "rtpmp2tdepay", "!",
                "tsdemux", "!", "h264parse", "!", "avdec_h264", "!", "fakesink", "num-buffers=150",
            ], timeout: 40)
        #expect(gst.status == 0 && !gst.timedOut, "gst-launch: \(gst.stderr.prefix(400))")

        // GStreamer opens the SDP file itself (sdpdemux) and decodes from it.
        let gstSDP = try ns.run(
            [
                "gst-launch-1.0", "-q", "filesrc", "location=\(sdp)", "!", "sdpdemux", "!", "rtpmp2tdepay", "!",
                "tsdemux", "!",
                "h264parse", "!", "avdec_h264", "!", "fakesink", "num-buffers=100",
            ], timeout: 40)
        #expect(gstSDP.status == 0 && !gstSDP.timedOut, "gst-launch sdpdemux: \(gstSDP.stderr.prefix(400))")

        // tshark on the wire: CC, PCR and PSI repetition.
        let wire = try tsharkCapture(port: 5010, seconds: 5, prefix: ns.command([]), directory: dir)
        #expect(wire.datagrams.count > 100)
        #expect(wire.tsharkCCDrops == 0)
        #expect(wire.continuityErrors == 0)
        // PCR every 20 ms (≤ 40 ms, TR 101 290 2.3.a), PAT and PMT every 90 ms (≤ 100 ms). The mux
        // runs SCHED_FIFO, but the host of this shared VM sometimes takes both vCPUs away for tens
        // of ms (vmstat's steal time): one such excursion in the 5 s is allowed, bounded, and
        // printed; a second one would be the mux's doing.
        func excursions(_ gaps: [Double], over limit: Double, bound: Double) -> Bool {
            let over = gaps.filter { $0 > limit }
            if !over.isEmpty { print("interval over \(limit) s: \(over)") }
            return over.count <= 1 && (over.max() ?? 0) <= bound
        }
        #expect(excursions(wire.pcrIntervals, over: 0.040, bound: 0.080), "PCR interval \(wire.maxPCRInterval)")
        #expect(
            excursions(wire.intervals(pid: 0), over: 0.100, bound: 0.150), "PAT interval \(wire.maxInterval(pid: 0))")
        #expect(
            excursions(wire.intervals(pid: 0x1000), over: 0.100, bound: 0.150),
            "PMT interval \(wire.maxInterval(pid: 0x1000))")
        let seqs = wire.datagrams.compactMap(\.rtpSequence)
        #expect(zip(seqs, seqs.dropFirst()).allSatisfy { ($1 - $0 + 65536) % 65536 == 1 }, "RTP sequence gaps")

        // SIGTERM: everything stops within 2 s, exit 0, no shm objects left.
        let (status, seconds) = box.stop()
        #expect(status == 0)
        #expect(seconds <= 2.0, "stop took \(seconds) s")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: "/dev/shm").filter {
            $0.hasPrefix("rill.\(ns.name).")
        }
        #expect(leftovers.isEmpty, "left in /dev/shm: \(leftovers)")
    }

    @Test("CBR: constant datagram rate, PCR tracks arrival time")
    func cbrWire() throws {
        let muxrate = 6_000_000
        let (ns, box, sdp) = try startBox(
            "cbr", group: "239.255.42.12", port: 5020, program: "\"mode\": \"cbr\", \"muxrate\": \(muxrate)",
            videoBitrate: 3_000_000)
        defer {
            ns.close()
            box.stop()
        }
        // Let the encoder's rate control settle, then watch the wire.
        Thread.sleep(forTimeInterval: 1)
        let wire = try tsharkCapture(port: 5020, seconds: 6, prefix: ns.command([]), directory: box.directory)
        #expect(wire.tsharkCCDrops == 0 && wire.continuityErrors == 0)
        #expect(wire.maxPCRInterval <= 0.040)
        let times = wire.datagrams.map(\.time)
        let expected = Double(muxrate) / Double(7 * 188 * 8)
        let measured = Double(times.count - 1) / (times.last! - times.first!)
        #expect(abs(measured - expected) / expected < 0.005, "datagram rate \(measured)/s, expected \(expected)/s")
        let nulls = wire.datagrams.reduce(0) { $0 + $1.pids.filter { $0 == 0x1FFF }.count }
        #expect(nulls > 0, "CBR fills with null packets")
        let dev = wire.pcrArrivalDeviations.sorted()
        let p95 = dev[Int(Double(dev.count - 1) * 0.95)]
        let p99 = dev[Int(Double(dev.count - 1) * 0.99)]
        func µs(_ v: Double) -> String { String(format: "%.1f µs", v * 1e6) }
        print("CBR PCR-vs-arrival deviation p95 \(µs(p95)), p99 \(µs(p99)) over \(dev.count) PCRs")
        // The 7 packets of a datagram arrive together while their PCRs step by one packet time, so
        // the packetisation alone accounts for up to one datagram period; allow 1 ms on top. The
        // 95th percentile, not the 99th: a PCR comes every 20 ms, so the 99th is the third worst of
        // 300, and on a host whose other work (the test's encoder, tshark) delays the sender's
        // wake-up a few times in 6 s that measures the host's scheduler, not the mux's timing.
        let datagramPeriod = 1 / expected
        #expect(
            p95 < datagramPeriod + 0.001,
            "PCR vs arrival p95 \(p95 * 1e3) ms, datagram period \(datagramPeriod * 1e3) ms")
        let streams = try ffprobeStreams(sdp, prefix: ns.command([]))
        #expect(streams.contains { $0.codec == "h264" })
    }

    @Test(
        "audio codecs: ffprobe reports the codec with the configured channels, the −20 dBFS tone decodes at −23 dBFS RMS",
        arguments: [("s302m", 2, 16), ("s302m", 4, 16), ("s302m", 2, 24), ("mp2", 2, 16)])
    func audioCodec(codec: String, channels: Int, bits: Int) throws {
        let audioConfig =
            codec == "s302m"
            ? "\"codec\": \"s302m\", \"bitsPerSample\": \(bits)" : "\"codec\": \"\(codec)\", \"bitrate\": 192000"
        let (ns, box, sdp) = try startBox(
            "\(codec)-\(channels)-\(bits)", group: "239.255.42.13", port: 5030 + channels * 10 + bits,
            audio: audioConfig, channels: channels)
        defer {
            ns.close()
            box.stop()
        }
        let streams = try ffprobeStreams(sdp, prefix: ns.command([]))
        let audio = try #require(streams.first { $0.codec == codec }, "streams: \(streams.map(\.codec))")
        if codec == "s302m" {
            // 24-bit 302M decodes to 32-bit samples with 24 significant bits (ffprobe bits_per_raw_sample).
            let raw = try runProcess(
                ns.command([
                    "ffprobe", "-v", "error", "-protocol_whitelist", "file,udp,rtp", "-select_streams", "a:0",
                    "-show_entries",
                    "stream=bits_per_raw_sample", "-of", "csv=p=0", sdp,
                ]), timeout: 30)
            let first = raw.stdout.split(separator: "\n").first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            #expect(first.map(String.init) == "\(bits)", "bits_per_raw_sample \(raw.stdout)")
        }
        #expect(audio.channels == channels)
        #expect(audio.sampleRate == 48_000)
        // The tone decodes at its level: a −20 dBFS sine has an RMS of −23 dBFS; wrong AES3 bit
        // packing would decode as loud noise instead.
        let rec = try ffmpegRecord(sdp: sdp, seconds: 3, to: "\(box.directory)/a.ts", prefix: ns.command([]))
        #expect(rec.status == 0)
        let stats = try runProcess(
            [
                "ffmpeg", "-nostdin", "-i", "\(box.directory)/a.ts", "-map", "0:a", "-af",
                "astats=measure_perchannel=none", "-f", "null", "-",
            ],
            timeout: 30)
        let rms = stats.stderr.split(separator: "\n").first { $0.contains("RMS level dB") }
            .flatMap { Double($0.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) }
        let level = try #require(rms, "no astats output: \(stats.stderr.suffix(400))")
        #expect(abs(level - -23.0) < 1.0, "\(codec) tone RMS \(level) dBFS")
    }

    @Test("kill -9 of the encoder: restarted, new IDR, discontinuity flagged, TS stays decodable")
    func encoderRestart() throws {
        let (ns, box, _) = try startBox("restart", group: "239.255.42.14", port: 5060)
        defer {
            ns.close()
            box.stop()
        }
        let oldPID = try #require(box.stagePID("encode-video"))
        // tshark captures across the kill; its capture is also the recording that is decoded.
        let dir = box.directory
        let capture = Task.detached {
            try tsharkCapture(port: 5060, seconds: 9, prefix: ns.command([]), directory: dir)
        }
        let pcap = "\(dir)/capture-5060.pcap"
        let size = { () -> Int64 in
            var st = stat()
            return stat(pcap, &st) == 0 ? Int64(st.st_size) : 0
        }
        #expect(waitFor(timeout: 10) { size() > 20_000 }, "tshark did not start capturing: \(size()) bytes")
        Thread.sleep(forTimeInterval: 2)
        kill(oldPID, SIGKILL)
        #expect(
            waitFor(timeout: 5) { (box.stagePID("encode-video") ?? oldPID) != oldPID },
            "supervisor did not restart: \(box.log)")
        let wire = try awaitResult(capture)
        #expect(wire.tsharkCCDrops == 0 && wire.continuityErrors == 0)
        #expect(wire.discontinuities >= 1, "no discontinuity_indicator after the encoder restart")
        let payloads = try runProcess(
            ["tshark", "-r", pcap, "-d", "udp.port==5060,rtp", "-T", "fields", "-e", "rtp.payload"], timeout: 60)
        var ts = [UInt8]()
        for line in payloads.stdout.split(separator: "\n") {
            let hex = Array(line.filter { $0 != ":" }.utf8)
            var i = 0
            while i + 1 < hex.count {
                ts.append(UInt8(String(decoding: hex[i...(i + 1)], as: UTF8.self), radix: 16) ?? 0)
                i += 2
            }
        }
        try Data(ts).write(to: URL(fileURLWithPath: "\(dir)/across.ts"))
        #expect(ts.count > 100_000, "\(ts.count) bytes of TS from the capture")
        // The recording holds the picture before the kill, a gap while the encoder was down, then
        // the restarted encoder's picture from its first IDR with PTS advancing one frame at a time.
        let frames = try ffprobeDecodedVideoFrames("\(dir)/across.ts")
        let steps = zip(frames, frames.dropFirst()).map { $1.pts - $0.pts }
        let gapIndex = try #require(steps.indices.max { steps[$0] < steps[$1] }, "\(frames.count) frames")
        #expect(
            steps[gapIndex] > 2 * Self.frameTicks, "no outage in the recording: largest PTS step \(steps[gapIndex])")
        #expect(gapIndex >= Self.fps, "only \(gapIndex) frames before the kill")
        let after = frames[(gapIndex + 1)...]
        #expect(after.first?.keyFrame == true, "the first frame after the restart is not a keyframe")
        #expect(after.count >= 2 * Self.fps, "only \(after.count) frames after the restart")
        let afterSteps = zip(after, after.dropFirst()).map { $1.pts - $0.pts }
        #expect(afterSteps.allSatisfy { $0 == Self.frameTicks }, "PTS steps after the restart: \(Set(afterSteps))")
        #expect(box.log.contains("encode-video killed by signal 9"))
    }
}

/// Blocks on a detached task's result (tests are synchronous; the capture runs beside them).
func awaitResult<T: Sendable>(_ task: Task<T, Error>) throws -> T {
    let box = ResultBox<T>()
    let sem = DispatchSemaphore(value: 0)
    Task {
        box.result = await task.result
        sem.signal()
    }
    sem.wait()
    return try box.result!.get()
}

final class ResultBox<T: Sendable>: @unchecked Sendable {
    var result: Result<T, Error>?
}
