import Foundation
import RillTestSupport
import Testing

/// A background peer process writing what it receives to a file.
final class PeerProcess: @unchecked Sendable {
    let process = Process()
    let output: String

    init(_ arguments: [String], output: String) throws {
        self.output = output
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle(forWritingAtPath: output)!
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var bytes: Int { ((try? FileManager.default.attributesOfItem(atPath: output))?[.size] as? Int) ?? 0 }

    /// Sends `signal`, then SIGKILL if the peer has not exited within 2 s; reaps it either way.
    func stop(_ signal: Int32 = SIGTERM) {
        let pid = process.processIdentifier
        kill(pid, signal)
        var status: Int32 = 0
        if !waitFor(timeout: 2, { waitpid(pid, &status, WNOHANG) != 0 }) {
            kill(pid, SIGKILL)
            _ = waitFor(timeout: 5) { waitpid(pid, &status, WNOHANG) != 0 }
        }
    }

    deinit { if process.isRunning { stop(SIGKILL) } }
}

/// SRT outputs against independent SRT implementations: srt-live-transmit (libsrt's own tool),
/// FFmpeg's libsrt protocol and GStreamer's srtsrc. On the loopback of a network namespace per
/// test, so its ports collide with nothing on the host or in a parallel test.
@Suite("SRT output", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct SRTTests {
    static let fps = 25

    /// A box with one SRT output `url`, in a namespace of its own; peers run with `ns.command`.
    func box(_ label: String, url: String) throws -> (ns: NetworkNamespace, box: BoxUnderTest) {
        let ns = try NetworkNamespace("srt-\(label)")
        let dir = makeTemporaryDirectory("srt-\(label)")
        let config = testConfig(
            instance: "srt-\(label)-\(UUID().uuidString.prefix(4))", width: 640, height: 360, fps: Self.fps,
            videoBitrate: 1_000_000,
            keyint: 25, outputs: "{ \"id\": \"srt\", \"url\": \"\(url)\" }", runDirectory: "\(dir)/run")
        let b = try BoxUnderTest(config: config, namespace: ns, label: "srt-\(label)")
        #expect(
            waitFor(timeout: 15) { b.log.contains("started send-srt") && b.log.contains("encode-video: x264") },
            "\(b.log)")
        return (ns, b)
    }

    /// Runs srt-live-transmit with `url` for `seconds`, writing what it receives to `name` in the
    /// box's directory, and returns the file's path.
    func receive(_ ns: NetworkNamespace, _ b: BoxUnderTest, url: String, seconds: Double, name: String) throws -> String
    {
        let out = b.directory + "/" + name
        let slt = try PeerProcess(ns.command(["srt-live-transmit", "-q", url, "file://con"]), output: out)
        Thread.sleep(forTimeInterval: seconds)  // the receiving window, not a wait for readiness
        slt.stop()
        return out
    }

    /// Decodes a received TS with ffprobe: frames after the first IDR, PTS continuity, and tshark's CC count.
    func checkDecodes(_ path: String, minimumSeconds: Double) throws {
        let frames = try ffprobeDecodedVideoFrames(path)
        let first = try #require(frames.firstIndex { $0.keyFrame }, "no keyframe in \(path)")
        let decoded = Array(frames[first...])
        #expect(Double(decoded.count) >= minimumSeconds * Double(Self.fps), "\(decoded.count) frames")
        let step = Int64(90_000 / Self.fps)
        let gaps = zip(decoded, decoded.dropFirst()).filter { $1.pts - $0.pts != step }
        #expect(gaps.isEmpty, "PTS gaps \(gaps.prefix(3).map { ($0.0.pts, $0.1.pts) })")
        let cc = try runProcess(["tshark", "-r", path, "-Y", "mp2t.cc.drop"], timeout: 60)
        #expect(cc.stdout.split(separator: "\n").isEmpty, "tshark CC drops: \(cc.stdout.prefix(300))")
    }

    @Test("listener: srt-live-transmit as caller receives a decodable stream starting at an IDR")
    func listenerWithSLT() throws {
        let (ns, b) = try box("lst", url: "srt://:9101?latency=120")
        defer {
            b.stop()
            ns.close()
        }
        let out = try receive(ns, b, url: "srt://127.0.0.1:9101", seconds: 6, name: "slt.ts")
        try checkDecodes(out, minimumSeconds: 4)
        // The client started at a clean point: the first decoded frame is a keyframe.
        let frames = try ffprobeDecodedVideoFrames(out)
        #expect(frames.first?.keyFrame == true, "first frame not a keyframe")
    }

    @Test("caller: srt-live-transmit as listener receives; our caller reconnects ≤ 2 s after it comes back")
    func callerWithSLT() throws {
        let (ns, b) = try box("call", url: "srt://127.0.0.1:9102?latency=120")
        defer {
            b.stop()
            ns.close()
        }
        let first = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "srt://:9102", "file://con"]), output: b.directory + "/a.ts")
        #expect(waitFor(timeout: 10) { first.bytes > 100_000 })
        first.stop(SIGKILL)
        Thread.sleep(forTimeInterval: 0.5)  // the receiver's outage, part of what is tested
        let restartedAt = Date()
        let second = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "srt://:9102", "file://con"]), output: b.directory + "/b.ts")
        #expect(waitFor(timeout: 4) { second.bytes > 0 })
        let resumedAfter = Date().timeIntervalSince(restartedAt)
        #expect(resumedAfter <= 2.0, "sending again \(resumedAfter) s after the receiver came back")
        Thread.sleep(forTimeInterval: 5)  // the receiving window checked below
        second.stop()
        try checkDecodes(b.directory + "/b.ts", minimumSeconds: 3)
    }

    @Test("rendezvous: both ways with srt-live-transmit")
    func rendezvous() throws {
        let (ns, b) = try box("rdv", url: "srt://127.0.0.1:9104?mode=rendezvous&localport=9103")
        defer {
            b.stop()
            ns.close()
        }
        let out = try receive(ns, b, url: "srt://127.0.0.1:9103?mode=rendezvous&port=9104", seconds: 7, name: "r.ts")
        try checkDecodes(out, minimumSeconds: 3)
    }

    @Test("FFmpeg and GStreamer srtsrc as clients of our listener")
    func ffmpegAndGStreamer() throws {
        let (ns, b) = try box("ffgst", url: "srt://:9105")
        defer {
            b.stop()
            ns.close()
        }
        // FFmpeg's latency is in microseconds (ours in milliseconds).
        let rec = try runProcess(
            ns.command([
                "ffmpeg", "-nostdin", "-v", "error", "-i", "srt://127.0.0.1:9105?mode=caller&latency=120000", "-t", "5",
                "-map", "0",
                "-c", "copy", "-f", "mpegts", "-y", b.directory + "/ff.ts",
            ]), timeout: 30)
        #expect(rec.status == 0, "\(rec.stderr.prefix(300))")
        try checkDecodes(b.directory + "/ff.ts", minimumSeconds: 3)
        let gst = try runProcess(
            ns.command([
                "gst-launch-1.0", "-q", "srtsrc", "uri=srt://127.0.0.1:9105?mode=caller", "!", "tsdemux", "!",
                "h264parse", "!",
                "avdec_h264", "!", "fakesink", "num-buffers=75",
            ]), timeout: 30)
        #expect(gst.status == 0 && !gst.timedOut, "gst srtsrc: \(gst.stderr.prefix(300))")
    }

    @Test(
        "passphrase: right ⇒ stream; wrong ⇒ 0 bytes and \"Incorrect passphrase\" logged; missing ⇒ 0 bytes and \"Password required\""
    )
    func passphrase() throws {
        let (ns, b) = try box("pass", url: "srt://:9106?passphrase=correct-horse-1")
        defer {
            b.stop()
            ns.close()
        }
        let good = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "srt://127.0.0.1:9106?passphrase=correct-horse-1", "file://con"]),
            output: b.directory + "/good.ts")
        let bad = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "srt://127.0.0.1:9106?passphrase=wrong-horse-22", "file://con"]),
            output: b.directory + "/bad.ts")
        // The listener's libsrt names each refusal (SRT_REJ_BADSECRET 1010, SRT_REJ_UNSECURE 1011).
        #expect(
            waitFor(timeout: 10) { b.log.contains("Incorrect passphrase") },
            "wrong passphrase not named: \(b.log.suffix(800))")
        let none = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "srt://127.0.0.1:9106", "file://con"]),
            output: b.directory + "/none.ts")
        #expect(
            waitFor(timeout: 10) { b.log.contains("Password required or unexpected") },
            "missing passphrase not named: \(b.log.suffix(800))")
        #expect(waitFor(timeout: 10) { good.bytes > 100_000 }, "the right passphrase got \(good.bytes) bytes")
        for p in [good, bad, none] { p.stop() }
        #expect(bad.bytes == 0, "wrong passphrase received \(bad.bytes) bytes")
        #expect(none.bytes == 0, "no passphrase received \(none.bytes) bytes")
        let rejections = b.log.split(separator: "\n").filter { $0.contains("libsrt:") && $0.contains("rejected") }
        #expect(!rejections.isEmpty, "no libsrt rejection line: \(b.log.suffix(800))")
    }

    @Test("ten listener clients; SIGKILL of one leaves the other nine with 0 CC errors")
    func tenClients() throws {
        let (ns, b) = try box("ten", url: "srt://:9107")
        defer {
            b.stop()
            ns.close()
        }
        let clients = try (0..<10).map { i in
            try PeerProcess(
                ns.command(["srt-live-transmit", "-q", "srt://127.0.0.1:9107", "file://con"]),
                output: b.directory + "/c\(i).ts")
        }
        #expect(
            waitFor(timeout: 15) { clients.allSatisfy { $0.bytes > 0 } },
            "receiving: \(clients.map(\.bytes)) \(b.log.suffix(800))")
        let connected = Date()
        clients[0].stop(SIGKILL)
        // `rill status` reports every connected client with srt_bstats figures; the killed one
        // goes once the listener has seen it die.
        var (out, peers): ([String: Any], [[String: Any]]) = ([:], [])
        #expect(
            waitFor(timeout: 15, interval: 0.5) {
                (out, peers) = (try? outputStatus(configPath: b.configPath)) ?? ([:], [])
                return peers.count == 9
            }, "\(peers.count) peers: \(peers)")
        #expect(
            peers.allSatisfy {
                ($0["packetsSent"] as? Int ?? 0) > 0 && $0["rttMs"] != nil && ($0["latencyMs"] as? Int ?? 0) >= 120
            })
        #expect((out["connects"] as? Int ?? 0) >= 10)
        // The receiving window of the nine: 8 s from when all ten were receiving.
        Thread.sleep(forTimeInterval: max(0, 8 - Date().timeIntervalSince(connected)))
        for c in clients.dropFirst() { c.stop() }
        for c in clients.dropFirst() { try checkDecodes(c.output, minimumSeconds: 5) }
    }

    @Test("streamid access list: an accepted id streams, another is refused with a log line")
    func acceptList() throws {
        let (ns, b) = try box("acc", url: "srt://:9109?accept=studio1,live/cam2")
        defer {
            b.stop()
            ns.close()
        }
        let good = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "srt://127.0.0.1:9109?streamid=studio1", "file://con"]),
            output: b.directory + "/ok.ts")
        let bad = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "srt://127.0.0.1:9109?streamid=intruder", "file://con"]),
            output: b.directory + "/no.ts")
        #expect(
            waitFor(timeout: 10) { b.log.contains("streamid \"intruder\" is not accepted") }, "\(b.log.suffix(800))")
        #expect(waitFor(timeout: 10) { good.bytes > 50_000 }, "the accepted id got \(good.bytes) bytes")
        for p in [good, bad] { p.stop() }
        #expect(bad.bytes == 0)
    }

    @Test("packetfilter=fec,cols:8,rows:4 negotiates with srt-live-transmit and the stream flows")
    func packetFilter() throws {
        let (ns, b) = try box("fec", url: "srt://:9108?packetfilter=fec,cols:8,rows:4")
        defer {
            b.stop()
            ns.close()
        }
        let out = try receive(
            ns, b, url: "srt://127.0.0.1:9108?packetfilter=fec,cols:8,rows:4", seconds: 6, name: "fec.ts")
        try checkDecodes(out, minimumSeconds: 3)
    }

    @Test(
        "SRT input (gateway): FFmpeg pushes a TS into our listener; our RTP multicast + SDP output decodes in ffprobe")
    func gatewayInput() throws {
        let ns = try NetworkNamespace("srtin")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("srtin")
        let sdp = "\(dir)/gw.sdp"
        let config = """
            { "system": { "instance": "\(ns.name)", "runDirectory": "\(dir)/run" },
              "source": { "type": "gateway", "url": "srt://:9110?latency=120" },
              "outputs": [ { "id": "mc", "url": "rtp://239.255.42.20:5070?ttl=2", "sdp": "\(sdp)" } ],
              "api": { "enabled": false } }
            """
        let b = try BoxUnderTest(config: config, namespace: ns, label: "srtin")
        defer { b.stop() }
        #expect(waitFor(timeout: 10) { b.log.contains("listening for a publisher") }, "\(b.log)")
        let pusher = try PeerProcess(
            ns.command([
                "ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t",
                "20",
                "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-f", "mpegts",
                "srt://127.0.0.1:9110?mode=caller&pkt_size=1316",
            ]), output: "\(dir)/pusher.log")
        defer { pusher.stop(SIGKILL) }
        #expect(waitFor(timeout: 10) { b.log.contains("publisher") && b.log.contains("connected") }, "\(b.log)")
        let streams = try ffprobeStreams(sdp, prefix: ns.command([]))
        let video = try #require(streams.first { $0.codec == "h264" }, "\(streams.map(\.codec))")
        #expect(video.width == 640 && video.height == 360)
        let rec = try ffmpegRecord(sdp: sdp, seconds: 5, to: "\(dir)/gw.ts", prefix: ns.command([]))
        #expect(rec.status == 0)
        let frames = try ffprobeDecodedVideoFrames("\(dir)/gw.ts")
        #expect(frames.count >= 75, "\(frames.count) frames relayed")
    }
}
