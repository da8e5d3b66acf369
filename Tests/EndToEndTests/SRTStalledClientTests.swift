import Foundation
import RillTestSupport
import Testing

/// A stalled client of an SRT listener output never reaches the other clients: each client has
/// its own thread and a non-blocking send (SRTOutput). What a stall does to the stalled client
/// itself: it stops acknowledging, and the listener closes it after `SRTOutput.ackTimeout` (1 s)
/// without an ACK ("peer gone"). Its send buffer never fills before that (8192 packets ≈ 3 min at
/// 1 Mb/s), so `skippedChunks` cannot rise with libsrt's default buffer: the cut-off is the
/// observable behaviour, and the test asserts it. (The unread-pipe client's own libsrt may break
/// the connection first; srt-live-transmit then reconnects and stalls again.)
@Suite("SRT listener: a stalled client", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct SRTStalledClientTests {
    static let fps = 25
    static let port = 9000

    /// srt-live-transmit as a caller whose stdout is a pipe nobody reads: once the pipe (64 KiB)
    /// is full it blocks in write(2), stops reading the SRT socket, and its receive buffer
    /// (`fc=32` packets) fills, so libsrt stops acknowledging.
    final class UnreadClient: @unchecked Sendable {
        let process = Process()
        let pipe = Pipe()
        init(_ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
        func stop() {
            kill(process.processIdentifier, SIGKILL)
            _ = reap(process, killAfter: 5)
        }
        deinit { if process.isRunning { stop() } }
    }

    @Test(
        "a client behind an unread pipe is cut off; a SIGSTOPped one after ≈ 1 s without ACK; the other client meanwhile gets every frame: no PTS gap, 0 CC errors, no pause > 0.5 s, 0 dropped or skipped"
    )
    func stalledClientsLeaveTheOtherAlone() throws {
        let ns = try NetworkNamespace("srtstall")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("srtstall")
        let config = testConfig(
            instance: ns.name, fps: Self.fps, videoBitrate: 1_000_000, keyint: Self.fps,
            outputs: #"{ "id": "srt", "url": "srt://:\#(Self.port)" }"#, runDirectory: "\(dir)/run")
        let b = try BoxUnderTest(config: config, namespace: ns, label: "srtstall")
        defer { b.stop() }
        #expect(waitFor(timeout: 20) { b.log.contains("listening on") }, "\(b.log.suffix(800))")
        let url = "srt://127.0.0.1:\(Self.port)"
        let good = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", url + "?port=9501", "file://con"]), output: "\(dir)/good.ts")
        defer { good.stop(SIGKILL) }
        #expect(waitFor(timeout: 15) { good.bytes > 100_000 }, "\(b.log.suffix(800))")

        // Stall 1: the unread pipe. Stall 2: SIGSTOP once it has received something.
        let unread = try UnreadClient(
            ns.command(["srt-live-transmit", "-q", url + "?port=9502&fc=32&rcvbuf=47104", "file://con"]))
        defer { unread.stop() }
        let frozen = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", url + "?port=9503", "file://con"]), output: "\(dir)/frozen.ts")
        defer { frozen.stop(SIGKILL) }
        #expect(waitFor(timeout: 10) { frozen.bytes > 50_000 })
        let frozenAt = Date()
        kill(frozen.process.processIdentifier, SIGSTOP)

        // Meanwhile the good client's file grows without a pause (TSBPD delivers every 40 ms).
        var longestPause = 0.0
        var lastGrowth = Date()
        var lastSize = good.bytes
        var cutOffs: [String] = []
        var frozenCutAfter: Double?
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            usleep(50_000)
            let size = good.bytes
            let now = Date()
            if size != lastSize {
                longestPause = max(longestPause, now.timeIntervalSince(lastGrowth))
                lastGrowth = now
                lastSize = size
            }
            cutOffs = b.log.split(separator: "\n").filter {
                $0.contains("client 127.0.0.1:950") && $0.contains("disconnected")
            }
            .map(String.init)
            if frozenCutAfter == nil, cutOffs.contains(where: { $0.contains(":9503") }) {
                frozenCutAfter = now.timeIntervalSince(frozenAt)
            }
        }
        longestPause = max(longestPause, Date().timeIntervalSince(lastGrowth))
        // The stalls happened and the listener saw them: both stalled clients cut off for want of ACKs.
        let sendLines = b.log.split(separator: "\n").filter { $0.contains("send-srt:") }
        let frozenGone = sendLines.firstIndex { $0.contains("client 127.0.0.1:9503 disconnected") }
        #expect(
            frozenGone.map { $0 > 0 && sendLines[$0 - 1].contains("no ACK from the peer") } == true,
            "the SIGSTOPped client was not cut off for want of ACKs: \(sendLines.suffix(12))")
        #expect(cutOffs.contains { $0.contains(":9502") }, "unread-pipe client not cut off: \(b.log.suffix(1200))")
        let frozenCut = try #require(frozenCutAfter, "SIGSTOPped client not cut off: \(b.log.suffix(1200))")
        #expect(frozenCut >= 0.9 && frozenCut <= 3.0, "SIGSTOPped client cut off after \(frozenCut) s")
        #expect(!cutOffs.contains { $0.contains(":9501") }, "the good client was cut off")
        #expect(longestPause <= 0.5, "the good client's stream paused \(longestPause) s")

        // The good client is still connected and lost nothing at the sender.
        let (_, peers) = try outputStatus(configPath: b.configPath)
        let mine = try #require(peers.first { $0["peer"] as? String == "127.0.0.1:9501" }, "\(peers)")
        // The frozen client is gone (the unread one may be back: srt-live-transmit reconnects).
        #expect(!peers.contains { $0["peer"] as? String == "127.0.0.1:9503" }, "\(peers.map { $0["peer"] ?? "?" })")
        #expect(mine["skippedChunks"] as? Int == 0 && mine["packetsDropped"] as? Int == 0, "\(mine)")
        kill(frozen.process.processIdentifier, SIGCONT)
        good.stop()

        // What the good client received decodes from its first frame with no gap.
        let frames = try ffprobeDecodedVideoFrames(good.output)
        #expect(frames.first?.keyFrame == true, "first frame not a keyframe")
        let step = Int64(90_000 / Self.fps)
        let gaps = zip(frames, frames.dropFirst()).filter { $1.pts - $0.pts != step }
        #expect(frames.count >= 10 * Self.fps, "\(frames.count) frames")
        #expect(gaps.isEmpty, "PTS gaps \(gaps.prefix(3).map { ($0.0.pts, $0.1.pts) })")
        // srt-live-transmit's stdout is block-buffered: the file may end inside a TS packet, which
        // tshark reports ("cut short") with status 2 after dissecting everything before it.
        let dissected = try runProcess(["tshark", "-r", good.output, "-Y", "mp2t.pid == 0"], timeout: 60)
        let pats = dissected.stdout.split(separator: "\n").count
        #expect(pats >= 10 * Self.fps / 10, "tshark dissected \(pats) PATs: \(dissected.stderr.suffix(300))")
        let cc = try runProcess(["tshark", "-r", good.output, "-Y", "mp2t.cc.drop"], timeout: 60)
        #expect(cc.status == 0 || cc.stderr.contains("cut short"), "tshark: \(cc.stderr.suffix(300))")
        #expect(cc.stdout.split(separator: "\n").isEmpty, "tshark CC drops: \(cc.stdout.prefix(300))")
    }
}
